/**
 * The nightly observation of one SQL Server: ONE T-SQL batch that reads every distributed availability
 * group (DAG) on the server — replica and database states, seeding, log space and reuse wait, the last
 * log and full backups, trace flag 12381, the mirroring endpoint and every certificate in master (with
 * the CA chain of each imported one) — and a typed parser of its result sets.
 *
 * No name enters the batch: it reads everything and the parser filters in TypeScript, so the text is
 * a constant that can be reviewed once (see health-checks.md, first table, for what each read is for).
 */
import { z } from 'zod';

/** Sections of the batch, in the order their result sets arrive. */
const FIXED_SECTIONS = [
  'server',
  'replicas',
  'databaseReplicas',
  'agDatabases',
  'databases',
  'logSpace',
  'backups',
  'seeding',
  'traceFlag',
  'endpoint',
  'certificates',
] as const;

/**
 * LSNs are numeric(25,0): above 2^53, so they are cast to varchar (the driver would round a number).
 * The CA chain of every imported certificate (the instance's endpoint certificate, the roots) is checked
 * with sp_validate_certificate_ca_chain, each in its own TRY/CATCH, as one trailing result set per
 * certificate built from certificate ids only.
 */
export const HEALTH_BATCH = `SET NOCOUNT ON;
-- server: name, build, clocks (ages are computed on the server's own clock)
SELECT @@SERVERNAME AS server_name,
  CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS product_version,
  CAST(SERVERPROPERTY('ProductMajorVersion') AS nvarchar(128)) AS product_major_version,
  CAST(SERVERPROPERTY('ProductUpdateLevel') AS nvarchar(128)) AS product_update_level,
  CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) AS edition,
  SYSUTCDATETIME() AS utc_now;
-- replicas of every DAG: role, connection, health, last connection error (TS, CFG)
SELECT ag.group_id, ag.name AS dag_name, ar.replica_id, ar.replica_server_name, ar.endpoint_url,
  ar.availability_mode_desc, ar.failover_mode_desc, ars.is_local, ars.role_desc, ars.connected_state_desc,
  ars.synchronization_health_desc, ars.last_connect_error_number, ars.last_connect_error_description,
  ars.last_connect_error_timestamp
FROM sys.availability_groups ag
JOIN sys.availability_replicas ar ON ar.group_id = ag.group_id
LEFT JOIN sys.dm_hadr_availability_replica_states ars ON ars.replica_id = ar.replica_id
WHERE ag.is_distributed = 1;
-- database replica states of every DAG: lag, queues, rates, suspension, LSNs (BP, FO, DMV)
SELECT drs.group_id, drs.replica_id, drs.database_id, drs.is_local, drs.is_primary_replica,
  drs.synchronization_state_desc, drs.synchronization_health_desc, drs.database_state_desc,
  drs.is_suspended, drs.suspend_reason_desc,
  CAST(drs.last_hardened_lsn AS varchar(32)) AS last_hardened_lsn,
  CAST(drs.last_commit_lsn AS varchar(32)) AS last_commit_lsn,
  CAST(drs.end_of_log_lsn AS varchar(32)) AS end_of_log_lsn,
  drs.last_commit_time, drs.log_send_queue_size, drs.log_send_rate, drs.redo_queue_size, drs.redo_rate,
  drs.secondary_lag_seconds
FROM sys.dm_hadr_database_replica_states drs
JOIN sys.availability_groups ag ON ag.group_id = drs.group_id
WHERE ag.is_distributed = 1;
-- databases of the (non-distributed) availability groups the DAGs join
SELECT ag.name AS ag_name, adc.database_name
FROM sys.availability_groups ag
JOIN sys.availability_databases_cluster adc ON adc.group_id = ag.group_id
WHERE ag.is_distributed = 0;
-- databases: state, recovery model, log reuse wait (sql-docs sys.databases)
SELECT d.database_id, d.name, d.state_desc, d.recovery_model_desc, d.log_reuse_wait_desc
FROM sys.databases d;
-- log space of every database (CFG, BP)
DBCC SQLPERF(LOGSPACE) WITH NO_INFOMSGS;
-- last full and log backup of every database, with its age on the server's clock (BP, EXT)
SELECT b.database_name, b.type, MAX(b.backup_finish_date) AS last_finish,
  DATEDIFF(minute, MAX(b.backup_finish_date), GETDATE()) AS age_minutes
FROM msdb.dbo.backupset b
WHERE b.type IN ('D', 'L') AND b.is_copy_only = 0
GROUP BY b.database_name, b.type;
-- seeding operations and their progress (TS)
SELECT s.ag_id, s.ag_db_id, s.operation_id, s.current_state, s.start_time, s.completion_time,
  s.failure_state_desc, s.error_code, ps.local_database_name, ps.role_desc, ps.internal_state_desc,
  ps.transferred_size_bytes, ps.database_size_bytes, ps.transfer_rate_bytes_per_second,
  ps.estimate_time_complete_utc, ps.failure_code, ps.failure_message
FROM sys.dm_hadr_automatic_seeding s
LEFT JOIN sys.dm_hadr_physical_seeding_stats ps ON ps.local_physical_seeding_id = s.operation_id;
-- trace flag 12381 (TS)
DBCC TRACESTATUS(12381) WITH NO_INFOMSGS;
-- the mirroring endpoint and the certificate it authenticates with (CFG)
SELECT e.name, e.state_desc, e.connection_auth_desc, e.certificate_id, e.encryption_algorithm_desc, t.port
FROM sys.database_mirroring_endpoints e
JOIN sys.tcp_endpoints t ON t.endpoint_id = e.endpoint_id;
-- every certificate in master: the endpoint's (MK) and the imported ones (BP)
SELECT c.certificate_id, c.name, c.pvt_key_encryption_type, c.issuer_name, c.subject, c.start_date, c.expiry_date
FROM master.sys.certificates c;
-- the CA chain of every imported certificate, one result set each (BP, CFG)
DECLARE @chain nvarchar(max) = N'';
SELECT @chain = @chain
  + N'BEGIN TRY EXEC sp_validate_certificate_ca_chain ' + CAST(c.certificate_id AS nvarchar(12))
  + N'; SELECT ' + CAST(c.certificate_id AS nvarchar(12))
  + N' AS chain_certificate_id, CAST(NULL AS int) AS error_number, CAST(NULL AS nvarchar(2048)) AS error_message; END TRY '
  + N'BEGIN CATCH SELECT ' + CAST(c.certificate_id AS nvarchar(12))
  + N' AS chain_certificate_id, ERROR_NUMBER() AS error_number, ERROR_MESSAGE() AS error_message; END CATCH; '
FROM master.sys.certificates c
WHERE c.pvt_key_encryption_type = 'NA';
IF @chain <> N'' EXEC (@chain);
`;

// ---------------------------------------------------------------------------------------------------
// The observation

export interface ConnectError {
  number: number;
  description: string | null;
  at: string | null;
}

export interface DagReplica {
  replicaId: string;
  /** For a DAG member: the member availability group's name. */
  memberName: string;
  endpointUrl: string | null;
  isLocal: boolean;
  role: string | null;
  connectedState: string | null;
  synchronizationHealth: string | null;
  availabilityMode: string | null;
  lastConnectError: ConnectError | null;
}

export interface DatabaseReplicaState {
  replicaId: string;
  isLocal: boolean;
  isPrimaryReplica: boolean;
  synchronizationState: string | null;
  synchronizationHealth: string | null;
  databaseState: string | null;
  isSuspended: boolean;
  suspendReason: string | null;
  lastHardenedLsn: string | null;
  lastCommitLsn: string | null;
  endOfLogLsn: string | null;
  lastCommitTime: string | null;
  logSendQueueKb: number | null;
  logSendRateKbPerSec: number | null;
  redoQueueKb: number | null;
  redoRateKbPerSec: number | null;
  secondaryLagSeconds: number | null;
}

export interface Seeding {
  operationId: string;
  state: string;
  startedAt: string | null;
  completedAt: string | null;
  transferredBytes: number | null;
  databaseSizeBytes: number | null;
  errorCode: number | null;
  failure: string | null;
}

export interface BackupAge {
  finishedAt: string;
  /** Minutes between the backup's finish and the query, on the server's clock. */
  ageMinutes: number;
}

export interface DagDatabase {
  name: string;
  databaseId: number | null;
  state: string | null;
  recoveryModel: string | null;
  logReuseWait: string | null;
  logSizeMb: number | null;
  logUsedPercent: number | null;
  lastLogBackup: BackupAge | null;
  lastFullBackup: BackupAge | null;
  /** This server's row and the partner's row (the partner's is there on the primary). */
  local: DatabaseReplicaState | null;
  remote: DatabaseReplicaState | null;
  seeding: Seeding[];
}

export interface DagObservation {
  name: string;
  groupId: string;
  local: DagReplica | null;
  remote: DagReplica | null;
  databases: DagDatabase[];
}

export interface CertificateObservation {
  id: number;
  name: string;
  /** 'MK': created here with a private key (an endpoint certificate); 'NA': imported. */
  privateKey: boolean;
  issuer: string | null;
  subject: string | null;
  startDate: string | null;
  expiryDate: string | null;
  isEndpointCertificate: boolean;
  /** Result of sp_validate_certificate_ca_chain for imported certificates; null when not checked. */
  chain: { valid: true } | { valid: false; errorNumber: number; message: string } | null;
}

export interface ServerObservation {
  /** @@SERVERNAME */
  serverName: string;
  observedAt: string;
  version: {
    productVersion: string | null;
    major: number | null;
    /** 'CU13' → 13; RTM or unknown → 0 / null. */
    cu: number | null;
    edition: string | null;
  };
  traceFlag12381: boolean;
  endpoint: {
    name: string;
    state: string;
    port: number | null;
    auth: string | null;
    certificateName: string | null;
  } | null;
  certificates: CertificateObservation[];
  dags: DagObservation[];
}

// ---------------------------------------------------------------------------------------------------
// Parsing

export class ObservationParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ObservationParseError';
  }
}

type Row = Record<string, unknown>;

const str = (v: unknown): string | null =>
  v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v);
const num = (v: unknown): number | null => {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'bigint' ? Number(v) : Number(v);
  return Number.isFinite(n) ? n : null;
};
const bool = (v: unknown): boolean => v === true || v === 1 || v === '1';
const iso = (v: unknown): string | null => {
  if (v === null || v === undefined) return null;
  const d = v instanceof Date ? v : new Date(String(v));
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
};
const key = (v: unknown): string => (str(v) ?? '').toUpperCase();

const rowsSchema = z.array(z.record(z.string(), z.unknown()));

function cuOf(updateLevel: string | null): number | null {
  if (updateLevel === null) return 0;
  const m = /^CU(\d+)/i.exec(updateLevel);
  return m ? Number(m[1]) : null;
}

function replica(r: Row): DagReplica {
  const errNo = num(r.last_connect_error_number);
  return {
    replicaId: key(r.replica_id),
    memberName: str(r.replica_server_name) ?? '',
    endpointUrl: str(r.endpoint_url),
    isLocal: bool(r.is_local),
    role: str(r.role_desc),
    connectedState: str(r.connected_state_desc),
    synchronizationHealth: str(r.synchronization_health_desc),
    availabilityMode: str(r.availability_mode_desc),
    lastConnectError:
      errNo !== null && errNo !== 0
        ? {
            number: errNo,
            description: str(r.last_connect_error_description),
            at: iso(r.last_connect_error_timestamp),
          }
        : null,
  };
}

function dbReplica(r: Row): DatabaseReplicaState {
  return {
    replicaId: key(r.replica_id),
    isLocal: bool(r.is_local),
    isPrimaryReplica: bool(r.is_primary_replica),
    synchronizationState: str(r.synchronization_state_desc),
    synchronizationHealth: str(r.synchronization_health_desc),
    databaseState: str(r.database_state_desc),
    isSuspended: bool(r.is_suspended),
    suspendReason: str(r.suspend_reason_desc),
    lastHardenedLsn: str(r.last_hardened_lsn),
    lastCommitLsn: str(r.last_commit_lsn),
    endOfLogLsn: str(r.end_of_log_lsn),
    lastCommitTime: iso(r.last_commit_time),
    logSendQueueKb: num(r.log_send_queue_size),
    logSendRateKbPerSec: num(r.log_send_rate),
    redoQueueKb: num(r.redo_queue_size),
    redoRateKbPerSec: num(r.redo_rate),
    secondaryLagSeconds: num(r.secondary_lag_seconds),
  };
}

/**
 * Parses the batch's result sets (mssql `recordsets`, in order) into a `ServerObservation`.
 * Throws `ObservationParseError` when the shape is not the batch's (too few sets, missing server row).
 */
export function parseServerObservation(recordsets: unknown): ServerObservation {
  const parsed = z.array(rowsSchema).safeParse(recordsets);
  if (!parsed.success) throw new ObservationParseError('the health batch answered no result sets');
  const sets = parsed.data;
  if (sets.length < FIXED_SECTIONS.length)
    throw new ObservationParseError(
      `the health batch answered ${sets.length} result sets, expected at least ${FIXED_SECTIONS.length}`,
    );
  const section = (name: (typeof FIXED_SECTIONS)[number]): Row[] => sets[FIXED_SECTIONS.indexOf(name)]!;
  const serverRow = section('server')[0];
  if (!serverRow || !('server_name' in serverRow))
    throw new ObservationParseError('the health batch answered no server row');

  const dbById = new Map<number, Row>();
  const dbByName = new Map<string, Row>();
  for (const d of section('databases')) {
    const id = num(d.database_id);
    if (id !== null) dbById.set(id, d);
    dbByName.set((str(d.name) ?? '').toLowerCase(), d);
  }
  const logByName = new Map<string, Row>();
  for (const l of section('logSpace')) logByName.set((str(l['Database Name']) ?? '').toLowerCase(), l);
  const backups = new Map<string, BackupAge>();
  for (const b of section('backups')) {
    const finishedAt = iso(b.last_finish);
    const age = num(b.age_minutes);
    if (finishedAt === null || age === null) continue;
    backups.set(`${(str(b.database_name) ?? '').toLowerCase()}/${str(b.type)}`, {
      finishedAt,
      ageMinutes: age,
    });
  }
  const agDatabases = new Map<string, string[]>();
  for (const r of section('agDatabases')) {
    const ag = (str(r.ag_name) ?? '').toLowerCase();
    agDatabases.set(ag, [...(agDatabases.get(ag) ?? []), str(r.database_name) ?? '']);
  }

  const groups = new Map<string, { name: string; replicas: DagReplica[] }>();
  for (const r of section('replicas')) {
    const g = key(r.group_id);
    const entry = groups.get(g) ?? { name: str(r.dag_name) ?? '', replicas: [] };
    entry.replicas.push(replica(r));
    groups.set(g, entry);
  }
  const drsByGroup = new Map<string, Row[]>();
  for (const r of section('databaseReplicas')) {
    const g = key(r.group_id);
    drsByGroup.set(g, [...(drsByGroup.get(g) ?? []), r]);
  }
  const seedingRows = section('seeding');

  const dags: DagObservation[] = [...groups.entries()].map(([groupId, g]) => {
    const local = g.replicas.find((r) => r.isLocal) ?? null;
    const remote = g.replicas.find((r) => !r.isLocal) ?? null;
    const names = new Map<string, number | null>();
    for (const r of drsByGroup.get(groupId) ?? []) {
      const id = num(r.database_id);
      const name = id !== null ? str(dbById.get(id)?.name) : null;
      if (name) names.set(name.toLowerCase(), id);
    }
    for (const n of local ? (agDatabases.get(local.memberName.toLowerCase()) ?? []) : [])
      if (!names.has(n.toLowerCase()))
        names.set(n.toLowerCase(), num(dbByName.get(n.toLowerCase())?.database_id));
    const databases: DagDatabase[] = [...names.entries()].map(([lower, id]) => {
      const d = dbByName.get(lower);
      const name = str(d?.name) ?? lower;
      const rows = (drsByGroup.get(groupId) ?? []).filter((r) => id !== null && num(r.database_id) === id);
      const localRow = rows.find((r) => bool(r.is_local));
      const remoteRow = rows.find((r) => !bool(r.is_local));
      const log = logByName.get(lower);
      return {
        name,
        databaseId: id,
        state: str(d?.state_desc),
        recoveryModel: str(d?.recovery_model_desc),
        logReuseWait: str(d?.log_reuse_wait_desc),
        logSizeMb: num(log?.['Log Size (MB)']),
        logUsedPercent: num(log?.['Log Space Used (%)']),
        lastLogBackup: backups.get(`${lower}/L`) ?? null,
        lastFullBackup: backups.get(`${lower}/D`) ?? null,
        local: localRow ? dbReplica(localRow) : null,
        remote: remoteRow ? dbReplica(remoteRow) : null,
        seeding: seedingRows
          // the DAG's own seeding, or the member AG's (an id that is no DAG's) for this database
          .filter(
            (s) =>
              (str(s.local_database_name) ?? '').toLowerCase() === lower &&
              (key(s.ag_id) === groupId || !groups.has(key(s.ag_id))),
          )
          .map((s) => ({
            operationId: key(s.operation_id),
            state: str(s.current_state) ?? 'UNKNOWN',
            startedAt: iso(s.start_time),
            completedAt: iso(s.completion_time),
            transferredBytes: num(s.transferred_size_bytes),
            databaseSizeBytes: num(s.database_size_bytes),
            errorCode: num(s.error_code) || num(s.failure_code) || null,
            failure: str(s.failure_message) ?? str(s.failure_state_desc),
          })),
      };
    });
    return { name: g.name, groupId, local, remote, databases };
  });

  const endpointRow = section('endpoint')[0];
  const certRows = section('certificates');
  const chains = new Map<number, CertificateObservation['chain']>();
  for (const set of sets.slice(FIXED_SECTIONS.length)) {
    for (const r of set) {
      const id = num(r.chain_certificate_id);
      if (id === null) continue;
      const errorNumber = num(r.error_number);
      chains.set(
        id,
        errorNumber === null
          ? { valid: true }
          : { valid: false, errorNumber, message: str(r.error_message) ?? '' },
      );
    }
  }
  const endpointCertId = num(endpointRow?.certificate_id);
  const certificates: CertificateObservation[] = certRows.map((c) => {
    const id = num(c.certificate_id) ?? -1;
    return {
      id,
      name: str(c.name) ?? '',
      privateKey: str(c.pvt_key_encryption_type) === 'MK',
      issuer: str(c.issuer_name),
      subject: str(c.subject),
      startDate: iso(c.start_date),
      expiryDate: iso(c.expiry_date),
      isEndpointCertificate: endpointCertId !== null && endpointCertId === id,
      chain: chains.get(id) ?? null,
    };
  });
  const traceRow = section('traceFlag').find((r) => num(r.TraceFlag) === 12381);
  const majorText = str(serverRow.product_major_version);
  const productVersion = str(serverRow.product_version);
  return {
    serverName: str(serverRow.server_name) ?? '',
    observedAt: iso(serverRow.utc_now) ?? new Date(0).toISOString(),
    version: {
      productVersion,
      major: num(majorText ?? productVersion?.split('.')[0]),
      cu: cuOf(str(serverRow.product_update_level)),
      edition: str(serverRow.edition),
    },
    traceFlag12381: traceRow !== undefined && (num(traceRow.Global) === 1 || num(traceRow.Status) === 1),
    endpoint: endpointRow
      ? {
          name: str(endpointRow.name) ?? '',
          state: str(endpointRow.state_desc) ?? '',
          port: num(endpointRow.port),
          auth: str(endpointRow.connection_auth_desc),
          certificateName: certificates.find((c) => c.isEndpointCertificate)?.name ?? null,
        }
      : null,
    certificates,
    dags,
  };
}

/** The host part of a DAG listener URL (`tcp://host:5022;Server=[…]`), lower case. */
export function listenerHost(url: string | null): string | null {
  if (!url) return null;
  const m = /^\s*tcp:\/\/([^:;/\s]+)/i.exec(url);
  return m ? m[1]!.toLowerCase() : null;
}
