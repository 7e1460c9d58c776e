/**
 * The TCP listener of one simulated SQL Server: TDS sessions over 127.0.0.1 on a port chosen at start,
 * running batches and RPCs through the T-SQL interpreter, with fault injection and a journal of every
 * request.
 */
import { createServer, type Socket } from 'node:net';
import type { Clock } from '../clock.js';
import { findDatabase, sameName, serverCollation, variableKey } from './collation.js';
import { SqlError, sqlError } from './errors.js';
import type { SimServerState } from './model.js';
import {
  DONE,
  MessageReader,
  PKT,
  doneToken,
  envChange,
  envChangeCollation,
  loginAck,
  messageToken,
  negotiatedVersion,
  packets,
  parseLogin7,
  parsePrelogin,
  parseRpc,
  parseSqlBatch,
  preloginReply,
  resultSet,
  returnStatus,
  returnValueToken,
  TDS_VERSION,
  type RpcRequest,
} from './tds.js';
import type { DistributedAgCommand } from './tsql/ddl.js';
import { Interpreter, type ExecEvent, type Session } from './tsql/interpreter.js';
import { T, toText, type TV } from './tsql/values.js';

export interface TextFault {
  /** a RegExp, or text found case-insensitively in the statement */
  pattern: RegExp | string;
  /** how many more times the fault fires; unlimited when absent */
  remaining?: number;
}

export interface ErrorFault extends TextFault {
  number: number;
  /** defaults to SQL Server's message for the number */
  message?: string;
  severity?: number;
  state?: number;
}

/** Faults a test may set at any time; the server reads them on every connection and request. */
export interface SqlFaults {
  /** added before every request (real milliseconds) */
  latencyMs: number;
  /** extra delay (real milliseconds) for requests whose text matches: to exercise timeouts and cancellation */
  slowOnText: Array<TextFault & { ms: number }>;
  /** the next N connections are closed as soon as they open */
  dropNextConnections: number;
  /** the connection is closed, without a reply, when a request's text matches */
  dropOnText: TextFault[];
  /** a statement whose text matches fails with the given error instead of running */
  errorOnText: ErrorFault[];
}

export function createFaults(): SqlFaults {
  return { latencyMs: 0, slowOnText: [], dropNextConnections: 0, dropOnText: [], errorOnText: [] };
}

export interface JournalEntry {
  time: Date;
  login: string;
  database: string;
  kind: 'batch' | 'rpc';
  /** the batch text, the sp_executesql statement, or "EXEC proc @p = value, …" for other RPCs */
  text: string;
  /** RPC parameters as sent (sp_executesql: the statement's parameters, without @statement/@params) */
  params?: Array<{ name: string; value: unknown; output: boolean }>;
  /** the first error the request raised */
  errorNumber?: number;
  errorNumbers: number[];
  /** the connection was dropped by a fault */
  dropped?: boolean;
}

export interface SqlServerHooks {
  /** before each batch/RPC runs: the estate brings replica and seeding state up to the clock's now */
  beforeStatement?(state: SimServerState): void;
  /** after a request that changed the catalog */
  onChange?(state: SimServerState): void;
  /**
   * DAG FAILOVER, FORCE_FAILOVER_ALLOW_DATA_LOSS, SET (ROLE = SECONDARY), MODIFY … AVAILABILITY_MODE and
   * DROP: called after the stand-in's own validation and BEFORE it changes its state; throwing a SqlError
   * fails the statement with that error and leaves the state unchanged.
   */
  onDistributedAgCommand?(cmd: DistributedAgCommand): void;
}

/**
 * What the listener has been asked, counted per server: every SQL batch or RPC a client sends is one
 * request message and gets exactly one reply message (MS-TDS), i.e. one network round trip however many
 * statements and result sets it carries. Tests read and reset these.
 */
export interface SqlCounters {
  /** TCP connections accepted (including ones a fault dropped). */
  connections: number;
  /** Successful logins. */
  logins: number;
  /** SQL batch messages (mssql `request.batch`, FreeTDS `tsql`). */
  batches: number;
  /** RPC messages (mssql `request.query` → sp_executesql, `request.execute`). */
  rpcs: number;
  /** Request round trips after login: batches + RPCs. */
  roundTrips: number;
  /** Result sets sent back, over all requests. */
  resultSets: number;
  reset(): void;
}

export function createCounters(): SqlCounters {
  const c: SqlCounters = {
    connections: 0,
    logins: 0,
    batches: 0,
    rpcs: 0,
    roundTrips: 0,
    resultSets: 0,
    reset() {
      c.connections = c.logins = c.batches = c.rpcs = c.roundTrips = c.resultSets = 0;
    },
  };
  return c;
}

export interface RunningSqlServer {
  host: '127.0.0.1';
  port: number;
  state: SimServerState;
  faults: SqlFaults;
  journal: JournalEntry[];
  /** Requests and round trips this listener served (see SqlCounters). */
  counters: SqlCounters;
  close(): Promise<void>;
}

function matches(f: TextFault, text: string): boolean {
  if (f.remaining !== undefined && f.remaining <= 0) return false;
  return typeof f.pattern === 'string'
    ? text.toLowerCase().includes(f.pattern.toLowerCase())
    : f.pattern.test(text);
}

function consume(f: TextFault): void {
  if (f.remaining !== undefined) f.remaining -= 1;
}

let nextSpid = 51;

/** A value as a T-SQL literal, for the journal's rendering of procedure calls. */
function literal(x: TV): string {
  const v = x.v;
  if (v === null) return 'NULL';
  if (Buffer.isBuffer(v)) return '0x' + v.toString('hex').toUpperCase();
  if (v instanceof Date) return `'${v.toISOString()}'`;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return `N'${String(v).replace(/'/g, "''")}'`;
}

export async function startSqlServer(opts: {
  state: SimServerState;
  clock: Clock;
  hooks?: SqlServerHooks;
  faults?: SqlFaults;
}): Promise<RunningSqlServer> {
  const { state, clock } = opts;
  const hooks = opts.hooks ?? {};
  const faults = opts.faults ?? createFaults();
  const journal: JournalEntry[] = [];
  const counters = createCounters();
  const sockets = new Set<Socket>();

  const server = createServer((socket) => {
    sockets.add(socket);
    counters.connections += 1;
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    if (faults.dropNextConnections > 0) {
      faults.dropNextConnections -= 1;
      socket.resetAndDestroy();
      return;
    }
    socket.setNoDelay(true);
    new Connection(socket, state, clock, hooks, faults, journal, counters);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    host: '127.0.0.1',
    port,
    state,
    faults,
    journal,
    counters,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

class Connection {
  private readonly reader = new MessageReader();
  private phase: 'prelogin' | 'login' | 'ready' = 'prelogin';
  private session: Session | null = null;
  private packetSize = 4096;
  /** The TDS version LOGINACK confirmed: token layouts and types follow it. */
  private tds: number = TDS_VERSION.V7_4;
  private chain: Promise<void> = Promise.resolve();
  private current: { abort(): void } | null = null;
  private attention = false;

  constructor(
    private readonly socket: Socket,
    private readonly state: SimServerState,
    private readonly clock: Clock,
    private readonly hooks: SqlServerHooks,
    private readonly faults: SqlFaults,
    private readonly journal: JournalEntry[],
    private readonly counters: SqlCounters = createCounters(),
  ) {
    socket.on('data', (data) => {
      let msgs: Array<{ type: number; payload: Buffer }>;
      try {
        msgs = this.reader.push(data);
      } catch {
        socket.destroy();
        return;
      }
      for (const m of msgs) {
        if (m.type === PKT.ATTENTION) this.onAttention();
        else
          this.chain = this.chain
            .then(() => this.handle(m.type, m.payload))
            .catch(() => {
              socket.destroy();
            });
      }
    });
  }

  private send(payload: Buffer): void {
    if (this.socket.destroyed) return;
    for (const p of packets(PKT.REPLY, payload, this.packetSize)) this.socket.write(p);
  }

  private onAttention(): void {
    if (this.current) {
      this.attention = true;
      this.current.abort();
    } else {
      this.chain = this.chain.then(() => this.send(doneToken(0xfd, DONE.ATTN, 0, 0, this.tds)));
    }
  }

  private async handle(type: number, payload: Buffer): Promise<void> {
    if (this.phase === 'prelogin') {
      if (type !== PKT.PRELOGIN) {
        this.socket.destroy();
        return;
      }
      parsePrelogin(payload);
      this.send(preloginReply(this.state.version.productVersion));
      this.phase = 'login';
      return;
    }
    if (this.phase === 'login') {
      if (type !== PKT.LOGIN7) {
        this.socket.destroy();
        return;
      }
      this.login(payload);
      return;
    }
    if (type === PKT.SQL_BATCH || type === PKT.RPC) {
      this.counters.roundTrips += 1;
      if (type === PKT.SQL_BATCH) this.counters.batches += 1;
      else this.counters.rpcs += 1;
    }
    if (type === PKT.SQL_BATCH) await this.request('batch', payload);
    else if (type === PKT.RPC) await this.request('rpc', payload);
    else this.socket.destroy();
  }

  private login(payload: Buffer): void {
    const l = parseLogin7(payload);
    this.tds = negotiatedVersion(l.tdsVersion);
    this.packetSize = Math.min(32767, Math.max(512, l.packetSize || 4096));
    // logins and databases are instance-level names: the instance's collation decides whether case matters
    const collation = serverCollation(this.state);
    const login = this.state.logins.find((x) => sameName(x.name, l.userName, collation));
    const fail = (errors: SqlError[]): void => {
      const parts = errors.map((e) =>
        messageToken(
          'error',
          { number: e.number, message: e.message, state: e.state, severity: e.severity },
          this.state.serverName,
        ),
      );
      this.send(Buffer.concat([...parts, doneToken(0xfd, DONE.ERROR, 0, 0, this.tds)]));
      this.socket.end();
    };
    if (!login || login.password !== l.password || login.isDisabled) {
      fail([new SqlError(18456, `Login failed for user '${l.userName}'.`, 14, 1)]);
      return;
    }
    const dbName = l.database || 'master';
    const db = findDatabase(this.state, dbName);
    if (!db) {
      fail([sqlError(4060, dbName), new SqlError(18456, `Login failed for user '${l.userName}'.`, 14, 1)]);
      return;
    }
    this.session = {
      spid: nextSpid++,
      login,
      database: db.name,
      concatNullYieldsNull: true,
      nocount: false,
      rowcount: 0,
      lastError: 0,
    };
    const name = this.state.serverName;
    this.send(
      Buffer.concat([
        envChange(1, db.name, 'master'),
        messageToken(
          'info',
          { number: 5701, message: `Changed database context to '${db.name}'.`, state: 2, severity: 0 },
          name,
        ),
        envChangeCollation(),
        envChange(2, 'us_english', ''),
        messageToken(
          'info',
          { number: 5703, message: 'Changed language setting to us_english.', state: 1, severity: 0 },
          name,
        ),
        loginAck(this.tds, this.state.version.productVersion),
        envChange(4, String(this.packetSize), String(this.packetSize)),
        doneToken(0xfd, DONE.FINAL, 0, 0, this.tds),
      ]),
    );
    this.phase = 'ready';
    this.counters.logins += 1;
  }

  private async request(kind: 'batch' | 'rpc', payload: Buffer): Promise<void> {
    const session = this.session!;
    let text: string;
    let rpc: RpcRequest | null = null;
    try {
      if (kind === 'batch') text = parseSqlBatch(payload, this.tds);
      else {
        rpc = parseRpc(payload, this.tds);
        const isExecuteSql = rpc.proc.toLowerCase() === 'sp_executesql';
        const stmt = isExecuteSql ? rpc.params[0] : undefined;
        text = stmt
          ? (toText(stmt.value) ?? '')
          : `EXEC ${rpc.proc}${rpc.params.length ? ' ' : ''}${rpc.params.map((p) => `${p.name ? p.name + ' = ' : ''}${literal(p.value)}${p.output ? ' OUTPUT' : ''}`).join(', ')}`;
      }
    } catch (e) {
      const err =
        e instanceof SqlError
          ? e
          : new SqlError(8016, 'The incoming tabular data stream (TDS) protocol stream is incorrect.');
      this.finish(kind, [{ k: 'error', error: err }]);
      return;
    }
    const entry: JournalEntry = {
      time: this.clock.now(),
      login: session.login.name,
      database: session.database,
      kind,
      text,
      errorNumbers: [],
    };
    if (rpc) {
      const shown = rpc.proc.toLowerCase() === 'sp_executesql' ? rpc.params.slice(2) : rpc.params;
      entry.params = shown.map((p) => ({ name: p.name, value: p.value.v, output: p.output }));
    }
    this.journal.push(entry);

    const drop = this.faults.dropOnText.find((f) => matches(f, text));
    if (drop) {
      consume(drop);
      entry.dropped = true;
      this.socket.resetAndDestroy();
      return;
    }

    let delay = this.faults.latencyMs;
    const slow = this.faults.slowOnText.find((f) => matches(f, text));
    if (slow) {
      consume(slow);
      delay += slow.ms;
    }
    if (delay > 0) {
      const aborted = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          this.current = null;
          resolve(false);
        }, delay);
        this.current = {
          abort: () => {
            clearTimeout(timer);
            this.current = null;
            resolve(true);
          },
        };
      });
      if (aborted || this.attention) {
        this.attention = false;
        // the interrupted request is closed, then the attention is acknowledged
        this.send(doneToken(kind === 'rpc' ? 0xfe : 0xfd, DONE.FINAL, 0, 0, this.tds));
        this.send(doneToken(0xfd, DONE.ATTN, 0, 0, this.tds));
        return;
      }
    }

    const events: ExecEvent[] = [];
    let outputs: Buffer[] = [];
    try {
      this.hooks.beforeStatement?.(this.state);
      const interp = new Interpreter(this.state, this.clock, session, {
        faultFor: (stmt) => {
          const f = this.faults.errorOnText.find((x) => matches(x, stmt));
          if (!f) return null;
          consume(f);
          const base = sqlError(f.number);
          return new SqlError(f.number, f.message ?? base.message, f.severity ?? 16, f.state ?? 1);
        },
        onChange: () => this.hooks.onChange?.(this.state),
        onDistributedAgCommand: this.hooks.onDistributedAgCommand
          ? (cmd) => this.hooks.onDistributedAgCommand!(cmd)
          : undefined,
      });
      if (rpc === null) interp.runBatch(text);
      else if (rpc.proc.toLowerCase() === 'sp_executesql') outputs = this.executeSql(interp, rpc);
      else
        interp.runProcedureRpc(
          rpc.proc,
          rpc.params.map((p) => ({ name: p.name || undefined, value: p.value })),
        );
      if (interp.lasting.length > 0) {
        // a statement that lasts simulated time: answered once the clock has passed its end, cancelled by an attention
        const until = Math.max(...interp.lasting.map((l) => l.until.getTime()));
        if (await this.lastsUntil(until)) {
          this.send(doneToken(kind === 'rpc' ? 0xfe : 0xfd, DONE.FINAL, 0, 0, this.tds));
          this.send(doneToken(0xfd, DONE.ATTN, 0, 0, this.tds));
          return;
        }
        if (this.socket.destroyed) return;
        this.hooks.beforeStatement?.(this.state);
        for (const l of interp.lasting) l.finish();
        this.hooks.onChange?.(this.state);
      }
      events.push(...interp.events);
    } catch (e) {
      const err =
        e instanceof SqlError
          ? e
          : new SqlError(50000, `SQL Server stand-in internal error: ${(e as Error).message}`);
      events.push({ k: 'error', error: err });
    }
    entry.errorNumbers = events.flatMap((ev) => (ev.k === 'error' ? [ev.error.number] : []));
    if (entry.errorNumbers.length) entry.errorNumber = entry.errorNumbers[0];
    this.finish(kind, events, outputs);
  }

  /**
   * Waits (looking at the clock every few real milliseconds, so a virtual clock moved by a test is seen) until the
   * clock reaches `until`; true when an attention or a closed connection cancelled the wait.
   */
  private lastsUntil(until: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const timer = setInterval(() => {
        if (this.socket.destroyed) done(true);
        else if (this.clock.now().getTime() >= until) done(false);
      }, 5);
      const done = (cancelled: boolean) => {
        clearInterval(timer);
        this.current = null;
        if (cancelled) this.attention = false;
        resolve(cancelled);
      };
      this.current = { abort: () => done(true) };
    });
  }

  /** sp_executesql over RPC: @statement, @params, then the parameters. */
  private executeSql(interp: Interpreter, rpc: RpcRequest): Buffer[] {
    const [stmt, decl, ...rest] = rpc.params;
    const stmtTv: TV = stmt?.value ?? { v: null, t: T.nvarchar() };
    const bound = new Map<string, { type: TV['t']; value: TV }>();
    if (decl) {
      for (const p of rest) bound.set(variableKey(this.state, p.name), { type: p.value.t, value: p.value });
    }
    interp.runDynamic(toText(stmtTv) ?? '', decl ? bound : undefined);
    // output parameters come back as RETURNVALUE tokens, with the values the statement left in them
    return rest.flatMap((p, i) => {
      if (!p.output) return [];
      const v = bound.get(variableKey(this.state, p.name))!;
      return [returnValueToken(i + 2, p.name, v.type, v.value.v, this.tds)];
    });
  }

  private finish(kind: 'batch' | 'rpc', events: ExecEvent[], outputs: Buffer[] = []): void {
    const name = this.state.serverName;
    const parts: Buffer[] = [];
    const inProc = kind === 'rpc' ? 0xff : 0xfd;
    let hadError = false;
    for (const ev of events) {
      switch (ev.k) {
        case 'rows':
          this.counters.resultSets += 1;
          parts.push(resultSet(ev.columns, ev.rows, this.tds));
          break;
        case 'done':
          parts.push(doneToken(inProc, DONE.MORE | DONE.COUNT, 0xc1, ev.count ?? 0, this.tds));
          break;
        case 'info':
          parts.push(messageToken('info', ev, name));
          break;
        case 'error':
          hadError = true;
          parts.push(
            messageToken(
              'error',
              {
                number: ev.error.number,
                message: ev.error.message,
                state: ev.error.state,
                severity: ev.error.severity,
              },
              name,
            ),
          );
          parts.push(doneToken(inProc, DONE.MORE | DONE.ERROR, 0, 0, this.tds));
          break;
        case 'database':
          parts.push(envChange(1, ev.to, ev.from));
          break;
      }
    }
    if (kind === 'rpc') {
      parts.push(returnStatus(hadError ? -6 : 0));
      parts.push(...outputs);
      parts.push(doneToken(0xfe, hadError ? DONE.ERROR : DONE.FINAL, 0, 0, this.tds));
    } else parts.push(doneToken(0xfd, hadError ? DONE.ERROR : DONE.FINAL, 0, 0, this.tds));
    this.send(Buffer.concat(parts));
  }
}
