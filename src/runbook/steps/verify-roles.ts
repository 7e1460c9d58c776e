import { armAdvice } from '../../azure/errors.js';
import { defineStep, StepProblem } from '../step.js';
import { startedRequest } from './fail-over.js';
import { failoverParameters } from './failover-path.js';
import { linkRequests, primaryOf, readArmSide, readSqlSide, type Primary } from './link-sides.js';

export interface RolesObservation {
  operation: 'InProgress' | 'Succeeded' | 'None';
  operationState?: string;
  primary: Primary;
  sqlServerRole?: string;
  instanceRole?: string;
  connectedState?: string;
  synchronizationHealth?: string;
  /** The roles are the ones asked for (a planned failover: and the link is connected and healthy again). */
  verified: boolean;
}

/**
 * verify-roles: after the failover, the new roles as each side reports them — SQL Server's DAG (`role_desc` of its
 * local replica) and the instance (`instanceLinkRole`) — and, after a planned failover, the link connected and
 * healthy again. A forced failover leaves the former primary PRIMARY as well (split brain), which the status shows.
 * Follows the ARM failover the previous step started, between durable timers.
 */
export const verifyRoles = defineStep<RolesObservation>({
  id: 'verify-roles',
  scope: 'link',
  target: 'azure',
  wait: true,
  title: (l) => {
    const p = failoverParameters(l);
    return p
      ? `Verify the roles: ${p.to === 'ManagedInstance' ? l.mi.name : 'SQL Server'} primary${p.allowDataLoss ? '' : ', the other side secondary, the link healthy'}`
      : 'Verify the roles on both sides';
  },
  render: (l) => ({ arm: { look: linkRequests(l).link } }),
  async inspect(io) {
    const p = failoverParameters(io.link);
    const obs: RolesObservation = { operation: 'None', primary: 'none', verified: false };
    const started = startedRequest(io.link);
    if (io.operation && started) {
      const seen = await io.arm.lookAgain(started, `failing link ${io.link.names.link} over`, io.operation);
      if (seen.status === 'failed' || seen.status === 'canceled') {
        const code = seen.error?.code ?? (seen.status === 'failed' ? 'Failed' : 'Canceled');
        throw new StepProblem(
          'azure',
          code,
          `the failover of ${io.link.names.link}: ${seen.error?.message ?? seen.status}`,
          armAdvice(code),
        );
      }
      if (seen.status === 'running') {
        obs.operation = 'InProgress';
        if (seen.state) obs.operationState = seen.state;
      } else if (seen.status === 'succeeded') obs.operation = 'Succeeded';
    }
    const azure = await readArmSide(io);
    const sql = await readSqlSide(io).catch((e: unknown) => {
      if (p?.allowDataLoss && p.to === 'ManagedInstance') return undefined;
      throw e;
    });
    obs.primary = primaryOf(sql, azure);
    if (sql?.role) obs.sqlServerRole = sql.role;
    if (azure?.instanceRole) obs.instanceRole = azure.instanceRole;
    if (azure?.connectedState) obs.connectedState = azure.connectedState;
    if (azure?.synchronizationHealth) obs.synchronizationHealth = azure.synchronizationHealth;
    if (!p || obs.operation === 'InProgress') return obs;
    // a migration: the roles only (SQL Server 2016-2019 does not replicate back from the instance)
    if (io.link.parameters.migration === true)
      obs.verified = azure === undefined || (obs.primary === p.to && obs.sqlServerRole !== 'PRIMARY');
    else if (p.allowDataLoss)
      obs.verified =
        p.to === 'ManagedInstance' ? obs.instanceRole === 'Primary' : obs.sqlServerRole === 'PRIMARY';
    else
      obs.verified =
        obs.primary === p.to &&
        (p.to === 'ManagedInstance' ? obs.sqlServerRole === 'SECONDARY' : obs.instanceRole === 'Secondary') &&
        obs.connectedState === 'CONNECTED' &&
        obs.synchronizationHealth === 'HEALTHY';
    return obs;
  },
  needed: (o) => !o.verified,
  progress: (o) => ({
    operation: o.operation,
    ...(o.sqlServerRole ? { sqlServerRole: o.sqlServerRole } : {}),
    ...(o.instanceRole ? { instanceRole: o.instanceRole } : {}),
    ...(o.connectedState ? { connectedState: o.connectedState } : {}),
    ...(o.synchronizationHealth ? { synchronizationHealth: o.synchronizationHealth } : {}),
    ...(o.primary === 'both' ? { splitBrain: true } : {}),
  }),
  overdue: (o, hours) => ({
    target: 'azure',
    code: 'RolesNotVerified',
    message: `after ${hours} h the roles are SQL Server ${o.sqlServerRole ?? 'unknown'}, instance ${o.instanceRole ?? 'unknown'} (link ${o.connectedState ?? 'unknown'}, ${o.synchronizationHealth ?? 'unknown'})`,
    advice:
      'look at the link on both sides (sys.dm_hadr_availability_replica_states, az sql mi link show), then re-run',
  }),
  found: (o) => [
    `SQL Server ${o.sqlServerRole ?? 'unknown'}, ${o.instanceRole === undefined ? 'instance unknown' : `instance ${o.instanceRole}`}${o.primary === 'both' ? ' (split brain: both primary)' : ''}`,
  ],
});
