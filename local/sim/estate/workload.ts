/**
 * The estate's write workload: an application committing transactions into one database at a chosen rate,
 * and what that does on both sides of its link.
 *
 * Every replica of the database holds a count of the workload's committed transactions (a prefix of the
 * primary's history). The primary commits; the secondary hardens what the primary sends (asynchronous
 * commit: what was committed more than `shipDelaySeconds` ago, at most `hardenCapacityTps`; synchronous
 * commit once synchronized: a transaction commits only when the secondary hardened it) and redoes what it
 * hardened. LSNs, send and redo queues, lag, log use and `log_reuse_wait_desc` all follow from those counts,
 * so a test can say exactly how many transactions a failover lost: those the new primary had not hardened.
 *
 * Everything is integrated piecewise between the moments the estate is asked (the link engine calls
 * `stepTo` before it brings the links to a moment), so a virtual clock works and nothing runs in the
 * background. Quantities are piecewise linear; counts are reported rounded down.
 */
import type { Clock } from '../clock.js';
import { miDatabaseLsn, type InstanceRegistry, type MiDatabase } from '../azure/instances.js';
import type { SimDatabase } from '../sqlserver/model.js';
import type { SqlServerEntry } from './truth.js';
import { findDag } from './truth.js';
import type { SimLink } from './links.js';

export type Side = 'sqlServer' | 'managedInstance';
const OTHER: Record<Side, Side> = { sqlServer: 'managedInstance', managedInstance: 'sqlServer' };

/** Which database a workload writes to: on a SQL Server, or on a managed instance (the instance as initial primary). */
export interface WorkloadTarget {
  server?: string;
  instance?: string;
  database: string;
}

export interface WorkloadSettings {
  /** Transactions committed per simulated second while running. */
  transactionsPerSecond: number;
  /** Log written by one transaction, bytes (default 4096). */
  logBytesPerTransaction?: number;
}

/** How the secondary keeps up. */
export interface ReplicationTuning {
  /** Asynchronous commit: seconds between a commit on the primary and its hardening on the secondary (default 1). */
  shipDelaySeconds: number;
  /** Transactions per second the secondary can receive and harden (default 5000). */
  hardenCapacityTps: number;
  /** Transactions per second the secondary can redo (default 5000). */
  redoCapacityTps: number;
}

export const DEFAULT_TUNING: ReplicationTuning = {
  shipDelaySeconds: 1,
  hardenCapacityTps: 5000,
  redoCapacityTps: 5000,
};

/** A change of primary seen by the workload: how many committed transactions the new primary did not hold. */
export interface PromotionRecord {
  at: string;
  promoted: Side;
  /** Transactions the previous primary had committed. */
  previousPrimaryCommitted: number;
  /** Transactions the promoted replica held when it became primary. */
  promotedHeld: number;
  /** previousPrimaryCommitted − promotedHeld (0 when the promoted side was caught up). */
  lost: number;
}

export interface ReplicaReport {
  side: Side;
  /** SQL Server name or managed instance name. */
  host: string;
  role: 'PRIMARY' | 'SECONDARY' | 'NONE';
  /** Committed transactions of the workload this replica holds (hardened). */
  transactions: number;
  /** Transactions redone (readable) on this replica. */
  redone: number;
  /** End-of-log LSN as a decimal string (numeric(25,0)). */
  lsn: string;
}

export interface WorkloadReport {
  target: WorkloadTarget;
  running: boolean;
  transactionsPerSecond: number;
  logBytesPerTransaction: number;
  tuning: ReplicationTuning;
  /** The replica the application writes to. */
  writer: Side;
  /** Why commits are stalled now, if they are. */
  blocked: 'LOG_FULL' | 'NO_PRIMARY' | null;
  /** Whether the link replicates now, and in which mode. */
  replicating: boolean;
  synchronousCommit: boolean;
  synchronized: boolean;
  replicas: ReplicaReport[];
  promotions: PromotionRecord[];
}

/** What the link engine reads from the workload. */
export interface LinkProgress {
  primaryLsn: bigint;
  hardened: bigint;
  sendKb: number;
  redoKb: number;
  lag: number;
}

interface Flow {
  target: WorkloadTarget;
  rate: number;
  running: boolean;
  bytesPerTx: number;
  tuning: ReplicationTuning;
  held: Record<Side, number>;
  /** Transactions redone on the current secondary. */
  redone: number;
  writer: Side;
  lastAt: number;
  /** The writer's history: [time ms, count] breakpoints, for the secondary's lag. */
  history: Array<[number, number]>;
  lsn: Record<Side, bigint>;
  applied: Record<Side, number>;
  roles: Record<Side, 'Primary' | 'Secondary' | null>;
  synchronized: boolean;
  /** After a forced failover: the common prefix both sides share; the old primary reverts to it when it rejoins. */
  divergedAt?: number;
  /** The seeding operation last seen, so a new seeding (after a disconnect, a failover) is noticed. */
  seenSeeding?: string;
  promotions: PromotionRecord[];
  /** Log accounting of the SQL Server database. */
  log: { base: number; sinceBackup: number; logBackups: number; initialised: boolean };
  blocked: WorkloadReport['blocked'];
  replicating: boolean;
  syncCommit: boolean;
}

const eqi = (a: string | undefined, b: string | undefined) =>
  (a ?? '').toLowerCase() === (b ?? '').toLowerCase();

/** One transaction's LSN step: log blocks of 512 bytes, five digits of slot. */
function lsnStep(bytes: number): bigint {
  return BigInt(Math.max(1, Math.ceil(bytes / 512))) * 100_000n;
}

export class WorkloadEngine {
  private readonly flows = new Map<string, Flow>();
  private links: () => SimLink[] = () => [];

  constructor(
    private readonly opts: {
      clock: Clock;
      servers: () => SqlServerEntry[];
      instances: InstanceRegistry;
    },
  ) {}

  /** The link engine's links (set by the estate). */
  attach(links: () => SimLink[]): void {
    this.links = links;
  }

  private key(t: WorkloadTarget): string {
    return `${t.server ? `s:${t.server}` : `i:${t.instance ?? ''}`}/${t.database}`.toLowerCase();
  }

  private check(t: WorkloadTarget): void {
    if (!t || typeof t.database !== 'string' || !t.database)
      throw new Error('a workload target names a database');
    if (!t.server === !t.instance) throw new Error('a workload target names either a server or an instance');
    if (t.server && !this.opts.servers().some((s) => eqi(s.serverName, t.server)))
      throw new Error(`no SQL Server named '${t.server}' in the estate`);
    if (t.instance && !this.opts.instances.all().some((m) => eqi(m.name, t.instance)))
      throw new Error(`no managed instance named '${t.instance}' in the estate`);
  }

  private flow(t: WorkloadTarget): Flow {
    this.check(t);
    const k = this.key(t);
    let f = this.flows.get(k);
    if (!f) {
      // The same database named from the other side of its link is the same workload.
      const link = this.linkOfTarget(t);
      if (link) f = [...this.flows.values()].find((x) => this.linkOf(x) === link);
    }
    if (!f) {
      const at = this.opts.clock.now().getTime();
      const writer: Side = t.server ? 'sqlServer' : 'managedInstance';
      f = {
        target: { ...t },
        rate: 0,
        running: false,
        bytesPerTx: 4096,
        tuning: { ...DEFAULT_TUNING },
        held: { sqlServer: 0, managedInstance: 0 },
        redone: 0,
        writer,
        lastAt: at,
        history: [[at, 0]],
        lsn: { sqlServer: 0n, managedInstance: 0n },
        applied: { sqlServer: 0, managedInstance: 0 },
        roles: { sqlServer: null, managedInstance: null },
        synchronized: false,
        promotions: [],
        log: { base: 0, sinceBackup: 0, logBackups: 0, initialised: false },
        blocked: null,
        replicating: false,
        syncCommit: false,
      };
      this.flows.set(k, f);
      this.stepFlow(f, at);
    }
    return f;
  }

  // ------------------------------------------------------------------ control

  start(t: WorkloadTarget, settings: WorkloadSettings): WorkloadReport {
    if (!(settings.transactionsPerSecond > 0) || !Number.isFinite(settings.transactionsPerSecond))
      throw new Error('transactionsPerSecond must be a positive number');
    const bytes = settings.logBytesPerTransaction ?? 4096;
    if (!(bytes >= 1)) throw new Error('logBytesPerTransaction must be at least 1');
    const f = this.flow(t);
    this.stepTo(this.opts.clock.now());
    f.rate = settings.transactionsPerSecond;
    f.bytesPerTx = bytes;
    f.running = true;
    return this.report(t);
  }

  stop(t: WorkloadTarget): WorkloadReport {
    const f = this.flow(t);
    this.stepTo(this.opts.clock.now());
    f.running = false;
    return this.report(t);
  }

  /** Changes how the secondary keeps up (e.g. a slow secondary: lag and queues grow). */
  tune(t: WorkloadTarget, tuning: Partial<ReplicationTuning>): WorkloadReport {
    const f = this.flow(t);
    this.stepTo(this.opts.clock.now());
    for (const [k, v] of Object.entries(tuning)) {
      if (v === undefined) continue;
      if (typeof v !== 'number' || !(v >= 0)) throw new Error(`${k} must be a number ≥ 0`);
    }
    f.tuning = { ...f.tuning, ...tuning };
    return this.report(t);
  }

  /** Fills the rest of the log as one long transaction would (no log backup, so LOG_BACKUP holds it). */
  fillLog(t: WorkloadTarget): WorkloadReport {
    const f = this.flow(t);
    this.stepTo(this.opts.clock.now());
    const db = this.sqlDatabase(f);
    if (!db) throw new Error(`database '${t.database}' is not on a SQL Server of this estate`);
    f.log.sinceBackup += Math.max(0, db.logSizeBytes - db.logUsedBytes);
    this.writeLog(f, db);
    return this.report(t);
  }

  report(t: WorkloadTarget): WorkloadReport {
    this.stepTo(this.opts.clock.now());
    const f = this.flow(t);
    const link = this.linkOf(f);
    const replicas: ReplicaReport[] = [];
    const sqlDb = this.sqlDatabase(f);
    const serverName = link?.server?.serverName ?? f.target.server;
    if (sqlDb && serverName) {
      replicas.push({
        side: 'sqlServer',
        host: serverName,
        role: roleText(f.roles.sqlServer ?? (link ? null : 'Primary')),
        transactions: Math.floor(f.held.sqlServer),
        redone: Math.floor(
          f.writer === 'sqlServer' ? f.held.sqlServer : Math.min(f.redone, f.held.sqlServer),
        ),
        lsn: sqlDb.currentLsn.toString(),
      });
    }
    const miDb = this.miDatabase(f);
    const miName = link?.mi.name ?? f.target.instance;
    if (miDb && miName) {
      replicas.push({
        side: 'managedInstance',
        host: miName,
        role: roleText(f.roles.managedInstance ?? (link ? null : 'Primary')),
        transactions: Math.floor(f.held.managedInstance),
        redone: Math.floor(
          f.writer === 'managedInstance'
            ? f.held.managedInstance
            : Math.min(f.redone, f.held.managedInstance),
        ),
        lsn: miDatabaseLsn(miDb, this.opts.clock.now()).toString(),
      });
    }
    return {
      target: { ...f.target },
      running: f.running,
      transactionsPerSecond: f.rate,
      logBytesPerTransaction: f.bytesPerTx,
      tuning: { ...f.tuning },
      writer: f.writer,
      blocked: f.running ? f.blocked : null,
      replicating: f.replicating,
      synchronousCommit: f.syncCommit,
      synchronized: f.synchronized,
      replicas,
      promotions: f.promotions.map((p) => ({ ...p })),
    };
  }

  all(): WorkloadReport[] {
    return [...this.flows.values()].map((f) => this.report(f.target));
  }

  // ------------------------------------------------------------------ what the link engine asks

  /** The flow whose database a link replicates. */
  private flowOfLink(link: SimLink): Flow | undefined {
    for (const f of this.flows.values()) if (this.linkOf(f) === link) return f;
    return undefined;
  }

  progress(link: SimLink, now: Date): LinkProgress | undefined {
    if (link.phase !== 'Catchup' && link.phase !== 'Synchronized') return undefined;
    const f = this.flowOfLink(link);
    if (!f) return undefined;
    const primary: Side =
      link.sqlRole === 'Primary' && link.instanceRole !== 'Primary'
        ? 'sqlServer'
        : link.instanceRole === 'Primary' && link.sqlRole !== 'Primary'
          ? 'managedInstance'
          : f.writer;
    const secondary = OTHER[primary];
    const p = f.held[primary];
    const h = Math.min(f.held[secondary], p);
    const behind = Math.max(0, Math.floor(p) - Math.floor(h));
    const redoBehind = Math.max(0, Math.floor(h) - Math.floor(Math.min(f.redone, h)));
    return {
      primaryLsn: f.lsn[primary],
      hardened: f.lsn[primary] - BigInt(behind) * lsnStep(f.bytesPerTx),
      sendKb: Math.round((behind * f.bytesPerTx) / 1024),
      redoKb: Math.round((redoBehind * f.bytesPerTx) / 1024),
      lag: behind === 0 ? 0 : Math.max(0, Math.round((now.getTime() - this.timeOf(f, h)) / 1000)),
    };
  }

  /** Whether the secondary holds every transaction the primary committed (true when no workload touches the link). */
  caughtUp(link: SimLink): boolean {
    const f = this.flowOfLink(link);
    if (!f) return true;
    const secondary = OTHER[f.writer];
    return Math.floor(f.held[secondary]) >= Math.floor(f.held[f.writer]);
  }

  /**
   * A planned failover run by the service: it holds commits, lets the secondary harden everything, then
   * switches roles — so the new primary starts with every committed transaction.
   */
  drain(link: SimLink): void {
    const f = this.flowOfLink(link);
    if (!f) return;
    const secondary = OTHER[f.writer];
    if (f.held[secondary] < f.held[f.writer]) {
      f.held[secondary] = f.held[f.writer];
      f.redone = f.held[secondary];
      this.applyLsn(f, secondary);
    }
  }

  // ------------------------------------------------------------------ time

  /** Brings every workload to `at`, with the links as they were since the last step. */
  stepTo(at: Date): void {
    const t = at.getTime();
    for (const f of this.flows.values()) this.stepFlow(f, t);
  }

  private linkOf(f: Flow): SimLink | undefined {
    return this.linkOfTarget(f.target);
  }

  private linkOfTarget(t: WorkloadTarget): SimLink | undefined {
    return this.links().find(
      (l) =>
        !l.canceledAt &&
        eqi(l.props.databaseName, t.database) &&
        (t.server ? eqi(l.server?.serverName, t.server) : eqi(l.mi.name, t.instance)),
    );
  }

  private serverOf(f: Flow): SqlServerEntry | undefined {
    const link = this.linkOf(f);
    if (link?.server) return link.server;
    return f.target.server ? this.opts.servers().find((s) => eqi(s.serverName, f.target.server)) : undefined;
  }

  private sqlDatabase(f: Flow): SimDatabase | undefined {
    return this.serverOf(f)?.state.databases.find((d) => eqi(d.name, f.target.database));
  }

  private miDatabase(f: Flow): MiDatabase | undefined {
    const link = this.linkOf(f);
    const mi =
      link?.mi ??
      (f.target.instance ? this.opts.instances.all().find((m) => eqi(m.name, f.target.instance)) : undefined);
    return mi?.databases.get(f.target.database.toLowerCase());
  }

  private timeOf(f: Flow, count: number): number {
    const h = f.history;
    for (let i = 1; i < h.length; i++) {
      const [t1, c1] = h[i] as [number, number];
      if (c1 >= count) {
        const [t0, c0] = h[i - 1] as [number, number];
        if (c1 === c0) return t1;
        return t0 + ((count - c0) / (c1 - c0)) * (t1 - t0);
      }
    }
    return (h.at(-1) as [number, number])[0];
  }

  private applyLsn(f: Flow, side: Side): void {
    const whole = Math.floor(f.held[side]);
    const delta = whole - f.applied[side];
    if (delta === 0) return;
    f.applied[side] = whole;
    f.lsn[side] += BigInt(delta) * lsnStep(f.bytesPerTx);
    this.writeLsn(f, side);
  }

  private writeLsn(f: Flow, side: Side): void {
    if (side === 'sqlServer') {
      const db = this.sqlDatabase(f);
      if (db) db.currentLsn = f.lsn.sqlServer;
    } else {
      const db = this.miDatabase(f);
      if (db) {
        db.lsnBase = f.lsn.managedInstance;
        db.lsnAt = new Date(f.lastAt);
        db.lsnPerSecond = 0n;
      }
    }
  }

  /** Takes in what others changed since the last step: LSNs moved by backups or failovers, roles, seeding. */
  private observe(f: Flow, link: SimLink | undefined, at: number): void {
    const sqlDb = this.sqlDatabase(f);
    const miDb = this.miDatabase(f);
    if (sqlDb) f.lsn.sqlServer = sqlDb.currentLsn;
    if (miDb) {
      // The instance's own implicit LSN growth is replaced by the workload's.
      f.lsn.managedInstance =
        miDb.lsnPerSecond === 0n ? miDb.lsnBase : miDatabaseLsn(miDb, new Date(f.lastAt));
      miDb.lsnBase = f.lsn.managedInstance;
      miDb.lsnAt = new Date(at);
      miDb.lsnPerSecond = 0n;
    }
    const roles: Flow['roles'] = link
      ? { sqlServer: link.sqlRole, managedInstance: link.instanceRole }
      : f.target.server
        ? { sqlServer: 'Primary', managedInstance: null }
        : { sqlServer: null, managedInstance: 'Primary' };
    for (const side of ['sqlServer', 'managedInstance'] as const) {
      if (roles[side] === 'Primary' && f.roles[side] !== null && f.roles[side] !== 'Primary') {
        this.promoted(f, side, at);
      }
    }
    f.roles = roles;
    if (link?.seedStart && link.phase !== 'Creating' && link.seedingOperationId !== f.seenSeeding) {
      // Seeding copies the primary as it was when seeding started; the rest comes by catch-up.
      f.seenSeeding = link.seedingOperationId;
      const secondary = OTHER[f.writer];
      const startCount = Math.min(f.held[f.writer], this.countAt(f, link.seedStart.getTime()));
      f.held[secondary] = startCount;
      f.applied[secondary] = Math.floor(startCount);
      f.redone = startCount;
      f.lsn[secondary] =
        f.lsn[f.writer] -
        BigInt(Math.floor(f.held[f.writer]) - Math.floor(startCount)) * lsnStep(f.bytesPerTx);
      this.writeLsn(f, secondary);
    }
  }

  private countAt(f: Flow, t: number): number {
    const h = f.history;
    let prev = h[0] as [number, number];
    for (const point of h) {
      if (point[0] >= t) {
        if (point[0] === prev[0]) return point[1];
        return prev[1] + ((t - prev[0]) / (point[0] - prev[0])) * (point[1] - prev[1]);
      }
      prev = point;
    }
    return prev[1];
  }

  private promoted(f: Flow, side: Side, at: number): void {
    const previous = OTHER[side];
    const committed = Math.floor(f.held[previous]);
    const held = Math.floor(f.held[side]);
    const lost = Math.max(0, committed - held);
    f.promotions.push({
      at: new Date(at).toISOString(),
      promoted: side,
      previousPrimaryCommitted: committed,
      promotedHeld: held,
      lost,
    });
    if (f.held[previous] > f.held[side]) f.divergedAt = f.held[side];
    f.writer = side;
    f.history = [[at, f.held[side]]];
    f.synchronized = false;
  }

  private stepFlow(f: Flow, to: number): void {
    const from = f.lastAt;
    const link = this.linkOf(f);
    this.observe(f, link, from);
    const dt = Math.max(0, (to - from) / 1000);
    const writer = f.writer;
    const secondary = OTHER[writer];
    const roles = f.roles;
    const onePrimary = roles[writer] === 'Primary' && roles[secondary] !== 'Primary';
    const replicating =
      !!link &&
      onePrimary &&
      (link.phase === 'Catchup' || link.phase === 'Synchronized') &&
      !link.disconnectedSince &&
      !link.deleting &&
      (secondary === 'sqlServer' ? !!this.sqlDatabase(f) : !!this.miDatabase(f));
    const syncCommit = replicating && this.synchronousCommit(link);
    if (replicating && f.divergedAt !== undefined) {
      // The old primary rejoined as secondary: what it committed after the split is rolled back (REVERTING).
      f.held[secondary] = Math.min(f.held[secondary], f.divergedAt);
      f.redone = Math.min(f.redone, f.held[secondary]);
      f.divergedAt = undefined;
      this.applyLsn(f, secondary);
    }
    f.replicating = replicating;
    f.syncCommit = syncCommit;
    if (!syncCommit) f.synchronized = false;

    let rate = f.running && roles[writer] === 'Primary' ? f.rate : 0;
    f.blocked = f.running && roles[writer] !== 'Primary' ? 'NO_PRIMARY' : null;
    if (syncCommit && f.synchronized) rate = Math.min(rate, f.tuning.hardenCapacityTps);
    let commits = rate * dt;
    const sqlDb = this.sqlDatabase(f);
    if (writer === 'sqlServer' && sqlDb) {
      if (!f.log.initialised) {
        f.log = {
          base: sqlDb.logUsedBytes,
          sinceBackup: 0,
          logBackups: countLogBackups(sqlDb),
          initialised: true,
        };
      }
      const free = Math.max(0, sqlDb.logSizeBytes - sqlDb.logUsedBytes);
      const fits = free / f.bytesPerTx;
      if (commits >= fits && rate > 0) {
        commits = Math.max(0, fits);
        f.blocked = 'LOG_FULL';
      }
    }
    const p0 = f.held[writer];
    const p1 = p0 + commits;
    f.held[writer] = p1;
    if (dt > 0) {
      const last = f.history.at(-1) as [number, number];
      if (last[1] === p1 && f.history.length > 1) last[0] = to;
      else f.history.push([to, p1]);
    }
    if (replicating) {
      const flowing = dt > 0 ? commits / dt : rate;
      const target = syncCommit ? p1 : Math.max(0, p1 - flowing * f.tuning.shipDelaySeconds);
      const h0 = f.held[secondary];
      const h1 = Math.max(h0, Math.min(target, h0 + f.tuning.hardenCapacityTps * dt));
      f.held[secondary] = h1;
      f.redone = Math.max(f.redone, Math.min(h1, f.redone + f.tuning.redoCapacityTps * dt));
      if (syncCommit && Math.floor(h1) >= Math.floor(p1)) f.synchronized = true;
    }
    // Forget history the secondary no longer needs for its lag.
    const keepFrom = Math.min(f.held[secondary], p1);
    while (f.history.length > 2 && (f.history[1] as [number, number])[1] <= keepFrom) f.history.shift();
    f.lastAt = to;
    this.applyLsn(f, writer);
    this.applyLsn(f, secondary);
    if (sqlDb && f.log.initialised) {
      const backups = countLogBackups(sqlDb);
      if (backups !== f.log.logBackups) {
        // A log backup truncated what it could: start again from what it left.
        f.log.logBackups = backups;
        f.log.base = sqlDb.logUsedBytes;
        f.log.sinceBackup = 0;
      }
      if (writer === 'sqlServer') f.log.sinceBackup += commits * f.bytesPerTx;
      this.writeLog(f, sqlDb);
    }
  }

  private writeLog(f: Flow, db: SimDatabase): void {
    const link = this.linkOf(f);
    // Log the secondary has not yet redone cannot be truncated (AVAILABILITY_REPLICA). While the database
    // seeds, only trace flag 12381 keeps the log for it ("Troubleshoot issues with the link": errors
    // 1408/1412 when the log is truncated during seeding).
    const joined = link && (link.phase === 'Catchup' || link.phase === 'Synchronized');
    const seedingHeld = link?.phase === 'Seeding' && !!this.serverOf(f)?.state.traceFlags.includes(12381);
    const heldByReplica =
      link && f.writer === 'sqlServer' && (joined || seedingHeld)
        ? Math.max(0, f.held.sqlServer - Math.min(f.redone, f.held.managedInstance)) * f.bytesPerTx
        : 0;
    const sinceBackup = db.recoveryModel === 'SIMPLE' ? 0 : f.log.sinceBackup;
    const holding = Math.max(sinceBackup, heldByReplica);
    db.logUsedBytes = Math.min(db.logSizeBytes, Math.round(f.log.base + holding));
    db.logReuseWait =
      holding <= 0 ? 'NOTHING' : heldByReplica > sinceBackup ? 'AVAILABILITY_REPLICA' : 'LOG_BACKUP';
  }

  private synchronousCommit(link: SimLink | undefined): boolean {
    if (!link) return false;
    if (link.props.replicationMode === 'Sync') return true;
    const dag = link.server ? findDag(link.server.state, link.name) : undefined;
    return (
      !!dag &&
      dag.replicas.length > 0 &&
      dag.replicas.every((r) => r.availabilityMode === 'SYNCHRONOUS_COMMIT')
    );
  }
}

function countLogBackups(db: SimDatabase): number {
  return db.backups.filter((b) => b.type === 'L' && !b.isCopyOnly).length;
}

function roleText(r: 'Primary' | 'Secondary' | null): ReplicaReport['role'] {
  return r === 'Primary' ? 'PRIMARY' : r === 'Secondary' ? 'SECONDARY' : 'NONE';
}
