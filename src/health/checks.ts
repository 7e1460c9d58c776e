/**
 * The nightly health checks: pure functions from what the sweep read (one observation per SQL Server, one
 * ARM list per instance, the inventory) to findings. Each finding carries the check, severity, link, the
 * value seen, the threshold it crossed and what to do. Sources are health-checks.md's abbreviations.
 */
import { errorCodeIn, remedyFor } from './advice.js';
import { listenerHost, type DagDatabase, type DagObservation, type ServerObservation } from './batch.js';
import {
  linkKey,
  type ArmLink,
  type ArmLinkDatabase,
  type InstanceSweep,
  type PreviousLinkState,
  type ServerSweep,
  type SweepInput,
  type Unreachable,
  redactSecrets,
} from './inputs.js';
import type { Thresholds } from './thresholds.js';

export type Severity = 'critical' | 'warning' | 'info';
export const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'info'];

export const CHECK_IDS = [
  'sqlserver-unreachable',
  'instance-unreachable',
  'link-missing-on-instance',
  'dag-missing-on-sqlserver',
  'connection',
  'synchronization-health',
  'synchronization-state',
  'suspended',
  'replica-state',
  'lag',
  'log-send-queue',
  'redo-queue',
  'log-space',
  'log-backup-age',
  'seeding',
  'trace-flag-12381',
  'split-brain',
  'endpoint-certificate-expiry',
  'partner-certificate-expiry',
  'instance-certificate-chain',
  'instance-certificate-expiry',
  'version',
  'update-policy',
  'unmanaged-link',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

export interface Finding {
  checkId: CheckId;
  severity: Severity;
  /** `<instance>/<linkName>`, or null for a finding about a server or an instance as a whole. */
  link: string | null;
  /** What was checked: the link key, `sqlserver:<name>`, `instance:<name>`, or a certificate on a server. */
  target: string;
  value: string | number | boolean | null;
  threshold: string | number | null;
  /** SQL error number or ARM code behind the finding, when there is one. */
  code: string | null;
  message: string;
  advice: string;
  /** Where the rule comes from (health-checks.md's source abbreviations). */
  source: string;
}

/** Everything known about one link, joined from the inputs. */
export interface LinkView {
  key: string;
  instance: string;
  linkName: string;
  managed: boolean;
  sqlServer: string | null;
  database: string | null;
  arm: ArmLink | null;
  armDatabase: ArmLinkDatabase | null;
  server: ServerObservation | null;
  dag: DagObservation | null;
  db: DagDatabase | null;
  serverError: Unreachable | null;
  instanceError: Unreachable | null;
  /** databaseFormat of the instance (update policy), when read. */
  databaseFormat: string | null;
}

const lc = (s: string | null | undefined) => (s ?? '').toLowerCase();

/** Joins the inventory with the ARM lists and the server observations; ARM links not in the inventory are unmanaged. */
export function linkViews(input: SweepInput): LinkView[] {
  const servers = new Map<string, ServerSweep>(input.servers.map((s) => [lc(s.sqlServer), s]));
  const instances = new Map<string, InstanceSweep>(input.instances.map((i) => [lc(i.instance), i]));
  const views: LinkView[] = [];
  const seen = new Set<string>();
  for (const m of input.inventory) {
    const key = linkKey(m.instance, m.linkName);
    seen.add(lc(key));
    const inst = instances.get(lc(m.instance));
    const srv = servers.get(lc(m.sqlServer));
    const arm = inst?.links?.find((l) => lc(l.name) === lc(m.linkName)) ?? null;
    const dag = srv?.observation?.dags.find((d) => lc(d.name) === lc(m.linkName)) ?? null;
    views.push({
      key,
      instance: m.instance,
      linkName: m.linkName,
      managed: true,
      sqlServer: m.sqlServer,
      database: m.database,
      arm,
      armDatabase: arm?.properties.databases?.find((d) => lc(d.databaseName) === lc(m.database)) ?? null,
      server: srv?.observation ?? null,
      dag,
      db: dag?.databases.find((d) => lc(d.name) === lc(m.database)) ?? null,
      serverError: srv ? (srv.error ?? null) : { message: 'the sweep did not read this SQL Server' },
      instanceError: inst ? (inst.error ?? null) : { message: 'the sweep did not list this instance' },
      databaseFormat: inst?.databaseFormat ?? null,
    });
  }
  for (const inst of input.instances) {
    for (const arm of inst.links ?? []) {
      const key = linkKey(inst.instance, arm.name);
      if (seen.has(lc(key))) continue;
      seen.add(lc(key));
      const armDatabase = arm.properties.databases?.[0] ?? null;
      views.push({
        key,
        instance: inst.instance,
        linkName: arm.name,
        managed: false,
        sqlServer: null,
        database: armDatabase?.databaseName ?? null,
        arm,
        armDatabase,
        server: null,
        dag: null,
        db: null,
        serverError: null,
        instanceError: null,
        databaseFormat: inst.databaseFormat ?? null,
      });
    }
  }
  return views;
}

// ---------------------------------------------------------------------------------------------------

const SEEDING_RUNNING = new Set(['PENDING', 'CHECK_IF_SEEDING_NEEDED', 'SEEDING']);

/** The seeding operation of a database that is still running, if any. */
export function runningSeeding(db: DagDatabase | null) {
  return db?.seeding.find((s) => SEEDING_RUNNING.has(s.state.toUpperCase())) ?? null;
}

/** Whether the link is still seeding, by SQL Server or by ARM. */
export function isSeeding(v: LinkView): boolean {
  return runningSeeding(v.db) !== null || /seeding|creatinglink/i.test(v.armDatabase?.replicaState ?? '');
}

const DAY_MS = 86_400_000;

function daysLeft(expiry: string, at: string): number {
  return Math.floor((Date.parse(expiry) - Date.parse(at)) / DAY_MS);
}

function expirySeverity(days: number, t: Thresholds): { severity: Severity; threshold: number } | null {
  if (days <= t.certificateDays.critical)
    return { severity: 'critical', threshold: t.certificateDays.critical };
  if (days <= t.certificateDays.warning) return { severity: 'warning', threshold: t.certificateDays.warning };
  if (days <= t.certificateDays.info) return { severity: 'info', threshold: t.certificateDays.info };
  return null;
}

function level(value: number, warning: number, critical: number): Severity | null {
  if (value >= critical) return 'critical';
  if (value >= warning) return 'warning';
  return null;
}

type Emit = (f: Omit<Finding, 'code'> & { code?: string | null }) => void;

function checkReachability(input: SweepInput, emit: Emit): void {
  for (const s of input.servers) {
    if (!s.error) continue;
    const message = redactSecrets(s.error.message);
    emit({
      checkId: 'sqlserver-unreachable',
      severity: 'critical',
      link: null,
      target: `sqlserver:${s.sqlServer}`,
      value: message,
      threshold: null,
      code: s.error.code ?? null,
      message: `SQL Server ${s.sqlServer} could not be read: ${message}`,
      advice:
        "check the host, port, network and the health login (it needs VIEW SERVER STATE and sysadmin for sp_validate_certificate_ca_chain); this server's links were not checked on the SQL Server side",
      source: 'issue 14',
    });
  }
  for (const i of input.instances) {
    if (!i.error) continue;
    const message = redactSecrets(i.error.message);
    emit({
      checkId: 'instance-unreachable',
      severity: 'critical',
      link: null,
      target: `instance:${i.instance}`,
      value: message,
      threshold: null,
      code: i.error.code ?? null,
      message: `The links of managed instance ${i.instance} could not be listed over ARM: ${message}`,
      advice:
        "check the instance exists and milink's identity may read it (Microsoft.Sql/managedInstances/distributedAvailabilityGroups/read); this instance's links were not checked on the Azure side",
      source: 'issue 14',
    });
  }
}

function checkPresence(v: LinkView, emit: Emit): boolean {
  let present = true;
  if (v.managed && !v.instanceError && !v.arm) {
    present = false;
    emit({
      checkId: 'link-missing-on-instance',
      severity: 'critical',
      link: v.key,
      target: v.key,
      value: null,
      threshold: null,
      message: `The link ${v.linkName} is in the inventory but not on managed instance ${v.instance}`,
      advice:
        'if it was dropped on purpose, drop it on SQL Server too (DROP AVAILABILITY GROUP) and remove it from the inventory; otherwise recreate it',
      source: 'FO, CFG',
    });
  }
  if (v.managed && v.server && !v.dag) {
    present = false;
    emit({
      checkId: 'dag-missing-on-sqlserver',
      severity: 'critical',
      link: v.key,
      target: v.key,
      value: null,
      threshold: null,
      message: `SQL Server ${v.sqlServer} has no distributed availability group ${v.linkName}`,
      advice:
        'if the link was dropped on SQL Server, delete it on the instance too (DELETE …/distributedAvailabilityGroups/{link}); otherwise recreate the DAG',
      source: 'FO, CFG',
    });
  }
  return present;
}

function checkConnection(v: LinkView, emit: Emit): boolean {
  const sqlRemote = v.dag?.remote ?? null;
  const sqlDisconnected = sqlRemote?.connectedState === 'DISCONNECTED';
  const armDisconnected = v.armDatabase?.connectedState === 'DISCONNECTED';
  if (!sqlDisconnected && !armDisconnected) return false;
  const sqlErr = sqlRemote?.lastConnectError ?? null;
  const code = sqlErr ? String(sqlErr.number) : errorCodeIn(v.armDatabase?.mostRecentLinkError);
  const seen = [sqlDisconnected ? 'SQL Server' : null, armDisconnected ? 'the instance' : null]
    .filter(Boolean)
    .join(' and ');
  const detail = sqlErr?.description ?? v.armDatabase?.mostRecentLinkError ?? null;
  emit({
    checkId: 'connection',
    severity: 'critical',
    link: v.key,
    target: v.key,
    value: 'DISCONNECTED',
    threshold: 'CONNECTED',
    code,
    message: `The link is disconnected (seen by ${seen})${detail ? `: ${detail}` : ''}`,
    advice: remedyFor(
      code,
      'check the mirroring endpoint is started, the certificates are trusted on both sides and the network is open; sys.dm_hadr_availability_replica_states.last_connect_error_number names the cause',
    ),
    source: 'CFG, TS',
  });
  return true;
}

function checkHealth(v: LinkView, t: Thresholds, emit: Emit): void {
  const seeding = isSeeding(v);
  // synchronization health: on the primary, the remote member's row (TS); ARM's view from the instance
  const sqlHealth = v.dag?.local?.role === 'PRIMARY' ? (v.dag.remote?.synchronizationHealth ?? null) : null;
  const armHealth = v.armDatabase?.synchronizationHealth ?? null;
  const worst =
    [sqlHealth, armHealth].find((h) => h === 'NOT_HEALTHY') ??
    [sqlHealth, armHealth].find((h) => h === 'PARTIALLY_HEALTHY');
  if (worst && !seeding) {
    emit({
      checkId: 'synchronization-health',
      severity: worst === 'NOT_HEALTHY' ? 'critical' : 'warning',
      link: v.key,
      target: v.key,
      value: worst,
      threshold: 'HEALTHY',
      message: `Synchronization health is ${worst}`,
      advice:
        'check the database on the primary is online and not suspended, and the secondary keeps up (lag, redo queue); sys.dm_hadr_database_replica_states shows which database',
      source: 'TS',
    });
  }
  const remote = v.db?.remote ?? null;
  const local = v.db?.local ?? null;
  for (const row of [local, remote]) {
    if (!row?.isSuspended) continue;
    emit({
      checkId: 'suspended',
      severity: 'critical',
      link: v.key,
      target: v.key,
      value: row.suspendReason ?? true,
      threshold: null,
      message: `Data movement is suspended on ${row.isLocal ? 'SQL Server' : 'the partner'}${row.suspendReason ? ` (${row.suspendReason})` : ''}`,
      advice: `resume it: ALTER DATABASE [${v.database ?? 'db'}] SET HADR RESUME; on the side where it is suspended, after fixing the cause`,
      source: 'DMV',
    });
    break;
  }
  if (remote && remote.synchronizationState === 'NOT SYNCHRONIZING' && !seeding && !remote.isSuspended) {
    emit({
      checkId: 'synchronization-state',
      severity: 'warning',
      link: v.key,
      target: v.key,
      value: remote.synchronizationState,
      threshold: 'SYNCHRONIZING',
      message: 'The secondary is NOT SYNCHRONIZING (an asynchronous link is normally SYNCHRONIZING)',
      advice:
        'check the connection and the database state on the secondary; resume data movement if suspended',
      source: 'DMV',
    });
  }
  if (seeding) return;
  // lag: SQL Server primary → remote row's secondary_lag_seconds; instance primary → ARM's lag fields (BP)
  const lags = [
    remote?.secondaryLagSeconds ?? null,
    v.arm?.properties.instanceLinkRole === 'Primary'
      ? Math.max(
          v.armDatabase?.instanceSendReplicationLagSeconds ?? 0,
          v.armDatabase?.instanceRedoReplicationLagSeconds ?? 0,
        )
      : null,
  ].filter((x): x is number => x !== null);
  if (lags.length) {
    const lag = Math.max(...lags);
    const sev = level(lag, t.lagSeconds.warning, t.lagSeconds.critical);
    if (sev)
      emit({
        checkId: 'lag',
        severity: sev,
        link: v.key,
        target: v.key,
        value: lag,
        threshold: sev === 'critical' ? t.lagSeconds.critical : t.lagSeconds.warning,
        message: `The secondary is ${lag} s behind`,
        advice:
          'a planned failover may time out while lag is high (TS); check the network throughput and, if the redo queue is the cause, give the secondary more resources (BP)',
        source: 'BP, FO (no documented number; sp_Blitz 268 uses 60 s)',
      });
  }
  for (const [checkId, kb, what] of [
    ['log-send-queue', remote?.logSendQueueKb ?? null, 'log send queue'],
    ['redo-queue', remote?.redoQueueKb ?? null, 'redo queue'],
  ] as const) {
    if (kb === null) continue;
    const sev = level(kb, t.queueKb.warning, t.queueKb.critical);
    if (!sev) continue;
    emit({
      checkId,
      severity: sev,
      link: v.key,
      target: v.key,
      value: kb,
      threshold: sev === 'critical' ? t.queueKb.critical : t.queueKb.warning,
      message: `The ${what} is ${Math.round(kb / 1024)} MB`,
      advice:
        checkId === 'redo-queue'
          ? 'a redo queue that stays high means the secondary cannot keep up: give it more resources (BP)'
          : 'the primary cannot send log fast enough: check the network between SQL Server and the instance (BP)',
      source: 'BP, DMV',
    });
  }
}

function checkArmReplicaState(v: LinkView, emit: Emit): void {
  const state = v.armDatabase?.replicaState;
  if (!state || !/error$/i.test(state)) return;
  const code = errorCodeIn(v.armDatabase?.mostRecentLinkError);
  emit({
    checkId: 'replica-state',
    severity: 'critical',
    link: v.key,
    target: v.key,
    value: state,
    threshold: null,
    code,
    message: `The instance reports ${state}${v.armDatabase?.mostRecentLinkError ? `: ${v.armDatabase.mostRecentLinkError}` : ''}`,
    advice: remedyFor(
      code,
      'the step named by the state failed: read mostRecentLinkError, fix the cause, then recreate the link',
    ),
    source: 'TS, SPEC',
  });
}

function checkLog(v: LinkView, t: Thresholds, at: string, emit: Emit): void {
  const db = v.db;
  if (!db) return;
  if (db.logUsedPercent !== null) {
    const used = Math.round(db.logUsedPercent * 10) / 10;
    const sev = used >= 100 ? 'critical' : level(used, t.logUsedPercent.warning, t.logUsedPercent.critical);
    if (sev) {
      const wait = db.logReuseWait ?? 'unknown';
      emit({
        checkId: 'log-space',
        severity: sev,
        link: v.key,
        target: v.key,
        value: used,
        threshold: sev === 'critical' ? t.logUsedPercent.critical : t.logUsedPercent.warning,
        code: wait,
        message: `The log of ${db.name} is ${used} % full (log_reuse_wait_desc ${wait}); at 100 % replication stops`,
        advice:
          wait === 'LOG_BACKUP'
            ? 'take a log backup now and schedule them regularly (BP)'
            : wait === 'AVAILABILITY_REPLICA'
              ? 'the secondary holds log truncation: check the connection and lag; sys.dm_hadr_database_replica_cluster_states names the replica'
              : `the log cannot be reused (${wait}): remove that cause, then back up the log`,
        source: 'CFG, BP',
      });
    }
  }
  // last log backup: only while SQL Server is primary, not during seeding (BP, EXT)
  if (v.dag?.local?.role !== 'PRIMARY' || isSeeding(v)) return;
  const maxMinutes = t.logBackupMaxAgeHours * 60;
  const last = db.lastLogBackup;
  if (last && last.ageMinutes <= maxMinutes) return;
  if (!last) {
    // the first log backup is due only once the link has been up for the allowed age
    const seeded = db.seeding.find((s) => s.completedAt)?.completedAt ?? null;
    const since = seeded
      ? (Date.parse(at) - Date.parse(seeded)) / 60_000
      : (db.lastFullBackup?.ageMinutes ?? null);
    if (since === null || since <= maxMinutes) return;
  }
  emit({
    checkId: 'log-backup-age',
    severity: 'warning',
    link: v.key,
    target: v.key,
    value: last ? Math.round(last.ageMinutes / 60) : null,
    threshold: t.logBackupMaxAgeHours,
    message: last
      ? `The last log backup of ${db.name} on SQL Server (the primary) is ${Math.round(last.ageMinutes / 60)} h old`
      : `${db.name} has no log backup on SQL Server (the primary) since the link was seeded`,
    advice:
      'back up the log regularly while SQL Server is primary (a daily job at least), or the log fills and replication stops (BP); only non-copy-only backups truncate it',
    source: 'BP, EXT',
  });
}

function checkSeeding(
  v: LinkView,
  t: Thresholds,
  at: string,
  previous: PreviousLinkState | undefined,
  emit: Emit,
): void {
  const failed = v.db?.seeding.find((s) => s.state.toUpperCase() === 'FAILED');
  const running = runningSeeding(v.db);
  if (failed && !running) {
    const code = failed.errorCode !== null ? String(failed.errorCode) : null;
    emit({
      checkId: 'seeding',
      severity: 'critical',
      link: v.key,
      target: v.key,
      value: 'FAILED',
      threshold: null,
      code,
      message: `Seeding of ${v.db?.name} failed${code ? ` with error ${code}` : ''}${failed.failure ? `: ${failed.failure}` : ''}`,
      advice: remedyFor(code, 'read failure_state_desc, fix the cause and recreate the link'),
      source: 'TS',
    });
    return;
  }
  const armSeeding = /seeding/i.test(v.armDatabase?.replicaState ?? '');
  if (!running && !armSeeding) return;
  const started = running?.startedAt ?? null;
  const days = started ? (Date.parse(at) - Date.parse(started)) / DAY_MS : null;
  const stalledSql =
    running &&
    previous?.seedingOperationId === running.operationId &&
    previous.seedingTransferredBytes !== null &&
    running.transferredBytes !== null &&
    running.transferredBytes <= previous.seedingTransferredBytes;
  const stalledArm =
    !running &&
    armSeeding &&
    previous?.seedingProgress != null &&
    previous.seedingProgress === (v.armDatabase?.seedingProgress ?? null);
  if (stalledSql || stalledArm) {
    emit({
      checkId: 'seeding',
      severity: 'critical',
      link: v.key,
      target: v.key,
      value: running?.transferredBytes ?? v.armDatabase?.seedingProgress ?? null,
      threshold: 'progress since the previous night',
      message: 'Seeding made no progress since the previous night',
      advice:
        'seeding restarts after any disconnect, restart or failover (TS): check the connection and the network throughput; creation is cancelled after 6 days',
      source: 'TS',
    });
    return;
  }
  if (days !== null) {
    const sev = level(days, t.seedingDays.warning, t.seedingDays.critical);
    if (sev)
      emit({
        checkId: 'seeding',
        severity: sev,
        link: v.key,
        target: v.key,
        value: Math.round(days * 10) / 10,
        threshold: sev === 'critical' ? t.seedingDays.critical : t.seedingDays.warning,
        message: `Seeding has run for ${Math.round(days * 10) / 10} days`,
        advice:
          'about 1.2 h per 100 GB at 84 GB/h, 10 h at 10 GB/h (TS); creation is cancelled after 6 days: check the network throughput',
        source: 'TS',
      });
  }
}

function checkSplitBrain(v: LinkView, emit: Emit): void {
  if (v.dag?.local?.role !== 'PRIMARY' || v.arm?.properties.instanceLinkRole !== 'Primary') return;
  emit({
    checkId: 'split-brain',
    severity: 'critical',
    link: v.key,
    target: v.key,
    value: 'PRIMARY on both sides',
    threshold: null,
    message: 'Split brain: SQL Server and the managed instance are both PRIMARY for this link',
    advice:
      'back up the original primary (SQL Server: tail-log; instance: COPY_ONLY full), then on it ALTER AVAILABILITY GROUP [dag] SET (ROLE = SECONDARY) and fail over from the side that keeps the workload (TS)',
    source: 'TS',
  });
}

function checkPartnerCertificate(v: LinkView, t: Thresholds, at: string, emit: Emit): void {
  const validity = v.armDatabase?.partnerAuthCertValidity;
  if (!validity?.expiryDate) return;
  const days = daysLeft(validity.expiryDate, at);
  const sev = expirySeverity(days, t);
  if (!sev) return;
  emit({
    checkId: 'partner-certificate-expiry',
    severity: sev.severity,
    link: v.key,
    target: v.key,
    value: days,
    threshold: sev.threshold,
    message:
      days < 0
        ? `The instance sees SQL Server's certificate ${validity.certificateName ?? ''} expired ${-days} days ago: the link fails`
        : `The instance sees SQL Server's certificate ${validity.certificateName ?? ''} expiring in ${days} days`,
    advice:
      'rotate: create a new certificate on SQL Server, upload it as a serverTrustCertificate, ALTER ENDPOINT to it, then drop the old one (BP "Rotate certificate")',
    source: 'BP, SPEC',
  });
}

function checkServerLevel(s: ServerSweep, t: Thresholds, emit: Emit): void {
  const o = s.observation;
  if (!o) return;
  const target = `sqlserver:${s.sqlServer}`;
  // trace flag 12381 left on with no seeding running (TS)
  const seedingAny = o.dags.some((d) => d.databases.some((db) => runningSeeding(db) !== null));
  if (o.traceFlag12381 && !seedingAny)
    emit({
      checkId: 'trace-flag-12381',
      severity: 'warning',
      link: null,
      target,
      value: true,
      threshold: 'off when no seeding runs',
      message: `Trace flag 12381 is on on ${s.sqlServer} and no seeding is running`,
      advice: "DBCC TRACEOFF(12381, -1): don't leave it enabled for ongoing replication (TS)",
      source: 'TS',
    });
  // the links each certificate serves: the endpoint's, every DAG of the server; an instance's, the DAGs to it
  const dagsTo = (host: string | null) =>
    o.dags
      .filter((d) => host === null || listenerHost(d.remote?.endpointUrl ?? null) === host)
      .map((d) => {
        const remote = listenerHost(d.remote?.endpointUrl ?? null);
        return remote ? `${d.name} (${remote.split('.')[0]})` : d.name;
      });
  const serving = (links: string[]) =>
    links.length > 0 ? `; it serves ${links.length} link(s): ${links.join(', ')}` : '; it serves no link';
  // endpoint certificate expiry (BP, TS)
  for (const c of o.certificates) {
    if (!c.privateKey || !c.expiryDate) continue;
    if (o.endpoint?.certificateName && !c.isEndpointCertificate) continue;
    const days = daysLeft(c.expiryDate, o.observedAt);
    const sev = expirySeverity(days, t);
    if (!sev) continue;
    emit({
      checkId: 'endpoint-certificate-expiry',
      severity: sev.severity,
      link: null,
      target: `${target}/certificate:${c.name}`,
      value: days,
      threshold: sev.threshold,
      message:
        days < 0
          ? `SQL Server ${s.sqlServer}'s endpoint certificate ${c.name} expired ${-days} days ago: its links fail${serving(dagsTo(null))}`
          : `SQL Server ${s.sqlServer}'s endpoint certificate ${c.name} expires in ${days} days${serving(dagsTo(null))}`,
      advice:
        (t.certificateRotationDays !== undefined && days <= t.certificateRotationDays
          ? `within the rotation window (${t.certificateRotationDays} days): this sweep starts rotateCertificate for ${s.sqlServer} (the sweep's output says how it ended); by hand: `
          : '') +
        'rotate it for the whole SQL Server: POST /api/certificates/rotate with any of its links\' requests (CREATE CERTIFICATE [new] …, trusted by every linked instance as a serverTrustCertificate, ALTER ENDPOINT … CERTIFICATE [new], every link reconnected, then the old trust and DROP CERTIFICATE [old]; BP "Rotate certificate")',
      source: 'BP, TS',
    });
  }
  // the instance's certificate on SQL Server and its CA chain, once per instance host (BP, CFG)
  const hosts = new Set(
    o.dags.map((d) => listenerHost(d.remote?.endpointUrl ?? null)).filter((h): h is string => !!h),
  );
  for (const host of hosts) {
    const cert = o.certificates.find((c) => !c.privateKey && lc(c.name) === host);
    if (!cert) {
      emit({
        checkId: 'instance-certificate-chain',
        severity: 'critical',
        link: null,
        target: `${target}/certificate:${host}`,
        value: 'missing',
        threshold: null,
        code: '41974',
        message: `SQL Server ${s.sqlServer} holds no certificate named ${host} (the instance's endpoint certificate)`,
        advice: remedyFor('41974', ''),
        source: 'CFG, TS',
      });
      continue;
    }
    // the copy SQL Server holds expires with the instance's certificate: the service renews it, SQL Server's copy
    // must then be imported again (BP)
    if (cert.expiryDate) {
      const days = daysLeft(cert.expiryDate, o.observedAt);
      const sev = expirySeverity(days, t);
      if (sev)
        emit({
          checkId: 'instance-certificate-expiry',
          severity: sev.severity,
          link: null,
          target: `${target}/certificate:${host}`,
          value: days,
          threshold: sev.threshold,
          message:
            (days < 0
              ? `SQL Server ${s.sqlServer}'s copy of ${host}'s certificate expired ${-days} days ago`
              : `SQL Server ${s.sqlServer}'s copy of ${host}'s certificate expires in ${days} days`) +
            serving(dagsTo(host)),
          advice:
            "the service rotates the instance's certificate: import its current one on SQL Server under the FQDN (POST /api/certificates/refresh validates every chain and re-imports what fails; BP, CFG)",
          source: 'BP, CFG',
        });
    }
    if (cert.chain && !cert.chain.valid && cert.chain.errorNumber !== 2812)
      emit({
        checkId: 'instance-certificate-chain',
        severity: 'warning',
        link: null,
        target: `${target}/certificate:${host}`,
        value: `error ${cert.chain.errorNumber}`,
        threshold: null,
        code: String(cert.chain.errorNumber),
        message: `sp_validate_certificate_ca_chain fails for ${host} on ${s.sqlServer}: ${cert.chain.message}`,
        advice:
          "re-import the instance's certificate and the Azure roots (DigiCert Global Root G2, Microsoft RSA Root CA 2017) with sp_certificate_add_issuer for *.database.windows.net; validation needs OS revocation lookups (BP, CFG)",
        source: 'BP, CFG',
      });
  }
}

const GATES = { miPrimaryCu: 10, tsqlFailoverCu: 13 } as const;

function checkVersionAndPolicy(v: LinkView, emit: Emit): void {
  const ver = v.server?.version;
  if (!ver || ver.major === null || !v.arm) return;
  const twoWay =
    v.arm.properties.failoverMode === 'Manual' || v.arm.properties.instanceLinkRole === 'Primary';
  const year = ver.major === 16 ? 2022 : ver.major === 17 ? 2025 : ver.major === 15 ? 2019 : null;
  const build = `${year ?? `major ${ver.major}`}${ver.cu ? ` CU${ver.cu}` : ' RTM'}`;
  if (twoWay && ver.major < 16) {
    emit({
      checkId: 'version',
      severity: 'warning',
      link: v.key,
      target: v.key,
      value: build,
      threshold: 'SQL Server 2022',
      message: `SQL Server ${build} has no failback from the instance, yet the link is set up two-way`,
      advice: 'SQL Server 2016-2019 links are one-way: plan the cut-over as a drop after LSNs match (FO)',
      source: 'OV, FO',
    });
  } else if (ver.major === 16 && ver.cu !== null) {
    if (v.arm.properties.instanceLinkRole === 'Primary' && ver.cu < GATES.miPrimaryCu)
      emit({
        checkId: 'version',
        severity: 'critical',
        link: v.key,
        target: v.key,
        value: build,
        threshold: `2022 CU${GATES.miPrimaryCu}`,
        message: `SQL Server ${build} is below 2022 CU${GATES.miPrimaryCu}, which a link with the instance as primary needs`,
        advice: `update SQL Server to 2022 CU${GATES.miPrimaryCu} or later; don't go below CU${GATES.miPrimaryCu} while linked (OV)`,
        source: 'OV',
      });
    else if (twoWay && ver.cu < GATES.tsqlFailoverCu)
      emit({
        checkId: 'version',
        severity: 'info',
        link: v.key,
        target: v.key,
        value: build,
        threshold: `2022 CU${GATES.tsqlFailoverCu}`,
        message: `SQL Server ${build} cannot fail over with T-SQL (2022 CU${GATES.tsqlFailoverCu})`,
        advice: `update to 2022 CU${GATES.tsqlFailoverCu} or later to fail over with T-SQL; until then use SSMS (FO)`,
        source: 'FO',
      });
  }
  // update policy: a link from the instance or a failback needs the policy matching SQL Server (UP)
  const policy = v.databaseFormat;
  if (!twoWay || !policy || year === null || year < 2022) return;
  const wanted = `SQLServer${year}`;
  if (lc(policy) === lc(wanted)) return;
  emit({
    checkId: 'update-policy',
    severity: 'critical',
    link: v.key,
    target: v.key,
    value: policy,
    threshold: wanted,
    message: `Instance ${v.instance}'s update policy is ${policy}, SQL Server is ${year}: failover back to SQL Server is not possible`,
    advice: `a two-way link needs the ${wanted} update policy (the change is one-way: it cannot be set back once AlwaysUpToDate); otherwise treat the link as one-way (UP)`,
    source: 'UP, OV',
  });
}

function checkUnmanaged(v: LinkView, emit: Emit): void {
  if (v.managed) return;
  emit({
    checkId: 'unmanaged-link',
    severity: 'info',
    link: v.key,
    target: v.key,
    value: v.arm?.properties.partnerEndpoint ?? null,
    threshold: null,
    message: `Link ${v.linkName} on ${v.instance} is not in milink's inventory`,
    advice:
      'adopt it (POST /api/links/adopt) so it is checked every night on both sides, or drop it if it is a leftover',
    source: 'issue 14',
  });
}

/** Runs every check on the sweep's inputs. Findings are sorted by severity, then link and check. */
export function runChecks(input: SweepInput, t: Thresholds): Finding[] {
  const findings: Finding[] = [];
  const emit: Emit = (f) => findings.push({ ...f, code: f.code ?? null });
  const views = linkViews(input);
  checkReachability(input, emit);
  for (const s of input.servers) checkServerLevel(s, t, emit);
  const previous = new Map((input.previous ?? []).map((p) => [p.link, p]));
  for (const v of views) {
    checkUnmanaged(v, emit);
    if (!v.managed) {
      checkArmReplicaState(v, emit);
      continue;
    }
    if (!checkPresence(v, emit)) continue;
    checkSplitBrain(v, emit);
    const disconnected = checkConnection(v, emit);
    checkArmReplicaState(v, emit);
    if (!disconnected) checkHealth(v, t, emit);
    checkLog(v, t, input.at, emit);
    checkSeeding(v, t, input.at, previous.get(v.key), emit);
    checkPartnerCertificate(v, t, input.at, emit);
    checkVersionAndPolicy(v, emit);
  }
  const rank = (s: Severity) => SEVERITIES.indexOf(s);
  return findings.sort(
    (a, b) =>
      rank(a.severity) - rank(b.severity) ||
      (a.link ?? a.target).localeCompare(b.link ?? b.target) ||
      a.checkId.localeCompare(b.checkId),
  );
}

/** The identity of a finding across nights: the same check on the same target. */
export function findingKey(f: Pick<Finding, 'checkId' | 'target'>): string {
  return `${f.checkId}|${f.target}`;
}
