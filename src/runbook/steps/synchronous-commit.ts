import * as sql from '../../sql/statements.js';
import type { LinkContext } from '../context.js';
import { defineStep, report, StepProblem, type StepIo } from '../step.js';
import { failoverParameters } from './failover-path.js';
import { primaryOf, readArmSide, readSqlSide, type DagMember } from './link-sides.js';

export interface ModeObservation {
  /** The failover already happened (the target side is primary): nothing to switch. */
  arrived: boolean;
  members: DagMember[];
}

/** The DAG's members as SQL Server names them, and whether the failover's target is already primary. */
export async function readModes(io: StepIo): Promise<ModeObservation> {
  const side = await readSqlSide(io);
  // a migration whose link is already dropped on the instance has cut over
  if (io.link.parameters.migration === true && !(await readArmSide(io)))
    return { arrived: true, members: [] };
  if (!side)
    throw new StepProblem(
      'sqlserver',
      'LinkNotFound',
      `SQL Server has no distributed availability group ${io.link.names.link}`,
      'check names.link in the request (the link to fail over must exist on both sides)',
    );
  const to = failoverParameters(io.link)?.to;
  const arrived = to !== undefined && primaryOf(side, await readArmSide(io)) === to;
  return { arrived, members: side.members };
}

const memberNames = (l: LinkContext) => [l.names.availabilityGroup, l.names.instanceAvailabilityGroup];

/**
 * synchronous-commit: `ALTER AVAILABILITY GROUP [dag] MODIFY AVAILABILITY GROUP ON '<ag>' WITH (AVAILABILITY_MODE =
 * SYNCHRONOUS_COMMIT), '<ag_mi>' WITH (…)` on SQL Server before a planned failover ("Fail over link"); the members
 * are named as sys.availability_replicas names them.
 */
export const synchronousCommit = defineStep<ModeObservation>({
  id: 'synchronous-commit',
  scope: 'link',
  target: 'sqlserver',
  include: (l) => failoverParameters(l)?.allowDataLoss !== true,
  title: (l) => `Switch ${l.names.link} to synchronous commit`,
  render: (l) => ({
    tsql: { sync: sql.setDistributedAvailabilityMode(l.names.link, memberNames(l), 'SYNCHRONOUS_COMMIT') },
  }),
  inspect: readModes,
  needed: (o) => !o.arrived && o.members.some((m) => m.mode !== 'SYNCHRONOUS_COMMIT'),
  found: (o) =>
    o.arrived ? ['the failover has already happened'] : ['both members are in synchronous commit'],
  async act(io, o) {
    const out = report(this.id);
    const names = o.members.map((m) => m.name);
    await io.run(sql.setDistributedAvailabilityMode(io.link.names.link, names, 'SYNCHRONOUS_COMMIT'));
    out.changed.push(`${io.link.names.link}: ${names.join(', ')} in synchronous commit`);
    return out;
  },
});

/** asynchronous-commit: back to asynchronous commit after a planned failover (the service usually has done it). */
export const asynchronousCommit = defineStep<ModeObservation>({
  id: 'asynchronous-commit',
  scope: 'link',
  target: 'sqlserver',
  include: (l) => failoverParameters(l)?.allowDataLoss !== true,
  title: (l) => `Switch ${l.names.link} back to asynchronous commit`,
  render: (l) => ({
    tsql: { async: sql.setDistributedAvailabilityMode(l.names.link, memberNames(l), 'ASYNCHRONOUS_COMMIT') },
  }),
  inspect: readModes,
  needed: (o) => o.members.some((m) => m.mode !== 'ASYNCHRONOUS_COMMIT'),
  found: () => ['both members are in asynchronous commit'],
  async act(io, o) {
    const out = report(this.id);
    const names = o.members.map((m) => m.name);
    await io.run(sql.setDistributedAvailabilityMode(io.link.names.link, names, 'ASYNCHRONOUS_COMMIT'));
    out.changed.push(`${io.link.names.link}: ${names.join(', ')} in asynchronous commit`);
    return out;
  },
});
