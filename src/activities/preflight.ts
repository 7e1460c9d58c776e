import * as arm from '../azure/arm-requests.js';
import { ArmError } from '../azure/errors.js';
import { deriveNames } from '../link/names.js';
import { partnerEndpoint, type EstateFacts } from '../link/plan.js';
import type { PreflightProblem } from '../link/status.js';
import * as catalog from '../sql/catalog.js';
import { SqlStepError } from '../sql/session.js';
import { defineActivity, describeError, StepContext } from './common.js';

/** Minimum builds by version (the link's support matrix). */
const MIN_BUILD: Record<number, { build: number; label: string }> = {
  2016: { build: 6300, label: 'SQL Server 2016 SP3 (13.0.6300) with the Azure Connect pack' },
  2017: { build: 3456, label: 'SQL Server 2017 CU31 (14.0.3456) with the Azure Connect pack' },
  2019: { build: 4312, label: 'SQL Server 2019 CU20 (15.0.4312)' },
  2022: { build: 1000, label: 'SQL Server 2022 RTM' },
  2025: { build: 1000, label: 'SQL Server 2025 RTM' },
};
/** SQL Server 2022 CU10: the first build that takes a link with the instance as initial primary. */
const SQL2022_CU10_BUILD = 4095;
export const LINKS_PER_INSTANCE = 100;
export const RECOMMENDED_TRACE_FLAGS = [1800, 9567, 12381];

export interface PreflightResult {
  facts: EstateFacts;
  failures: PreflightProblem[];
  warnings: PreflightProblem[];
}

interface InstanceProperties {
  fullyQualifiedDomainName?: string;
  collation?: string;
  state?: string;
  databaseFormat?: string;
}

interface LinkResource {
  name: string;
  properties?: {
    partnerAvailabilityGroupName?: string;
    instanceAvailabilityGroupName?: string;
    databases?: Array<{ databaseName?: string }>;
  };
}

function problemFrom(e: unknown, check: string): PreflightProblem {
  const known = describeError(e);
  if (known && known.target !== 'milink' && (e instanceof SqlStepError || e instanceof ArmError))
    return { check, ...known, target: known.target };
  return {
    check,
    target: 'sqlserver',
    message: (e as Error).message,
    advice: 'see the logs, fix the cause and re-run',
  };
}

/** Everything checked before any change, all failures reported together. Reads only. */
export async function preflight(ctx: StepContext): Promise<PreflightResult> {
  const r = ctx.request;
  const mi = r.managedInstance;
  const sqlPrimary = r.initialPrimary === 'SqlServer';
  const failures: PreflightProblem[] = [];
  const warnings: PreflightProblem[] = [];
  const facts: EstateFacts = { names: {} };
  const fail = (
    check: string,
    target: PreflightProblem['target'],
    message: string,
    advice: string,
    code?: string,
  ) => failures.push({ check, target, message, advice, ...(code ? { code } : {}) });
  const requested = deriveNames({ database: r.database, serverName: r.sqlServer.serverName, names: r.names });

  // ---- Azure: the instance, its links, its database (instance as primary)
  let instance: InstanceProperties | undefined;
  let links: LinkResource[] = [];
  try {
    instance = (
      (await ctx.azure.arm.call(arm.getManagedInstance(mi), `reading managed instance ${mi.name}`)).json as {
        properties?: InstanceProperties;
      }
    ).properties;
    links =
      (
        (await ctx.azure.arm.call(arm.listLinks(mi), `listing links on ${mi.name}`)).json as {
          value?: LinkResource[];
        }
      ).value ?? [];
  } catch (e) {
    failures.push(problemFrom(e, 'instance-reachable'));
  }
  if (instance) {
    facts.fqdn = instance.fullyQualifiedDomainName;
    if (
      mi.fqdn &&
      instance.fullyQualifiedDomainName &&
      mi.fqdn.toLowerCase() !== instance.fullyQualifiedDomainName.toLowerCase()
    )
      fail(
        'instance-fqdn',
        'azure',
        `managedInstance.fqdn is ${mi.fqdn} but the instance's FQDN is ${instance.fullyQualifiedDomainName}`,
        'correct managedInstance.fqdn or leave it out',
      );
    if (instance.state && instance.state !== 'Ready')
      fail(
        'instance-ready',
        'azure',
        `managed instance ${mi.name} is ${instance.state}, not Ready`,
        'wait until the instance is Ready, then re-run',
      );
    const policy = instance.databaseFormat ?? 'AlwaysUpToDate';
    if (r.failoverMode === 'Manual' && policy === 'AlwaysUpToDate')
      fail(
        'update-policy',
        'azure',
        `failoverMode Manual (two-way) needs the instance's SQL Server 2022 or 2025 update policy; ${mi.name} has ${policy}`,
        "set the instance's update policy to SQL Server 2022 (or use failoverMode None)",
      );
    if (!sqlPrimary && policy === 'AlwaysUpToDate')
      fail(
        'update-policy',
        'azure',
        `a link with the instance as initial primary needs the SQL Server 2022 update policy; ${mi.name} has ${policy}`,
        "set the instance's update policy to SQL Server 2022",
      );
    if (!sqlPrimary) {
      const db = await ctx.azure.arm.send(arm.getManagedDatabase(mi, r.database));
      if (db.status === 404)
        fail(
          'database-on-instance',
          'azure',
          `database ${r.database} does not exist on ${mi.name}`,
          'with the instance as initial primary the database must exist on the instance',
        );
      else if (db.status >= 400)
        failures.push(
          problemFrom(
            ArmError.fromResponse(
              db.status,
              db.json,
              `reading database ${r.database}`,
              arm.getManagedDatabase(mi, r.database),
            ),
            'database-on-instance',
          ),
        );
    }
  }

  // The instance's links, checked against the link's final name: SQL Server decides it (DAG2_<db>, … for a
  // further link of a database), so these checks run once that is known.
  const checkLinks = (linkName: string): void => {
    if (!instance) return;
    const ours = links.find((l) => l.name.toLowerCase() === linkName.toLowerCase());
    if (!ours && links.length >= LINKS_PER_INSTANCE)
      fail(
        'link-count',
        'azure',
        `${mi.name} already has ${links.length} links (the limit is ${LINKS_PER_INSTANCE})`,
        'drop links that are no longer needed or use another instance',
      );
    const agClash = links.find(
      (l) =>
        l.name.toLowerCase() !== linkName.toLowerCase() &&
        l.properties?.instanceAvailabilityGroupName?.toLowerCase() ===
          requested.instanceAvailabilityGroup.toLowerCase(),
    );
    if (agClash)
      fail(
        'names-free',
        'azure',
        `the instance availability group name ${requested.instanceAvailabilityGroup} is used by link ${agClash.name}`,
        'choose another names.instanceAvailabilityGroup',
        'CloudLifterChimeraMIAgNameIsAlreadyUsed',
      );
    if (ours && (ours.properties?.databases ?? []).every((d) => d.databaseName !== r.database))
      fail(
        'names-free',
        'azure',
        `a link named ${ours.name} already exists on ${mi.name} for another database`,
        'choose another names.link',
      );
  };

  // ---- SQL Server
  let info: catalog.ServerInfo;
  const session = await ctx.sql().catch((e) => {
    failures.push(problemFrom(e, 'sqlserver-login'));
    return undefined;
  });
  if (!session) {
    checkLinks(requested.link);
    return { facts, failures, warnings };
  }
  try {
    info = await catalog.readServerInfo(session);
  } catch (e) {
    const loginFailed = e instanceof SqlStepError && e.number === 18456;
    failures.push(problemFrom(e, loginFailed ? 'sqlserver-login' : 'sqlserver-reachable'));
    checkLinks(requested.link);
    return { facts, failures, warnings };
  }
  facts.serverName = info.serverName;
  facts.version = info.year;
  if (!info.isSysadmin)
    fail(
      'sysadmin',
      'sqlserver',
      `login ${r.sqlServer.login} is not a member of sysadmin`,
      'milink needs a sysadmin login (see docs/deploy.md)',
    );
  const min = info.year !== undefined ? MIN_BUILD[info.year] : undefined;
  if (!min)
    fail(
      'version',
      'sqlserver',
      `SQL Server ${info.productVersion} is not supported by the link`,
      'use SQL Server 2016 SP3 or later',
    );
  else if (info.build < min.build)
    fail(
      'version',
      'sqlserver',
      `SQL Server ${info.productVersion} is older than ${min.label}`,
      `update SQL Server to at least ${min.label}`,
    );
  if (
    !sqlPrimary &&
    (info.year === undefined || info.year < 2022 || (info.year === 2022 && info.build < SQL2022_CU10_BUILD))
  )
    fail(
      'version',
      'sqlserver',
      `SQL Server ${info.productVersion} cannot take a link with the instance as initial primary`,
      'update SQL Server to 2022 CU10 or later',
    );
  if (r.failoverMode === 'Manual' && info.year !== undefined && info.year < 2022)
    fail(
      'version',
      'sqlserver',
      `failoverMode Manual (two-way) needs SQL Server 2022 or later; this is ${info.productVersion}`,
      'use failoverMode None',
    );
  if (r.sqlServer.version !== undefined && info.year !== undefined && r.sqlServer.version !== info.year)
    fail(
      'version',
      'sqlserver',
      `sqlServer.version says ${r.sqlServer.version} but the server is SQL Server ${info.year} (${info.productVersion})`,
      'correct sqlServer.version or leave it out',
    );
  if (
    r.sqlServer.serverName !== undefined &&
    r.sqlServer.serverName.toLowerCase() !== info.serverName.toLowerCase()
  )
    fail(
      'server-name',
      'sqlserver',
      `sqlServer.serverName is ${r.sqlServer.serverName} but @@SERVERNAME is ${info.serverName}`,
      'correct sqlServer.serverName or leave it out',
    );
  if (!info.hadrEnabled)
    fail(
      'hadr',
      'sqlserver',
      'Always On availability groups are not enabled on SQL Server',
      'enable Always On in SQL Server Configuration Manager and restart the service',
      '35220',
    );
  if (
    instance?.collation &&
    info.collation &&
    instance.collation.toLowerCase() !== info.collation.toLowerCase()
  )
    fail(
      'collation',
      'sqlserver',
      `SQL Server's collation ${info.collation} differs from the instance's ${instance.collation}`,
      'the link needs the same collation on both sides',
    );

  let finalLink = requested.link;
  try {
    const db = await catalog.readDatabase(session, r.database);
    const groups = await catalog.readAvailabilityGroups(session);
    if (sqlPrimary) {
      if (!db)
        fail(
          'database',
          'sqlserver',
          `database ${r.database} does not exist on SQL Server`,
          'check the database name (it is case-sensitive on some collations)',
        );
      else {
        if (db.databaseId <= 4)
          fail(
            'database',
            'sqlserver',
            `${r.database} is a system database`,
            'the link replicates user databases only',
          );
        if (db.state !== 'ONLINE')
          fail('database', 'sqlserver', `database ${r.database} is ${db.state}`, 'bring the database online');
        if (db.logFiles !== 1)
          fail(
            'database',
            'sqlserver',
            `database ${r.database} has ${db.logFiles} log files`,
            'the link needs exactly one log file',
            'ManagedInstanceLinkSourceDbHasMultipleLogFiles',
          );
        if (db.filestream)
          fail(
            'database',
            'sqlserver',
            `database ${r.database} uses FILESTREAM`,
            'databases with FILESTREAM cannot be linked',
            'ManagedInstanceLinkSourceDbHasFilestream',
          );
        if (db.memoryOptimized)
          fail(
            'database',
            'sqlserver',
            `database ${r.database} has a memory-optimized filegroup`,
            'databases with In-Memory OLTP cannot be linked',
            'ManagedInstanceLinkSourceDbHasHekatonFile',
          );
        if (db.recoveryModel !== 'FULL')
          warnings.push({
            check: 'recovery-model',
            target: 'sqlserver',
            message: `database ${r.database} is in ${db.recoveryModel} recovery`,
            advice: 'prepare-database sets FULL recovery and takes a full backup',
          });
        else if (!db.hasFullBackup)
          warnings.push({
            check: 'backup-chain',
            target: 'sqlserver',
            message: `database ${r.database} has no full backup in FULL recovery (error 1475 otherwise)`,
            advice: 'prepare-database takes one',
          });
      }
    } else if (db) {
      const inOurAg = groups.some(
        (g) =>
          !g.isDistributed &&
          g.name.toLowerCase() === requested.availabilityGroup.toLowerCase() &&
          g.databases.includes(db.name),
      );
      if (!inOurAg)
        fail(
          'database',
          'sqlserver',
          `database ${r.database} already exists on SQL Server`,
          'with the instance as initial primary the database must not exist on SQL Server: drop or rename it',
        );
    }

    // Availability group: reuse the one the database already has (a further link), or ours, or a free name.
    const plain = groups.filter((g) => !g.isDistributed);
    const holding = db
      ? plain.find((g) => g.databases.some((d) => d.toLowerCase() === r.database.toLowerCase()))
      : undefined;
    let agName = requested.availabilityGroup;
    if (holding && sqlPrimary) {
      if (
        r.names?.availabilityGroup &&
        r.names.availabilityGroup.toLowerCase() !== holding.name.toLowerCase()
      )
        fail(
          'names-free',
          'sqlserver',
          `database ${r.database} is already in availability group ${holding.name}, not ${r.names.availabilityGroup}`,
          `leave names.availabilityGroup out (milink reuses ${holding.name}) or give ${holding.name}`,
        );
      agName = holding.name;
      if (holding.name !== requested.availabilityGroup) facts.names!.availabilityGroup = holding.name;
    } else {
      const taken = plain.find((g) => g.name.toLowerCase() === agName.toLowerCase());
      if (taken && sqlPrimary && !taken.databases.includes(r.database))
        fail(
          'names-free',
          'sqlserver',
          `availability group ${agName} exists for other databases (${taken.databases.join(', ') || 'none'})`,
          'choose another names.availabilityGroup',
        );
    }

    // The DAG: ours when its instance member points at this instance; DAG2_<db>, … for a further link.
    const fqdn = (mi.fqdn ?? facts.fqdn ?? '').toLowerCase();
    const isOurs = (g: catalog.AvailabilityGroupInfo) =>
      g.replicas.some((rep) => rep.endpointUrl.toLowerCase().startsWith(`tcp://${fqdn}:`));
    const dagNamed = (name: string) => groups.find((g) => g.name.toLowerCase() === name.toLowerCase());
    let linkName = requested.link;
    if (r.names?.link) {
      const existing = dagNamed(linkName);
      if (existing && (!existing.isDistributed || !isOurs(existing)))
        fail(
          'names-free',
          'sqlserver',
          `an availability group named ${linkName} already exists on SQL Server for another purpose`,
          'choose another names.link',
        );
    } else {
      const other = groups.find(
        (g) =>
          g.isDistributed &&
          isOurs(g) &&
          g.replicas.some((rep) => rep.replicaServerName.toLowerCase() === agName.toLowerCase()),
      );
      if (other) linkName = other.name;
      else
        for (let n = 1; dagNamed(linkName); n++)
          linkName = requested.link.replace(/^DAG\d+_/, `DAG${n + 1}_`);
      if (linkName !== requested.link) facts.names!.link = linkName;
    }
    finalLink = linkName;

    // the master-key step needs its password when SQL Server has no master key yet: a missing or unreadable
    // secret stops the run here, before anything changes
    if (!(await catalog.hasMasterKey(session)))
      await ctx.secret(r.sqlServer.masterKeySecret).catch((e: unknown) => {
        failures.push(problemFrom(e, 'master-key-secret'));
      });

    facts.endpoint = await catalog.readEndpoint(session);
    if (facts.endpoint && facts.endpoint.port !== r.sqlServer.endpointPort)
      fail(
        'endpoint-port',
        'sqlserver',
        `SQL Server's mirroring endpoint ${facts.endpoint.name} listens on ${facts.endpoint.port}, not ${r.sqlServer.endpointPort}`,
        `set sqlServer.endpointPort to ${facts.endpoint.port} (changing the port would break the availability groups that use it); partnerEndpoint would be ${partnerEndpoint({ ...r, sqlServer: { ...r.sqlServer, endpointPort: facts.endpoint.port } })}`,
      );

    const flags = await catalog.readTraceFlags(session, RECOMMENDED_TRACE_FLAGS);
    for (const flag of RECOMMENDED_TRACE_FLAGS)
      if (!flags.has(flag))
        warnings.push({
          check: 'trace-flags',
          target: 'sqlserver',
          message: `trace flag ${flag} is not enabled globally`,
          advice:
            flag === 12381
              ? 'enable 12381: it prevents log truncation during seeding (errors 1408/1412)'
              : flag === 9567
                ? 'enable 9567: it compresses seeding traffic'
                : 'enable 1800: it aligns log sector sizes',
        });
  } catch (e) {
    failures.push(problemFrom(e, 'sqlserver-catalog'));
  }
  checkLinks(finalLink);
  return { facts, failures, warnings };
}

defineActivity('preflight', 'preflight', preflight);
