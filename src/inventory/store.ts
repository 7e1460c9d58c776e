/**
 * The inventory of the links milink manages, in Azure Table Storage (@azure/data-tables): one entity per
 * link, partitioned by managed instance, keyed by the link's name in lower case (link names are compared
 * without case). A record holds the link's request with secret *names* only — a request carrying anything
 * shaped like a secret value is refused — and the last operation's outcome.
 */
import { odata, RestError, TableClient, type TableEntityResult } from '@azure/data-tables';
import { z } from 'zod';

export const DEFAULT_INVENTORY_TABLE = 'milinkinventory';

export const operationSchema = z.strictObject({
  /** createLink, dropLink, failover, rotateCertificate, adopt, … */
  kind: z.string().min(1).max(64),
  status: z.enum(['running', 'succeeded', 'failed']),
  /** The orchestration's instance id, when it ran as one. */
  instanceId: z.string().max(256).optional(),
  at: z.iso.datetime({ offset: true }),
  /** A short, secret-free error summary (code and step) when it failed. */
  error: z.string().max(2048).optional(),
});
export type LinkOperation = z.infer<typeof operationSchema>;

/** Property names a request may not hold: a request names Key Vault secrets, it never carries values. */
const SECRET_VALUE_KEYS =
  /^(password|pwd|passphrase|privatekey|private_key|connectionstring|secretvalue|accountkey|token)$/i;

function secretValuePaths(value: unknown, path = 'request'): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => secretValuePaths(v, `${path}[${i}]`));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) =>
      SECRET_VALUE_KEYS.test(k) ? [`${path}.${k}`] : secretValuePaths(v, `${path}.${k}`),
    );
  return [];
}

export const inventoryRecordSchema = z.strictObject({
  instance: z.string().min(1).max(63),
  linkName: z.string().min(1).max(128),
  sqlServer: z.string().min(1).max(253),
  database: z.string().min(1).max(128),
  request: z.record(z.string(), z.unknown()).superRefine((r, ctx) => {
    for (const p of secretValuePaths(r))
      ctx.addIssue({
        code: 'custom',
        message: `${p} looks like a secret value; a request holds secret names only`,
      });
  }),
  lastOperation: operationSchema.nullable(),
  /** creating, linked, failed, dropping, dropped, adopted, … (the operations decide). */
  state: z.string().min(1).max(64),
  updatedAt: z.iso.datetime({ offset: true }),
});
export type InventoryRecord = z.infer<typeof inventoryRecordSchema>;

interface InventoryEntity {
  partitionKey: string;
  rowKey: string;
  instance: string;
  linkName: string;
  sqlServer: string;
  database: string;
  request: string;
  lastOperation: string;
  state: string;
  updatedAt: string;
}

/** Table keys may not hold / \ # ? or control characters: percent-encoded, lower case. */
export function inventoryKeys(instance: string, linkName: string): { partitionKey: string; rowKey: string } {
  return {
    partitionKey: encodeURIComponent(instance.toLowerCase()),
    rowKey: encodeURIComponent(linkName.toLowerCase()),
  };
}

function toEntity(r: InventoryRecord): InventoryEntity {
  return {
    ...inventoryKeys(r.instance, r.linkName),
    instance: r.instance,
    linkName: r.linkName,
    sqlServer: r.sqlServer,
    database: r.database,
    request: JSON.stringify(r.request),
    lastOperation: JSON.stringify(r.lastOperation),
    state: r.state,
    updatedAt: r.updatedAt,
  };
}

function fromEntity(e: TableEntityResult<Record<string, unknown>>): InventoryRecord {
  return inventoryRecordSchema.parse({
    instance: e.instance,
    linkName: e.linkName,
    sqlServer: e.sqlServer,
    database: e.database,
    request: JSON.parse(String(e.request ?? '{}')),
    lastOperation: JSON.parse(String(e.lastOperation ?? 'null')),
    state: e.state,
    updatedAt: e.updatedAt,
  });
}

export class InventoryStore {
  private ready: Promise<void> | null = null;

  /** From an injected TableClient (credential, endpoint and retries are the caller's). */
  constructor(readonly table: TableClient) {}

  /** From a storage connection string (Azurite's or an account's), e.g. the Functions app's AzureWebJobsStorage. */
  static fromConnectionString(
    connectionString: string,
    tableName = DEFAULT_INVENTORY_TABLE,
    options?: ConstructorParameters<typeof TableClient>[2] & { allowInsecureConnection?: boolean },
  ): InventoryStore {
    return new InventoryStore(TableClient.fromConnectionString(connectionString, tableName, options));
  }

  /** Creates the table once per store (idempotent). */
  ensureTable(): Promise<void> {
    this.ready ??= this.table.createTable().catch((e: unknown) => {
      this.ready = null;
      throw e;
    });
    return this.ready;
  }

  /** Inserts or replaces a link's record; validates it first (no secret values, known shape). */
  async upsert(record: InventoryRecord): Promise<InventoryRecord> {
    const valid = inventoryRecordSchema.parse(record);
    await this.ensureTable();
    await this.table.upsertEntity(toEntity(valid), 'Replace');
    return valid;
  }

  /** Records an operation's outcome and the link's new state on an existing record. */
  async recordOperation(
    instance: string,
    linkName: string,
    operation: LinkOperation,
    state: string,
  ): Promise<InventoryRecord> {
    const current = await this.get(instance, linkName);
    if (!current) throw new Error(`link ${linkName} on ${instance} is not in the inventory`);
    return this.upsert({
      ...current,
      lastOperation: operationSchema.parse(operation),
      state,
      updatedAt: operation.at,
    });
  }

  async get(instance: string, linkName: string): Promise<InventoryRecord | null> {
    await this.ensureTable();
    const { partitionKey, rowKey } = inventoryKeys(instance, linkName);
    try {
      return fromEntity(await this.table.getEntity<Record<string, unknown>>(partitionKey, rowKey));
    } catch (e) {
      if (e instanceof RestError && e.statusCode === 404) return null;
      throw e;
    }
  }

  /** Every record, or those of one instance / one SQL Server; sorted by instance then link. */
  async list(filter: { instance?: string; sqlServer?: string } = {}): Promise<InventoryRecord[]> {
    await this.ensureTable();
    const clauses: string[] = [];
    if (filter.instance !== undefined)
      clauses.push(odata`PartitionKey eq ${inventoryKeys(filter.instance, 'x').partitionKey}`);
    if (filter.sqlServer !== undefined) clauses.push(odata`sqlServer eq ${filter.sqlServer}`);
    const out: InventoryRecord[] = [];
    const pages = this.table.listEntities<Record<string, unknown>>(
      clauses.length ? { queryOptions: { filter: clauses.join(' and ') } } : {},
    );
    for await (const e of pages) out.push(fromEntity(e));
    return out.sort((a, b) => a.instance.localeCompare(b.instance) || a.linkName.localeCompare(b.linkName));
  }

  /** Removes a link's record; false when there was none. */
  async remove(instance: string, linkName: string): Promise<boolean> {
    await this.ensureTable();
    const { partitionKey, rowKey } = inventoryKeys(instance, linkName);
    try {
      await this.table.deleteEntity(partitionKey, rowKey);
      return true;
    } catch (e) {
      if (e instanceof RestError && e.statusCode === 404) return false;
      throw e;
    }
  }
}
