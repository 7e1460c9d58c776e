/**
 * The data model of one simulated SQL Server: plain, mutable objects.
 *
 * This file is the contract between the SQL Server stand-in (the T-SQL interpreter and TDS listener,
 * which create and change these objects as statements run, and answer catalog views and DMVs from them)
 * and the rest of the estate (the managed-instance side and "the link's truth", which read SQL Server's
 * certificates, endpoint, AGs and databases, and write replica and database states that the DMVs then
 * show). Nothing here caches derived values: a DMV is computed from these objects when it is queried.
 */

export type RecoveryModel = 'FULL' | 'SIMPLE' | 'BULK_LOGGED';
export type DatabaseState = 'ONLINE' | 'RESTORING' | 'RECOVERING' | 'OFFLINE';

export interface SimLogin {
  name: string;
  password: string;
  /** Fixed server roles, lower case: 'sysadmin', … */
  serverRoles: string[];
  isDisabled?: boolean;
}

export interface SimDatabaseFile {
  fileId: number;
  /** sys.database_files.type_desc */
  type: 'ROWS' | 'LOG' | 'FILESTREAM';
  name: string;
  physicalName: string;
  sizePages: number;
  /** 0 for the log; the data space (filegroup) id otherwise */
  dataSpaceId: number;
}

export interface SimFilegroup {
  dataSpaceId: number;
  name: string;
  /** sys.filegroups.type: FG rows, FD FILESTREAM, FX memory-optimized */
  type: 'FG' | 'FD' | 'FX';
  isDefault: boolean;
}

export interface SimBackup {
  /** msdb.dbo.backupset.type: D full, I differential, L log */
  type: 'D' | 'I' | 'L';
  isCopyOnly: boolean;
  startDate: Date;
  finishDate: Date;
  firstLsn: bigint;
  lastLsn: bigint;
  physicalDeviceName: string;
}

export interface SimDatabase {
  databaseId: number;
  name: string;
  isSystem: boolean;
  state: DatabaseState;
  recoveryModel: RecoveryModel;
  collation: string;
  createDate: Date;
  files: SimDatabaseFile[];
  filegroups: SimFilegroup[];
  /** Log space: sys.dm_db_log_space_usage */
  logSizeBytes: number;
  logUsedBytes: number;
  /** Current end-of-log LSN; grows as the simulated workload writes. */
  currentLsn: bigint;
  /**
   * What holds the log now (sys.databases.log_reuse_wait_desc), set by the estate's workload; when unset the
   * view derives it from the recovery model, the backups and the database's availability group.
   */
  logReuseWait?: 'NOTHING' | 'LOG_BACKUP' | 'AVAILABILITY_REPLICA';
  backups: SimBackup[];
  /** Whether the database is encrypted with TDE (and by which certificate). */
  tdeCertificate?: string;
}

export interface SimCertificate {
  certificateId: number;
  name: string;
  subject: string;
  issuerName: string;
  startDate: Date;
  expiryDate: Date;
  /** DER of the X.509 certificate: what CERTENCODED returns. */
  der: Buffer;
  /** SHA-1 of the DER: sys.certificates.thumbprint */
  thumbprint: Buffer;
  /** 'MK' when created on the server with a private key under the master key, 'NA' when imported from a blob. */
  pvtKeyEncryptionType: 'MK' | 'NA';
  /** PEM private key when pvtKeyEncryptionType = 'MK' (never shown by any view). */
  privateKeyPem?: string;
  /** Patterns registered with sp_certificate_add_issuer, e.g. '*.database.windows.net'. */
  issuerRegistrations: string[];
}

export interface SimEndpoint {
  endpointId: number;
  name: string;
  state: 'STARTED' | 'STOPPED' | 'DISABLED';
  port: number;
  listenerIp: 'ALL' | string;
  role: 'ALL' | 'PARTNER' | 'WITNESS';
  /** Windows part of AUTHENTICATION, null when certificate only. */
  windowsAuth: 'NTLM' | 'KERBEROS' | 'NEGOTIATE' | null;
  /** Certificate part of AUTHENTICATION (certificate name), null when Windows only. */
  certificateName: string | null;
  /** true when AUTHENTICATION = CERTIFICATE x WINDOWS … (certificate tried first) */
  certificateFirst: boolean;
  encryption: 'DISABLED' | 'SUPPORTED' | 'REQUIRED';
  /** Algorithms in the order given: AES, RC4 */
  algorithms: Array<'AES' | 'RC4'>;
}

export type ReplicaRole = 'PRIMARY' | 'SECONDARY' | 'RESOLVING';
export type SyncHealth = 'NOT_HEALTHY' | 'PARTIALLY_HEALTHY' | 'HEALTHY';

export interface SimReplica {
  replicaId: string;
  /** For a plain AG: the server name. For a DAG: the member AG's name. */
  replicaServerName: string;
  /** ENDPOINT_URL (plain AG) or LISTENER_URL (DAG) as written in the statement. */
  endpointUrl: string;
  availabilityMode: 'SYNCHRONOUS_COMMIT' | 'ASYNCHRONOUS_COMMIT' | 'CONFIGURATION_ONLY';
  failoverMode: 'MANUAL' | 'AUTOMATIC';
  seedingMode: 'AUTOMATIC' | 'MANUAL';
  sessionTimeout: number;
  /** This server's own replica (plain AG) or this server's member AG (DAG). */
  isLocal: boolean;
  /** State shown in sys.dm_hadr_availability_replica_states; the estate changes it. */
  role: ReplicaRole;
  connectedState: 'CONNECTED' | 'DISCONNECTED';
  synchronizationHealth: SyncHealth;
  lastConnectError?: { number: number; description: string; timestamp: Date };
}

export interface SimAvailabilityGroup {
  groupId: string;
  name: string;
  isDistributed: boolean;
  /** 'NONE' (CLUSTER_TYPE = NONE), 'WSFC' (2016 form without CLUSTER_TYPE), 'EXTERNAL' */
  clusterType: 'NONE' | 'WSFC' | 'EXTERNAL';
  /** Databases in a plain AG; empty for a DAG. */
  databases: string[];
  replicas: SimReplica[];
  /** ALTER AVAILABILITY GROUP … GRANT CREATE ANY DATABASE was run. */
  createAnyDatabaseGranted: boolean;
  createDate: Date;
}

/** One row of sys.dm_hadr_database_replica_states; the estate keeps these current. */
export interface SimDatabaseReplicaState {
  groupId: string;
  replicaId: string;
  databaseName: string;
  isLocal: boolean;
  isPrimaryReplica: boolean;
  synchronizationState: 'NOT SYNCHRONIZING' | 'SYNCHRONIZING' | 'SYNCHRONIZED' | 'REVERTING' | 'INITIALIZING';
  synchronizationHealth: SyncHealth;
  lastHardenedLsn: bigint | null;
  lastCommitLsn: bigint | null;
  lastCommitTime: Date | null;
  logSendQueueSizeKb: number | null;
  redoQueueSizeKb: number | null;
  secondaryLagSeconds: number | null;
}

/** One automatic-seeding operation (sys.dm_hadr_automatic_seeding + sys.dm_hadr_physical_seeding_stats). */
export interface SimSeeding {
  operationId: string;
  groupId: string;
  databaseName: string;
  localPhysicalSeedingId: string;
  remoteMachineName: string;
  roleDesc: 'Source' | 'Destination';
  startTime: Date;
  completionTime: Date | null;
  currentState: 'PENDING' | 'CHECK_IF_SEEDING_NEEDED' | 'SEEDING' | 'COMPLETED' | 'FAILED';
  failureStateDesc: string | null;
  errorCode: number;
  transferredSizeBytes: number;
  databaseSizeBytes: number;
  transferRateBytesPerSecond: number;
  estimateTimeComplete: Date | null;
}

export interface SimServerVersion {
  /** 13 = 2016, 14 = 2017, 15 = 2019, 16 = 2022, 17 = 2025 */
  major: number;
  /** Marketing year, e.g. 2022 */
  year: number;
  /** Cumulative update number (0 = RTM) */
  cu: number;
  /** SERVERPROPERTY('ProductVersion'), e.g. '16.0.4135.4' */
  productVersion: string;
}

export interface SimServerState {
  /** @@SERVERNAME */
  serverName: string;
  version: SimServerVersion;
  edition: string;
  hadrEnabled: boolean;
  collation: string;
  traceFlags: number[];
  logins: SimLogin[];
  masterKey: { createdAt: Date } | null;
  certificates: SimCertificate[];
  /** At most one DATABASE_MIRRORING endpoint per server (SQL Server's own rule). */
  endpoint: SimEndpoint | null;
  availabilityGroups: SimAvailabilityGroup[];
  databaseReplicaStates: SimDatabaseReplicaState[];
  seedings: SimSeeding[];
  databases: SimDatabase[];
  /**
   * Simulated seconds a BACKUP DATABASE takes on this server (the estate's `timing.backupSeconds`): the reply and
   * the msdb.dbo.backupset row come only once the clock has passed that long; an attention cancels it. Unset: at once.
   */
  backupSeconds?: number;
}
