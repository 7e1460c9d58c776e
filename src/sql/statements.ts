import {
  binaryLiteral,
  integerLiteral,
  quoteIdentifier,
  quoteLiteral,
  SqlcmdVariable,
  type SqlText,
} from './quote.js';
import type { RootCertificate } from './roots.js';

/**
 * Builders for every SQL Server batch of the link runbook. Each returns one batch (no GO inside). Creating
 * batches are guarded (inspect first, act only when missing) so running one twice is harmless. Names and
 * values go through the quoting module only.
 */

/** sqlcmd variables for values known only at run time. */
export const variables = {
  masterKeyPassword: new SqlcmdVariable(
    'MasterKeyPassword',
    'the database master key password (milink reads it from Key Vault)',
    'literal',
  ),
  instancePublicKey: new SqlcmdVariable(
    'InstancePublicKey',
    "the managed instance's endpoint certificate, 0x… (from the export-instance-certificate step)",
    'binary',
  ),
  sqlServerPublicKey: new SqlcmdVariable(
    'SqlServerPublicKey',
    "SQL Server's certificate, 0x… (from the export-sqlserver-certificate step)",
    'binary',
  ),
  sqlServerName: new SqlcmdVariable('SqlServerName', "SQL Server's @@SERVERNAME", 'literal'),
  certificateName: new SqlcmdVariable(
    'CertificateName',
    "SQL Server's endpoint certificate name, Cert_<@@SERVERNAME>_endpoint",
    'identifier',
  ),
  instanceFqdn: new SqlcmdVariable(
    'ManagedInstanceFqdn',
    "the managed instance's fully qualified domain name",
    'literal',
  ),
  newCertificateName: new SqlcmdVariable(
    'NewCertificateName',
    'the endpoint certificate a rotation switches to, Cert_<@@SERVERNAME>_endpoint_<expiry yyyymmdd>',
    'identifier',
  ),
  newCertificatePublicKey: new SqlcmdVariable(
    'NewCertificatePublicKey',
    'the new endpoint certificate, 0x… (CERTENCODED of it, read at run time)',
    'binary',
  ),
  newCertificatePrivateKey: new SqlcmdVariable(
    'NewCertificatePrivateKey',
    "the new endpoint certificate's private key, 0x… in PVK format (from the Key Vault certificate's secret; a secret)",
    'binary',
  ),
  oldCertificateName: new SqlcmdVariable(
    'OldCertificateName',
    'the endpoint certificate a rotation replaces (the endpoint authenticated with it before the switch)',
    'identifier',
  ),
} as const;

/** The certificate name inside a literal: a certificate name variable stands for an identifier, shown as $(…). */
function nameLiteral(name: SqlText): string {
  return quoteLiteral(name, 128);
}

/** `USE master;` the runbook runs every server-level step in master. */
const useMaster = 'USE [master];';

// ---------------------------------------------------------------- database

/** ALTER DATABASE … SET RECOVERY FULL, only when the database is not in FULL recovery already. */
export function setRecoveryFull(database: string): string {
  return [
    `IF EXISTS (SELECT 1 FROM sys.databases WHERE name = ${quoteLiteral(database, 128)} AND recovery_model_desc <> N'FULL')`,
    `    ALTER DATABASE ${quoteIdentifier(database)} SET RECOVERY FULL;`,
  ].join('\n');
}

/**
 * The initial full backup (not COPY_ONLY: it starts the log chain, error 1475 otherwise), only when no such
 * backup taken in FULL recovery exists.
 */
export function fullBackup(database: string, file: SqlText): string {
  return [
    'IF NOT EXISTS (SELECT 1 FROM msdb.dbo.backupset',
    `               WHERE database_name = ${quoteLiteral(database, 128)} AND type = N'D' AND is_copy_only = 0 AND recovery_model = N'FULL')`,
    `    BACKUP DATABASE ${quoteIdentifier(database)} TO DISK = ${quoteLiteral(file, 260)};`,
  ].join('\n');
}

/** The first log backup, taken once seeding has finished. */
export function logBackup(database: string, file: SqlText): string {
  return `BACKUP LOG ${quoteIdentifier(database)} TO DISK = ${quoteLiteral(file, 260)};`;
}

// ---------------------------------------------------------------- master key and certificates

export function createMasterKey(): string {
  return [
    useMaster,
    'IF NOT EXISTS (SELECT * FROM sys.symmetric_keys WHERE symmetric_key_id = 101)',
    'BEGIN',
    "    PRINT N'Creating master key.';",
    `    CREATE MASTER KEY ENCRYPTION BY PASSWORD = ${quoteLiteral(variables.masterKeyPassword)};`,
    'END',
    'ELSE',
    "    PRINT N'Master key already exists.';",
  ].join('\n');
}

/** `yyyymmdd`: the date form SQL Server reads the same way whatever the session's language. */
export function sqlDate(isoDate: string): string {
  return isoDate.replace(/-/g, '');
}

export function createSqlServerCertificate(name: SqlText, expiryIsoDate: string): string {
  const subject =
    name instanceof SqlcmdVariable ? `Certificate for ${name.reference}` : `Certificate for ${name}`;
  return [
    useMaster,
    `IF NOT EXISTS (SELECT name FROM sys.certificates WHERE name = ${nameLiteral(name)})`,
    'BEGIN',
    `    CREATE CERTIFICATE ${quoteIdentifier(name)}`,
    `        WITH SUBJECT = ${quoteLiteral(subject, 4000)},`,
    `        EXPIRY_DATE = ${quoteLiteral(sqlDate(expiryIsoDate))};`,
    'END',
    'ELSE',
    `    PRINT N'The certificate already exists.';`,
  ].join('\n');
}

/** Reads a certificate's DER (what the instance must trust). */
export function certificatePublicKeyQuery(name: SqlText): string {
  return [
    useMaster,
    `SELECT ${nameLiteral(name)} AS SQLServerCertName, CERTENCODED(CERT_ID(${nameLiteral(name)})) AS SQLServerPublicKey;`,
  ].join('\n');
}

/** Imports the instance's endpoint certificate under the instance FQDN (the name must be exactly the FQDN). */
export function importInstanceCertificate(
  fqdn: SqlText,
  blob: Buffer | SqlText = variables.instancePublicKey,
): string {
  return [
    useMaster,
    `IF NOT EXISTS (SELECT name FROM sys.certificates WHERE name = ${nameLiteral(fqdn)})`,
    `    CREATE CERTIFICATE ${quoteIdentifier(fqdn)} FROM BINARY = ${binaryLiteral(blob)};`,
  ].join('\n');
}

export function importRootCertificate(root: RootCertificate): string {
  return [
    useMaster,
    `IF NOT EXISTS (SELECT name FROM sys.certificates WHERE name = ${nameLiteral(root.name)})`,
    'BEGIN',
    `    PRINT ${quoteLiteral(`Creating ${root.name} certificate.`)};`,
    `    CREATE CERTIFICATE ${quoteIdentifier(root.name)} FROM BINARY = ${binaryLiteral(root.blob)};`,
    '    DECLARE @CERTID int;',
    `    SELECT @CERTID = CERT_ID(${nameLiteral(root.name)});`,
    `    EXEC sp_certificate_add_issuer @CERTID, ${quoteLiteral(root.issuerPattern)};`,
    'END',
    'ELSE',
    `    PRINT ${quoteLiteral(`Certificate ${root.name} already exists.`)};`,
  ].join('\n');
}

export function validateCertificateChain(fqdn: SqlText): string {
  return [
    useMaster,
    'DECLARE @certificate_id int;',
    `SELECT @certificate_id = CERT_ID(${nameLiteral(fqdn)});`,
    'EXEC sp_validate_certificate_ca_chain @certificate_id;',
  ].join('\n');
}

export function dropCertificate(name: SqlText): string {
  return [
    useMaster,
    `IF EXISTS (SELECT name FROM sys.certificates WHERE name = ${nameLiteral(name)})`,
    `    DROP CERTIFICATE ${quoteIdentifier(name)};`,
  ].join('\n');
}

// ---------------------------------------------------------------- mirroring endpoint

export const DEFAULT_ENDPOINT_NAME = 'database_mirroring_endpoint';

/** Creates the mirroring endpoint with certificate authentication and AES, when the server has none. */
export function createEndpoint(port: number, certificate: SqlText, name = DEFAULT_ENDPOINT_NAME): string {
  return [
    useMaster,
    "IF NOT EXISTS (SELECT * FROM sys.database_mirroring_endpoints WHERE type_desc = N'DATABASE_MIRRORING')",
    `CREATE ENDPOINT ${quoteIdentifier(name)}`,
    '    STATE = STARTED',
    `    AS TCP (LISTENER_PORT = ${integerLiteral(port)}, LISTENER_IP = ALL)`,
    '    FOR DATABASE_MIRRORING (',
    '        ROLE = ALL,',
    `        AUTHENTICATION = CERTIFICATE ${quoteIdentifier(certificate)},`,
    '        ENCRYPTION = REQUIRED ALGORITHM AES',
    '    );',
  ].join('\n');
}

export interface EndpointAlteration {
  name: string;
  port: number;
  certificate: SqlText;
  /** Keep Windows authentication existing AGs rely on: it becomes `WINDOWS <x> CERTIFICATE [cert]`. */
  windowsAuth: 'NTLM' | 'KERBEROS' | 'NEGOTIATE' | null;
  /** Keep RC4 when the endpoint already allows it: `ALGORITHM AES RC4`. */
  keepRc4: boolean;
}

/** Alters an existing endpoint to certificate authentication and AES without breaking what uses it. */
export function alterEndpoint(a: EndpointAlteration): string {
  const auth = a.windowsAuth
    ? `WINDOWS ${a.windowsAuth} CERTIFICATE ${quoteIdentifier(a.certificate)}`
    : `CERTIFICATE ${quoteIdentifier(a.certificate)}`;
  return [
    useMaster,
    `ALTER ENDPOINT ${quoteIdentifier(a.name)}`,
    '    STATE = STARTED',
    `    AS TCP (LISTENER_PORT = ${integerLiteral(a.port)}, LISTENER_IP = ALL)`,
    '    FOR DATABASE_MIRRORING (',
    '        ROLE = ALL,',
    `        AUTHENTICATION = ${auth},`,
    `        ENCRYPTION = REQUIRED ALGORITHM ${a.keepRc4 ? 'AES RC4' : 'AES'}`,
    '    );',
  ].join('\n');
}

// ---------------------------------------------------------------- availability groups

export function endpointUrl(address: string, port: number): string {
  return `TCP://${address}:${integerLiteral(port)}`;
}

export interface AvailabilityGroupSpec {
  name: string;
  /** The database for SQL Server as initial primary; null with the instance as initial primary. */
  database: string | null;
  serverName: SqlText;
  endpointUrl: string;
  /** SQL Server 2016 has no CLUSTER_TYPE clause. */
  withClusterTypeNone: boolean;
}

export function createAvailabilityGroup(ag: AvailabilityGroupSpec): string {
  const lines = [
    useMaster,
    `IF NOT EXISTS (SELECT * FROM sys.availability_groups WHERE name = ${quoteLiteral(ag.name, 128)})`,
    `CREATE AVAILABILITY GROUP ${quoteIdentifier(ag.name)}`,
  ];
  if (ag.withClusterTypeNone) lines.push('WITH (CLUSTER_TYPE = NONE)');
  if (ag.database !== null) lines.push(`    FOR DATABASE ${quoteIdentifier(ag.database)}`);
  else lines.push('    FOR');
  lines.push(
    '    REPLICA ON',
    `        ${quoteLiteral(ag.serverName, 128)} WITH`,
    '            (',
    `            ENDPOINT_URL = ${quoteLiteral(ag.endpointUrl, 512)},`,
    '            AVAILABILITY_MODE = SYNCHRONOUS_COMMIT,',
    '            FAILOVER_MODE = MANUAL,',
    '            SEEDING_MODE = AUTOMATIC',
    '            );',
  );
  return lines.join('\n');
}

/** With the instance as initial primary, the AG must be allowed to create the seeded database. */
export function grantCreateAnyDatabase(ag: string): string {
  return `ALTER AVAILABILITY GROUP ${quoteIdentifier(ag)} GRANT CREATE ANY DATABASE;`;
}

export interface DistributedAvailabilityGroupSpec {
  name: string;
  availabilityGroup: string;
  instanceAvailabilityGroup: string;
  sqlServerListenerUrl: string;
  instanceFqdn: SqlText;
  instanceName: string;
  /** Set with the instance as initial primary: the instance listener URL then names the database. */
  database: string | null;
}

/** The instance's listener URL: `tcp://<fqdn>:5022;Server=[<instance>]` (…`;Database=[<db>]` with the instance as primary). */
export function instanceListenerUrl(fqdn: SqlText, instanceName: string, database: string | null): string {
  const host = fqdn instanceof SqlcmdVariable ? fqdn.reference : fqdn;
  let url = `tcp://${host}:5022;Server=${quoteIdentifier(instanceName)}`;
  if (database !== null) url += `;Database=${quoteIdentifier(database)}`;
  return url;
}

export function createDistributedAvailabilityGroup(d: DistributedAvailabilityGroupSpec): string {
  return [
    useMaster,
    `IF NOT EXISTS (SELECT * FROM sys.availability_groups WHERE name = ${quoteLiteral(d.name, 128)})`,
    `CREATE AVAILABILITY GROUP ${quoteIdentifier(d.name)}`,
    'WITH (DISTRIBUTED)',
    '    AVAILABILITY GROUP ON',
    `    ${quoteLiteral(d.availabilityGroup, 128)} WITH`,
    '    (',
    `      LISTENER_URL = ${quoteLiteral(d.sqlServerListenerUrl, 512)},`,
    '      AVAILABILITY_MODE = ASYNCHRONOUS_COMMIT,',
    '      FAILOVER_MODE = MANUAL,',
    '      SEEDING_MODE = AUTOMATIC,',
    '      SESSION_TIMEOUT = 20',
    '    ),',
    `    ${quoteLiteral(d.instanceAvailabilityGroup, 128)} WITH`,
    '    (',
    `      LISTENER_URL = ${quoteLiteral(instanceListenerUrl(d.instanceFqdn, d.instanceName, d.database), 1024)},`,
    '      AVAILABILITY_MODE = ASYNCHRONOUS_COMMIT,',
    '      FAILOVER_MODE = MANUAL,',
    '      SEEDING_MODE = AUTOMATIC',
    '    );',
  ].join('\n');
}

export function dropAvailabilityGroup(name: string): string {
  return [
    useMaster,
    `IF EXISTS (SELECT * FROM sys.availability_groups WHERE name = ${quoteLiteral(name, 128)})`,
    `    DROP AVAILABILITY GROUP ${quoteIdentifier(name)};`,
  ].join('\n');
}

/** The runbook's connection check, narrowed to one distributed availability group. */
export function linkConnectionQuery(dag: string): string {
  return [
    'SELECT',
    '    ag.name AS [AvailabilityGroup],',
    '    r.replica_server_name AS [Replica],',
    '    r.endpoint_url AS [Endpoint],',
    '    rs.role_desc AS [Role],',
    '    rs.is_local AS [IsLocal],',
    '    rs.connected_state_desc AS [ConnectedState],',
    '    rs.synchronization_health_desc AS [SynchronizationHealth],',
    '    rs.last_connect_error_description AS [LastConnectError],',
    '    rs.last_connect_error_number AS [LastConnectErrorNumber],',
    '    rs.last_connect_error_timestamp AS [LastConnectErrorTime]',
    'FROM',
    '    sys.dm_hadr_availability_replica_states rs',
    '    JOIN sys.availability_replicas r ON rs.replica_id = r.replica_id',
    '    JOIN sys.availability_groups ag ON ag.group_id = r.group_id',
    `WHERE ag.name = ${quoteLiteral(dag, 128)};`,
  ].join('\n');
}

// ---------------------------------------------------------------- the link's lifecycle (failover, split brain)

/**
 * Sets every member of a distributed availability group to one availability mode ("Fail over link": synchronous
 * commit before a planned failover; asynchronous again after it). Members are named as `sys.availability_replicas`
 * names them (the AG on SQL Server and the AG on the instance).
 */
export function setDistributedAvailabilityMode(
  dag: string,
  members: string[],
  mode: 'SYNCHRONOUS_COMMIT' | 'ASYNCHRONOUS_COMMIT',
): string {
  return [
    useMaster,
    `ALTER AVAILABILITY GROUP ${quoteIdentifier(dag)}`,
    'MODIFY',
    'AVAILABILITY GROUP ON',
    members.map((m) => `    ${quoteLiteral(m, 128)} WITH (AVAILABILITY_MODE = ${mode})`).join(',\n') + ';',
  ].join('\n');
}

/** A planned failover of the link from SQL Server as primary (SQL Server 2022 CU13+ and 2025). */
export function failoverDistributedAvailabilityGroup(dag: string): string {
  return [useMaster, `ALTER AVAILABILITY GROUP ${quoteIdentifier(dag)} FAILOVER;`].join('\n');
}

/** A forced failover to SQL Server as the secondary (transactions SQL Server has not hardened are lost). */
export function forceFailoverDistributedAvailabilityGroup(dag: string): string {
  return [useMaster, `ALTER AVAILABILITY GROUP ${quoteIdentifier(dag)} FORCE_FAILOVER_ALLOW_DATA_LOSS;`].join(
    '\n',
  );
}

/** Demotes SQL Server's side of the link to secondary (split brain; the failover path before 2022 CU13). */
export function setDistributedRoleSecondary(dag: string): string {
  return [useMaster, `ALTER AVAILABILITY GROUP ${quoteIdentifier(dag)} SET (ROLE = SECONDARY);`].join('\n');
}

/** The tail of the log before a side gives up its primary role ("Troubleshoot issues with the link": split brain). */
export function tailLogBackup(database: string, file: SqlText): string {
  return `BACKUP LOG ${quoteIdentifier(database)} TO DISK = ${quoteLiteral(file, 260)};`;
}

/**
 * Imports a certificate with its private key (a certificate held in Key Vault): `CREATE CERTIFICATE … FROM BINARY =
 * <DER> WITH PRIVATE KEY (BINARY = <PVK>)`, kept under the master key; skipped when the name exists.
 */
export function importCertificateWithPrivateKey(
  name: SqlText,
  certificate: Buffer | SqlText = variables.newCertificatePublicKey,
  privateKey: SqlText = variables.newCertificatePrivateKey,
): string {
  return [
    useMaster,
    `IF NOT EXISTS (SELECT name FROM sys.certificates WHERE name = ${nameLiteral(name)})`,
    `    CREATE CERTIFICATE ${quoteIdentifier(name)} FROM BINARY = ${binaryLiteral(certificate)}`,
    `        WITH PRIVATE KEY (BINARY = ${binaryLiteral(privateKey)});`,
  ].join('\n');
}
