import * as arm from '../../azure/arm-requests.js';
import type { ArmRequest } from '../../azure/arm-requests.js';
import type { LinkContext } from '../context.js';
import { defineStep, report, StepProblem, type StepIo, type StepReport } from '../step.js';
import {
  failoverParameters,
  failoverPath,
  renderPath,
  type FailoverParameters,
  type FailoverPath,
} from './failover-path.js';
import {
  linkRequests,
  lsnGap,
  maxLsn,
  primaryOf,
  readArmSide,
  readSqlSide,
  sidesLsn,
  type ArmSide,
  type Primary,
  type SqlSide,
} from './link-sides.js';

export interface FailoverObservation {
  /** The target side already holds the primary role (for a planned failover: and only it). */
  arrived: boolean;
  primary: Primary;
  sql?: SqlSide;
  azure?: ArmSide;
}

function parameters(l: LinkContext): FailoverParameters {
  const p = failoverParameters(l);
  if (!p) throw new Error('a failover needs options.to');
  return p;
}

/** Reads both sides; a forced failover tolerates an unreachable SQL Server (a disaster) when the instance is the target. */
export async function readFailover(io: StepIo, p: FailoverParameters): Promise<FailoverObservation> {
  const azure = await readArmSide(io);
  let sql: SqlSide | undefined;
  try {
    sql = await readSqlSide(io);
  } catch (e) {
    if (!(p.allowDataLoss && p.to === 'ManagedInstance')) throw e;
  }
  if (!azure && io.link.parameters.migration === true) return { arrived: true, primary: 'none' };
  if (!azure)
    throw new StepProblem(
      'azure',
      'LinkNotFound',
      `${io.link.mi.name} has no link ${io.link.names.link}`,
      'check names.link in the request',
    );
  const primary = primaryOf(sql, azure);
  const targetPrimary =
    p.to === 'ManagedInstance' ? azure.instanceRole === 'Primary' : sql?.role === 'PRIMARY';
  const arrived = p.allowDataLoss ? targetPrimary : primary === p.to;
  return { arrived, primary, ...(sql ? { sql } : {}), ...(azure ? { azure } : {}) };
}

/** How far the new primary was behind the old one when milink forced the failover (LSNs and seconds). */
export function measureLoss(o: FailoverObservation, p: FailoverParameters): Record<string, unknown> {
  const toInstance = p.to === 'ManagedInstance';
  const formerPrimaryLsn = toInstance
    ? (o.sql?.localHardenedLsn ?? o.azure?.lastSentLsn)
    : maxLsn(o.azure?.lastSentLsn, o.azure?.lastCommitLsn, o.azure?.lastHardenedLsn);
  const newPrimaryLsn = toInstance ? o.azure?.lastHardenedLsn : o.sql?.localHardenedLsn;
  const seconds = toInstance
    ? (o.sql?.secondaryLagSeconds ?? o.azure?.redoLagSeconds)
    : (o.azure?.sendLagSeconds ?? o.sql?.secondaryLagSeconds);
  const behind = lsnGap(formerPrimaryLsn, newPrimaryLsn);
  return {
    ...(formerPrimaryLsn ? { formerPrimaryLsn } : {}),
    ...(newPrimaryLsn ? { newPrimaryLsn } : {}),
    ...(behind !== undefined ? { lsnBehind: behind } : {}),
    ...(seconds !== undefined ? { secondsBehind: seconds } : {}),
  };
}

/** The request a failover's wait follows (the ARM failover the step started). */
export function startedRequest(l: LinkContext): ArmRequest | undefined {
  // resolveSplitBrain's wait follows the instance's demotion
  if (l.parameters.demote === 'ManagedInstance')
    return arm.setLinkRole(l.mi, l.names.link, 'Secondary', 'Forced');
  const p = failoverParameters(l);
  if (!p) return undefined;
  return renderPath(l, failoverPath(l, p)).arm.failover;
}

/**
 * fail-over: the failover itself, by the path "Fail over link" documents for the direction, SQL Server's version
 * and CU, and whether data loss is allowed (see failover-path.ts). A planned failover re-reads both sides first
 * and never starts while their last_hardened_lsn differ; a forced one records how far behind the new primary was.
 */
export const failOver = defineStep<FailoverObservation>({
  id: 'fail-over',
  scope: 'link',
  target: 'sqlserver',
  title: (l) => {
    const p = failoverParameters(l);
    if (!p) return 'Fail the link over';
    const path = failoverPath(l, p);
    const to = p.to === 'ManagedInstance' ? l.mi.name : 'SQL Server';
    const how: Record<FailoverPath, string> = {
      'tsql-failover': 'ALTER AVAILABILITY GROUP … FAILOVER on SQL Server',
      'demote-then-forced': 'SQL Server set to secondary, then ARM failover once the LSNs match',
      'arm-planned': 'ARM failover Planned',
      'arm-forced': 'ARM failover ForcedAllowDataLoss',
      'tsql-forced': 'FORCE_FAILOVER_ALLOW_DATA_LOSS on SQL Server',
    };
    return `${p.allowDataLoss ? 'Force a failover' : 'Fail over'} to ${to} (${how[path]})`;
  },
  render(l) {
    const p = failoverParameters(l);
    if (p) return renderPath(l, failoverPath(l, p));
    // without a direction: every alternative, by name
    const all = (['tsql-failover', 'demote-then-forced', 'arm-planned', 'tsql-forced'] as const).map((x) =>
      renderPath(l, x),
    );
    return {
      tsql: Object.assign({}, ...all.map((r) => r.tsql)) as Record<string, string>,
      arm: {
        planned: renderPath(l, 'arm-planned').arm.failover!,
        forced: renderPath(l, 'arm-forced').arm.failover!,
      },
    };
  },
  reads: linkRequests,
  async inspect(io) {
    return readFailover(io, parameters(io.link));
  },
  needed: (o) => !o.arrived,
  found: (o) => [`already done: ${o.primary === 'both' ? 'both sides are' : `${o.primary} is`} primary`],
  async act(io, o): Promise<StepReport & { operation?: string }> {
    const out = report(this.id);
    const p = parameters(io.link);
    const path = failoverPath(io.link, p);
    const rendered = renderPath(io.link, path);
    const what = `failing link ${io.link.names.link} over to ${p.to}`;
    if (!p.allowDataLoss) {
      const lsn = sidesLsn(o.sql, o.azure);
      const demotedAlready = path === 'demote-then-forced' && o.sql?.role === 'SECONDARY';
      if (!demotedAlready && (lsn.sqlServer === undefined || lsn.sqlServer !== lsn.managedInstance))
        throw new StepProblem(
          'sqlserver',
          'LsnMismatch',
          `last_hardened_lsn differs: SQL Server ${lsn.sqlServer ?? 'unknown'}, ${io.link.mi.name} ${lsn.managedInstance ?? 'unknown'}; no failover was started`,
          'stop the workload on the primary, then re-run the failover: it waits for the LSNs again',
        );
      out.details = { path, lastHardenedLsn: lsn.sqlServer ?? lsn.managedInstance };
    } else {
      out.details = { path, ...measureLoss(o, p) };
    }
    if (rendered.tsql.demote && o.sql?.role === 'PRIMARY') {
      await io.run(rendered.tsql.demote);
      out.changed.push(`SQL Server's side of ${io.link.names.link} set to secondary`);
    }
    if (rendered.tsql.failover) {
      await io.run(rendered.tsql.failover);
      out.changed.push(`${io.link.names.link} failed over to ${p.to} on SQL Server`);
    }
    const request = rendered.arm.failover;
    if (request) {
      const started = await io.arm.start(request, what);
      out.changed.push(
        `asked ${io.link.mi.name} to fail ${io.link.names.link} over (${(request.body as { failoverType: string }).failoverType})`,
      );
      if (started.status === 'running' && started.state) return { ...out, operation: started.state };
    }
    return out;
  },
});
