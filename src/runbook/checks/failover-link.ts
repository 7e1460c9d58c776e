import { SQL2022_CU13_BUILD, failoverParameters } from '../steps/failover-path.js';
import { primaryOf } from '../steps/link-sides.js';
import { listInstanceLinks } from './create-link.js';
import { defineCheck } from '../preflight.js';
import { existingLinkChecks, linkSides, sqlServerOptional } from './lifecycle.js';

/** "Fail over link": at most 8 databases fail over per instance at a time. */
export const FAILOVERS_PER_INSTANCE = 8;

/** The update policy the instance needs as primary of a link with this SQL Server ("Update policy"). */
function policyFor(year: number): string | undefined {
  return year === 2022 ? 'SQLServer2022' : year === 2025 ? 'SQLServer2025' : undefined;
}

/**
 * Whether this failover can run on this link, by direction, SQL Server's version and CU, the link's failover mode
 * and the instance's update policy ("Fail over link", "Update policy", "Managed Instance link overview").
 */
export const failoverPathCheck = defineCheck({
  id: 'failover-path',
  async run(io) {
    const p = failoverParameters(io.link);
    if (!p) {
      io.fail('failover-path', 'sqlserver', 'options.to is required', 'name the side that becomes primary');
      return;
    }
    const sides = await linkSides(io);
    if (!sides) return;
    const { azure, sql } = sides;
    if (!azure) {
      io.fail(
        'link',
        'azure',
        `${io.request.managedInstance.name} has no link ${io.link.names.link}`,
        'check names.link in the request',
        'LinkNotFound',
      );
      return;
    }
    if (!sql && sqlServerOptional(io)) return; // SQL Server unreachable: a forced failover goes on
    if (!sql) {
      io.fail(
        'link',
        'sqlserver',
        `SQL Server has no distributed availability group ${io.link.names.link}`,
        'check names.link in the request',
        'LinkNotFound',
      );
      return;
    }
    const primary = primaryOf(sql, azure);
    if (primary === 'both') return; // split-brain reports it
    if (primary === p.to) return; // already there: the steps find nothing to do
    const info = await io.server();
    const year = info?.year;
    if (!info || year === undefined) return;
    const label = `SQL Server ${info.productVersion}`;
    if (year < 2022) {
      io.fail(
        'version',
        'sqlserver',
        p.to === 'ManagedInstance'
          ? `${label}: a failover to the instance is one-way on SQL Server 2016-2019 (the link cannot fail back)`
          : `${label} cannot take the primary role back from the instance`,
        p.to === 'ManagedInstance'
          ? 'use POST /api/links/migrate (failover, first full backup, drop)'
          : 'failback needs SQL Server 2022 or later',
        'OneWayLink',
      );
      return;
    }
    if (p.to === 'ManagedInstance' && !p.allowDataLoss && io.link.parameters.migration !== true) {
      // "Update policy": with a policy that does not match SQL Server's version, the instance as primary does not
      // replicate back: a failover to it is then one-way, which only a migration may be
      const instance = await io.instance();
      const wanted = policyFor(year);
      if (instance && wanted && instance.databaseFormat !== wanted)
        io.fail(
          'update-policy',
          'azure',
          `${io.request.managedInstance.name} has the ${instance.databaseFormat ?? 'AlwaysUpToDate'} update policy, not ${wanted}: after a failover it would not replicate back to ${label}`,
          'a failover that cannot come back is a migration: use POST /api/links/migrate ("Update policy")',
          'OneWayLink',
        );
    }
    if (p.to === 'SqlServer') {
      if (azure.failoverMode !== undefined && azure.failoverMode !== 'Manual')
        io.fail(
          'failover-mode',
          'azure',
          `link ${io.link.names.link} has failoverMode ${azure.failoverMode}: it is one-way to Azure`,
          'a link that fails back to SQL Server is created with failoverMode Manual (SQL Server 2022+)',
          'OneWayLink',
        );
      const instance = await io.instance();
      const wanted = policyFor(year);
      if (instance && wanted && instance.databaseFormat !== wanted)
        io.fail(
          'update-policy',
          'azure',
          `${io.request.managedInstance.name} has the ${instance.databaseFormat ?? 'AlwaysUpToDate'} update policy; a failover to ${label} needs ${wanted}`,
          'the instance\'s update policy must match SQL Server\'s version ("Update policy"); it cannot be changed back from Always-up-to-date',
          'ManagedInstanceLinkUnsupportedUpdatePolicy',
        );
      if (p.allowDataLoss && year === 2022 && info.build < SQL2022_CU13_BUILD)
        io.fail(
          'version',
          'sqlserver',
          `${label}: a forced failover to SQL Server in T-SQL needs SQL Server 2022 CU13`,
          'update SQL Server to 2022 CU13 or later',
        );
    }
    if (!p.allowDataLoss && (sql.secondaryLagSeconds ?? 0) > 60)
      io.warn(
        'lag',
        'sqlserver',
        `the secondary is ${sql.secondaryLagSeconds} s behind`,
        'a planned failover waits until it has caught up; with high lag it can time out ("Troubleshoot issues with the link")',
      );
    const links = await listInstanceLinks(io).catch(() => []);
    const failing = links.filter((l) =>
      (l.properties?.databases ?? []).some((d) => /failover/i.test(d.replicaState ?? '')),
    );
    if (failing.length >= FAILOVERS_PER_INSTANCE)
      io.fail(
        'failover-limit',
        'azure',
        `${failing.length} links of ${io.request.managedInstance.name} are failing over now`,
        `at most ${FAILOVERS_PER_INSTANCE} databases fail over per instance at a time ("Fail over link"): re-run when one has finished`,
        'FailoverLimit',
      );
  },
});

export const failoverLinkChecks = [...existingLinkChecks, failoverPathCheck];
