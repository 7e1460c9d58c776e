import * as arm from '../azure/arm-requests.js';
import { SqlcmdVariable, type SqlText } from '../sql/quote.js';
import { ROOT_CERTIFICATES } from '../sql/roots.js';
import * as sql from '../sql/statements.js';
import { deriveNames, derivedCertificateName, makeValidName, type LinkNames } from './names.js';
import type { LinkRequest } from './request.js';
import type { EndpointInfo } from '../sql/catalog.js';

/**
 * The runbook as an ordered list of steps with stable ids. The same step builders give the reviewable
 * script (`milink plan`), the JSON plan, and the statements and requests the activities execute.
 */
export const STEP_IDS = [
  'read-managed-instance',
  'prepare-database',
  'master-key',
  'sqlserver-certificate',
  'export-sqlserver-certificate',
  'trust-sqlserver-certificate',
  'export-instance-certificate',
  'import-instance-certificate',
  'import-root-certificates',
  'validate-instance-certificate',
  'mirroring-endpoint',
  'availability-group',
  'distributed-availability-group',
  'create-link',
  'wait-for-link',
  'verify-connection',
  'first-log-backup',
] as const;

export type StepId = (typeof STEP_IDS)[number];

export interface PlanStep {
  id: StepId;
  title: string;
  target: 'sqlserver' | 'azure';
  tsql?: string[];
  arm?: arm.ArmRequest[];
}

/** What is known about the estate when the plan is made; anything missing becomes a sqlcmd variable. */
export interface EstateFacts {
  /** @@SERVERNAME */
  serverName?: string;
  /** SQL Server's major version year (2016 … 2025). */
  version?: number;
  /** The instance's FQDN. */
  fqdn?: string;
  /** Names chosen at run time where the request leaves them out (an AG the database already has, DAG2_<db>, …). */
  names?: Partial<LinkNames>;
  /** An existing DATABASE_MIRRORING endpoint. */
  endpoint?: EndpointInfo | null;
}

export interface ResolvedNames extends LinkNames {
  /** The certificate name, a sqlcmd variable while @@SERVERNAME is unknown. */
  certificateRef: SqlText;
  derived: Array<keyof LinkNames>;
}

export interface Plan {
  request: LinkRequest;
  names: ResolvedNames;
  steps: PlanStep[];
  /** sqlcmd variables the script uses, with what they stand for. */
  variables: SqlcmdVariable[];
  /** Remarks for the reader (derived names, assumptions). */
  notes: string[];
}

export function resolveNames(request: LinkRequest, facts: EstateFacts): ResolvedNames {
  const serverName = request.sqlServer.serverName ?? facts.serverName;
  const names = deriveNames({
    database: request.database,
    serverName,
    names: { ...facts.names, ...request.names },
  });
  const certificate =
    request.names?.certificate ?? (serverName !== undefined ? derivedCertificateName(serverName) : undefined);
  return {
    ...names,
    certificate,
    certificateRef: certificate ?? sql.variables.certificateName,
  };
}

const fileNameRule = {
  code: 'FileName',
  description: 'letters, digits, _ . -',
  maxLength: 100,
  allowed: /[A-Za-z0-9_.-]/,
  allowedFirst: /[A-Za-z0-9_]/,
};

/** The file milink names for a backup: the database name made file-safe (with a hash when it had to change). */
export function backupFileName(database: string, kind: 'full' | 'log'): string {
  const safe = makeValidName(database, fileNameRule);
  return `milink_${safe}_${kind}.${kind === 'full' ? 'bak' : 'trn'}`;
}

export function backupFile(request: LinkRequest, kind: 'full' | 'log'): string {
  const folder = request.backupPath ?? '';
  const separator = folder === '' || /[\\/]$/.test(folder) ? '' : folder.includes('/') ? '/' : '\\';
  return `${folder}${separator}${backupFileName(request.database, kind)}`;
}

export function partnerEndpoint(request: LinkRequest): string {
  return sql.endpointUrl(request.sqlServer.endpointAddress, request.sqlServer.endpointPort);
}

export function linkProperties(request: LinkRequest, names: LinkNames): arm.LinkProperties {
  return {
    partnerAvailabilityGroupName: names.availabilityGroup,
    instanceAvailabilityGroupName: names.instanceAvailabilityGroup,
    partnerEndpoint: partnerEndpoint(request),
    instanceLinkRole: request.initialPrimary === 'ManagedInstance' ? 'Primary' : 'Secondary',
    failoverMode: request.failoverMode,
    seedingMode: 'Automatic',
    databases: [{ databaseName: request.database }],
  };
}

/** Builders for each step, shared by the plan and the activities. */
export function stepStatements(request: LinkRequest, facts: EstateFacts) {
  const names = resolveNames(request, facts);
  const mi = request.managedInstance;
  const sqlPrimary = request.initialPrimary === 'SqlServer';
  const fqdn: SqlText = mi.fqdn ?? facts.fqdn ?? sql.variables.instanceFqdn;
  const serverName: SqlText = request.sqlServer.serverName ?? facts.serverName ?? sql.variables.sqlServerName;
  const version = request.sqlServer.version ?? facts.version;
  const url = partnerEndpoint(request);
  /** The certificate the endpoint authenticates with: an existing endpoint keeps its own. */
  const endpointCertificate = facts.endpoint?.certificateName ?? names.certificate;
  const endpointCertificateRef: SqlText = endpointCertificate ?? sql.variables.certificateName;
  return {
    names,
    fqdn,
    endpointCertificate,
    readInstance: (): arm.ArmRequest[] =>
      sqlPrimary
        ? [arm.getManagedInstance(mi)]
        : [arm.getManagedInstance(mi), arm.getManagedDatabase(mi, request.database)],
    prepareDatabase: (): string[] => [
      sql.setRecoveryFull(request.database),
      sql.fullBackup(request.database, backupFile(request, 'full')),
    ],
    masterKey: (): string[] => [sql.createMasterKey()],
    sqlServerCertificate: (): string[] => [
      sql.createSqlServerCertificate(names.certificateRef, request.certificateExpiry),
    ],
    exportSqlServerCertificate: (): string[] => [sql.certificatePublicKeyQuery(endpointCertificateRef)],
    trustSqlServerCertificate: (
      publicBlob: string = sql.variables.sqlServerPublicKey.reference,
    ): arm.ArmRequest[] => [
      arm.putServerTrustCertificate(
        mi,
        endpointCertificate ?? sql.variables.certificateName.reference,
        publicBlob,
      ),
    ],
    exportInstanceCertificate: (): arm.ArmRequest[] => [arm.getEndpointCertificate(mi)],
    importInstanceCertificate: (blob?: Buffer): string[] => [sql.importInstanceCertificate(fqdn, blob)],
    importRootCertificates: (): string[] => ROOT_CERTIFICATES.map((root) => sql.importRootCertificate(root)),
    validateInstanceCertificate: (): string[] => [sql.validateCertificateChain(fqdn)],
    mirroringEndpoint: (): string[] => {
      const existing = facts.endpoint;
      if (!existing) return [sql.createEndpoint(request.sqlServer.endpointPort, names.certificateRef)];
      const ready =
        existing.started &&
        existing.port === request.sqlServer.endpointPort &&
        existing.certificateName !== null &&
        existing.encryptionRequiredOrSupported &&
        existing.algorithms.includes('AES');
      if (ready) return [];
      return [
        sql.alterEndpoint({
          name: existing.name,
          port: existing.port,
          // An endpoint that already authenticates with a certificate keeps it: the instance trusts that one.
          certificate: existing.certificateName ?? names.certificateRef,
          windowsAuth: existing.windowsAuth,
          keepRc4: existing.algorithms.includes('RC4'),
        }),
      ];
    },
    availabilityGroup: (): string[] => {
      const batches = [
        sql.createAvailabilityGroup({
          name: names.availabilityGroup,
          database: sqlPrimary ? request.database : null,
          serverName,
          endpointUrl: url,
          withClusterTypeNone: version === undefined || version > 2016,
        }),
      ];
      if (!sqlPrimary) batches.push(sql.grantCreateAnyDatabase(names.availabilityGroup));
      return batches;
    },
    distributedAvailabilityGroup: (): string[] => [
      sql.createDistributedAvailabilityGroup({
        name: names.link,
        availabilityGroup: names.availabilityGroup,
        instanceAvailabilityGroup: names.instanceAvailabilityGroup,
        sqlServerListenerUrl: url,
        instanceFqdn: fqdn,
        instanceName: mi.name,
        database: sqlPrimary ? null : request.database,
      }),
    ],
    createLink: (): arm.ArmRequest[] => [arm.putLink(mi, names.link, linkProperties(request, names))],
    waitForLink: (): arm.ArmRequest[] => [arm.getLink(mi, names.link)],
    verifyConnection: (): string[] => [sql.linkConnectionQuery(names.link)],
    firstLogBackup: (): string[] => [sql.logBackup(request.database, backupFile(request, 'log'))],
  };
}

export type StepStatements = ReturnType<typeof stepStatements>;

export function buildPlan(request: LinkRequest, facts: EstateFacts = {}): Plan {
  const s = stepStatements(request, facts);
  const sqlPrimary = request.initialPrimary === 'SqlServer';
  const server = request.sqlServer.serverName ?? facts.serverName ?? request.sqlServer.host;
  const mi = request.managedInstance.name;
  const steps: PlanStep[] = [
    {
      id: 'read-managed-instance',
      title: `Read managed instance ${mi}${sqlPrimary ? '' : ` and its database ${request.database}`}`,
      target: 'azure',
      arm: s.readInstance(),
    },
  ];
  if (sqlPrimary)
    steps.push({
      id: 'prepare-database',
      title: `Full recovery and a full backup for ${request.database}`,
      target: 'sqlserver',
      tsql: s.prepareDatabase(),
    });
  steps.push(
    {
      id: 'master-key',
      title: 'Database master key in master (if absent)',
      target: 'sqlserver',
      tsql: s.masterKey(),
    },
    {
      id: 'sqlserver-certificate',
      title: `SQL Server certificate ${s.names.certificate ?? 'Cert_<@@SERVERNAME>_endpoint'}, expiring ${request.certificateExpiry}`,
      target: 'sqlserver',
      tsql: s.sqlServerCertificate(),
    },
    {
      id: 'export-sqlserver-certificate',
      title: "Read SQL Server certificate's public part",
      target: 'sqlserver',
      tsql: s.exportSqlServerCertificate(),
    },
    {
      id: 'trust-sqlserver-certificate',
      title: `Trust SQL Server's certificate on ${mi}`,
      target: 'azure',
      arm: s.trustSqlServerCertificate(),
    },
    {
      id: 'export-instance-certificate',
      title: `Read ${mi}'s endpoint certificate`,
      target: 'azure',
      arm: s.exportInstanceCertificate(),
    },
    {
      id: 'import-instance-certificate',
      title: "Import the instance's certificate on SQL Server under the instance FQDN",
      target: 'sqlserver',
      tsql: s.importInstanceCertificate(),
    },
    {
      id: 'import-root-certificates',
      title: 'Import the MicrosoftPKI and DigiCertPKI roots with their issuer',
      target: 'sqlserver',
      tsql: s.importRootCertificates(),
    },
    {
      id: 'validate-instance-certificate',
      title: "Validate the instance certificate's chain",
      target: 'sqlserver',
      tsql: s.validateInstanceCertificate(),
    },
    {
      id: 'mirroring-endpoint',
      title: `Mirroring endpoint on port ${request.sqlServer.endpointPort}, certificate authentication and AES`,
      target: 'sqlserver',
      tsql: s.mirroringEndpoint(),
    },
    {
      id: 'availability-group',
      title: `Availability group ${s.names.availabilityGroup}${sqlPrimary ? ` for ${request.database}` : ' (the instance seeds the database)'}`,
      target: 'sqlserver',
      tsql: s.availabilityGroup(),
    },
    {
      id: 'distributed-availability-group',
      title: `Distributed availability group ${s.names.link}`,
      target: 'sqlserver',
      tsql: s.distributedAvailabilityGroup(),
    },
    {
      id: 'create-link',
      title: `Create the link ${s.names.link} on ${mi} (instance ${sqlPrimary ? 'secondary' : 'primary'})`,
      target: 'azure',
      arm: s.createLink(),
    },
    {
      id: 'wait-for-link',
      title: 'Wait for the link: seeding, catch-up, healthy',
      target: 'azure',
      arm: s.waitForLink(),
    },
    {
      id: 'verify-connection',
      title: `SQL Server ${server} shows the instance replica CONNECTED`,
      target: 'sqlserver',
      tsql: s.verifyConnection(),
    },
  );
  if (sqlPrimary && request.backupPath !== undefined)
    steps.push({
      id: 'first-log-backup',
      title: `First log backup of ${request.database} after seeding`,
      target: 'sqlserver',
      tsql: s.firstLogBackup(),
    });
  for (const step of steps) if (step.tsql && step.tsql.length === 0) delete step.tsql;

  const used = new Set<string>();
  const text = JSON.stringify(steps);
  for (const v of Object.values(sql.variables)) if (text.includes(v.reference)) used.add(v.name);
  const notes: string[] = [];
  for (const key of s.names.derived)
    notes.push(`names.${key} = ${s.names[key]} (derived from the runbook's convention)`);
  if (s.names.certificate === undefined)
    notes.push(
      'names.certificate = Cert_<@@SERVERNAME>_endpoint: read from SQL Server at run time ($(CertificateName))',
    );
  if ((request.sqlServer.version ?? facts.version) === undefined)
    notes.push(
      'SQL Server version read at run time; for SQL Server 2016 the availability group is created without CLUSTER_TYPE',
    );
  if (facts.endpoint === undefined)
    notes.push(
      'mirroring endpoint: created when SQL Server has none; an existing one is altered to certificate + AES at run time',
    );
  return {
    request,
    names: s.names,
    steps,
    variables: Object.values(sql.variables).filter((v) => used.has(v.name)),
    notes,
  };
}

/** The JSON plan: `{ steps: [ { id, title, target, tsql?, arm? } ] }`. */
export function planToJson(plan: Plan): { steps: PlanStep[] } {
  return {
    steps: plan.steps.map((s) => {
      const out: PlanStep = { id: s.id, title: s.title, target: s.target };
      if (s.tsql && s.tsql.length > 0) out.tsql = s.tsql;
      if (s.arm && s.arm.length > 0)
        out.arm = s.arm.map((r) =>
          r.body === undefined
            ? { method: r.method, path: r.path }
            : { method: r.method, path: r.path, body: r.body },
        );
      return out;
    }),
  };
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** An ARM request as an `az rest` command (POSIX shell quoting). */
export function azRestCommand(request: arm.ArmRequest): string {
  const parts = [
    'az rest',
    `--method ${request.method.toLowerCase()}`,
    `--url ${shellQuote(`https://management.azure.com${request.path}`)}`,
  ];
  if (request.body !== undefined) parts.push(`--body ${shellQuote(JSON.stringify(request.body))}`);
  return parts.join(' ');
}

/**
 * The reviewable script: T-SQL batches separated by GO, each step headed by a comment, values known only at
 * run time as sqlcmd variables, ARM steps as `az rest` commands run through sqlcmd's `!!`. It runs in SSMS's
 * SQLCMD mode or with `sqlcmd -v`.
 */
export function renderScript(plan: Plan): string {
  const r = plan.request;
  const out: string[] = [];
  out.push(
    `-- milink plan: link ${plan.names.link} for database ${r.database}`,
    `--   SQL Server ${r.sqlServer.serverName ?? r.sqlServer.host} (${r.sqlServer.host},${r.sqlServer.port}) -> managed instance ${r.managedInstance.name} (${r.managedInstance.resourceGroup})`,
    `--   initial primary: ${r.initialPrimary}; failover mode: ${r.failoverMode}`,
    '--',
    '-- Run in SSMS with Query > SQLCMD Mode, or:',
    `--   sqlcmd -S ${r.sqlServer.host},${r.sqlServer.port} -i plan.sql ${plan.variables.map((v) => `-v ${v.name}="..."`).join(' ')}`.trimEnd(),
    '-- Lines starting with !! run az rest (Azure CLI, signed in to the subscription) in a POSIX shell.',
  );
  if (plan.variables.length > 0) {
    out.push('--', "-- Values known only at run time (sqlcmd variables; double any ' inside a value):");
    for (const v of plan.variables) out.push(`--   $(${v.name}): ${v.description}`);
  }
  if (plan.notes.length > 0) {
    out.push('--', '-- Notes:');
    for (const n of plan.notes) out.push(`--   ${n}`);
  }
  out.push('', ':on error exit', '');
  plan.steps.forEach((step, i) => {
    out.push(`-- ==== Step ${i + 1}/${plan.steps.length}: ${step.id} — ${step.title}`);
    out.push(
      `-- Runs on: ${step.target === 'sqlserver' ? `SQL Server ${r.sqlServer.serverName ?? r.sqlServer.host}` : 'Azure Resource Manager'}`,
    );
    if (step.target === 'sqlserver' && !step.tsql)
      out.push('-- Nothing to do: the estate already has what this step makes.');
    for (const batch of step.tsql ?? []) out.push(batch, 'GO');
    for (const request of step.arm ?? []) out.push(`!! ${azRestCommand(request)}`);
    out.push('');
  });
  return out.join('\n');
}
