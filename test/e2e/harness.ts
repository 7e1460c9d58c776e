import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalHost, type LocalHost } from '../../local/host/host.js';
import { FAST_RETRY_SETTINGS, milinkSettingsFor } from '../../local/host/milink-settings.js';
import { VirtualClock } from '../../local/sim/clock.js';
import { startEstate, type EstateSpec, type RunningEstate } from '../../local/sim/estate/estate.js';
import sql from 'mssql';
import type { JournalEntry } from '../../local/sim/sqlserver/server.js';
import { repoRoot } from '../helpers/runbook.js';
import { checkDocumented } from './api-contract.js';

/** The simulated estate and milink's app on the local host, sharing one virtual clock. */
export interface Bed {
  estate: RunningEstate;
  host: LocalHost;
  clock: VirtualClock;
  dir: string;
  logs: string[];
  /** Calls the app's HTTP API with the function key. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }>;
  /** Waits until an orchestration ends; returns the link status from GET /api/links/{id}. */
  finish(instanceId: string, timeoutMs?: number): Promise<any>;
  close(): Promise<void>;
}

export function demoSpec(): EstateSpec {
  return JSON.parse(readFileSync(join(repoRoot, 'local/sim/estates/demo.json'), 'utf8')) as EstateSpec;
}

export function demoRequest(overrides: Record<string, unknown> = {}): any {
  return {
    sqlServer: {
      host: 'sqlbox1.contoso.local',
      port: 1433,
      endpointAddress: '10.0.0.4',
      endpointPort: 5022,
      login: 'milink_admin',
      loginSecret: 'sqlbox1-login',
      masterKeySecret: 'sqlbox1-master-key',
      tls: { encrypt: false, trustServerCertificate: true },
    },
    managedInstance: {
      subscriptionId: '00000000-0000-0000-0000-000000000001',
      resourceGroup: 'rg-data',
      name: 'mi-prod',
    },
    database: 'SalesDb',
    initialPrimary: 'SqlServer',
    certificateExpiry: '2027-11-30',
    backupPath: '/var/opt/mssql/backup/',
    ...overrides,
  };
}

export interface BedOptions {
  spec?: EstateSpec;
  /** Reuse a state directory (a restarted host). */
  dir?: string;
  env?: Record<string, string>;
  queues?: 'azurite-memory' | false;
}

export async function startBed(opts: BedOptions = {}): Promise<Bed> {
  const clock = new VirtualClock('2026-11-22T08:00:00Z');
  const estate = await startEstate(opts.spec ?? demoSpec(), { clock, retryAfterSeconds: 0 });
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'milink-e2e-'));
  const bed = await startHostOn(estate, {
    clock,
    dir,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.queues ? { queues: opts.queues } : {}),
  });
  return {
    ...bed,
    async close() {
      await bed.close();
      await estate.close();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- looking at the estate (tests' own eyes)

export type { JournalEntry };

/** The journal of one simulated SQL Server (by @@SERVERNAME). */
export function journalOf(bed: Bed, serverName: string): JournalEntry[] {
  const server = bed.estate.sqlServers.get(serverName);
  if (!server) throw new Error(`no simulated SQL Server ${serverName}`);
  return server.journal;
}

/** Statement text with string literals, comments and bracketed identifiers blanked out. */
function codeOnly(text: string): string {
  return text
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/N?'(?:[^']|'')*'/g, "''")
    .replace(/\[(?:[^\]]|\]\])*\]/g, '[]');
}

/** System procedures that only read or validate. */
const READ_ONLY_PROCEDURES = /^(sp_validate_certificate_ca_chain)$/i;

/**
 * Whether a statement can change the server: DDL, DML, BACKUP/RESTORE, permissions, or a procedure that is not
 * known to be read-only. Connection-setup SETs, SELECTs, USE, DECLARE and DBCC TRACESTATUS are reads.
 */
export function isChange(entry: JournalEntry): boolean {
  const code = codeOnly(entry.text);
  if (
    /\b(CREATE|ALTER|DROP|BACKUP|RESTORE|GRANT|REVOKE|DENY|INSERT|UPDATE|DELETE|MERGE|TRUNCATE|OPEN|CLOSE)\b/i.test(
      code,
    )
  )
    return true;
  if (/\bDBCC\s+(?!TRACESTATUS\b)/i.test(code)) return true;
  for (const m of code.matchAll(/\bEXEC(?:UTE)?\s+([A-Za-z_.[\]]+)/gi))
    if (!READ_ONLY_PROCEDURES.test(m[1]!.replace(/^.*\./, ''))) return true;
  return false;
}

/** The entries that could change something (see isChange). */
export function changesIn(entries: JournalEntry[]): JournalEntry[] {
  return entries.filter(isChange);
}

/**
 * How many batches asked to create each object (`CERTIFICATE name`, `ENDPOINT name`, `AVAILABILITY GROUP name`,
 * `MASTER KEY`), whether or not a guard skipped it. Keys are upper-case kinds and names as written.
 */
export function createRequests(entries: JournalEntry[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const entry of entries) {
    const text = entry.text.replace(/--[^\n]*/g, ' ');
    for (const m of text.matchAll(
      /\bCREATE\s+(CERTIFICATE|ENDPOINT|AVAILABILITY\s+GROUP)\s+(\[(?:[^\]]|\]\])*\]|[A-Za-z_#][\w@#$]*)|\bCREATE\s+MASTER\s+KEY\b/gi,
    )) {
      const key = m[1] ? `${m[1].toUpperCase().replace(/\s+/g, ' ')} ${m[2]!}` : 'MASTER KEY';
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

/** Runs a query on a simulated SQL Server through mssql with the server's first login. */
export async function queryServer(
  bed: Bed,
  serverName: string,
  text: string,
): Promise<Array<Record<string, any>>> {
  const server = bed.estate.sqlServers.get(serverName);
  const login = server?.state.logins[0];
  if (!server || !login) throw new Error(`no simulated SQL Server ${serverName} with a login`);
  const pool = await new sql.ConnectionPool({
    server: server.host,
    port: server.port,
    user: login.name,
    password: login.password,
    options: { encrypt: false, trustServerCertificate: true },
  }).connect();
  try {
    return (await pool.request().query(text)).recordset as Array<Record<string, any>>;
  } finally {
    await pool.close();
  }
}

/** SQL Server's view of a distributed availability group's replicas (the DMVs, read through mssql). */
export async function dagReplicaStates(
  bed: Bed,
  serverName: string,
  dag: string,
): Promise<
  Array<{ replica: string; endpoint: string; role: string | null; connected: string; health: string }>
> {
  const rows = await queryServer(
    bed,
    serverName,
    `SELECT r.replica_server_name AS replica, r.endpoint_url AS endpoint, rs.role_desc AS role,
            rs.connected_state_desc AS connected, rs.synchronization_health_desc AS health
       FROM sys.availability_groups ag
       JOIN sys.availability_replicas r ON r.group_id = ag.group_id
       JOIN sys.dm_hadr_availability_replica_states rs ON rs.replica_id = r.replica_id
      WHERE ag.name = N'${dag.replace(/'/g, "''")}' AND ag.is_distributed = 1`,
  );
  return rows.map((r) => ({
    replica: String(r.replica),
    endpoint: String(r.endpoint),
    role: r.role === null ? null : String(r.role),
    connected: String(r.connected),
    health: String(r.health),
  }));
}

/** The ARM body of a link as the simulated instance answers it (GET …/distributedAvailabilityGroups/{name}). */
export function armLink(bed: Bed, instance: string, link: string): any {
  const mi = bed.estate.instances.all().find((m) => m.name === instance);
  if (!mi) throw new Error(`no simulated managed instance ${instance}`);
  bed.estate.advance();
  return bed.estate.links.get(mi, link);
}

// ---------------------------------------------------------------- a host over an estate that outlives it

export interface HostOnEstateOptions {
  clock: VirtualClock;
  /** The directory holding the connection file and the host's state (`<dir>/host`); reuse it to restart. */
  dir: string;
  env?: Record<string, string>;
  /** Receives every log line (also kept in `logs`). */
  log?: (line: string) => void;
  trace?: Parameters<typeof startLocalHost>[0]['trace'];
  /** Queues, tables and blobs on Azurite (default: none). */
  queues?: 'azurite-memory' | false;
}

/**
 * milink's app on a local host over an estate started separately: `close()` stops the host only, so a test
 * can stop it between two steps and start another on the same state directory and the same estate.
 */
export async function startHostOn(estate: RunningEstate, opts: HostOnEstateOptions): Promise<Bed> {
  const logs: string[] = [];
  const host = await startLocalHost({
    stateDir: join(opts.dir, 'host'),
    clock: opts.clock,
    queues: opts.queues ?? false,
    env: {
      ...milinkSettingsFor(estate.connection, opts.dir),
      ...FAST_RETRY_SETTINGS,
      MILINK_POLL_INTERVAL_SECONDS: '15',
      MILINK_LINK_DEADLINE_HOURS: '2',
      ...opts.env,
    },
    log: (line) => {
      logs.push(line);
      opts.log?.(line);
    },
    onClockAdvance: () => estate.advance(),
    ...(opts.trace ? { trace: opts.trace } : {}),
  });
  const api: Bed['api'] = async (method, path, body) => {
    const response = await fetch(`${host.baseUrl}${path}`, {
      method,
      headers: { 'x-functions-key': host.functionKey, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    // every answer of a route the OpenAPI document describes must match it
    await checkDocumented(method, path, response.status, json ?? text);
    return { status: response.status, json, text };
  };
  return {
    estate,
    host,
    clock: opts.clock,
    dir: opts.dir,
    logs,
    api,
    async finish(instanceId, timeoutMs = 60_000) {
      await host.client.waitForCompletion(instanceId, { timeoutMs });
      return (await api('GET', `/api/links/${instanceId}`)).json;
    },
    close: () => host.close(),
  };
}

/**
 * Probes until `probe` returns a value (not undefined), between turns of the event loop and short real pauses;
 * fails after `timeoutMs` naming `what`. For states only visible through polling (an orchestration's status).
 */
export async function until<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
