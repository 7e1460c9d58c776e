import type * as mssql from 'mssql';
import { sqlAdvice, TRANSIENT_DRIVER_CODES, TRANSIENT_SQL_ERRORS } from './errors.js';

/**
 * Sessions with SQL Server through mssql: one pool per server and login, the login's password read from
 * Key Vault by the caller, the request's TLS options, transient errors retried, errors classified. A pool is
 * shared by every step running on that server at once: a transient failure of one batch is retried on the pool,
 * never answered by closing the pool under the others.
 */
export interface BatchResult {
  recordsets: Array<Array<Record<string, unknown>>>;
  messages: string[];
}

/** A SQL Server error with its number and advice. The message never holds a secret (callers scrub it). */
export class SqlStepError extends Error {
  constructor(
    message: string,
    readonly number: number | undefined,
    readonly advice: string,
    readonly transient: boolean,
    /** What went wrong when SQL Server sent no error number (`StatementTimeout`). */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'SqlStepError';
  }
}

/** How one batch runs. */
export interface BatchOptions {
  /**
   * The client's limit for this batch (ms); 0 = none (a BACKUP lasts as long as the database is big). Without it, the
   * session's request timeout. When it passes, the driver cancels the batch on SQL Server (an attention).
   */
  timeoutMs?: number;
  /**
   * The batch changes state (a step's action). When it times out it is not tried again: SQL Server may have done part
   * of it, or a retry would repeat a long statement from the start; the step looks at what is done on its next run.
   */
  changesState?: boolean;
}

/** mssql's ConnectionPool.request with its per-request overrides (0 = no limit). */
interface PerRequest {
  request(overrides: { requestTimeout: number }): mssql.Request;
}

/** The default client-side limit of one batch (ms). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;

export interface SqlTarget {
  host: string;
  port: number;
  login: string;
  encrypt: boolean;
  trustServerCertificate: boolean;
}

/**
 * Where a host named in a request is reached (a jump host, a port forward): `host:port` (that port only) or
 * `host` (any port) → `address:port`.
 */
export type HostMap = ReadonlyMap<string, { server: string; port: number }>;

/** Reads the host map setting: `{ "host[:port]": "address:port" }` (JSON); names compare case-insensitively. */
export function parseHostMap(json: string | undefined): HostMap {
  const map = new Map<string, { server: string; port: number }>();
  if (!json) return map;
  const raw = JSON.parse(json) as Record<string, string>;
  for (const [from, to] of Object.entries(raw)) {
    const at = to.lastIndexOf(':');
    map.set(from.toLowerCase(), { server: to.slice(0, at), port: Number(to.slice(at + 1)) });
  }
  return map;
}

interface DriverError {
  number?: number;
  code?: string;
  message?: string;
  originalError?: { code?: string };
  /** mssql: the errors a batch raised before the one it throws (the first is the cause). */
  precedingErrors?: DriverError[];
}

function classify(e: unknown, batch: BatchOptions = {}, limitMs = DEFAULT_REQUEST_TIMEOUT_MS): SqlStepError {
  if (e instanceof SqlStepError) return e;
  const thrown = e as DriverError & { name?: string };
  // the request's own limit passed (not the connection's): the driver cancelled the statement on SQL Server
  if (batch.changesState && thrown.code === 'ETIMEOUT' && thrown.name === 'RequestError')
    return new SqlStepError(
      `the statement did not finish within ${Math.round(limitMs / 1000)} s; milink cancelled it on SQL Server`,
      undefined,
      'it was not tried again (SQL Server may have done part of it): look at SQL Server (sys.dm_exec_requests, the error log), then re-run — the step first checks what is already done',
      false,
      'StatementTimeout',
    );
  const err = thrown.precedingErrors?.find((p) => typeof p.number === 'number') ?? thrown;
  const number = typeof err.number === 'number' ? err.number : undefined;
  const code = err.code ?? err.originalError?.code;
  // a connection the driver lost mid-request ends the request with `aborted` or a closed-connection code
  const transient =
    (number !== undefined && TRANSIENT_SQL_ERRORS.has(number)) ||
    (code !== undefined && TRANSIENT_DRIVER_CODES.has(code)) ||
    (number === undefined &&
      code !== 'ELOGIN' &&
      /\baborted\b|connection (is )?closed/i.test(err.message ?? ''));
  const advice =
    number !== undefined
      ? sqlAdvice(number)
      : code === 'ELOGIN'
        ? sqlAdvice(18456)
        : transient
          ? 'SQL Server could not be reached or the connection dropped: check the host, port and network, then re-run'
          : sqlAdvice(undefined);
  const message = err.message ?? String(e);
  return new SqlStepError(
    number !== undefined ? `SQL Server error ${number}: ${message}` : message,
    number ?? (code === 'ELOGIN' ? 18456 : undefined),
    advice,
    transient,
  );
}

/** mssql (and tedious under it), loaded by the first session that connects: triggers never pay for it. */
let loaded: typeof mssql | undefined;
async function driver(): Promise<typeof mssql> {
  loaded ??= ((await import('mssql')) as unknown as { default: typeof mssql }).default;
  return loaded;
}

export interface SessionOptions {
  /** Tries for a transient failure. */
  attempts: number;
  /** First backoff (ms), doubled per try. */
  backoffMs: number;
  /** Where hosts are reached. */
  hostMap: HostMap;
  /** The client-side limit of a batch unless the call says otherwise (ms; default 120 s). */
  requestTimeoutMs?: number;
}

export class SqlSession {
  private pool: Promise<mssql.ConnectionPool> | undefined;
  constructor(
    private readonly target: SqlTarget,
    private readonly password: string,
    private readonly options: SessionOptions,
  ) {}

  /** The shared pool; one connect at a time, and a new pool only when the last one could not connect. */
  private connect(): Promise<mssql.ConnectionPool> {
    if (!this.pool) {
      const pool = this.open();
      this.pool = pool;
      pool.catch(() => {
        if (this.pool === pool) this.pool = undefined;
      });
    }
    return this.pool;
  }

  private async open(): Promise<mssql.ConnectionPool> {
    const host = this.target.host.toLowerCase();
    const where = this.options.hostMap.get(`${host}:${this.target.port}`) ??
      this.options.hostMap.get(host) ?? { server: this.target.host, port: this.target.port };
    const sql = await driver();
    const pool = new sql.ConnectionPool({
      server: where.server,
      port: where.port,
      user: this.target.login,
      password: this.password,
      database: 'master',
      connectionTimeout: 15_000,
      requestTimeout: this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      pool: { max: 4, min: 0, idleTimeoutMillis: 30_000 },
      // a pooled connection is checked by its socket, not by a `SELECT 1` round trip before every batch
      validateConnection: 'socket',
      options: {
        encrypt: this.target.encrypt,
        trustServerCertificate: this.target.trustServerCertificate,
        appName: 'milink',
        ...(where.server !== this.target.host && this.target.encrypt ? { serverName: this.target.host } : {}),
      },
    });
    // a pool error (a connection lost while idle) is the pool's to heal: it validates before lending
    pool.on('error', () => undefined);
    await pool.connect();
    return pool;
  }

  private async withRetry<T>(
    work: (pool: mssql.ConnectionPool) => Promise<T>,
    batch: BatchOptions = {},
  ): Promise<T> {
    let backoff = this.options.backoffMs;
    const limit = batch.timeoutMs ?? this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        return await work(await this.connect());
      } catch (e) {
        const error = classify(e, batch, limit);
        if (!error.transient || attempt >= this.options.attempts) throw error;
        if (backoff > 0) await new Promise((r) => setTimeout(r, backoff));
        backoff *= 2;
      }
    }
  }

  /**
   * Runs one batch (text as SQL Server receives it). Steps' batches are guarded, so a retry after a dropped connection
   * is harmless; a batch that changes state and timed out is not retried (see BatchOptions).
   */
  async batch(text: string, options: BatchOptions = {}): Promise<BatchResult> {
    return this.withRetry(async (pool) => {
      // mssql takes per-request overrides (its typings omit the argument)
      const request =
        options.timeoutMs === undefined
          ? pool.request()
          : (pool as unknown as PerRequest).request({ requestTimeout: options.timeoutMs });
      const messages: string[] = [];
      request.on('info', (info: { message: string }) => messages.push(info.message));
      const result = await request.batch(text);
      return {
        recordsets: (result.recordsets as unknown as Array<Array<Record<string, unknown>>>) ?? [],
        messages,
      };
    }, options);
  }

  /** A parameterised query (sp_executesql): for reads that take values. */
  async query(
    text: string,
    params: Record<string, string | number | null> = {},
  ): Promise<Array<Record<string, unknown>>> {
    return this.withRetry(async (pool) => {
      const request = pool.request();
      for (const [name, value] of Object.entries(params)) {
        if (typeof value === 'number') request.input(name, loaded!.Int, value);
        else request.input(name, loaded!.NVarChar(4000), value);
      }
      const result = await request.query(text);
      return (result.recordset as unknown as Array<Record<string, unknown>>) ?? [];
    });
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.then((p) => p.close()).catch(() => undefined);
  }
}
