import { quoteIdentifier, quoteLiteral } from './quote.js';
import type { SqlSession } from './session.js';

/**
 * What milink reads from SQL Server's catalog before it acts. Values travel as parameters (sp_executesql);
 * a database-scoped read switches database with a quoted USE (its values quoted as literals, in the same batch).
 */

export interface ServerInfo {
  serverName: string;
  productVersion: string;
  /** Major version year (2016 … 2025). */
  year: number | undefined;
  build: number;
  updateLevel: string;
  hadrEnabled: boolean;
  collation: string;
  isSysadmin: boolean;
}

const YEARS: Record<number, number> = { 13: 2016, 14: 2017, 15: 2019, 16: 2022, 17: 2025 };

function text(v: unknown): string {
  return v === null || v === undefined ? '' : String(v);
}

export async function readServerInfo(s: SqlSession): Promise<ServerInfo> {
  const [row] = await s.query(
    "SELECT @@SERVERNAME AS serverName, SERVERPROPERTY('ProductVersion') AS productVersion, SERVERPROPERTY('ProductUpdateLevel') AS updateLevel, SERVERPROPERTY('IsHadrEnabled') AS hadrEnabled, SERVERPROPERTY('Collation') AS collation, IS_SRVROLEMEMBER('sysadmin') AS isSysadmin",
  );
  const productVersion = text(row?.productVersion);
  const [major, , build] = productVersion.split('.').map(Number);
  return {
    serverName: text(row?.serverName),
    productVersion,
    year: major !== undefined ? YEARS[major] : undefined,
    build: build ?? 0,
    updateLevel: text(row?.updateLevel),
    hadrEnabled: Number(row?.hadrEnabled) === 1,
    collation: text(row?.collation),
    isSysadmin: Number(row?.isSysadmin) === 1,
  };
}

export interface DatabaseInfo {
  name: string;
  databaseId: number;
  recoveryModel: string;
  state: string;
  logFiles: number;
  filestream: boolean;
  memoryOptimized: boolean;
  /** A full backup (not COPY_ONLY) taken in FULL recovery exists. */
  hasFullBackup: boolean;
}

export async function readDatabase(s: SqlSession, database: string): Promise<DatabaseInfo | undefined> {
  const [db] = await s.query(
    'SELECT name, database_id, recovery_model_desc, state_desc FROM sys.databases WHERE name = @db',
    { db: database },
  );
  if (!db) return undefined;
  // One round trip for the rest: the database's files and filegroups (in its own context), its last full backup.
  const rest = await s.batch(
    [
      `USE ${quoteIdentifier(database)};`,
      'SELECT type_desc FROM sys.database_files;',
      'SELECT type FROM sys.filegroups;',
      `SELECT TOP 1 backup_finish_date FROM msdb.dbo.backupset WHERE database_name = ${quoteLiteral(database, 128)} AND type = 'D' AND is_copy_only = 0 AND recovery_model = 'FULL' ORDER BY backup_finish_date DESC;`,
      'USE [master];',
    ].join('\n'),
  );
  const fileRows = rest.recordsets[0] ?? [];
  const groupRows = rest.recordsets[1] ?? [];
  const backups = rest.recordsets[2] ?? [];
  return {
    name: text(db.name),
    databaseId: Number(db.database_id),
    recoveryModel: text(db.recovery_model_desc),
    state: text(db.state_desc),
    logFiles: fileRows.filter((r) => text(r.type_desc) === 'LOG').length,
    // FILESTREAM data filegroups only: a memory-optimized filegroup's containers are FILESTREAM files too
    filestream: groupRows.some((r) => text(r.type) === 'FD'),
    memoryOptimized: groupRows.some((r) => text(r.type) === 'FX'),
    hasFullBackup: backups.length > 0,
  };
}

/** Global trace flags that are on, among those asked for. */
export async function readTraceFlags(s: SqlSession, flags: number[]): Promise<Set<number>> {
  const result = await s.batch(
    `DBCC TRACESTATUS(${flags.map((f) => String(Math.trunc(f))).join(', ')}) WITH NO_INFOMSGS;`,
  );
  const on = new Set<number>();
  for (const row of result.recordsets[0] ?? [])
    if (Number(row.Global) === 1 && Number(row.Status) === 1) on.add(Number(row.TraceFlag));
  return on;
}

export async function hasMasterKey(s: SqlSession): Promise<boolean> {
  const rows = await s.query('SELECT name FROM sys.symmetric_keys WHERE symmetric_key_id = 101');
  return rows.length > 0;
}

export interface CertificateInfo {
  name: string;
  certificateId: number;
  expiryDate: Date;
  issuerName: string;
  subject: string;
  der: Buffer;
}

export async function readCertificate(s: SqlSession, name: string): Promise<CertificateInfo | undefined> {
  const [row] = await s.query(
    'SELECT name, certificate_id, expiry_date, issuer_name, subject, CERTENCODED(certificate_id) AS der FROM sys.certificates WHERE name = @name',
    { name },
  );
  if (!row) return undefined;
  return {
    name: text(row.name),
    certificateId: Number(row.certificate_id),
    expiryDate: new Date(row.expiry_date as string | Date),
    issuerName: text(row.issuer_name),
    subject: text(row.subject),
    der: Buffer.from(row.der as Buffer),
  };
}

export async function certificateNames(s: SqlSession): Promise<Set<string>> {
  const rows = await s.query('SELECT name FROM sys.certificates');
  return new Set(rows.map((r) => text(r.name)));
}

export interface EndpointInfo {
  name: string;
  port: number;
  started: boolean;
  certificateName: string | null;
  windowsAuth: 'NTLM' | 'KERBEROS' | 'NEGOTIATE' | null;
  algorithms: Array<'AES' | 'RC4'>;
  encryptionRequiredOrSupported: boolean;
}

export async function readEndpoint(s: SqlSession): Promise<EndpointInfo | null> {
  const [row] = await s.query(
    'SELECT e.name, e.state_desc, e.connection_auth_desc, e.certificate_id, e.is_encryption_enabled, e.encryption_algorithm_desc, t.port FROM sys.database_mirroring_endpoints e JOIN sys.tcp_endpoints t ON t.endpoint_id = e.endpoint_id',
  );
  if (!row) return null;
  const auth = text(row.connection_auth_desc).toUpperCase();
  const windows = (['NEGOTIATE', 'KERBEROS', 'NTLM'] as const).find((w) => auth.includes(w)) ?? null;
  let certificateName: string | null = null;
  if (auth.includes('CERTIFICATE') && row.certificate_id !== null && Number(row.certificate_id) > 0) {
    const [cert] = await s.query('SELECT name FROM sys.certificates WHERE certificate_id = @id', {
      id: Number(row.certificate_id),
    });
    certificateName = cert ? text(cert.name) : null;
  }
  const algorithm = text(row.encryption_algorithm_desc).toUpperCase();
  const algorithms: Array<'AES' | 'RC4'> = [];
  if (algorithm.includes('AES')) algorithms.push('AES');
  if (algorithm.includes('RC4')) algorithms.push('RC4');
  return {
    name: text(row.name),
    port: Number(row.port),
    started: text(row.state_desc) === 'STARTED',
    certificateName,
    windowsAuth: windows,
    algorithms,
    encryptionRequiredOrSupported: Number(row.is_encryption_enabled) === 1,
  };
}

export interface AvailabilityGroupInfo {
  name: string;
  isDistributed: boolean;
  replicas: Array<{ replicaServerName: string; endpointUrl: string }>;
  databases: string[];
}

export async function readAvailabilityGroups(s: SqlSession): Promise<AvailabilityGroupInfo[]> {
  // one round trip: the groups, their replicas, the databases each holds locally, and the catalog's membership
  const result = await s.batch(
    [
      'SELECT group_id, name, is_distributed FROM sys.availability_groups;',
      'SELECT group_id, replica_server_name, endpoint_url FROM sys.availability_replicas;',
      'SELECT drs.group_id, d.name FROM sys.dm_hadr_database_replica_states drs JOIN sys.databases d ON d.database_id = drs.database_id WHERE drs.is_local = 1;',
      'SELECT group_id, database_name AS name FROM sys.availability_databases_cluster;',
    ].join('\n'),
  );
  const [groups = [], replicas = [], dbs = [], members = []] = result.recordsets;
  // Membership as the catalog records it: a database seeded from the instance (instance as initial primary)
  // belongs to the AG even where the replica-state DMV shows it only under the distributed AG.
  return groups.map((g) => {
    const inGroup = (d: Record<string, unknown>) =>
      text(d.group_id).toLowerCase() === text(g.group_id).toLowerCase();
    const names = [...dbs.filter(inGroup), ...members.filter(inGroup)].map((d) => text(d.name));
    return {
      name: text(g.name),
      isDistributed: Number(g.is_distributed) === 1,
      replicas: replicas
        .filter((r) => text(r.group_id).toLowerCase() === text(g.group_id).toLowerCase())
        .map((r) => ({ replicaServerName: text(r.replica_server_name), endpointUrl: text(r.endpoint_url) })),
      databases: names.filter((n, i) => names.findIndex((m) => m.toLowerCase() === n.toLowerCase()) === i),
    };
  });
}

export interface LinkConnection {
  connectedState: string;
  synchronizationHealth: string;
  role: string;
  lastConnectErrorNumber: number | null;
  lastConnectError: string | null;
}

/** The instance's replica of a DAG as SQL Server sees it (the runbook's verification query). */
export async function readLinkConnection(s: SqlSession, query: string): Promise<LinkConnection | undefined> {
  const result = await s.batch(query);
  const remote = (result.recordsets[0] ?? []).find((r) => Number(r.IsLocal) === 0);
  if (!remote) return undefined;
  return {
    connectedState: text(remote.ConnectedState),
    synchronizationHealth: text(remote.SynchronizationHealth),
    role: text(remote.Role),
    lastConnectErrorNumber:
      remote.LastConnectErrorNumber === null ? null : Number(remote.LastConnectErrorNumber),
    lastConnectError: remote.LastConnectError === null ? null : text(remote.LastConnectError),
  };
}

export interface SeedingInfo {
  transferredMb: number;
  databaseMb: number;
  state: string;
  /** When the seeding finished (end_time_utc), if it has. */
  endTime?: Date;
}

export async function readSeeding(s: SqlSession, database: string): Promise<SeedingInfo | undefined> {
  const [row] = await s.query(
    'SELECT TOP 1 transferred_size_bytes, database_size_bytes, internal_state_desc, end_time_utc FROM sys.dm_hadr_physical_seeding_stats WHERE local_database_name = @db ORDER BY start_time_utc DESC',
    { db: database },
  );
  if (!row) return undefined;
  return {
    transferredMb: Math.round(Number(row.transferred_size_bytes) / 1048576),
    databaseMb: Math.round(Number(row.database_size_bytes) / 1048576),
    state: text(row.internal_state_desc),
    ...(row.end_time_utc ? { endTime: new Date(row.end_time_utc as string | Date) } : {}),
  };
}

/** Log backups of a database finished after a moment. */
export async function logBackupsSince(s: SqlSession, database: string, since: Date): Promise<number> {
  const rows = await s.query(
    "SELECT backup_finish_date FROM msdb.dbo.backupset WHERE database_name = @db AND type = 'L'",
    { db: database },
  );
  return rows.filter((r) => new Date(r.backup_finish_date as string | Date).getTime() >= since.getTime())
    .length;
}

export async function availabilityGroupCreated(s: SqlSession, name: string): Promise<Date | undefined> {
  const [row] = await s.query(
    'SELECT r.create_date FROM sys.availability_groups ag JOIN sys.availability_replicas r ON r.group_id = ag.group_id WHERE ag.name = @name',
    { name },
  );
  return row ? new Date(row.create_date as string | Date) : undefined;
}
