import * as arm from '../../azure/arm-requests.js';
import type { LinkContext } from '../context.js';
import * as sql from '../../sql/statements.js';
import type { ArmRequest } from '../../azure/arm-requests.js';

/** SQL Server 2022 CU13 (16.0.4125): the first build that fails a link over in T-SQL ("Fail over link"). */
export const SQL2022_CU13_BUILD = 4125;

/**
 * How a failover runs, by direction, SQL Server's version and CU, and whether data loss is allowed ("Fail over
 * link"):
 * - `tsql-failover`: planned, SQL Server primary, SQL Server 2022 CU13+ or 2025: `ALTER AVAILABILITY GROUP … FAILOVER`
 *   on SQL Server (ARM's Planned is refused while the instance is secondary: InvalidDistributedAvailabilityGroupFailoverInstanceRole);
 * - `demote-then-forced`: planned, SQL Server primary, SQL Server 2022 before CU13 (what the SSMS wizard scripts
 *   there): with the LSNs equal and the workload stopped, `SET (ROLE = SECONDARY)` on SQL Server, then ARM
 *   `failover` `ForcedAllowDataLoss`, which loses nothing because nothing is unsent;
 * - `arm-planned`: planned, the instance primary: ARM `failover` `Planned`;
 * - `arm-forced`: forced to the instance: ARM `failover` `ForcedAllowDataLoss`;
 * - `tsql-forced`: forced to SQL Server: `ALTER AVAILABILITY GROUP … FORCE_FAILOVER_ALLOW_DATA_LOSS` on SQL Server
 *   (2022 CU13+).
 */
export type FailoverPath =
  'tsql-failover' | 'demote-then-forced' | 'arm-planned' | 'arm-forced' | 'tsql-forced';

export interface FailoverParameters {
  to: 'ManagedInstance' | 'SqlServer';
  allowDataLoss: boolean;
  lsnStableSeconds: number;
}

/** The failover's parameters, or undefined for a plan rendered without them (every alternative is shown). */
export function failoverParameters(l: Pick<LinkContext, 'parameters'>): FailoverParameters | undefined {
  const p = l.parameters;
  if (p.to !== 'ManagedInstance' && p.to !== 'SqlServer') return undefined;
  return {
    to: p.to,
    allowDataLoss: p.allowDataLoss === true,
    lsnStableSeconds: typeof p.lsnStableSeconds === 'number' ? p.lsnStableSeconds : 30,
  };
}

/** Whether SQL Server can fail the link over in T-SQL (2022 CU13+, 2025); unknown versions are taken as able. */
export function tsqlFailoverAvailable(l: Pick<LinkContext, 'version' | 'facts'>): boolean {
  const year = l.facts.version ?? l.version;
  if (year === undefined) return true;
  if (year > 2022) return true;
  if (year < 2022) return false;
  return l.facts.build === undefined || l.facts.build >= SQL2022_CU13_BUILD;
}

export function failoverPath(l: LinkContext, p: FailoverParameters): FailoverPath {
  if (p.allowDataLoss) return p.to === 'ManagedInstance' ? 'arm-forced' : 'tsql-forced';
  if (p.to === 'SqlServer') return 'arm-planned';
  return tsqlFailoverAvailable(l) ? 'tsql-failover' : 'demote-then-forced';
}

/** What each path runs, by name: T-SQL on SQL Server and ARM requests on the instance. */
export function renderPath(
  l: LinkContext,
  path: FailoverPath,
): { tsql: Record<string, string>; arm: Record<string, ArmRequest> } {
  const dag = l.names.link;
  switch (path) {
    case 'tsql-failover':
      return { tsql: { failover: sql.failoverDistributedAvailabilityGroup(dag) }, arm: {} };
    case 'demote-then-forced':
      return {
        tsql: { demote: sql.setDistributedRoleSecondary(dag) },
        arm: { failover: arm.failoverLink(l.mi, dag, 'ForcedAllowDataLoss') },
      };
    case 'arm-planned':
      return { tsql: {}, arm: { failover: arm.failoverLink(l.mi, dag, 'Planned') } };
    case 'arm-forced':
      return { tsql: {}, arm: { failover: arm.failoverLink(l.mi, dag, 'ForcedAllowDataLoss') } };
    case 'tsql-forced':
      return { tsql: { failover: sql.forceFailoverDistributedAvailabilityGroup(dag) }, arm: {} };
  }
}
