import sql from 'mssql';
import { settings } from '../config.js';
import { readLocalEstate, resolveSqlServer } from '../local-estate.js';
import type { LinkRequest } from '../link/request.js';
import { sqlAdvice, TRANSIENT_DRIVER_CODES, TRANSIENT_SQL_ERRORS } from './errors.js';

/**
 * Sessions with SQL Server through mssql: one pool per server and login, the login's password read from
 * Key Vault by the caller, the request's TLS options, transient errors retried, errors classified.
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
  ) {
    super(message);
    this.name = 'SqlStepError';
  }
}

export interface SqlTarget {
  host: string;
  port: number;
  login: string;
  encrypt: boolean;
  trustServerCertificate: boolean;
}

export function sqlTarget(request: LinkRequest): SqlTarget {
  return {
    host: request.sqlServer.host,
    port: request.sqlServer.port,
    login: request.sqlServer.login,
    encrypt: request.sqlServer.tls?.encrypt ?? true,
    trustServerCertificate: request.sqlServer.tls?.trustServerCertificate ?? false,
  };
}

interface DriverError {
  number?: number;
  code?: string;
  message?: string;
  originalError?: { code?: string };
  /** mssql: the errors a batch raised before the one it throws (the first is the cause). */
  precedingErrors?: DriverError[];
}

function classify(e: unknown): SqlStepError {
  if (e instanceof SqlStepError) return e;
  const thrown = e as DriverError;
  const err = thrown.precedingErrors?.find((p) => typeof p.number === 'number') ?? thrown;
  const number = typeof err.number === 'number' ? err.number : undefined;
  const code = err.code ?? err.originalError?.code;
  const transient =
    (number !== undefined && TRANSIENT_SQL_ERRORS.has(number)) ||
    (code !== undefined && TRANSIENT_DRIVER_CODES.has(code));
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

export interface SessionOptions {
  /** Attempts for a transient failure (default 4). */
  attempts?: number;
  /** First backoff (ms), doubled per attempt. */
  backoffMs?: number;
  requestTimeoutMs?: number;
}

export class SqlSession {
  private pool: sql.ConnectionPool | undefined;
  constructor(
    private readonly target: SqlTarget,
    private readonly password: string,
    private readonly options: SessionOptions = {},
  ) {}

  private async connect(): Promise<sql.ConnectionPool> {
    if (this.pool?.connected) return this.pool;
    await this.pool?.close().catch(() => undefined);
    const file = settings().MILINK_LOCAL_CONNECTION_FILE;
    const where = resolveSqlServer(
      file ? readLocalEstate(file) : undefined,
      this.target.host,
      this.target.port,
    );
    const pool = new sql.ConnectionPool({
      server: where.server,
      port: where.port,
      user: this.target.login,
      password: this.password,
      database: 'master',
      connectionTimeout: 15_000,
      requestTimeout: this.options.requestTimeoutMs ?? 120_000,
      pool: { max: 2, min: 0, idleTimeoutMillis: 30_000 },
      options: {
        encrypt: this.target.encrypt,
        trustServerCertificate: this.target.trustServerCertificate,
        appName: 'milink',
        ...(where.server !== this.target.host && this.target.encrypt ? { serverName: this.target.host } : {}),
      },
    });
    this.pool = pool;
    await pool.connect();
    return pool;
  }

  private async withRetry<T>(work: (pool: sql.ConnectionPool) => Promise<T>): Promise<T> {
    const attempts = this.options.attempts ?? 4;
    let backoff = this.options.backoffMs ?? 500;
    for (let attempt = 1; ; attempt++) {
      try {
        return await work(await this.connect());
      } catch (e) {
        const error = classify(e);
        if (!error.transient || attempt >= attempts) throw error;
        await this.pool?.close().catch(() => undefined);
        this.pool = undefined;
        await new Promise((r) => setTimeout(r, backoff));
        backoff *= 2;
      }
    }
  }

  /** Runs one batch (text as SQL Server receives it). Steps' batches are guarded, so a retry is harmless. */
  async batch(text: string): Promise<BatchResult> {
    return this.withRetry(async (pool) => {
      const request = pool.request();
      const messages: string[] = [];
      request.on('info', (info: { message: string }) => messages.push(info.message));
      const result = await request.batch(text);
      return {
        recordsets: (result.recordsets as unknown as Array<Array<Record<string, unknown>>>) ?? [],
        messages,
      };
    });
  }

  /** A parameterised query (sp_executesql): for reads that take values. */
  async query(
    text: string,
    params: Record<string, string | number | null> = {},
  ): Promise<Array<Record<string, unknown>>> {
    return this.withRetry(async (pool) => {
      const request = pool.request();
      for (const [name, value] of Object.entries(params)) {
        if (typeof value === 'number') request.input(name, sql.Int, value);
        else request.input(name, sql.NVarChar(4000), value);
      }
      const result = await request.query(text);
      return (result.recordset as unknown as Array<Record<string, unknown>>) ?? [];
    });
  }

  async close(): Promise<void> {
    await this.pool?.close().catch(() => undefined);
    this.pool = undefined;
  }
}
