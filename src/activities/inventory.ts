/**
 * The inventory's activities: record a link an operation made (called by the runner after any operation succeeds),
 * and adopt a link made elsewhere once it is seen on both sides (ARM and SQL Server). Records hold the request with
 * Key Vault secret *names* only; the store refuses anything shaped like a secret value.
 */
import { stores } from '../azure/storage.js';
import { getLink } from '../azure/arm-requests.js';
import { settings } from '../config.js';
import { resolveNames } from '../link/names.js';
import type { LinkRequest } from '../link/request.js';
import { StepProblem } from '../runbook/step.js';
import { quoteLiteral } from '../sql/quote.js';
import type { InventoryRecord } from '../inventory/store.js';
import { defineActivity, type ActivityIo } from './io.js';

/** What the runner hands the record activity after an operation succeeded (no secret: names and outcome). */
export interface RecordInput {
  operation: string;
  request: LinkRequest;
  /** The link the operation worked on (its resolved name). */
  link: string;
  /** The orchestration's id and clock. */
  instanceId?: string;
  since: string;
  outcome: 'succeeded';
}

/** The state a link is in after an operation succeeded (operations not listed leave it linked). */
const STATE_AFTER: Record<string, string> = { createLink: 'linked', dropLink: 'dropped', adopt: 'adopted' };

export function inventoryStores() {
  const s = settings();
  return stores({ table: s.MILINK_INVENTORY_TABLE, container: s.MILINK_HEALTH_CONTAINER });
}

/** The record of a link: the SQL Server is named as the sweep finds it (@@SERVERNAME when known). */
export function inventoryRecord(
  request: LinkRequest,
  link: string,
  sqlServer: string,
  operation: { kind: string; instanceId?: string; at: string },
  state: string,
): InventoryRecord {
  return {
    instance: request.managedInstance.name,
    linkName: link,
    sqlServer,
    database: request.database,
    request: request as unknown as Record<string, unknown>,
    lastOperation: {
      kind: operation.kind,
      status: 'succeeded',
      ...(operation.instanceId ? { instanceId: operation.instanceId } : {}),
      at: operation.at,
    },
    state,
    updatedAt: operation.at,
  };
}

async function record(io: ActivityIo): Promise<{ recorded: string }> {
  const input = io.input as unknown as RecordInput & { facts: { serverName?: string } };
  const { inventory } = await inventoryStores();
  const sqlServer = input.request.sqlServer.serverName ?? io.facts.serverName ?? input.request.sqlServer.host;
  const saved = await inventory.upsert(
    inventoryRecord(
      input.request,
      input.link,
      sqlServer,
      {
        kind: input.operation,
        ...(input.instanceId ? { instanceId: input.instanceId } : {}),
        at: input.since,
      },
      STATE_AFTER[input.operation] ?? 'linked',
    ),
  );
  io.log(`recorded ${saved.instance}/${saved.linkName} (${saved.state}) in the inventory`);
  return { recorded: `${saved.instance}/${saved.linkName}` };
}

export interface AdoptResult {
  record: InventoryRecord;
  sqlServer: string;
}

/**
 * Adopts a link made by hand or by another tool: the link must exist on the instance (ARM GET) and its
 * distributed availability group on SQL Server, carrying the request's database on both sides.
 */
async function adopt(io: ActivityIo): Promise<AdoptResult> {
  const request = io.request;
  const link = resolveNames(request, {}).link;
  const mi = request.managedInstance;
  io.step = 'adopt';
  const armAnswer = await io.arm.send(getLink(mi, link));
  if (armAnswer.status === 404)
    throw new StepProblem(
      'azure',
      'LinkNotFoundOnInstance',
      `managed instance ${mi.name} has no link ${link}`,
      'name the link as the instance lists it (names.link), or create it with POST /api/links',
    );
  if (armAnswer.status >= 400) {
    await io.arm.call(getLink(mi, link), `read link ${link}`); // throws the ArmError with its advice
  }
  const armDatabases = ((armAnswer.json as { properties?: { databases?: Array<{ databaseName?: string }> } })
    ?.properties?.databases ?? []) as Array<{ databaseName?: string }>;
  if (!armDatabases.some((d) => (d.databaseName ?? '').toLowerCase() === request.database.toLowerCase()))
    throw new StepProblem(
      'azure',
      'LinkDatabaseMismatch',
      `link ${link} on ${mi.name} does not carry database ${request.database}`,
      'check the request: one link carries one database',
    );
  const result = await io.run(
    `SET NOCOUNT ON;
SELECT @@SERVERNAME AS server_name;
SELECT ag.name AS dag_name FROM sys.availability_groups ag
WHERE ag.is_distributed = 1 AND ag.name = ${quoteLiteral(link)};`,
  );
  const serverName = String(result.recordsets[0]?.[0]?.server_name ?? request.sqlServer.host);
  if ((result.recordsets[1] ?? []).length === 0)
    throw new StepProblem(
      'sqlserver',
      'DagNotFoundOnSqlServer',
      `SQL Server ${serverName} has no distributed availability group ${link}`,
      'adopt the link from the SQL Server that holds its distributed availability group',
    );
  const { inventory } = await inventoryStores();
  const at = io.since?.toISOString() ?? new Date().toISOString();
  const saved = await inventory.upsert(
    inventoryRecord(
      request,
      link,
      request.sqlServer.serverName ?? serverName,
      { kind: 'adopt', at },
      'adopted',
    ),
  );
  io.log(`adopted ${saved.instance}/${saved.linkName}`);
  return { record: saved, sqlServer: serverName };
}

defineActivity('recordInventory', record);
defineActivity('adoptLink', adopt);
