import * as arm from '../../azure/arm-requests.js';
import { asLinkList } from '../../azure/link-resource.js';
import { chooseLinkName, deriveNames, linksToInstance, sameName } from '../../link/names.js';
import { MIN_BUILD, versionProblems } from '../../link/versions.js';
import * as catalog from '../../sql/catalog.js';
import { endpointPortProblem } from '../steps/mirroring-endpoint.js';
import { defineCheck, type PreflightIo } from '../preflight.js';

/** The checks before a link is created, in order: the instance, SQL Server, the database, names, what steps need. */

/** The limit of links per General Purpose / Business Critical instance (health-checks.md: "100 links per GP/BC instance"). */
export const LINKS_PER_INSTANCE = 100;
export const RECOMMENDED_TRACE_FLAGS = [1800, 9567, 12381];

export const instanceChecks = defineCheck({
  id: 'instance',
  async run(io) {
    const instance = await io.instance();
    if (!instance) return;
    const mi = io.request.managedInstance;
    if (mi.fqdn && instance.fqdn && !sameName(mi.fqdn, instance.fqdn))
      io.fail(
        'instance-fqdn',
        'azure',
        `managedInstance.fqdn is ${mi.fqdn} but the instance's FQDN is ${instance.fqdn}`,
        'correct managedInstance.fqdn or leave it out',
      );
    if (instance.state && instance.state !== 'Ready')
      io.fail(
        'instance-ready',
        'azure',
        `managed instance ${mi.name} is ${instance.state}, not Ready`,
        'wait until the instance is Ready, then re-run',
      );
    const policy = instance.databaseFormat ?? 'AlwaysUpToDate';
    if (io.request.failoverMode === 'Manual' && policy === 'AlwaysUpToDate')
      io.fail(
        'update-policy',
        'azure',
        `failoverMode Manual (two-way) needs the instance's SQL Server 2022 or 2025 update policy; ${mi.name} has ${policy}`,
        "set the instance's update policy to SQL Server 2022 (or use failoverMode None)",
      );
    if (!io.link.sqlPrimary && policy === 'AlwaysUpToDate')
      io.fail(
        'update-policy',
        'azure',
        `a link with the instance as initial primary needs the SQL Server 2022 update policy; ${mi.name} has ${policy}`,
        "set the instance's update policy to SQL Server 2022",
      );
    if (instance.databaseOnInstance === false)
      io.fail(
        'database-on-instance',
        'azure',
        `database ${io.request.database} does not exist on ${mi.name}`,
        'with the instance as initial primary the database must exist on the instance',
      );
  },
});

/** milink's login must be a sysadmin on SQL Server (every operation's preflight asks). */
export function requireSysadmin(io: PreflightIo, info: catalog.ServerInfo): void {
  if (!info.isSysadmin)
    io.fail(
      'sysadmin',
      'sqlserver',
      `login ${io.request.sqlServer.login} is not a member of sysadmin`,
      'milink needs a sysadmin login (see docs/deploy.md)',
    );
}

export const sqlServerChecks = defineCheck({
  id: 'sqlserver',
  async run(io) {
    const info = await io.server();
    if (!info) return;
    const r = io.request;
    requireSysadmin(io, info);
    const min = info.year !== undefined ? MIN_BUILD[info.year] : undefined;
    if (!min)
      io.fail(
        'version',
        'sqlserver',
        `SQL Server ${info.productVersion} is not supported by the link`,
        'use SQL Server 2016 SP3 or later',
      );
    else if (info.build < min.build)
      io.fail(
        'version',
        'sqlserver',
        `SQL Server ${info.productVersion} is older than ${min.label}`,
        `update SQL Server to at least ${min.label}`,
      );
    for (const p of versionProblems(r, info.year, info.build, `SQL Server ${info.productVersion}`))
      io.fail('version', 'sqlserver', p.message, p.advice);
    if (r.sqlServer.version !== undefined && info.year !== undefined && r.sqlServer.version !== info.year)
      io.fail(
        'version',
        'sqlserver',
        `sqlServer.version says ${r.sqlServer.version} but the server is SQL Server ${info.year} (${info.productVersion})`,
        'correct sqlServer.version or leave it out',
      );
    if (r.sqlServer.serverName !== undefined && !sameName(r.sqlServer.serverName, info.serverName))
      io.fail(
        'server-name',
        'sqlserver',
        `sqlServer.serverName is ${r.sqlServer.serverName} but @@SERVERNAME is ${info.serverName}`,
        'correct sqlServer.serverName or leave it out',
      );
    if (!info.hadrEnabled)
      io.fail(
        'hadr',
        'sqlserver',
        'Always On availability groups are not enabled on SQL Server',
        'enable Always On in SQL Server Configuration Manager and restart the service',
        '35220',
      );
    const instance = await io.instance();
    if (instance?.collation && info.collation && !sameName(instance.collation, info.collation))
      io.fail(
        'collation',
        'sqlserver',
        `SQL Server's collation ${info.collation} differs from the instance's ${instance.collation}`,
        'the link needs the same collation on both sides',
      );
  },
});

export const databaseChecks = defineCheck({
  id: 'database',
  async run(io) {
    if (!(await io.server())) return;
    const r = io.request;
    const db = await io.database();
    if (!io.link.sqlPrimary) {
      if (!db) return;
      const requested = deriveNames({
        database: r.database,
        serverName: r.sqlServer.serverName,
        names: r.names,
      });
      const inOurAg = (await io.groups()).some(
        (g) =>
          !g.isDistributed &&
          sameName(g.name, requested.availabilityGroup) &&
          g.databases.some((d) => sameName(d, db.name)),
      );
      if (!inOurAg)
        io.fail(
          'database',
          'sqlserver',
          `database ${r.database} already exists on SQL Server`,
          'with the instance as initial primary the database must not exist on SQL Server: drop or rename it',
        );
      return;
    }
    if (!db) {
      io.fail(
        'database',
        'sqlserver',
        `database ${r.database} does not exist on SQL Server`,
        'check the database name (it is case-sensitive on some collations)',
      );
      return;
    }
    if (db.databaseId <= 4)
      io.fail(
        'database',
        'sqlserver',
        `${r.database} is a system database`,
        'the link replicates user databases only',
      );
    if (db.state !== 'ONLINE')
      io.fail('database', 'sqlserver', `database ${r.database} is ${db.state}`, 'bring the database online');
    if (db.logFiles !== 1)
      io.fail(
        'database',
        'sqlserver',
        `database ${r.database} has ${db.logFiles} log files`,
        'the link needs exactly one log file',
        'ManagedInstanceLinkSourceDbHasMultipleLogFiles',
      );
    if (db.filestream)
      io.fail(
        'database',
        'sqlserver',
        `database ${r.database} uses FILESTREAM`,
        'databases with FILESTREAM cannot be linked',
        'ManagedInstanceLinkSourceDbHasFilestream',
      );
    if (db.memoryOptimized)
      io.fail(
        'database',
        'sqlserver',
        `database ${r.database} has a memory-optimized filegroup`,
        'databases with In-Memory OLTP cannot be linked',
        'ManagedInstanceLinkSourceDbHasHekatonFile',
      );
    if (db.recoveryModel !== 'FULL')
      io.warn(
        'recovery-model',
        'sqlserver',
        `database ${r.database} is in ${db.recoveryModel} recovery`,
        'prepare-database sets FULL recovery and takes a full backup',
      );
    else if (!db.hasFullBackup)
      io.warn(
        'backup-chain',
        'sqlserver',
        `database ${r.database} has no full backup in FULL recovery (error 1475 otherwise)`,
        'prepare-database takes one',
      );
  },
});

/** The AG (reused when the database already has one) and the link's name on SQL Server (DAG2_<db>, … for a further link). */
export const nameChecks = defineCheck({
  id: 'names',
  async run(io) {
    if (!(await io.server())) return;
    const r = io.request;
    const requested = deriveNames({
      database: r.database,
      serverName: r.sqlServer.serverName,
      names: r.names,
    });
    const groups = await io.groups();
    const db = await io.database();
    const plain = groups.filter((g) => !g.isDistributed);
    const holding = db ? plain.find((g) => g.databases.some((d) => sameName(d, r.database))) : undefined;
    let agName = requested.availabilityGroup;
    if (holding && io.link.sqlPrimary) {
      if (r.names?.availabilityGroup && !sameName(r.names.availabilityGroup, holding.name))
        io.fail(
          'names-free',
          'sqlserver',
          `database ${r.database} is already in availability group ${holding.name}, not ${r.names.availabilityGroup}`,
          `leave names.availabilityGroup out (milink reuses ${holding.name}) or give ${holding.name}`,
        );
      agName = holding.name;
      if (holding.name !== requested.availabilityGroup)
        io.facts.names = { ...io.facts.names, availabilityGroup: holding.name };
    } else {
      const taken = plain.find((g) => sameName(g.name, agName));
      if (taken && io.link.sqlPrimary && !taken.databases.some((d) => sameName(d, r.database)))
        io.fail(
          'names-free',
          'sqlserver',
          `availability group ${agName} exists for other databases (${taken.databases.join(', ') || 'none'})`,
          'choose another names.availabilityGroup',
        );
    }
    const fqdn = r.managedInstance.fqdn ?? io.facts.fqdn;
    const link = chooseLinkName(requested.link, r.names?.link !== undefined, agName, groups, fqdn);
    if (r.names?.link) {
      const existing = groups.find((g) => sameName(g.name, link));
      if (existing && (!existing.isDistributed || !linksToInstance(existing, fqdn)))
        io.fail(
          'names-free',
          'sqlserver',
          `an availability group named ${link} already exists on SQL Server for another purpose`,
          'choose another names.link',
        );
    } else if (link !== requested.link) io.facts.names = { ...io.facts.names, link };
  },
});

export const masterKeySecretCheck = defineCheck({
  id: 'master-key-secret',
  async run(io) {
    if (!(await io.server())) return;
    // the master-key step needs its password when SQL Server has no master key yet: a missing or unreadable
    // secret stops the run here, before anything changes
    if (!(await catalog.hasMasterKey(await io.sql()))) await io.secret(io.request.sqlServer.masterKeySecret);
  },
});

export const endpointCheck = defineCheck({
  id: 'endpoint-port',
  async run(io) {
    if (!(await io.server())) return;
    const endpoint = await catalog.readEndpoint(await io.sql());
    io.facts.endpoint = endpoint;
    const problem = endpointPortProblem(io.link, endpoint);
    if (problem) io.fail('endpoint-port', 'sqlserver', problem.message, problem.advice);
  },
});

export const traceFlagCheck = defineCheck({
  id: 'trace-flags',
  async run(io) {
    if (!(await io.server())) return;
    const flags = await catalog.readTraceFlags(await io.sql(), RECOMMENDED_TRACE_FLAGS);
    for (const flag of RECOMMENDED_TRACE_FLAGS)
      if (!flags.has(flag))
        io.warn(
          'trace-flags',
          'sqlserver',
          `trace flag ${flag} is not enabled globally`,
          flag === 12381
            ? 'enable 12381: it prevents log truncation during seeding (errors 1408/1412)'
            : flag === 9567
              ? 'enable 9567: it compresses seeding traffic'
              : 'enable 1800: it aligns log sector sizes',
        );
  },
});

/** The instance's links, checked against the link's final name (SQL Server decided it above). */
export const instanceLinkChecks = defineCheck({
  id: 'instance-links',
  reads: (l) => ({ links: arm.listLinks(l.mi) }),
  async run(io) {
    const links = await io.instanceLinks();
    if (!links) return;
    const r = io.request;
    const name = io.link.names.link;
    const requested = deriveNames({
      database: r.database,
      serverName: r.sqlServer.serverName,
      names: r.names,
    });
    const ours = links.find((l) => sameName(l.name, name));
    if (!ours && links.length >= LINKS_PER_INSTANCE)
      io.fail(
        'link-count',
        'azure',
        `${r.managedInstance.name} already has ${links.length} links (the limit is ${LINKS_PER_INSTANCE})`,
        'drop links that are no longer needed or use another instance',
      );
    const agClash = links.find(
      (l) =>
        !sameName(l.name, name) &&
        sameName(l.properties?.instanceAvailabilityGroupName, requested.instanceAvailabilityGroup),
    );
    if (agClash)
      io.fail(
        'names-free',
        'azure',
        `the instance availability group name ${requested.instanceAvailabilityGroup} is used by link ${agClash.name}`,
        'choose another names.instanceAvailabilityGroup',
        'CloudLifterChimeraMIAgNameIsAlreadyUsed',
      );
    if (ours && (ours.properties?.databases ?? []).every((d) => !sameName(d.databaseName, r.database)))
      io.fail(
        'names-free',
        'azure',
        `a link named ${ours.name} already exists on ${r.managedInstance.name} for another database`,
        'choose another names.link',
      );
  },
});

/** Reads every page of an instance's links. */
export async function listInstanceLinks(io: Pick<PreflightIo, 'arm' | 'link'>) {
  const first = instanceLinkChecks.reads!(io.link).links!;
  const out = [];
  let page = asLinkList((await io.arm.call(first, `listing links on ${io.link.mi.name}`)).json);
  out.push(...page.links);
  while (page.nextLink) {
    page = asLinkList((await io.arm.send({ method: 'GET', url: page.nextLink })).json);
    out.push(...page.links);
  }
  return out;
}

export const createLinkChecks = [
  instanceChecks,
  sqlServerChecks,
  databaseChecks,
  nameChecks,
  masterKeySecretCheck,
  endpointCheck,
  traceFlagCheck,
  instanceLinkChecks,
];
