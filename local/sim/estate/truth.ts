/**
 * The link's truth: whether a link described by a PUT body can come up, given what SQL Server and the
 * managed instance really hold — the runbook's steps done right on both sides. The first problem found is
 * reported the way the service reports it: an ARM error code and message, and (where SQL Server would
 * see it) an error number and description for sys.dm_hadr_availability_replica_states.
 */
import { X509Certificate } from 'node:crypto';
import type { ManagedInstanceSim } from '../azure/instances.js';
import { parseCollation } from '../sqlserver/collation.js';
import type { SimAvailabilityGroup, SimCertificate, SimReplica, SimServerState } from '../sqlserver/model.js';

/** ARM error codes of the link (the service's names; the prefix of some is not published in the specs). */
export const LinkErrorCodes = {
  connectivity: 'ManagedInstanceLinkConnectivityIsNotEstablished',
  certNotOnInstance: 'ManagedInstanceLinkCertificateNotFoundOnManagedInstance',
  certNotOnSqlServer: 'ManagedInstanceLinkCertificateNotFoundOnSqlServer',
  multipleLogFiles: 'ManagedInstanceLinkSourceDbHasMultipleLogFiles',
  filestream: 'ManagedInstanceLinkSourceDbHasFilestream',
  hekaton: 'ManagedInstanceLinkSourceDbHasHekatonFile',
  tdeCertificateMissing: 'ManagedInstanceLinkSourceDbTdeCertificateMissing',
  backupChain: 'ManagedInstanceLinkSourceDbBackupChainMissing',
  sourceDbNotFound: 'ManagedInstanceLinkSourceDbNotFound',
  unsupportedVersion: 'ManagedInstanceLinkUnsupportedSqlServerVersion',
  hadrDisabled: 'ManagedInstanceLinkHadrNotEnabled',
  /** Creation not finished within six days (the stand-in's name; the article states the rule, not a code). */
  creationCanceled: 'ManagedInstanceLinkCreationCanceled',
} as const;

/** SQL Server error numbers the link writes into last_connect_error_number. */
export const SqlLinkErrors = {
  sqlCertNotOnInstance: 41973,
  instanceCertNotOnSqlServer: 41974,
  connectionFailed: 41986,
  linkNotInitiated: 41962,
  agNotResponding: 41976,
  backupChain: 1475,
} as const;

export interface LinkProblem {
  code: string;
  message: string;
  sqlError?: { number: number; description: string };
}

/**
 * Problems found once the two sides talk, while the database itself is being set up ("Troubleshoot issues
 * with the link", Microsoft Learn: "Errors creating a link (Link state: LinkCreationError)" — the target
 * database, the log chain). Everything before that — certificates, endpoint, names, network — is
 * "Errors initializing a link (Link state: LinkInitError)": 41962, 41973, 41974, 41976, 41986, 47521.
 */
const CREATION_STAGE_CODES = new Set<string>([
  LinkErrorCodes.sourceDbNotFound,
  LinkErrorCodes.multipleLogFiles,
  LinkErrorCodes.filestream,
  LinkErrorCodes.hekaton,
  LinkErrorCodes.tdeCertificateMissing,
  LinkErrorCodes.backupChain,
  LinkErrorCodes.creationCanceled,
]);

/** ARM's replicaState of a link whose creation failed: the step that failed, as the troubleshooting article names it. */
export function failedReplicaState(problem: LinkProblem | undefined): 'LinkInitError' | 'LinkCreationError' {
  return problem && !CREATION_STAGE_CODES.has(problem.code) ? 'LinkInitError' : 'LinkCreationError';
}

/** ARM's mostRecentLinkError: the service's code first, then SQL Server's error number when there is one. */
export function describeProblem(problem: LinkProblem): string {
  const number = problem.sqlError ? `Error ${problem.sqlError.number}: ` : '';
  return `${problem.code}: ${number}${problem.message}`;
}

export interface LinkProps {
  partnerAvailabilityGroupName: string;
  instanceAvailabilityGroupName: string;
  partnerEndpoint: string;
  /** The role the instance starts in. */
  instanceLinkRole: 'Primary' | 'Secondary';
  failoverMode: 'None' | 'Manual';
  seedingMode: 'Automatic' | 'Manual';
  replicationMode: 'Async' | 'Sync';
  databaseName: string;
}

export interface SqlServerEntry {
  serverName: string;
  /** Name milink's requests use for it, e.g. sqlbox1.contoso.local */
  host: string;
  /** Address its endpoint URLs name, e.g. 10.0.0.4 */
  endpointAddress: string;
  state: SimServerState;
}

const eqi = (a: string | null | undefined, b: string | null | undefined) =>
  (a ?? '').toLowerCase() === (b ?? '').toLowerCase();

/** Parses TCP://host:port (any case). */
export function parseTcpUrl(url: string): { host: string; port: number; rest: string } | null {
  const m = /^tcp:\/\/([^:/;\]]+|\[[^\]]+\]):(\d{1,5})(.*)$/i.exec(url.trim());
  if (!m) return null;
  return { host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port: Number(m[2]), rest: m[3] ?? '' };
}

export function findSqlServerForHost(servers: SqlServerEntry[], host: string): SqlServerEntry | undefined {
  return servers.find((s) => eqi(s.endpointAddress, host) || eqi(s.host, host) || eqi(s.serverName, host));
}

const ROOT_SUBJECTS = ['Microsoft RSA Root Certificate Authority 2017', 'DigiCert Global Root G2'];

/**
 * What the truth reads from certificates, parsed once per DER buffer: the truth is evaluated for every link
 * on every request, and parsing X.509 each time made an estate of a thousand links answer slowly.
 */
const parsedCn = new WeakMap<Buffer, string | null>();
const parsedSpki = new WeakMap<Buffer, Buffer | null>();

function certSubjectCn(cert: SimCertificate): string {
  let cn = parsedCn.get(cert.der);
  if (cn === undefined) {
    try {
      cn = /(?:^|\n)CN=([^\n]+)/.exec(new X509Certificate(cert.der).subject)?.[1] ?? null;
    } catch {
      cn = null;
    }
    parsedCn.set(cert.der, cn);
  }
  return cn ?? cert.subject;
}

/** A MicrosoftPKI or DigiCertPKI root, registered as issuer for *.database.windows.net. */
export function hasTrustedAzureRoot(state: SimServerState): boolean {
  return state.certificates.some((c) => {
    const isRoot =
      eqi(c.name, 'MicrosoftPKI') ||
      eqi(c.name, 'DigiCertPKI') ||
      ROOT_SUBJECTS.some((s) => certSubjectCn(c).includes(s));
    return isRoot && c.issuerRegistrations.some((r) => eqi(r, '*.database.windows.net'));
  });
}

function spkiOf(der: Buffer): Buffer | null {
  let spki = parsedSpki.get(der);
  if (spki === undefined) {
    try {
      spki = new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' });
    } catch {
      spki = null;
    }
    parsedSpki.set(der, spki);
  }
  return spki;
}

export function instanceListenerUrl(mi: ManagedInstanceSim, props: LinkProps): string {
  const base = `tcp://${mi.fqdn}:5022;Server=[${mi.name}]`;
  return props.instanceLinkRole === 'Primary' ? `${base};Database=[${props.databaseName}]` : base;
}

function normaliseUrl(url: string): string {
  return url.replace(/\s+/g, '').toLowerCase();
}

export function findDag(
  state: SimServerState,
  name: string,
  same: (a: string, b: string) => boolean = eqi,
): SimAvailabilityGroup | undefined {
  return state.availabilityGroups.find((ag) => ag.isDistributed && same(ag.name, name));
}

export function dagMembers(
  dag: SimAvailabilityGroup,
  props: LinkProps,
  same: (a: string, b: string) => boolean = eqi,
): { sql?: SimReplica; instance?: SimReplica } {
  return {
    sql: dag.replicas.find((r) => same(r.replicaServerName, props.partnerAvailabilityGroupName)),
    instance: dag.replicas.find((r) => same(r.replicaServerName, props.instanceAvailabilityGroupName)),
  };
}

/**
 * How the two sides compare the names they exchange (AG, DAG, the instance's name in the listener URL).
 * "Configure link with scripts" (Microsoft Learn): "Collation between SQL Server and SQL Managed Instance
 * should be the same. A mismatch in collation could cause a mismatch in server name casing and prevent a
 * successful connection from SQL Server to SQL Managed Instance." The 2022 runbook: "depending on collation
 * settings, AG and DAG names could, or could not be case sensitive". So names that differ only in case
 * match only when both sides' collations are case-insensitive.
 */
export function linkNameComparer(
  sqlServerCollation: string,
  instanceCollation: string,
): (a: string, b: string) => boolean {
  const ci =
    !parseCollation(sqlServerCollation).caseSensitive && !parseCollation(instanceCollation).caseSensitive;
  return ci ? eqi : (a, b) => a === b;
}

/** The `Server=[…]` / `Database=[…]` parts of a LISTENER_URL after the address, e.g. `;Server=[mi-prod]`. */
function listenerNames(url: string): string {
  return url.replace(/\s+/g, '').replace(/^tcp:\/\/[^;]*/i, '');
}

const connectivity = (
  message: string,
  sqlNumber: number | null = SqlLinkErrors.connectionFailed,
): LinkProblem => ({
  code: LinkErrorCodes.connectivity,
  message: `Connectivity between SQL Server and the managed instance is not established: ${message}`,
  ...(sqlNumber !== null
    ? {
        sqlError: {
          number: sqlNumber,
          description: `Connection attempt failed with error: '${sqlNumber}'. ${message}`,
        },
      }
    : {}),
});

/**
 * What keeps a link's connection up: the endpoint, the certificates both ways, the AG and DAG and their
 * URLs. Checked when the link is created and again whenever the estate brings a live link up to date.
 */
export function connectivityProblem(args: {
  linkName: string;
  props: LinkProps;
  mi: ManagedInstanceSim;
  server: SqlServerEntry | undefined;
  now: Date;
}): LinkProblem | null {
  const { props, mi, server, now } = args;
  const endpointUrl = parseTcpUrl(props.partnerEndpoint);
  if (!endpointUrl)
    return connectivity(
      `the partner endpoint '${props.partnerEndpoint}' is not of the form TCP://<address>:<port>.`,
      null,
    );
  if (!server)
    return connectivity(`no SQL Server answers at '${endpointUrl.host}'.`, SqlLinkErrors.linkNotInitiated);
  const s = server.state;
  if (!s.hadrEnabled) {
    return {
      code: LinkErrorCodes.hadrDisabled,
      message: `Always On availability groups are not enabled on SQL Server '${s.serverName}'.`,
    };
  }
  const ep = s.endpoint;
  if (!ep) return connectivity(`SQL Server '${s.serverName}' has no DATABASE_MIRRORING endpoint.`);
  if (ep.state !== 'STARTED')
    return connectivity(`the DATABASE_MIRRORING endpoint '${ep.name}' on SQL Server is ${ep.state}.`);
  if (ep.port !== endpointUrl.port) {
    return connectivity(
      `nothing listens on port ${endpointUrl.port} of '${endpointUrl.host}': the endpoint listens on ${ep.port}.`,
    );
  }
  if (!ep.certificateName)
    return connectivity(`the endpoint '${ep.name}' does not use certificate authentication.`);
  if (ep.encryption === 'DISABLED' || !ep.algorithms.includes('AES')) {
    return connectivity(`the endpoint '${ep.name}' must have encryption enabled with the AES algorithm.`);
  }
  const sqlCert = s.certificates.find((c) => eqi(c.name, ep.certificateName));
  if (!sqlCert)
    return connectivity(`the endpoint's certificate '${ep.certificateName}' does not exist on SQL Server.`);
  if (sqlCert.expiryDate.getTime() <= now.getTime()) {
    return {
      code: LinkErrorCodes.certNotOnInstance,
      message: `The SQL Server certificate '${sqlCert.name}' expired on ${sqlCert.expiryDate.toISOString()}.`,
      sqlError: {
        number: SqlLinkErrors.sqlCertNotOnInstance,
        description: `The certificate '${sqlCert.name}' used by the endpoint has expired.`,
      },
    };
  }
  const sqlSpki = spkiOf(sqlCert.der);
  const trusted = sqlSpki
    ? [...mi.serverTrustCertificates.values()].some((t) => t.spki.equals(sqlSpki))
    : false;
  if (!trusted) {
    return {
      code: LinkErrorCodes.certNotOnInstance,
      message: `The certificate '${sqlCert.name}' of SQL Server '${s.serverName}' is not imported into managed instance '${mi.name}'. Upload its public key as a server trust certificate.`,
      sqlError: {
        number: SqlLinkErrors.sqlCertNotOnInstance,
        description: `Connection handshake failed. The certificate used by this endpoint was not found on the remote side: the SQL Server certificate '${sqlCert.name}' is not imported into the managed instance.`,
      },
    };
  }
  const miCert = s.certificates.find((c) => c.name === mi.fqdn || eqi(c.name, mi.fqdn));
  if (!miCert || !miCert.der.equals(mi.endpointCertificate.der)) {
    return {
      code: LinkErrorCodes.certNotOnSqlServer,
      message: miCert
        ? `The certificate '${miCert.name}' on SQL Server is not the managed instance's current endpoint certificate. Import it again.`
        : `The managed instance's endpoint certificate is not imported into SQL Server under the name '${mi.fqdn}'.`,
      sqlError: {
        number: SqlLinkErrors.instanceCertNotOnSqlServer,
        description: `Connection handshake failed. There is no compatible certificate for '${mi.fqdn}': the managed instance's certificate is not imported into SQL Server.`,
      },
    };
  }
  if (!hasTrustedAzureRoot(s)) {
    return {
      code: LinkErrorCodes.certNotOnSqlServer,
      message: `SQL Server '${s.serverName}' cannot validate the chain of the managed instance's certificate: import the MicrosoftPKI and DigiCertPKI root certificates and register them for *.database.windows.net with sp_certificate_add_issuer.`,
      sqlError: {
        number: SqlLinkErrors.instanceCertNotOnSqlServer,
        description: `Connection handshake failed. The certificate chain of '${mi.fqdn}' could not be validated: no trusted root authority is registered for *.database.windows.net.`,
      },
    };
  }
  const same = linkNameComparer(s.collation, mi.collation);
  const ag = s.availabilityGroups.find(
    (g) => !g.isDistributed && same(g.name, props.partnerAvailabilityGroupName),
  );
  // A partner AG name that SQL Server does not have: the instance's AG gets no answer from it (41976, "The
  // availability group isn't responding. Check names and configuration parameters", troubleshooting article).
  if (!ag)
    return connectivity(
      `the availability group '${props.partnerAvailabilityGroupName}' does not exist on SQL Server.`,
      SqlLinkErrors.agNotResponding,
    );
  const dag = findDag(s, args.linkName, same);
  if (!dag)
    return connectivity(
      `the distributed availability group '${args.linkName}' does not exist on SQL Server.`,
      SqlLinkErrors.agNotResponding,
    );
  const members = dagMembers(dag, props, same);
  if (!members.sql) {
    return connectivity(
      `the distributed availability group '${dag.name}' has no member named '${props.partnerAvailabilityGroupName}'.`,
    );
  }
  if (!members.instance) {
    return connectivity(
      `the distributed availability group '${dag.name}' has no member named '${props.instanceAvailabilityGroupName}'.`,
    );
  }
  const sqlListener = parseTcpUrl(members.sql.endpointUrl);
  const hostOk = (h: string) => eqi(h, server.endpointAddress) || eqi(h, server.host) || eqi(h, s.serverName);
  if (!sqlListener || !hostOk(sqlListener.host) || sqlListener.port !== ep.port) {
    return connectivity(
      `the LISTENER_URL '${members.sql.endpointUrl}' of '${members.sql.replicaServerName}' does not point at SQL Server's endpoint (TCP://${server.endpointAddress}:${ep.port}).`,
    );
  }
  const expected = instanceListenerUrl(mi, props);
  if (
    normaliseUrl(members.instance.endpointUrl) !== normaliseUrl(expected) ||
    !same(listenerNames(members.instance.endpointUrl), listenerNames(expected))
  ) {
    return connectivity(
      `the LISTENER_URL '${members.instance.endpointUrl}' of '${members.instance.replicaServerName}' does not name the managed instance (expected '${expected}').`,
    );
  }
  const localReplica = ag.replicas.find((r) => r.isLocal) ?? ag.replicas[0];
  const agUrl = localReplica ? parseTcpUrl(localReplica.endpointUrl) : null;
  if (!agUrl || !hostOk(agUrl.host) || agUrl.port !== ep.port) {
    return connectivity(
      `the ENDPOINT_URL '${localReplica?.endpointUrl ?? ''}' of availability group '${ag.name}' does not point at SQL Server's endpoint.`,
    );
  }
  return null;
}

/** Everything the link needs when it is created: connectivity, then the database and the versions. */
export function creationProblem(args: {
  linkName: string;
  props: LinkProps;
  mi: ManagedInstanceSim;
  server: SqlServerEntry | undefined;
  now: Date;
}): LinkProblem | null {
  const problem = connectivityProblem(args);
  if (problem) return problem;
  const { props, mi } = args;
  const s = (args.server as SqlServerEntry).state;
  const v = s.version;
  const versionOk = v.major > 16 || v.major === 16 || (v.major === 15 && v.cu >= 20);
  if (!versionOk) {
    return {
      code: LinkErrorCodes.unsupportedVersion,
      message: `SQL Server ${v.year} (${v.productVersion}) does not support the link: SQL Server 2019 needs CU20 or later; 2022 and later are supported.`,
    };
  }
  if (props.failoverMode === 'Manual' && v.major < 16) {
    return {
      code: LinkErrorCodes.unsupportedVersion,
      message: `Failover mode Manual (two-way) needs SQL Server 2022 or later; SQL Server '${s.serverName}' is ${v.year}.`,
    };
  }
  const ag = s.availabilityGroups.find(
    (g) => !g.isDistributed && eqi(g.name, props.partnerAvailabilityGroupName),
  ) as SimAvailabilityGroup;
  if (props.instanceLinkRole === 'Primary') {
    if (v.major < 16 || (v.major === 16 && v.cu < 10)) {
      return {
        code: LinkErrorCodes.unsupportedVersion,
        message: `A link with the managed instance as initial primary needs SQL Server 2022 CU10 or later; '${s.serverName}' runs ${v.productVersion}.`,
      };
    }
    if (!mi.databases.has(props.databaseName.toLowerCase())) {
      return {
        code: LinkErrorCodes.sourceDbNotFound,
        message: `Database '${props.databaseName}' does not exist on managed instance '${mi.name}'.`,
      };
    }
    if (!ag.createAnyDatabaseGranted) {
      return connectivity(
        `the availability group '${ag.name}' on SQL Server lacks the permission to create the database: run ALTER AVAILABILITY GROUP [${ag.name}] GRANT CREATE ANY DATABASE.`,
        SqlLinkErrors.connectionFailed,
      );
    }
    if (s.databases.some((d) => eqi(d.name, props.databaseName))) {
      return connectivity(
        `a database named '${props.databaseName}' already exists on SQL Server '${s.serverName}'.`,
        null,
      );
    }
    return null;
  }
  const db = s.databases.find((d) => eqi(d.name, props.databaseName));
  if (!db) {
    return {
      code: LinkErrorCodes.sourceDbNotFound,
      message: `Database '${props.databaseName}' does not exist on SQL Server '${s.serverName}'.`,
    };
  }
  if (!ag.databases.some((d) => eqi(d, db.name))) {
    return connectivity(`database '${db.name}' is not in the availability group '${ag.name}'.`, null);
  }
  if (db.files.filter((f) => f.type === 'LOG').length > 1) {
    return {
      code: LinkErrorCodes.multipleLogFiles,
      message: `Database '${db.name}' has more than one log file; the link supports one.`,
    };
  }
  if (db.filegroups.some((g) => g.type === 'FX')) {
    return {
      code: LinkErrorCodes.hekaton,
      message: `Database '${db.name}' has a memory-optimized filegroup; the link does not support it.`,
    };
  }
  if (db.filegroups.some((g) => g.type === 'FD')) {
    return {
      code: LinkErrorCodes.filestream,
      message: `Database '${db.name}' has a FILESTREAM filegroup; the link does not support it.`,
    };
  }
  if (db.tdeCertificate) {
    return {
      code: LinkErrorCodes.tdeCertificateMissing,
      message: `Database '${db.name}' is encrypted with TDE certificate '${db.tdeCertificate}', which is not on the managed instance.`,
    };
  }
  const fullBackup = db.backups.some((b) => b.type === 'D' && !b.isCopyOnly);
  if (db.recoveryModel !== 'FULL' || !fullBackup) {
    const why =
      db.recoveryModel !== 'FULL' ? `is in the ${db.recoveryModel} recovery model` : 'has no full backup';
    return {
      code: LinkErrorCodes.backupChain,
      message: `Database '${db.name}' ${why}: set FULL recovery and take a full backup without COPY_ONLY.`,
      sqlError: {
        number: SqlLinkErrors.backupChain,
        description: `The remote copy of database "${db.name}" has not been rolled forward to a point in time that is encompassed in the local copy of the database log; a new backup chain is needed (full backup without COPY_ONLY).`,
      },
    };
  }
  return null;
}
