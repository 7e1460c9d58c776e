/**
 * The links of the estate: the ARM side of distributedAvailabilityGroups (PUT/GET/PATCH/DELETE/failover/
 * setRole) joined to the SQL Server stand-ins. A link is created only when the link's truth holds
 * (truth.ts); it then moves with the clock — seeding with progress, catch-up, synchronized — and the same
 * facts are written into SQL Server's state (replica states, database replica states, seeding rows,
 * the database on the secondary side), so ARM and the DMVs agree. Everything is computed lazily from
 * timestamps when the estate is asked (an ARM request, a T-SQL batch), so a virtual clock works.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { ArmResult, LinkBackend } from '../azure/arm.js';
import {
  instanceResourceId,
  miDatabaseLsn,
  newMiDatabase,
  type InstanceRegistry,
  type ManagedInstanceSim,
} from '../azure/instances.js';
import type { OperationState, SimOperation } from '../azure/operations.js';
import { armError } from '../azure/https.js';
import { SqlError } from '../sqlserver/errors.js';
import type { SimDatabase, SimDatabaseReplicaState, SimServerState, SyncHealth } from '../sqlserver/model.js';
import { nextDatabaseId } from '../sqlserver/state.js';
import { PLANNED_FAILOVER_LIMITS, updatePolicyProblem } from './failover.js';
import {
  connectivityProblem,
  creationProblem,
  dagMembers,
  describeProblem,
  failedReplicaState,
  findDag,
  findSqlServerForHost,
  LinkErrorCodes,
  parseTcpUrl,
  type LinkProblem,
  type LinkProps,
  type SqlServerEntry,
} from './truth.js';

export interface LinkTiming {
  /** Simulated seconds from the PUT to the link joining (the creation operation's length). Default 30. */
  creationSeconds: number;
  /** Seeding speed in MB per simulated second. Default 20. */
  seedingMBps: number;
  /** Catch-up after seeding, simulated seconds. Default 5. */
  catchupSeconds: number;
  /** Failover / setRole operation length. Default 10. */
  failoverSeconds: number;
  /** DELETE operation length. Default 5. */
  deleteSeconds: number;
  /** PATCH operation length. Default 2. */
  patchSeconds: number;
  /**
   * Seeding bandwidth of each SQL Server, MB per simulated second, shared fairly by the links seeding through it
   * at the same moment (recomputed whenever one starts, ends, drops or resumes seeding). Absent: no limit.
   */
  serverSeedingMBps?: number;
  /** The same for each managed instance. A link seeds at the least of its two shares and `seedingMBps`. */
  instanceSeedingMBps?: number;
}

export const DEFAULT_LINK_TIMING: LinkTiming = {
  creationSeconds: 30,
  seedingMBps: 20,
  catchupSeconds: 5,
  failoverSeconds: 10,
  deleteSeconds: 5,
  patchSeconds: 2,
};

type Role = 'Primary' | 'Secondary';
type Phase = 'Creating' | 'Failed' | 'Seeding' | 'Catchup' | 'Synchronized';

export interface SimLink {
  id: string;
  name: string;
  mi: ManagedInstanceSim;
  props: LinkProps;
  instanceRole: Role;
  /** SQL Server's own role in the DAG. */
  sqlRole: Role;
  phase: Phase;
  createdAt: Date;
  joinAt: Date;
  seedStart?: Date;
  /** When seeding ends at the current rate (moved whenever shared bandwidth is shared anew). */
  seedEnd?: Date;
  /** Bytes per simulated millisecond while seeding; set only when bandwidth is shared. */
  seedRate?: number;
  catchupEnd?: Date;
  seedStartLsn: bigint;
  /** The creation failure, or why the link is disconnected now. */
  problem?: LinkProblem;
  problemAt?: Date;
  /** The last error the link saw (kept after it recovers): ARM's mostRecentLinkError. */
  mostRecentError?: string;
  disconnectedSince?: Date;
  server?: SqlServerEntry;
  instanceReplicaId: string;
  partnerReplicaId: string;
  sizeBytes: number;
  seedingOperationId: string;
  /** Set while a DELETE is running. */
  deleting?: boolean;
  /** When a DELETE ended the link before its creation finished. */
  canceledAt?: Date;
}

export type SqlDagCommandKind =
  'FAILOVER' | 'FORCE_FAILOVER_ALLOW_DATA_LOSS' | 'SET_ROLE_SECONDARY' | 'MODIFY_AVAILABILITY_MODE' | 'DROP';

/**
 * What the rest of the estate adds to the links' lifecycle (workload.ts, trouble.ts, failover.ts): time steps
 * taken before the links are brought to a moment, the workload's LSNs and queues, problems put on a link.
 */
export interface LinkDynamics {
  /** Called before the links are brought to `at` (each scheduled moment, then now). */
  stepTo(at: Date): void;
  /** LSNs, queues (KB) and lag from the workload, when one writes to the link's database. */
  progress(
    link: SimLink,
    now: Date,
  ): { primaryLsn: bigint; hardened: bigint; sendKb: number; redoKb: number; lag: number } | undefined;
  /** A problem that keeps the link disconnected (trouble on demand, the update-policy rule). */
  injectedProblem(link: SimLink): LinkProblem | undefined;
  /** Whether the secondary holds every transaction the primary committed. */
  caughtUp(link: SimLink): boolean;
  /** A planned failover run by the service: the secondary hardens everything before the roles switch. */
  drain(link: SimLink): void;
  /** The instance became primary at `at` (its first full backup follows). */
  instancePromoted(link: SimLink, at: Date): void;
}

interface Scheduled {
  at: Date;
  run: (at: Date) => void;
  done: boolean;
  outcome?: { error?: { code: string; message: string }; result?: unknown };
}

const eqi = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const CREATION_LIMIT_MS = 6 * 86_400_000;
const LINK_NAME = /^[#a-zA-Z_][\w@#$]{0,127}$/;
const PAGE = 8192;

export class LinkEngine implements LinkBackend {
  private readonly links = new Map<string, SimLink>();
  private scheduled: Scheduled[] = [];
  readonly timing: LinkTiming;
  private advancing = false;
  /** The links sharing bandwidth at the last re-share (ids), to notice when the set changes. */
  private sharers = '';
  /** Set by the estate: the workload, trouble on demand and failover rules. */
  dynamics?: LinkDynamics;

  constructor(
    private readonly opts: {
      clock: Clock;
      instances: InstanceRegistry;
      servers: () => SqlServerEntry[];
      timing?: Partial<LinkTiming>;
    },
  ) {
    this.timing = { ...DEFAULT_LINK_TIMING, ...(opts.timing ?? {}) };
  }

  private key(mi: ManagedInstanceSim, name: string): string {
    return `${instanceResourceId(mi)}/${name}`.toLowerCase();
  }

  /** All links (tests read them). */
  all(): SimLink[] {
    return [...this.links.values()];
  }

  find(mi: ManagedInstanceSim, name: string): SimLink | undefined {
    return this.links.get(this.key(mi, name));
  }

  // ---------------------------------------------------------------- time

  advance(): void {
    if (this.advancing) return;
    this.advancing = true;
    try {
      const now = this.opts.clock.now();
      for (;;) {
        const due = this.scheduled
          .filter((s) => !s.done && s.at.getTime() <= now.getTime())
          .sort((a, b) => a.at.getTime() - b.at.getTime())[0];
        // With shared bandwidth, each join and each seeding end changes the others' rates: visit them in order.
        const moment = this.nextSeedingMoment(now);
        if (moment && (!due || moment.getTime() < due.at.getTime())) {
          this.dynamics?.stepTo(moment);
          for (const link of this.links.values()) this.advanceLink(link, moment);
          this.reshare(moment);
          continue;
        }
        if (!due) break;
        this.dynamics?.stepTo(due.at);
        for (const link of this.links.values()) this.advanceLink(link, due.at);
        this.reshare(due.at);
        due.done = true;
        due.run(due.at);
      }
      this.scheduled = this.scheduled.filter((s) => !s.done);
      this.dynamics?.stepTo(now);
      for (const link of this.links.values()) this.advanceLink(link, now);
      this.reshare(now);
    } finally {
      this.advancing = false;
    }
  }

  private schedule(at: Date, run: (at: Date, self: Scheduled) => void): Scheduled {
    const s: Scheduled = { at, done: false, run: (when) => run(when, s) };
    this.scheduled.push(s);
    return s;
  }

  private operationFor(
    mi: ManagedInstanceSim,
    kind: string,
    state: (now: Date) => OperationState,
  ): Omit<SimOperation, 'id'> {
    return {
      kind,
      subscriptionId: mi.subscriptionId,
      location: mi.location,
      startTime: this.opts.clock.now(),
      state: (now) => {
        this.advance();
        return state(now);
      },
    };
  }

  private scheduledOperation(
    mi: ManagedInstanceSim,
    at: Date,
    run: (at: Date) => Scheduled['outcome'] | void,
  ): Omit<SimOperation, 'id'> {
    const s = this.schedule(at, (when, self) => {
      self.outcome = run(when) ?? {};
    });
    return this.operationFor(mi, 'distributedAvailabilityGroups', () => {
      if (!s.done) return { status: 'InProgress' };
      const o = s.outcome ?? {};
      return o.error
        ? { status: 'Failed', endTime: s.at, error: o.error }
        : { status: 'Succeeded', endTime: s.at, ...(o.result !== undefined ? { result: o.result } : {}) };
    });
  }

  private resolveServer(props: LinkProps): SqlServerEntry | undefined {
    const url = parseTcpUrl(props.partnerEndpoint);
    return url ? findSqlServerForHost(this.opts.servers(), url.host) : undefined;
  }

  private advanceLink(link: SimLink, now: Date): void {
    if (link.phase === 'Creating') {
      if (now.getTime() < link.joinAt.getTime()) {
        this.syncToSql(link, now);
        return;
      }
      link.server = this.resolveServer(link.props);
      const problem = creationProblem({
        linkName: link.name,
        props: link.props,
        mi: link.mi,
        server: link.server,
        now: link.joinAt,
      });
      if (problem) {
        link.phase = 'Failed';
        link.problem = problem;
        link.problemAt = link.joinAt;
        link.mostRecentError = describeProblem(problem);
        this.syncToSql(link, now);
        return;
      }
      this.bindReplicaIds(link);
      this.startSeeding(link, link.joinAt);
    }
    if (link.phase === 'Failed') {
      this.syncToSql(link, now);
      return;
    }
    const deadline = link.createdAt.getTime() + CREATION_LIMIT_MS;
    if (link.phase === 'Seeding' && now.getTime() >= deadline) {
      this.cancelCreation(link, new Date(deadline), now);
      return;
    }
    const problem = this.liveProblem(link, now);
    if (problem) {
      if (!link.disconnectedSince) link.disconnectedSince = now;
      if (!link.problem || link.problem.message !== problem.message) {
        link.problem = problem;
        link.problemAt = now;
      }
      link.mostRecentError = describeProblem(problem);
    } else if (link.disconnectedSince) {
      const paused = now.getTime() - link.disconnectedSince.getTime();
      link.disconnectedSince = undefined;
      link.problem = undefined;
      if (link.phase === 'Seeding') {
        this.failSeedingRow(link, now);
        this.startSeeding(link, now);
      } else if (link.phase === 'Catchup' && link.catchupEnd) {
        link.catchupEnd = new Date(link.catchupEnd.getTime() + paused);
      }
    }
    if (!link.disconnectedSince) {
      if (link.phase === 'Seeding' && link.seedEnd && now.getTime() >= link.seedEnd.getTime()) {
        link.phase = 'Catchup';
        this.secondaryDatabaseOnline(link);
      }
      if (link.phase === 'Catchup' && link.catchupEnd && now.getTime() >= link.catchupEnd.getTime()) {
        link.phase = 'Synchronized';
      }
    }
    this.syncToSql(link, now);
  }

  /**
   * "Troubleshoot issues with the link": link creation that has not finished (seeding) six days after it
   * started is cancelled; the partly seeded database is removed from the secondary.
   */
  private cancelCreation(link: SimLink, at: Date, now: Date): void {
    this.failSeedingRow(link, at);
    const row = link.server?.state.seedings.find((r) => r.operationId === link.seedingOperationId);
    if (row) row.failureStateDesc = 'Seeding cancelled: the link was not created within 6 days';
    link.phase = 'Failed';
    link.problem = {
      code: LinkErrorCodes.creationCanceled,
      message: `The link '${link.name}' was not created within 6 days of the request (seeding did not finish): the service cancelled it.`,
    };
    link.problemAt = at;
    link.mostRecentError = describeProblem(link.problem);
    const miDb = link.mi.databases.get(link.props.databaseName.toLowerCase());
    if (link.sqlRole === 'Primary' && miDb?.linkName === link.name && miDb.status === 'Restoring')
      link.mi.databases.delete(link.props.databaseName.toLowerCase());
    this.syncToSql(link, now);
  }

  private liveProblem(link: SimLink, now: Date): LinkProblem | null {
    if (!link.server) return { code: LinkErrorCodes.connectivity, message: 'SQL Server is unreachable.' };
    const p = connectivityProblem({
      linkName: link.name,
      props: link.props,
      mi: link.mi,
      server: link.server,
      now,
    });
    if (p) return p;
    const injected = this.dynamics?.injectedProblem(link);
    if (injected) return injected;
    if (link.instanceRole === 'Primary' && link.sqlRole === 'Primary') {
      return {
        code: LinkErrorCodes.connectivity,
        message:
          'Both SQL Server and the managed instance hold the primary role (split brain): demote one side with ALTER AVAILABILITY GROUP … SET (ROLE = SECONDARY) or setRole.',
      };
    }
    if (link.instanceRole === 'Secondary' && link.sqlRole === 'Secondary') {
      return { code: LinkErrorCodes.connectivity, message: 'Neither side holds the primary role.' };
    }
    return null;
  }

  private bindReplicaIds(link: SimLink): void {
    const dag = link.server ? findDag(link.server.state, link.name) : undefined;
    if (!dag) return;
    const m = dagMembers(dag, link.props);
    if (m.sql) link.partnerReplicaId = m.sql.replicaId.toLowerCase();
    if (m.instance) link.instanceReplicaId = m.instance.replicaId.toLowerCase();
  }

  private sqlDatabase(link: SimLink): SimDatabase | undefined {
    return link.server?.state.databases.find((d) => eqi(d.name, link.props.databaseName));
  }

  private dataFlowsToInstance(link: SimLink): boolean {
    return link.sqlRole === 'Primary' && link.instanceRole === 'Secondary';
  }

  private get sharesBandwidth(): boolean {
    return this.timing.serverSeedingMBps !== undefined || this.timing.instanceSeedingMBps !== undefined;
  }

  /** Links moving bytes now: seeding and connected. */
  private seedingNow(): SimLink[] {
    return [...this.links.values()].filter(
      (l) => l.phase === 'Seeding' && !l.disconnectedSince && !l.deleting && l.seedEnd !== undefined,
    );
  }

  /** The earliest join or seeding end not after `now`, when bandwidth is shared (undefined otherwise). */
  private nextSeedingMoment(now: Date): Date | undefined {
    if (!this.sharesBandwidth) return undefined;
    let next: number | undefined;
    for (const l of this.links.values()) {
      const t =
        l.phase === 'Creating' && !l.deleting
          ? l.joinAt.getTime()
          : l.phase === 'Seeding' && !l.disconnectedSince && l.seedEnd
            ? l.seedEnd.getTime()
            : undefined;
      if (t !== undefined && t <= now.getTime() && (next === undefined || t < next)) next = t;
    }
    return next === undefined ? undefined : new Date(next);
  }

  /**
   * Shares each SQL Server's and each instance's seeding bandwidth fairly among the links seeding through it at
   * `at`, when that set changed: each link's bytes still to seed stay, its rate and its seeding end move.
   */
  private reshare(at: Date): void {
    if (!this.sharesBandwidth) return;
    const seeding = this.seedingNow();
    const ids = seeding.map((l) => l.id).join(',');
    if (ids === this.sharers) return;
    this.sharers = ids;
    const count = (key: (l: SimLink) => string) => {
      const n = new Map<string, number>();
      for (const l of seeding) n.set(key(l), (n.get(key(l)) ?? 0) + 1);
      return n;
    };
    const byServer = (l: SimLink) => (l.server?.serverName ?? '').toLowerCase();
    const byInstance = (l: SimLink) => instanceResourceId(l.mi).toLowerCase();
    const onServer = count(byServer);
    const onInstance = count(byInstance);
    const t = at.getTime();
    for (const l of seeding) {
      const mbps = Math.min(
        this.timing.seedingMBps,
        (this.timing.serverSeedingMBps ?? Infinity) / onServer.get(byServer(l))!,
        (this.timing.instanceSeedingMBps ?? Infinity) / onInstance.get(byInstance(l))!,
      );
      const rate = (mbps * 1024 * 1024) / 1000;
      const remaining = this.remainingBytes(l, at);
      l.seedRate = rate;
      l.seedEnd = new Date(t + Math.ceil(remaining / rate));
      l.catchupEnd = new Date(l.seedEnd.getTime() + this.timing.catchupSeconds * 1000);
    }
  }

  /** Bytes still to seed at `at` (the rate holds until the seeding end it gave). */
  private remainingBytes(link: SimLink, at: Date): number {
    if (!link.seedEnd) return link.sizeBytes;
    const rate = link.seedRate ?? (this.timing.seedingMBps * 1024 * 1024) / 1000;
    return Math.min(link.sizeBytes, Math.max(0, rate * (link.seedEnd.getTime() - at.getTime())));
  }

  /** Fraction of the database seeded at `now`. */
  private seededFraction(link: SimLink, now: Date): number {
    if (!link.seedStart || !link.seedEnd) return 0;
    if (link.seedRate !== undefined)
      return link.sizeBytes > 0 ? 1 - this.remainingBytes(link, now) / link.sizeBytes : 1;
    const total = Math.max(1, link.seedEnd.getTime() - link.seedStart.getTime());
    return Math.min(1, Math.max(0, (now.getTime() - link.seedStart.getTime()) / total));
  }

  private startSeeding(link: SimLink, at: Date): void {
    const toInstance = link.sqlRole === 'Primary';
    if (toInstance) {
      const db = this.sqlDatabase(link);
      link.sizeBytes = db
        ? db.files.filter((f) => f.type === 'ROWS').reduce((n, f) => n + f.sizePages * PAGE, 0)
        : 0;
      link.seedStartLsn = db?.currentLsn ?? 0n;
      const miDb = newMiDatabase(link.props.databaseName, link.mi.collation, at, 'Restoring', link.sizeBytes);
      miDb.linkName = link.name;
      miDb.lsnBase = link.seedStartLsn;
      miDb.lsnPerSecond = 0n;
      link.mi.databases.set(link.props.databaseName.toLowerCase(), miDb);
    } else {
      const miDb = link.mi.databases.get(link.props.databaseName.toLowerCase());
      link.sizeBytes = miDb?.sizeBytes ?? 0;
      link.seedStartLsn = miDb ? miDatabaseLsn(miDb, at) : 0n;
      this.createSqlSecondaryDatabase(link, at);
    }
    const seconds = link.sizeBytes / (this.timing.seedingMBps * 1024 * 1024);
    link.phase = 'Seeding';
    link.seedStart = at;
    link.seedEnd = new Date(at.getTime() + Math.ceil(seconds * 1000));
    link.catchupEnd = new Date(link.seedEnd.getTime() + this.timing.catchupSeconds * 1000);
    link.seedingOperationId = randomUUID().toUpperCase();
    // Shared bandwidth: the full personal rate until the next re-share (at this same moment) gives the share.
    link.seedRate = this.sharesBandwidth ? (this.timing.seedingMBps * 1024 * 1024) / 1000 : undefined;
    if (this.sharesBandwidth) this.sharers = '';
  }

  private createSqlSecondaryDatabase(link: SimLink, at: Date): void {
    const server = link.server;
    const miDb = link.mi.databases.get(link.props.databaseName.toLowerCase());
    if (!server || !miDb) return;
    const s = server.state;
    const existing = s.databases.find((d) => eqi(d.name, miDb.name));
    if (existing) {
      existing.state = 'RESTORING';
    } else {
      const name = miDb.name;
      const dataPages = Math.ceil(miDb.sizeBytes / PAGE);
      const logBytes = Math.max(8 * 1024 * 1024, Math.ceil(miDb.sizeBytes / 4));
      s.databases.push({
        databaseId: nextDatabaseId(s),
        name,
        isSystem: false,
        state: 'RESTORING',
        recoveryModel: 'FULL',
        collation: miDb.collation,
        createDate: at,
        files: [
          {
            fileId: 1,
            type: 'ROWS',
            name: 'data_0',
            physicalName: `C:\\Program Files\\Microsoft SQL Server\\MSSQL\\DATA\\${name}.mdf`,
            sizePages: dataPages,
            dataSpaceId: 1,
          },
          {
            fileId: 2,
            type: 'LOG',
            name: 'log',
            physicalName: `C:\\Program Files\\Microsoft SQL Server\\MSSQL\\DATA\\${name}_log.ldf`,
            sizePages: Math.ceil(logBytes / PAGE),
            dataSpaceId: 0,
          },
        ],
        filegroups: [{ dataSpaceId: 1, name: 'PRIMARY', type: 'FG', isDefault: true }],
        logSizeBytes: logBytes,
        logUsedBytes: Math.floor(logBytes * 0.05),
        currentLsn: link.seedStartLsn,
        backups: [],
      });
    }
    const ag = s.availabilityGroups.find(
      (g) => !g.isDistributed && eqi(g.name, link.props.partnerAvailabilityGroupName),
    );
    if (ag && !ag.databases.some((d) => eqi(d, miDb.name))) ag.databases.push(miDb.name);
  }

  private secondaryDatabaseOnline(link: SimLink): void {
    if (link.sqlRole === 'Primary') {
      const miDb = link.mi.databases.get(link.props.databaseName.toLowerCase());
      if (miDb) miDb.status = 'Online';
    } else {
      const db = this.sqlDatabase(link);
      if (db) db.state = 'ONLINE';
    }
  }

  private failSeedingRow(link: SimLink, now: Date): void {
    const row = link.server?.state.seedings.find((r) => r.operationId === link.seedingOperationId);
    if (row && row.currentState !== 'COMPLETED') {
      row.currentState = 'FAILED';
      row.failureStateDesc = 'Seeding failed: the connection to the remote replica was lost';
      row.completionTime = now;
      row.errorCode = 41986;
    }
  }

  // ---------------------------------------------------------------- LSNs and lag

  private primaryLsn(link: SimLink, now: Date): bigint {
    const flow = this.dynamics?.progress(link, now);
    if (flow) return flow.primaryLsn;
    if (this.dataFlowsToInstance(link) || link.instanceRole === 'Secondary')
      return this.sqlDatabase(link)?.currentLsn ?? link.seedStartLsn;
    const miDb = link.mi.databases.get(link.props.databaseName.toLowerCase());
    return miDb ? miDatabaseLsn(miDb, now) : link.seedStartLsn;
  }

  /** How far the secondary is: hardened LSN, send/redo queues (KB) and lag (seconds). */
  private secondaryProgress(
    link: SimLink,
    now: Date,
  ): { hardened: bigint | null; sendKb: number; redoKb: number; lag: number } {
    const flow = this.dynamics?.progress(link, now);
    if (flow) return { hardened: flow.hardened, sendKb: flow.sendKb, redoKb: flow.redoKb, lag: flow.lag };
    const primary = this.primaryLsn(link, now);
    if (link.phase === 'Seeding' || !link.seedEnd || !link.catchupEnd)
      return { hardened: null, sendKb: 0, redoKb: 0, lag: 0 };
    if (link.phase === 'Catchup') {
      const total = Math.max(1, link.catchupEnd.getTime() - link.seedEnd.getTime());
      const remaining = Math.max(0, link.catchupEnd.getTime() - now.getTime()) / total;
      const gap = primary > link.seedStartLsn ? primary - link.seedStartLsn : 0n;
      const hardened = primary - (gap * BigInt(Math.round(remaining * 1000))) / 1000n;
      const lag = Math.ceil((remaining * total) / 1000) + 1;
      return { hardened, sendKb: Math.round(remaining * 20_480), redoKb: Math.round(remaining * 4_096), lag };
    }
    return {
      hardened: primary,
      sendKb: 0,
      redoKb: 0,
      lag: link.disconnectedSince ? Math.round((now.getTime() - link.disconnectedSince.getTime()) / 1000) : 1,
    };
  }

  /**
   * A connected link is HEALTHY while it seeds and catches up, as the REST spec's own list example
   * (DistributedAvailabilityGroupsListByInstance, 2025-01-01) shows for replicaState Seeding and Catchup;
   * the same value goes to SQL Server's replica and database replica states, so ARM and the DMVs agree.
   */
  private health(link: SimLink): SyncHealth {
    if (link.phase === 'Creating' || link.phase === 'Failed' || link.disconnectedSince) return 'NOT_HEALTHY';
    return 'HEALTHY';
  }

  // ---------------------------------------------------------------- SQL Server's view

  private syncToSql(link: SimLink, now: Date): void {
    const server = link.server ?? this.resolveServer(link.props);
    if (!server) return;
    const s: SimServerState = server.state;
    const dag = findDag(s, link.name);
    if (!dag) return;
    const named = dagMembers(dag, link.props);
    // A member the PUT names wrongly: SQL Server still sees its own partner replica fail to connect.
    const m = {
      sql: named.sql ?? dag.replicas.find((r) => r.isLocal),
      instance: named.instance ?? dag.replicas.find((r) => !r.isLocal),
    };
    const live = link.phase !== 'Creating' && link.phase !== 'Failed' && !link.deleting;
    const connected = live && !link.disconnectedSince;
    const health = this.health(link);
    if (m.sql) {
      m.sql.role = link.sqlRole === 'Primary' ? 'PRIMARY' : 'SECONDARY';
      m.sql.connectedState = 'CONNECTED';
      m.sql.synchronizationHealth = health;
    }
    if (m.instance) {
      m.instance.role = link.instanceRole === 'Primary' ? 'PRIMARY' : 'SECONDARY';
      m.instance.connectedState = connected ? 'CONNECTED' : 'DISCONNECTED';
      m.instance.synchronizationHealth = health;
      if (link.problem?.sqlError && link.problemAt && !connected) {
        m.instance.lastConnectError = {
          number: link.problem.sqlError.number,
          description: link.problem.sqlError.description,
          timestamp: link.problemAt,
        };
      }
    }
    s.databaseReplicaStates = s.databaseReplicaStates.filter((r) => r.groupId !== dag.groupId);
    if (!live || !m.sql) return;
    const progress = this.secondaryProgress(link, now);
    const primaryLsn = this.primaryLsn(link, now);
    const sqlPrimary = link.sqlRole === 'Primary';
    const bothSync = dag.replicas.every((r) => r.availabilityMode === 'SYNCHRONOUS_COMMIT');
    const secondaryState: SimDatabaseReplicaState['synchronizationState'] =
      link.phase === 'Seeding' || !connected
        ? 'NOT SYNCHRONIZING'
        : link.phase === 'Synchronized' && bothSync
          ? 'SYNCHRONIZED'
          : 'SYNCHRONIZING';
    const commitTime = link.phase === 'Seeding' ? null : new Date(now.getTime() - progress.lag * 1000);
    const row = (replicaId: string, isLocal: boolean, isPrimary: boolean): SimDatabaseReplicaState => ({
      groupId: dag.groupId,
      replicaId,
      databaseName: link.props.databaseName,
      isLocal,
      isPrimaryReplica: isPrimary,
      synchronizationState: isPrimary ? (connected ? 'SYNCHRONIZED' : 'NOT SYNCHRONIZING') : secondaryState,
      synchronizationHealth: health,
      lastHardenedLsn: isPrimary ? primaryLsn : progress.hardened,
      lastCommitLsn: isPrimary ? primaryLsn : progress.hardened,
      lastCommitTime: isPrimary ? now : commitTime,
      logSendQueueSizeKb: isPrimary ? null : progress.sendKb,
      redoQueueSizeKb: isPrimary ? null : progress.redoKb,
      secondaryLagSeconds: isPrimary ? null : progress.lag,
    });
    s.databaseReplicaStates.push(row(m.sql.replicaId, true, sqlPrimary));
    if (sqlPrimary && m.instance) s.databaseReplicaStates.push(row(m.instance.replicaId, false, false));
    // Seeding row (sys.dm_hadr_automatic_seeding / physical_seeding_stats).
    if (link.seedStart && link.seedEnd) {
      let seeding = s.seedings.find((r) => r.operationId === link.seedingOperationId);
      if (!seeding) {
        seeding = {
          operationId: link.seedingOperationId,
          groupId: dag.groupId,
          databaseName: link.props.databaseName,
          // The same id in both views: monitoring queries join operation_id to local_physical_seeding_id.
          localPhysicalSeedingId: link.seedingOperationId,
          remoteMachineName: link.mi.fqdn,
          roleDesc: sqlPrimary ? 'Source' : 'Destination',
          startTime: link.seedStart,
          completionTime: null,
          currentState: 'SEEDING',
          failureStateDesc: null,
          errorCode: 0,
          transferredSizeBytes: 0,
          databaseSizeBytes: link.sizeBytes,
          transferRateBytesPerSecond: this.timing.seedingMBps * 1024 * 1024,
          estimateTimeComplete: link.seedEnd,
        };
        s.seedings.push(seeding);
      }
      if (seeding.currentState !== 'FAILED') {
        const frac = this.seededFraction(link, now);
        const done = now.getTime() >= link.seedEnd.getTime();
        if (link.seedRate !== undefined && !done) {
          seeding.transferRateBytesPerSecond = Math.round(link.seedRate * 1000);
          seeding.estimateTimeComplete = link.seedEnd;
        }
        seeding.transferredSizeBytes = Math.round(link.sizeBytes * frac);
        seeding.currentState = done ? 'COMPLETED' : 'SEEDING';
        seeding.completionTime = done ? link.seedEnd : null;
      }
    }
  }

  // ---------------------------------------------------------------- ARM view

  private armBody(link: SimLink, now: Date): unknown {
    const p = link.props;
    const db: Record<string, unknown> = { databaseName: p.databaseName };
    if (link.phase === 'Failed') {
      Object.assign(db, {
        replicaState: failedReplicaState(link.problem),
        synchronizationHealth: 'NOT_HEALTHY',
        connectedState: 'DISCONNECTED',
        mostRecentLinkError: link.mostRecentError,
      });
    } else if (link.phase !== 'Creating') {
      const progress = this.secondaryProgress(link, now);
      const primaryLsn = this.primaryLsn(link, now);
      const connected = !link.disconnectedSince;
      const state =
        link.phase === 'Seeding'
          ? 'Seeding'
          : link.phase === 'Catchup'
            ? 'Catchup'
            : connected
              ? 'Connected'
              : 'Disconnected';
      const iso = (d: Date) => d.toISOString();
      const lagged = new Date(now.getTime() - progress.lag * 1000);
      const sqlDb = this.sqlDatabase(link);
      const lastFull = sqlDb?.backups.filter((b) => b.type === 'D').at(-1);
      const endpointCert = link.server?.state.endpoint?.certificateName
        ? link.server.state.certificates.find((c) =>
            eqi(c.name, link.server?.state.endpoint?.certificateName ?? ''),
          )
        : undefined;
      Object.assign(db, {
        instanceReplicaId: link.instanceReplicaId,
        partnerReplicaId: link.partnerReplicaId,
        replicaState: state,
        ...(link.phase === 'Seeding' && link.seedStart && link.seedEnd
          ? {
              seedingProgress: `${Math.floor(this.seededFraction(link, now) * 100)}%`,
            }
          : {}),
        synchronizationHealth: this.health(link),
        connectedState: connected ? 'CONNECTED' : 'DISCONNECTED',
        ...(progress.hardened !== null
          ? {
              lastReceivedLsn: progress.hardened.toString(),
              lastReceivedTime: iso(lagged),
              lastSentLsn: primaryLsn.toString(),
              lastSentTime: iso(now),
              lastCommitLsn: progress.hardened.toString(),
              lastCommitTime: iso(lagged),
              lastHardenedLsn: progress.hardened.toString(),
              lastHardenedTime: iso(lagged),
            }
          : {}),
        ...(lastFull
          ? { lastBackupLsn: lastFull.lastLsn.toString(), lastBackupTime: iso(lastFull.finishDate) }
          : {}),
        ...(link.mostRecentError ? { mostRecentLinkError: link.mostRecentError } : {}),
        ...(endpointCert
          ? {
              partnerAuthCertValidity: {
                certificateName: endpointCert.name,
                expiryDate: iso(endpointCert.expiryDate),
              },
            }
          : {}),
        instanceSendReplicationLagSeconds: link.instanceRole === 'Primary' ? progress.lag : 0,
        instanceRedoReplicationLagSeconds: link.instanceRole === 'Secondary' ? progress.lag : 0,
      });
    }
    return {
      properties: {
        distributedAvailabilityGroupName: link.name,
        distributedAvailabilityGroupId: link.id,
        replicationMode: p.replicationMode,
        partnerLinkRole: link.sqlRole,
        partnerAvailabilityGroupName: p.partnerAvailabilityGroupName,
        partnerEndpoint: p.partnerEndpoint,
        instanceLinkRole: link.instanceRole,
        instanceAvailabilityGroupName: p.instanceAvailabilityGroupName,
        failoverMode: p.failoverMode,
        seedingMode: p.seedingMode,
        databases: [db],
      },
      id: `${instanceResourceId(link.mi)}/distributedAvailabilityGroups/${link.name}`,
      name: link.name,
      type: 'Microsoft.Sql/managedInstances/distributedAvailabilityGroups',
    };
  }

  list(mi: ManagedInstanceSim): unknown[] {
    const now = this.opts.clock.now();
    return this.all()
      .filter((l) => l.mi === mi)
      .map((l) => this.armBody(l, now));
  }

  get(mi: ManagedInstanceSim, name: string): unknown | undefined {
    const link = this.find(mi, name);
    return link ? this.armBody(link, this.opts.clock.now()) : undefined;
  }

  // ---------------------------------------------------------------- ARM operations

  put(mi: ManagedInstanceSim, name: string, body: unknown): ArmResult {
    const now = this.opts.clock.now();
    if (!LINK_NAME.test(name)) {
      return bad(
        'InvalidParameterValue',
        `Invalid link name '${name}': use letters, digits, _, @, #, $ (no hyphens), starting with a letter, _ or #.`,
        'distributedAvailabilityGroupName',
      );
    }
    const parsed = parseLinkBody(body);
    if ('error' in parsed) return parsed.error;
    const props = parsed.props;
    const existing = this.find(mi, name);
    if (existing && existing.phase !== 'Failed') {
      if (sameProps(existing.props, props)) return { status: 200, body: this.armBody(existing, now) };
      return {
        status: 409,
        body: armError(
          'DistributedAvailabilityGroupAlreadyExists',
          `A link named '${name}' already exists on managed instance '${mi.name}' with other properties.`,
        ),
      };
    }
    if (mi.state !== 'Ready') {
      return {
        status: 409,
        body: armError('ManagedInstanceNotReady', `Managed instance '${mi.name}' is ${mi.state}.`),
      };
    }
    const others = this.all().filter((l) => l.mi === mi && l !== existing);
    if (others.some((l) => eqi(l.props.instanceAvailabilityGroupName, props.instanceAvailabilityGroupName))) {
      return bad(
        'CloudLifterChimeraMIAgNameIsAlreadyUsed',
        `The availability group name '${props.instanceAvailabilityGroupName}' is already used by another link on managed instance '${mi.name}'.`,
        'properties.instanceAvailabilityGroupName',
      );
    }
    if (others.length >= mi.linkLimit) {
      return bad(
        'ManagedInstanceLinkLimitReached',
        `Managed instance '${mi.name}' already has ${others.length} links, its limit.`,
      );
    }
    const miDb = mi.databases.get(props.databaseName.toLowerCase());
    if (props.instanceLinkRole === 'Primary') {
      if (mi.databaseFormat === 'AlwaysUpToDate') {
        return bad(
          'ManagedInstanceLinkUnsupportedUpdatePolicy',
          `A link with the managed instance as primary needs the SQL Server 2022 update policy; '${mi.name}' uses Always-up-to-date.`,
        );
      }
      if (!miDb)
        return bad(
          LinkErrorCodes.sourceDbNotFound,
          `Database '${props.databaseName}' does not exist on managed instance '${mi.name}'.`,
          'properties.databases',
        );
    } else if (miDb && miDb.linkName === undefined) {
      return bad(
        'ManagedInstanceLinkDatabaseAlreadyExists',
        `Database '${props.databaseName}' already exists on managed instance '${mi.name}'.`,
        'properties.databases',
      );
    }
    if (props.failoverMode === 'Manual' && mi.databaseFormat === 'AlwaysUpToDate') {
      return bad(
        'ManagedInstanceLinkUnsupportedUpdatePolicy',
        `Failover mode Manual (two-way) needs the SQL Server 2022 update policy; '${mi.name}' uses Always-up-to-date.`,
        'properties.failoverMode',
      );
    }
    const link: SimLink = {
      id: randomUUID(),
      name,
      mi,
      props,
      instanceRole: props.instanceLinkRole,
      sqlRole: props.instanceLinkRole === 'Primary' ? 'Secondary' : 'Primary',
      phase: 'Creating',
      createdAt: now,
      joinAt: new Date(now.getTime() + this.timing.creationSeconds * 1000),
      seedStartLsn: 0n,
      instanceReplicaId: randomUUID(),
      partnerReplicaId: randomUUID(),
      sizeBytes: 0,
      seedingOperationId: randomUUID().toUpperCase(),
    };
    this.links.set(this.key(mi, name), link);
    const operation = this.operationFor(mi, 'distributedAvailabilityGroups', () => {
      if (link.canceledAt) {
        return {
          status: 'Canceled',
          endTime: link.canceledAt,
          error: {
            code: 'OperationCanceled',
            message: `The link '${name}' was deleted while it was being created.`,
          },
        };
      }
      if (link.phase === 'Creating') return { status: 'InProgress' };
      if (link.phase === 'Failed') {
        return {
          status: 'Failed',
          endTime: link.joinAt,
          error: {
            code: link.problem?.code ?? 'LinkCreationError',
            message: link.problem?.message ?? 'The link could not be created.',
          },
        };
      }
      return { status: 'Succeeded', endTime: link.joinAt, result: this.armBody(link, this.opts.clock.now()) };
    });
    return { status: 201, body: this.armBody(link, now), operation };
  }

  patch(mi: ManagedInstanceSim, name: string, body: unknown): ArmResult {
    const link = this.find(mi, name);
    if (!link) return notFound(name);
    const props = (body as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
    const mode = props['replicationMode'];
    if (mode !== undefined && mode !== 'Async' && mode !== 'Sync') {
      return bad(
        'InvalidParameterValue',
        `replicationMode must be Async or Sync.`,
        'properties.replicationMode',
      );
    }
    const at = new Date(this.opts.clock.now().getTime() + this.timing.patchSeconds * 1000);
    return {
      status: 202,
      operation: this.scheduledOperation(mi, at, (when) => {
        if (mode === 'Async' || mode === 'Sync') link.props.replicationMode = mode;
        return { result: this.armBody(link, when) };
      }),
    };
  }

  delete(mi: ManagedInstanceSim, name: string): ArmResult {
    const link = this.find(mi, name);
    if (!link) return { status: 204 };
    link.deleting = true;
    const at = new Date(this.opts.clock.now().getTime() + this.timing.deleteSeconds * 1000);
    return {
      status: 202,
      operation: this.scheduledOperation(mi, at, (when) => {
        if (link.phase === 'Creating') link.canceledAt = when;
        if (this.links.get(this.key(mi, name)) === link) this.links.delete(this.key(mi, name));
        this.dropped(link, when);
        return {};
      }),
    };
  }

  /** After the link is gone on the instance: SQL Server's DAG loses its partner; the instance's copy stands alone. */
  private dropped(link: SimLink, at: Date): void {
    const miDb = link.mi.databases.get(link.props.databaseName.toLowerCase());
    if (miDb && miDb.linkName === link.name) {
      miDb.linkName = undefined;
      miDb.status = 'Online';
      miDb.lsnBase = miDatabaseLsn(miDb, at);
      miDb.lsnAt = at;
      miDb.lsnPerSecond = 1_600_000n;
    }
    const server = link.server;
    if (!server) return;
    const dag = findDag(server.state, link.name);
    if (!dag) return;
    const m = dagMembers(dag, link.props);
    if (m.instance) {
      m.instance.connectedState = 'DISCONNECTED';
      m.instance.synchronizationHealth = 'NOT_HEALTHY';
      m.instance.lastConnectError = {
        number: SqlLinkDropped,
        description: `The link '${link.name}' was removed on managed instance '${link.mi.name}'.`,
        timestamp: at,
      };
    }
    if (m.sql) m.sql.synchronizationHealth = 'NOT_HEALTHY';
    server.state.databaseReplicaStates = server.state.databaseReplicaStates.filter(
      (r) => !(r.groupId === dag.groupId && !r.isLocal),
    );
  }

  failover(mi: ManagedInstanceSim, name: string, body: unknown): ArmResult {
    const link = this.find(mi, name);
    if (!link) return notFound(name);
    const type = (body as { failoverType?: unknown } | undefined)?.failoverType;
    if (type !== 'Planned' && type !== 'ForcedAllowDataLoss') {
      return bad(
        'InvalidParameterValue',
        "failoverType must be 'Planned' or 'ForcedAllowDataLoss'.",
        'failoverType',
      );
    }
    if (link.phase === 'Creating' || link.phase === 'Failed') {
      return conflict(
        'DistributedAvailabilityGroupFailoverSecondariesNotSynchronizing',
        `The link '${name}' is not established.`,
      );
    }
    const now = this.opts.clock.now();
    if (type === 'Planned') {
      if (link.instanceRole !== 'Primary') {
        return bad(
          'InvalidDistributedAvailabilityGroupFailoverInstanceRole',
          'Planned failover can be executed on a link in the primary role only.',
        );
      }
      if (link.phase !== 'Synchronized' || link.disconnectedSince) {
        return conflict(
          'DistributedAvailabilityGroupFailoverSecondariesNotSynchronizing',
          `The secondary of link '${name}' is not synchronizing: planned failover needs a connected, caught-up link.`,
        );
      }
      const queues = this.secondaryProgress(link, now);
      if (queues.sendKb > PLANNED_FAILOVER_LIMITS.logSendQueueKb) {
        return conflict(
          'DistributedAvailabilityGroupFailoverLogSendQueueSizeTooBig',
          `The log send queue of link '${name}' is ${queues.sendKb} KB: let the secondary catch up before a planned failover.`,
        );
      }
      if (queues.redoKb > PLANNED_FAILOVER_LIMITS.redoQueueKb) {
        return conflict(
          'DistributedAvailabilityGroupFailoverRedoQueueSizeTooBig',
          `The redo queue of link '${name}' is ${queues.redoKb} KB: let the secondary catch up before a planned failover.`,
        );
      }
      const policy = link.server ? updatePolicyProblem(link.mi, link.server.state) : null;
      if (policy) return bad('ManagedInstanceLinkUnsupportedUpdatePolicy', policy.message);
      const at = new Date(now.getTime() + this.timing.failoverSeconds * 1000);
      return {
        status: 202,
        operation: this.scheduledOperation(mi, at, (when) => {
          this.dynamics?.drain(link);
          this.moveLsnToSql(link, when);
          link.instanceRole = 'Secondary';
          link.sqlRole = 'Primary';
          this.asynchronousAgain(link);
          return { result: this.armBody(link, when) };
        }),
      };
    }
    if (link.instanceRole === 'Primary') {
      return bad(
        'InvalidDistributedAvailabilityGroupFailoverInstanceRole',
        'Forced failover can be executed on a link in the secondary role only.',
      );
    }
    const at = new Date(now.getTime() + this.timing.failoverSeconds * 1000);
    return {
      status: 202,
      operation: this.scheduledOperation(mi, at, (when) => {
        this.promoteInstance(link, when);
        return { result: this.armBody(link, when) };
      }),
    };
  }

  setRole(mi: ManagedInstanceSim, name: string, body: unknown): ArmResult {
    const link = this.find(mi, name);
    if (!link) return notFound(name);
    const b = (body ?? {}) as { instanceRole?: unknown; roleChangeType?: unknown };
    if (b.instanceRole !== 'Primary' && b.instanceRole !== 'Secondary') {
      return bad('InvalidParameterValue', "instanceRole must be 'Primary' or 'Secondary'.", 'instanceRole');
    }
    if (b.roleChangeType !== 'Forced' && b.roleChangeType !== 'Planned') {
      return bad('InvalidParameterValue', "roleChangeType must be 'Forced' or 'Planned'.", 'roleChangeType');
    }
    if (b.instanceRole === link.instanceRole) {
      return conflict(
        'DistributedAvailabilityGroupSetRoleInstanceAlreadyInRequestedRole',
        `The managed instance is already ${link.instanceRole} on link '${name}'.`,
      );
    }
    if (b.instanceRole === 'Primary' && b.roleChangeType === 'Planned') {
      return conflict(
        'DistributedAvailabilityGroupSetRolePrimaryPlannedNotSupported',
        'A planned role change to primary is not supported: use failover.',
      );
    }
    const role = b.instanceRole;
    const at = new Date(this.opts.clock.now().getTime() + this.timing.failoverSeconds * 1000);
    return {
      status: 202,
      operation: this.scheduledOperation(mi, at, (when) => {
        if (role === 'Primary') this.promoteInstance(link, when);
        else link.instanceRole = 'Secondary';
        return { result: this.armBody(link, when) };
      }),
    };
  }

  private promoteInstance(link: SimLink, at: Date): void {
    const miDb = link.mi.databases.get(link.props.databaseName.toLowerCase());
    if (miDb) {
      const progress = this.secondaryProgress(link, at);
      miDb.lsnBase = progress.hardened ?? miDb.lsnBase;
      miDb.lsnAt = at;
      miDb.lsnPerSecond = 1_600_000n;
      miDb.status = 'Online';
    }
    link.instanceRole = 'Primary';
    this.dynamics?.instancePromoted(link, at);
  }

  /** "Fail over link": after a planned failover the link replicates asynchronously again. */
  private asynchronousAgain(link: SimLink): void {
    link.props.replicationMode = 'Async';
    const dag = link.server ? findDag(link.server.state, link.name) : undefined;
    for (const r of dag?.replicas ?? []) r.availabilityMode = 'ASYNCHRONOUS_COMMIT';
  }

  private moveLsnToSql(link: SimLink, at: Date): void {
    const miDb = link.mi.databases.get(link.props.databaseName.toLowerCase());
    const db = this.sqlDatabase(link);
    if (miDb && db) db.currentLsn = miDatabaseLsn(miDb, at);
    if (miDb) {
      miDb.lsnBase = miDatabaseLsn(miDb, at);
      miDb.lsnAt = at;
      miDb.lsnPerSecond = 0n;
    }
  }

  // ---------------------------------------------------------------- T-SQL on SQL Server

  /**
   * A DAG command run on SQL Server (FAILOVER, FORCE_FAILOVER_ALLOW_DATA_LOSS, SET (ROLE = SECONDARY),
   * MODIFY … AVAILABILITY_MODE, DROP). Throws SqlError when SQL Server would refuse it.
   */
  sqlDagCommand(state: SimServerState, kind: SqlDagCommandKind, dagName: string): void {
    this.advance();
    const link = this.all().find(
      (l) => (l.server?.state ?? this.resolveServer(l.props)?.state) === state && eqi(l.name, dagName),
    );
    if (!link || link.phase === 'Creating' || link.phase === 'Failed') return;
    const now = this.opts.clock.now();
    switch (kind) {
      case 'FAILOVER': {
        const dag = findDag(state, dagName);
        const allSync = dag?.replicas.every((r) => r.availabilityMode === 'SYNCHRONOUS_COMMIT') ?? false;
        if (link.sqlRole !== 'Primary') {
          throw new SqlError(
            41142,
            `The availability replica for availability group '${dagName}' on this instance of SQL Server cannot become the primary replica. This replica is not the primary of the distributed availability group.`,
          );
        }
        if (
          !allSync ||
          link.phase !== 'Synchronized' ||
          link.disconnectedSince ||
          (this.dynamics && !this.dynamics.caughtUp(link))
        ) {
          throw new SqlError(
            41142,
            `The availability replica for availability group '${dagName}' on this instance of SQL Server cannot become the primary replica. The distributed availability group must be in SYNCHRONOUS_COMMIT on both members and synchronized before a planned failover.`,
          );
        }
        const miDb = link.mi.databases.get(link.props.databaseName.toLowerCase());
        const db = this.sqlDatabase(link);
        if (miDb && db) {
          miDb.lsnBase = db.currentLsn;
          miDb.lsnAt = now;
          miDb.lsnPerSecond = 1_600_000n;
        }
        link.sqlRole = 'Secondary';
        link.instanceRole = 'Primary';
        this.asynchronousAgain(link);
        this.dynamics?.instancePromoted(link, now);
        break;
      }
      case 'FORCE_FAILOVER_ALLOW_DATA_LOSS': {
        const v = state.version;
        if (link.sqlRole === 'Secondary' && (v.year < 2022 || (v.year === 2022 && v.cu < 13))) {
          // "Fail over link": a forced failover from the instance to SQL Server in T-SQL needs 2022 CU13+.
          throw new SqlError(
            41142,
            `The availability replica for availability group '${dagName}' on this instance of SQL Server cannot become the primary replica. A forced failover of a link to SQL Server needs SQL Server 2022 CU13 or later.`,
          );
        }
        if (link.sqlRole === 'Secondary') {
          const db = this.sqlDatabase(link);
          const progress = this.secondaryProgress(link, now);
          if (db && progress.hardened !== null) db.currentLsn = progress.hardened;
          if (db) db.state = 'ONLINE';
        }
        link.sqlRole = 'Primary';
        break;
      }
      case 'SET_ROLE_SECONDARY':
        link.sqlRole = 'Secondary';
        break;
      case 'MODIFY_AVAILABILITY_MODE':
      case 'DROP':
        break;
    }
    this.advance();
  }
}

const SqlLinkDropped = 41986;

/** The service's refusals of a failover or role change in the link's current state are 409s (SPEC). */
function conflict(code: string, message: string): ArmResult {
  return { status: 409, body: armError(code, message) };
}

function bad(code: string, message: string, target?: string): ArmResult {
  return {
    status: 400,
    body: armError(code, message, target ? [{ code, target, message }] : undefined),
  };
}

function notFound(name: string): ArmResult {
  return {
    status: 404,
    body: armError(
      'ResourceNotFound',
      `The requested resource of type 'Microsoft.Sql/managedInstances/distributedAvailabilityGroups' with name '${name}' was not found.`,
    ),
  };
}

function sameProps(a: LinkProps, b: LinkProps): boolean {
  return (
    eqi(a.partnerAvailabilityGroupName, b.partnerAvailabilityGroupName) &&
    eqi(a.instanceAvailabilityGroupName, b.instanceAvailabilityGroupName) &&
    eqi(a.partnerEndpoint, b.partnerEndpoint) &&
    eqi(a.databaseName, b.databaseName) &&
    a.failoverMode === b.failoverMode &&
    a.seedingMode === b.seedingMode
  );
}

/** Validates a PUT body in the current (2023-08-01 and later) schema. */
export function parseLinkBody(body: unknown): { props: LinkProps } | { error: ArmResult } {
  const p = (body as { properties?: Record<string, unknown> } | undefined)?.properties;
  if (!p || typeof p !== 'object')
    return {
      error: bad('MissingRequiredParameter', "The request body must have 'properties'.", 'properties'),
    };
  const str = (k: string) =>
    typeof p[k] === 'string' && (p[k] as string).length > 0 ? (p[k] as string) : undefined;
  for (const k of ['partnerAvailabilityGroupName', 'instanceAvailabilityGroupName', 'partnerEndpoint']) {
    if (!str(k)) {
      const old = [
        'targetDatabase',
        'sourceEndpoint',
        'primaryAvailabilityGroupName',
        'secondaryAvailabilityGroupName',
      ].filter((o) => o in p);
      const hint = old.length
        ? ` (the body uses the 2021-11-01-preview properties ${old.join(', ')}; send the current schema)`
        : '';
      return {
        error: bad(
          'MissingRequiredParameter',
          `The property 'properties.${k}' is required${hint}.`,
          `properties.${k}`,
        ),
      };
    }
  }
  if (!parseTcpUrl(str('partnerEndpoint') ?? '')) {
    return {
      error: bad(
        'InvalidParameterValue',
        `partnerEndpoint must look like TCP://<address>:<port>.`,
        'properties.partnerEndpoint',
      ),
    };
  }
  const dbs = p['databases'];
  if (
    !Array.isArray(dbs) ||
    dbs.length !== 1 ||
    typeof (dbs[0] as { databaseName?: unknown })?.databaseName !== 'string'
  ) {
    return {
      error: bad(
        'InvalidParameterValue',
        'A link replicates exactly one database: properties.databases must hold one { databaseName }.',
        'properties.databases',
      ),
    };
  }
  const pick = <T extends string>(k: string, allowed: readonly T[], dflt: T): T | null => {
    const v = p[k];
    if (v === undefined || v === null) return dflt;
    return allowed.includes(v as T) ? (v as T) : null;
  };
  const instanceLinkRole = pick('instanceLinkRole', ['Primary', 'Secondary'] as const, 'Secondary');
  const failoverMode = pick('failoverMode', ['None', 'Manual'] as const, 'None');
  const seedingMode = pick('seedingMode', ['Automatic', 'Manual'] as const, 'Automatic');
  const replicationMode = pick('replicationMode', ['Async', 'Sync'] as const, 'Async');
  const invalid = [
    ['instanceLinkRole', instanceLinkRole],
    ['failoverMode', failoverMode],
    ['seedingMode', seedingMode],
    ['replicationMode', replicationMode],
  ].find(([, v]) => v === null);
  if (invalid)
    return {
      error: bad(
        'InvalidParameterValue',
        `Invalid value for properties.${invalid[0]}.`,
        `properties.${invalid[0]}`,
      ),
    };
  return {
    props: {
      partnerAvailabilityGroupName: str('partnerAvailabilityGroupName') as string,
      instanceAvailabilityGroupName: str('instanceAvailabilityGroupName') as string,
      partnerEndpoint: str('partnerEndpoint') as string,
      instanceLinkRole: instanceLinkRole as Role,
      failoverMode: failoverMode as 'None' | 'Manual',
      seedingMode: seedingMode as 'Automatic' | 'Manual',
      replicationMode: replicationMode as 'Async' | 'Sync',
      databaseName: (dbs[0] as { databaseName: string }).databaseName,
    },
  };
}
