import * as arm from '../azure/arm-requests.js';
import { backupFile, stepStatements, type StepId } from '../link/plan.js';
import type { StepReport } from '../link/status.js';
import * as catalog from '../sql/catalog.js';
import { normaliseHex } from '../sql/quote.js';
import { ROOT_CERTIFICATES } from '../sql/roots.js';
import { SqlStepError } from '../sql/session.js';
import * as sql from '../sql/statements.js';
import { defineActivity, StepContext, StepProblem } from './common.js';

/**
 * The runbook's step families as activities. Each inspects first, acts only where something is missing,
 * and reports what it found and what it changed.
 */

function report(steps: StepId[]): StepReport {
  return { steps, found: [], changed: [] };
}

/** The certificate the mirroring endpoint authenticates with (an existing endpoint keeps its own). */
function endpointCertificateName(ctx: StepContext): string {
  const name = ctx.statements.endpointCertificate;
  if (!name)
    throw new StepProblem(
      'milink',
      'NoServerName',
      'the certificate name depends on @@SERVERNAME, which preflight did not read',
      're-run the request',
    );
  return name;
}

// ---------------------------------------------------------------- prepare-database

export async function prepareDatabase(ctx: StepContext): Promise<StepReport> {
  const out = report(['prepare-database']);
  const session = await ctx.sql();
  const db = await catalog.readDatabase(session, ctx.request.database);
  if (!db)
    throw new StepProblem(
      'sqlserver',
      'DatabaseNotFound',
      `database ${ctx.request.database} does not exist`,
      'check the database name',
    );
  const [recovery, backup] = ctx.statements.prepareDatabase();
  let switched = false;
  if (db.recoveryModel !== 'FULL') {
    await ctx.run(recovery!);
    out.changed.push(`recovery model ${db.recoveryModel} -> FULL`);
    switched = true;
  } else out.found.push('FULL recovery');
  if (!db.hasFullBackup || switched) {
    await ctx.run(backup!);
    out.changed.push(`full backup to ${backupFile(ctx.request, 'full')}`);
  } else out.found.push('a full backup in FULL recovery');
  return out;
}

// ---------------------------------------------------------------- master key and SQL Server certificate

export async function ensureMasterKey(ctx: StepContext): Promise<StepReport> {
  const out = report(['master-key']);
  if (await catalog.hasMasterKey(await ctx.sql())) {
    out.found.push('master key in master');
    return out;
  }
  const password = await ctx.secret(ctx.request.sqlServer.masterKeySecret);
  await ctx.run(ctx.statements.masterKey()[0]!, { [sql.variables.masterKeyPassword.name]: password });
  out.changed.push(
    `master key created (password from Key Vault secret ${ctx.request.sqlServer.masterKeySecret})`,
  );
  return out;
}

export async function ensureSqlServerCertificate(ctx: StepContext): Promise<StepReport> {
  const out = report(['sqlserver-certificate']);
  const name = ctx.statements.names.certificate!;
  const existing = await catalog.readCertificate(await ctx.sql(), name);
  if (existing) {
    out.found.push(`certificate ${name}, expiring ${existing.expiryDate.toISOString().slice(0, 10)}`);
    return out;
  }
  await ctx.run(ctx.statements.sqlServerCertificate()[0]!);
  out.changed.push(`certificate ${name} created, expiring ${ctx.request.certificateExpiry}`);
  return out;
}

// ---------------------------------------------------------------- trust on the instance

interface TrustCertificate {
  name: string;
  properties?: { publicBlob?: string; thumbprint?: string };
}

export async function trustSqlServerCertificate(ctx: StepContext): Promise<StepReport> {
  const out = report(['export-sqlserver-certificate', 'trust-sqlserver-certificate']);
  ctx.step = 'export-sqlserver-certificate';
  const name = endpointCertificateName(ctx);
  const cert = await catalog.readCertificate(await ctx.sql(), name);
  if (!cert)
    throw new StepProblem(
      'sqlserver',
      '15151',
      `certificate ${name} does not exist on SQL Server`,
      're-run: sqlserver-certificate creates it',
    );
  out.found.push(`certificate ${name} (${cert.der.length} bytes)`);
  ctx.step = 'trust-sqlserver-certificate';
  const mi = ctx.request.managedInstance;
  const list = await ctx.azure.arm.call(
    arm.listServerTrustCertificates(mi),
    `listing certificates trusted by ${mi.name}`,
  );
  const ours = cert.der.toString('hex').toUpperCase();
  const trusted = ((list.json as { value?: TrustCertificate[] }).value ?? []).find((t) => {
    try {
      return t.properties?.publicBlob !== undefined && normaliseHex(t.properties.publicBlob) === ours;
    } catch {
      return false;
    }
  });
  if (trusted) {
    out.found.push(`${mi.name} trusts it as ${trusted.name}`);
    return out;
  }
  const put = ctx.statements.trustSqlServerCertificate(`0x${ours}`)[0]!;
  await ctx.change(put, `uploading certificate ${name} to ${mi.name}`);
  out.changed.push(`${mi.name} now trusts ${name}`);
  return out;
}

// ---------------------------------------------------------------- the instance certificate and the roots on SQL Server

export async function trustInstanceCertificate(ctx: StepContext): Promise<StepReport> {
  const out = report([
    'export-instance-certificate',
    'import-instance-certificate',
    'import-root-certificates',
    'validate-instance-certificate',
  ]);
  const mi = ctx.request.managedInstance;
  ctx.step = 'export-instance-certificate';
  const request = ctx.statements.exportInstanceCertificate()[0]!;
  const response = await ctx.azure.arm.call(request, `reading ${mi.name}'s endpoint certificate`);
  const blob = (response.json as { properties?: { publicBlob?: string } }).properties?.publicBlob;
  if (!blob)
    throw new StepProblem(
      'azure',
      'NoPublicBlob',
      `${mi.name} answered without its endpoint certificate`,
      're-run later',
    );
  const der = Buffer.from(normaliseHex(blob), 'hex');
  out.found.push(`${mi.name}'s endpoint certificate (${der.length} bytes)`);

  ctx.step = 'import-instance-certificate';
  const fqdn = ctx.statements.fqdn as string;
  const session = await ctx.sql();
  const importIt = async () => {
    const existing = await catalog.readCertificate(session, fqdn);
    if (existing && existing.der.equals(der)) {
      out.found.push(`certificate ${fqdn} on SQL Server`);
      return;
    }
    if (existing) {
      await ctx.run(sql.dropCertificate(fqdn));
      out.changed.push(`dropped the outdated certificate ${fqdn} (the instance rotated its certificate)`);
    }
    await ctx.run(ctx.statements.importInstanceCertificate(der)[0]!);
    out.changed.push(`imported ${mi.name}'s certificate as ${fqdn}`);
  };
  await importIt();

  ctx.step = 'import-root-certificates';
  const names = await catalog.certificateNames(session);
  const batches = ctx.statements.importRootCertificates();
  for (const [i, root] of ROOT_CERTIFICATES.entries()) {
    if (names.has(root.name)) out.found.push(`root ${root.name}`);
    else {
      await ctx.run(batches[i]!);
      out.changed.push(`imported root ${root.name} for ${root.issuerPattern}`);
    }
  }

  ctx.step = 'validate-instance-certificate';
  const validate = ctx.statements.validateInstanceCertificate()[0]!;
  if (ctx.dryRun && out.changed.length > 0) {
    out.changed.push(`validate the chain of ${fqdn}`);
    return out;
  }
  try {
    await ctx.run(validate);
  } catch (e) {
    if (!(e instanceof SqlStepError) || e.transient) throw e;
    // The runbook's remedy: drop and re-import the instance certificate, then validate again.
    await ctx.run(sql.dropCertificate(fqdn));
    await ctx.run(ctx.statements.importInstanceCertificate(der)[0]!);
    out.changed.push(`re-imported ${fqdn} after a failed chain validation`);
    await ctx.run(validate);
  }
  out.found.push(`the chain of ${fqdn} validates`);
  return out;
}

// ---------------------------------------------------------------- mirroring endpoint

export async function ensureEndpoint(ctx: StepContext): Promise<StepReport> {
  const out = report(['mirroring-endpoint']);
  const current = await catalog.readEndpoint(await ctx.sql());
  if (current && current.port !== ctx.request.sqlServer.endpointPort)
    throw new StepProblem(
      'sqlserver',
      'EndpointPort',
      `the mirroring endpoint ${current.name} listens on ${current.port}, not ${ctx.request.sqlServer.endpointPort}`,
      `set sqlServer.endpointPort to ${current.port}`,
    );
  // Decide with what is there now (a re-run after a crash sees the endpoint this step created).
  const fresh = stepStatements(ctx.request, { ...ctx.input.facts, endpoint: current }).mirroringEndpoint();
  if (fresh.length === 0) {
    out.found.push(`endpoint ${current!.name} on ${current!.port}: started, certificate authentication, AES`);
    return out;
  }
  await ctx.run(fresh[0]!);
  out.changed.push(
    current
      ? `altered endpoint ${current.name} to certificate authentication and AES (Windows authentication kept: ${current.windowsAuth ?? 'none'})`
      : `created endpoint ${sql.DEFAULT_ENDPOINT_NAME} on ${ctx.request.sqlServer.endpointPort}`,
  );
  return out;
}

// ---------------------------------------------------------------- availability groups

export async function ensureAvailabilityGroup(ctx: StepContext): Promise<StepReport> {
  const out = report(['availability-group']);
  const names = ctx.statements.names;
  const groups = await catalog.readAvailabilityGroups(await ctx.sql());
  const ag = groups.find(
    (g) => !g.isDistributed && g.name.toLowerCase() === names.availabilityGroup.toLowerCase(),
  );
  const [create, grant] = ctx.statements.availabilityGroup();
  if (ag)
    out.found.push(
      `availability group ${ag.name}${ag.databases.length ? ` with ${ag.databases.join(', ')}` : ''}`,
    );
  else {
    await ctx.run(create!);
    out.changed.push(`created availability group ${names.availabilityGroup}`);
  }
  if (grant) {
    const dagExists = groups.some(
      (g) => g.isDistributed && g.name.toLowerCase() === names.link.toLowerCase(),
    );
    if (!ag || !dagExists) {
      await ctx.run(grant);
      out.changed.push(`granted CREATE ANY DATABASE to ${names.availabilityGroup}`);
    }
  }
  return out;
}

export async function ensureDistributedAvailabilityGroup(ctx: StepContext): Promise<StepReport> {
  const out = report(['distributed-availability-group']);
  const names = ctx.statements.names;
  const session = await ctx.sql();
  const named = (groups: catalog.AvailabilityGroupInfo[]) =>
    groups.find((g) => g.name.toLowerCase() === names.link.toLowerCase());
  let dag = named(await catalog.readAvailabilityGroups(session));
  if (!dag) {
    await ctx.run(ctx.statements.distributedAvailabilityGroup()[0]!);
    out.changed.push(`created distributed availability group ${names.link}`);
    if (ctx.dryRun) return out;
    // The batch is guarded: if another run created a DAG of this name meanwhile, it did nothing. Check it.
    dag = named(await catalog.readAvailabilityGroups(session));
    if (!dag) return out;
  }
  const members = dag.replicas.map((r) => r.replicaServerName.toLowerCase());
  if (
    !dag.isDistributed ||
    !members.includes(names.availabilityGroup.toLowerCase()) ||
    !members.includes(names.instanceAvailabilityGroup.toLowerCase())
  )
    throw new StepProblem(
      'sqlserver',
      'DagMismatch',
      `availability group ${dag.name} exists but is not this link's (members: ${members.join(', ')})`,
      `drop it or choose another names.link`,
    );
  // Same member names but another instance's listener: a link of this database to another instance made it
  // (two requests at once both chose this name). Using it would point this link at that instance.
  const fqdn = typeof ctx.statements.fqdn === 'string' ? ctx.statements.fqdn.toLowerCase() : undefined;
  const instanceReplica = dag.replicas.find(
    (r) => r.replicaServerName.toLowerCase() === names.instanceAvailabilityGroup.toLowerCase(),
  );
  if (fqdn && instanceReplica && !instanceReplica.endpointUrl.toLowerCase().startsWith(`tcp://${fqdn}:`))
    throw new StepProblem(
      'sqlserver',
      'DagMismatch',
      `distributed availability group ${dag.name} already links ${ctx.request.database} to another instance (${instanceReplica.endpointUrl})`,
      'another link of this database was created at the same time: re-run this request (milink then names this link DAG2_<db> or the next free name)',
    );
  if (out.changed.length === 0) out.found.push(`distributed availability group ${dag.name}`);
  return out;
}

// ---------------------------------------------------------------- first log backup

export async function firstLogBackup(ctx: StepContext, since: Date): Promise<StepReport> {
  const out = report(['first-log-backup']);
  const session = await ctx.sql();
  // A later run (a re-post) finds the backup taken after seeding finished, not only one taken since it began.
  const seedingEnd = (await catalog.readSeeding(session, ctx.request.database))?.endTime;
  const from = seedingEnd && seedingEnd.getTime() < since.getTime() ? seedingEnd : since;
  const taken = await catalog.logBackupsSince(session, ctx.request.database, from);
  if (taken > 0) {
    out.found.push(`${taken} log backup(s) since seeding finished`);
    return out;
  }
  await ctx.run(ctx.statements.firstLogBackup()[0]!);
  out.changed.push(`log backup to ${backupFile(ctx.request, 'log')}`);
  return out;
}

defineActivity('prepareDatabase', 'prepare-database', prepareDatabase);
defineActivity('ensureMasterKey', 'master-key', ensureMasterKey);
defineActivity('ensureSqlServerCertificate', 'sqlserver-certificate', ensureSqlServerCertificate);
defineActivity('trustSqlServerCertificate', 'export-sqlserver-certificate', trustSqlServerCertificate);
defineActivity('trustInstanceCertificate', 'export-instance-certificate', trustInstanceCertificate);
defineActivity('ensureEndpoint', 'mirroring-endpoint', ensureEndpoint);
defineActivity('ensureAvailabilityGroup', 'availability-group', ensureAvailabilityGroup);
defineActivity(
  'ensureDistributedAvailabilityGroup',
  'distributed-availability-group',
  ensureDistributedAvailabilityGroup,
);
defineActivity('firstLogBackup', 'first-log-backup', (ctx) =>
  firstLogBackup(ctx, new Date(ctx.input.since ?? 0)),
);
