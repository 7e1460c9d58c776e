/** Test helpers: a stand-in server plus an `mssql` pool on one connection (so USE carries over). */
import sql from 'mssql';
import { VirtualClock } from '../../../local/sim/clock.js';
import {
  createServerState,
  startSqlServer,
  type RunningSqlServer,
  type ServerSpec,
  type SqlServerHooks,
} from '../../../local/sim/sqlserver/index.js';
import { splitGo } from './runbook-blocks.js';

export const SA = { name: 'sa', password: 'Sa-Passw0rd!', serverRoles: ['sysadmin'] };

export interface BatchResult {
  recordsets: Array<Array<Record<string, unknown>>>;
  messages: Array<{ number: number; message: string }>;
}

export interface StandIn {
  server: RunningSqlServer;
  pool: sql.ConnectionPool;
  clock: VirtualClock;
  /** Runs one batch with request.batch(); rejects with the mssql error. */
  batch(text: string): Promise<BatchResult>;
  /** Splits at GO and runs each batch in order; stops at the first error. */
  script(text: string): Promise<BatchResult[]>;
  close(): Promise<void>;
}

export function connect(
  server: RunningSqlServer,
  user = SA.name,
  password = SA.password,
  requestTimeout = 5000,
): Promise<sql.ConnectionPool> {
  const pool = new sql.ConnectionPool({
    server: server.host,
    port: server.port,
    user,
    password,
    database: 'master',
    options: { encrypt: false, trustServerCertificate: true },
    pool: { max: 1, min: 0 },
    connectionTimeout: 5000,
    requestTimeout,
  });
  return pool.connect();
}

export async function standIn(
  spec: Partial<ServerSpec> & { serverName: string },
  opts: { start?: string; hooks?: SqlServerHooks } = {},
): Promise<StandIn> {
  const clock = new VirtualClock(opts.start ?? '2024-10-09T08:00:00Z');
  const state = createServerState({ version: 2022, logins: [SA], ...spec }, clock);
  const server = await startSqlServer({ state, clock, hooks: opts.hooks });
  const pool = await connect(server);
  const batch = async (text: string): Promise<BatchResult> => {
    const req = pool.request();
    const messages: Array<{ number: number; message: string }> = [];
    req.on('info', (m: { number: number; message: string }) =>
      messages.push({ number: m.number, message: m.message }),
    );
    const r = await req.batch(text);
    return { recordsets: (r.recordsets as unknown as Array<Array<Record<string, unknown>>>) ?? [], messages };
  };
  return {
    server,
    pool,
    clock,
    batch,
    script: async (text) => {
      const out: BatchResult[] = [];
      for (const b of splitGo(text)) out.push(await batch(b));
      return out;
    },
    close: async () => {
      await pool.close();
      await server.close();
    },
  };
}

/** The SQL Server error number of a rejected mssql call. */
export async function errorOf(
  p: Promise<unknown>,
): Promise<{ number: number; message: string; preceding: number[] }> {
  try {
    await p;
  } catch (e) {
    const err = e as { number?: number; message: string; precedingErrors?: Array<{ number?: number }> };
    return {
      number: err.number ?? -1,
      message: err.message,
      preceding: (err.precedingErrors ?? []).map((x) => x.number ?? -1),
    };
  }
  throw new Error('expected the statement to fail, but it succeeded');
}
