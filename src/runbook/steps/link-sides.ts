import * as arm from '../../azure/arm-requests.js';
import { ArmError } from '../../azure/errors.js';
import { asLinkResource, type LinkDatabaseState } from '../../azure/link-resource.js';
import { sameName } from '../../link/names.js';
import type { LinkContext } from '../context.js';
import type { StepIo } from '../step.js';

/**
 * What the lifecycle operations (drop, failover, split brain) read about one link, on both sides: the link as ARM
 * answers it (roles, replication mode, the instance's LSNs) and the distributed availability group as SQL Server's
 * catalog and DMVs show it (its local role, each member's availability mode, last_hardened_lsn on each row).
 * Reads only.
 */

/** ARM's per-database fields beyond those createLink reads (api-version 2025-01-01). */
type LinkDatabase = LinkDatabaseState & {
  lastSentLsn?: string;
  lastCommitLsn?: string;
  lastHardenedTime?: string;
  lastCommitTime?: string;
};

export interface ArmSide {
  instanceRole?: string;
  partnerRole?: string;
  replicationMode?: string;
  failoverMode?: string;
  replicaState?: string;
  connectedState?: string;
  synchronizationHealth?: string;
  /** The secondary's hardened LSN as the instance reports it. */
  lastHardenedLsn?: string;
  /** The primary's last LSN sent, as the instance reports it. */
  lastSentLsn?: string;
  lastCommitLsn?: string;
  sendLagSeconds?: number;
  redoLagSeconds?: number;
}

export interface DagMember {
  /** The member availability group (the replica of the DAG). */
  name: string;
  mode: string;
  isLocal: boolean;
  role?: string;
  connected?: string;
  health?: string;
}

export interface SqlSide {
  /** The local member's role in the DAG: PRIMARY, SECONDARY, or undefined while unknown (RESOLVING). */
  role?: string;
  members: DagMember[];
  /** The local database row's last_hardened_lsn (the primary's log end when SQL Server is primary). */
  localHardenedLsn?: string;
  localEndOfLogLsn?: string;
  /** The instance's row as SQL Server sees it (present while SQL Server is primary). */
  remoteHardenedLsn?: string;
  secondaryLagSeconds?: number;
  synchronizationState?: string;
}

export function linkRequests(l: LinkContext) {
  return { link: arm.getLink(l.mi, l.names.link) };
}

/** The link on the instance; undefined when the instance has no such link (404). */
export async function readArmSide(
  io: Pick<StepIo, 'arm' | 'link' | 'request'>,
): Promise<ArmSide | undefined> {
  const request = linkRequests(io.link).link;
  const response = await io.arm.send(request);
  if (response.status === 404) return undefined;
  if (response.status >= 400)
    throw ArmError.fromResponse(
      response.status,
      response.json,
      `reading link ${io.link.names.link}`,
      request,
    );
  const props = asLinkResource(response.json)?.properties;
  const db = (props?.databases ?? []).find((d) => sameName(d.databaseName, io.request.database)) as
    LinkDatabase | undefined;
  const out: ArmSide = {};
  const set = <K extends keyof ArmSide>(key: K, value: ArmSide[K] | undefined) => {
    if (value !== undefined && value !== null) out[key] = value;
  };
  set('instanceRole', props?.instanceLinkRole);
  set('partnerRole', props?.partnerLinkRole);
  set('replicationMode', props?.replicationMode);
  set('failoverMode', props?.failoverMode);
  set('replicaState', db?.replicaState);
  set('connectedState', db?.connectedState);
  set('synchronizationHealth', db?.synchronizationHealth);
  set('lastHardenedLsn', db?.lastHardenedLsn);
  set('lastSentLsn', db?.lastSentLsn);
  set('lastCommitLsn', db?.lastCommitLsn);
  set('sendLagSeconds', db?.instanceSendReplicationLagSeconds);
  set('redoLagSeconds', db?.instanceRedoReplicationLagSeconds);
  return out;
}

const text = (v: unknown) => (v === null || v === undefined ? undefined : String(v));

/** The DAG on SQL Server; undefined when SQL Server has no distributed availability group of the link's name. */
export async function readSqlSide(io: Pick<StepIo, 'sql' | 'link'>): Promise<SqlSide | undefined> {
  const session = await io.sql();
  const dag = io.link.names.link;
  const members = await session.query(
    [
      'SELECT r.replica_server_name AS name, r.availability_mode_desc AS mode, rs.is_local AS isLocal,',
      '       rs.role_desc AS role, rs.connected_state_desc AS connected, rs.synchronization_health_desc AS health',
      '  FROM sys.availability_groups ag',
      '  JOIN sys.availability_replicas r ON r.group_id = ag.group_id',
      '  LEFT JOIN sys.dm_hadr_availability_replica_states rs ON rs.replica_id = r.replica_id',
      ' WHERE ag.name = @dag AND ag.is_distributed = 1',
    ].join('\n'),
    { dag },
  );
  if (members.length === 0) return undefined;
  const rows = await session.query(
    [
      'SELECT drs.is_local AS isLocal, CAST(drs.last_hardened_lsn AS varchar(40)) AS hardened,',
      '       CAST(drs.end_of_log_lsn AS varchar(40)) AS endOfLog, drs.secondary_lag_seconds AS lag,',
      '       drs.synchronization_state_desc AS syncState',
      '  FROM sys.dm_hadr_database_replica_states drs',
      '  JOIN sys.availability_groups ag ON ag.group_id = drs.group_id',
      ' WHERE ag.name = @dag AND ag.is_distributed = 1',
    ].join('\n'),
    { dag },
  );
  const list: DagMember[] = members.map((m) => {
    const member: DagMember = {
      name: String(m.name),
      mode: String(m.mode),
      isLocal: Number(m.isLocal) === 1,
    };
    if (text(m.role)) member.role = text(m.role)!;
    if (text(m.connected)) member.connected = text(m.connected)!;
    if (text(m.health)) member.health = text(m.health)!;
    return member;
  });
  const out: SqlSide = { members: list };
  const local = list.find((m) => m.isLocal);
  if (local?.role) out.role = local.role;
  const localRow = rows.find((r) => Number(r.isLocal) === 1);
  const remoteRow = rows.find((r) => Number(r.isLocal) === 0);
  if (text(localRow?.hardened)) out.localHardenedLsn = text(localRow!.hardened)!;
  if (text(localRow?.endOfLog)) out.localEndOfLogLsn = text(localRow!.endOfLog)!;
  if (text(localRow?.syncState)) out.synchronizationState = text(localRow!.syncState)!;
  if (text(remoteRow?.hardened)) out.remoteHardenedLsn = text(remoteRow!.hardened)!;
  if (text(remoteRow?.lag) !== undefined) out.secondaryLagSeconds = Number(remoteRow!.lag);
  else if (text(localRow?.lag) !== undefined) out.secondaryLagSeconds = Number(localRow!.lag);
  return out;
}

/** Which side holds the primary role: both (split brain), one, or none known. */
export type Primary = 'SqlServer' | 'ManagedInstance' | 'both' | 'none';

export function primaryOf(sql: SqlSide | undefined, azure: ArmSide | undefined): Primary {
  const sqlPrimary = sql?.role === 'PRIMARY';
  const miPrimary = azure?.instanceRole === 'Primary';
  if (sqlPrimary && miPrimary) return 'both';
  if (sqlPrimary) return 'SqlServer';
  if (miPrimary) return 'ManagedInstance';
  return 'none';
}

/** The larger of two LSNs (decimal strings of numeric(25,0)); undefined when neither is known. */
export function maxLsn(...lsns: Array<string | undefined>): string | undefined {
  let best: bigint | undefined;
  for (const l of lsns) {
    if (l === undefined || !/^\d+$/.test(l)) continue;
    const v = BigInt(l);
    if (best === undefined || v > best) best = v;
  }
  return best?.toString();
}

/**
 * The two sides' last hardened LSNs, as "Fail over link" compares them: SQL Server's local database row, and the
 * instance's as ARM reports it. With SQL Server primary the instance's is its `lastHardenedLsn`; with the instance
 * primary ARM's databases[] describes the secondary, so the instance's own log end is the furthest LSN it reports
 * (sent, committed, hardened) — an inference, the documents compare on the instance with T-SQL.
 */
export function sidesLsn(
  sql: SqlSide | undefined,
  azure: ArmSide | undefined,
): { sqlServer?: string; managedInstance?: string } {
  const out: { sqlServer?: string; managedInstance?: string } = {};
  const s = sql?.localHardenedLsn;
  if (s) out.sqlServer = s;
  const m =
    azure?.instanceRole === 'Primary'
      ? maxLsn(azure.lastSentLsn, azure.lastCommitLsn, azure.lastHardenedLsn)
      : azure?.lastHardenedLsn;
  if (m) out.managedInstance = m;
  return out;
}

/** How far the secondary's hardened LSN is behind the primary's (LSN units), or undefined when unknown. */
export function lsnGap(primary: string | undefined, secondary: string | undefined): string | undefined {
  if (!primary || !secondary || !/^\d+$/.test(primary) || !/^\d+$/.test(secondary)) return undefined;
  const gap = BigInt(primary) - BigInt(secondary);
  return (gap < 0n ? 0n : gap).toString();
}
