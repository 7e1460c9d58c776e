import { defineStep } from '../step.js';
import { failoverParameters } from './failover-path.js';
import { primaryOf, readArmSide, readSqlSide, sidesLsn } from './link-sides.js';

export interface LsnObservation {
  /** The failover already happened. */
  arrived: boolean;
  sqlServerLsn?: string;
  instanceLsn?: string;
  equal: boolean;
  /** Since when (the orchestration's clock) both sides have shown these same equal LSNs. */
  equalSince?: string;
  stableSeconds: number;
  requiredSeconds: number;
  secondaryLagSeconds?: number;
}

/**
 * wait-for-lsn: "Fail over link" — before a planned failover, `last_hardened_lsn` must be the same on both sides and
 * stay unchanged for some time (`lsnStableSeconds`, default 30). Looked at between durable timers; each look
 * compares with the previous one.
 */
export const waitForLsn = defineStep<LsnObservation>({
  id: 'wait-for-lsn',
  scope: 'link',
  target: 'sqlserver',
  wait: true,
  include: (l) => failoverParameters(l)?.allowDataLoss !== true,
  title: (l) =>
    `Wait until last_hardened_lsn is equal on both sides and stable for ${failoverParameters(l)?.lsnStableSeconds ?? 30} s`,
  render: () => ({}),
  async inspect(io) {
    const required = failoverParameters(io.link)?.lsnStableSeconds ?? 30;
    const [sql, azure] = [await readSqlSide(io), await readArmSide(io)];
    const to = failoverParameters(io.link)?.to;
    const cutOver = io.link.parameters.migration === true && azure === undefined;
    const arrived = cutOver || (to !== undefined && primaryOf(sql, azure) === to);
    const lsn = sidesLsn(sql, azure);
    const now = io.since ?? new Date();
    const obs: LsnObservation = {
      arrived,
      equal: lsn.sqlServer !== undefined && lsn.sqlServer === lsn.managedInstance,
      stableSeconds: 0,
      requiredSeconds: required,
    };
    if (lsn.sqlServer) obs.sqlServerLsn = lsn.sqlServer;
    if (lsn.managedInstance) obs.instanceLsn = lsn.managedInstance;
    if (sql?.secondaryLagSeconds !== undefined) obs.secondaryLagSeconds = sql.secondaryLagSeconds;
    if (obs.equal) {
      const prev = io.previous as LsnObservation | undefined;
      const same =
        prev?.equal === true &&
        prev.sqlServerLsn === obs.sqlServerLsn &&
        prev.instanceLsn === obs.instanceLsn;
      obs.equalSince = same && prev.equalSince ? prev.equalSince : now.toISOString();
      obs.stableSeconds = Math.max(0, Math.round((now.getTime() - Date.parse(obs.equalSince)) / 1000));
    }
    return obs;
  },
  needed: (o) => !o.arrived && !(o.equal && o.stableSeconds >= o.requiredSeconds),
  progress: (o) => ({
    ...(o.sqlServerLsn ? { sqlServerLastHardenedLsn: o.sqlServerLsn } : {}),
    ...(o.instanceLsn ? { instanceLastHardenedLsn: o.instanceLsn } : {}),
    lsnEqual: o.equal,
    stableSeconds: o.stableSeconds,
    requiredSeconds: o.requiredSeconds,
    ...(o.secondaryLagSeconds !== undefined ? { secondaryLagSeconds: o.secondaryLagSeconds } : {}),
  }),
  overdue: (o, hours) => ({
    target: 'sqlserver',
    code: 'LsnNotSynchronized',
    message: `last_hardened_lsn did not stay equal on both sides within ${hours} h (SQL Server ${o.sqlServerLsn ?? 'unknown'}, instance ${o.instanceLsn ?? 'unknown'}): no failover was started`,
    advice:
      'stop the workload on the primary and check the link (lag, connection), then re-run the failover ("Fail over link")',
  }),
  found: (o) =>
    o.arrived
      ? ['the failover has already happened']
      : [`last_hardened_lsn ${o.sqlServerLsn} on both sides for ${o.stableSeconds} s`],
});
