import { linksToInstance, sameName } from '../../link/names.js';
import * as catalog from '../../sql/catalog.js';
import * as sql from '../../sql/statements.js';
import type { LinkContext } from '../context.js';
import { defineStep, report, StepProblem } from '../step.js';

/** The DAG found under the link's name must be this link's: its members and this instance's listener. */
function checkOurs(l: LinkContext, dag: catalog.AvailabilityGroupInfo): void {
  const members = dag.replicas.map((r) => r.replicaServerName);
  if (
    !dag.isDistributed ||
    !members.some((m) => sameName(m, l.names.availabilityGroup)) ||
    !members.some((m) => sameName(m, l.names.instanceAvailabilityGroup))
  )
    throw new StepProblem(
      'sqlserver',
      'DagMismatch',
      `availability group ${dag.name} exists but is not this link's (members: ${members.join(', ')})`,
      'drop it or choose another names.link',
    );
  // Same member names but another instance's listener: a link of this database to another instance made it
  // (two requests at once both chose this name). Using it would point this link at that instance.
  const fqdn = typeof l.fqdn === 'string' ? l.fqdn : undefined;
  if (fqdn && !linksToInstance(dag, fqdn)) {
    const other = dag.replicas.find((r) => sameName(r.replicaServerName, l.names.instanceAvailabilityGroup));
    throw new StepProblem(
      'sqlserver',
      'DagMismatch',
      `distributed availability group ${dag.name} already links ${l.request.database} to another instance (${other?.endpointUrl ?? 'unknown'})`,
      'another link of this database was created at the same time: re-run this request (milink then names this link DAG2_<db> or the next free name)',
    );
  }
}

async function readDag(l: LinkContext, session: Parameters<typeof catalog.readAvailabilityGroups>[0]) {
  return (await catalog.readAvailabilityGroups(session)).find((g) => sameName(g.name, l.names.link));
}

/** distributed-availability-group: the DAG (`DAG1_<db>`, `DAG2_<db>` for a further link) joining the AG and the instance. */
export const distributedAvailabilityGroup = defineStep<{ dag?: catalog.AvailabilityGroupInfo }>({
  id: 'distributed-availability-group',
  scope: 'link',
  target: 'sqlserver',
  title: (l) => `Distributed availability group ${l.names.link}`,
  render: (l) => ({
    tsql: {
      create: sql.createDistributedAvailabilityGroup({
        name: l.names.link,
        availabilityGroup: l.names.availabilityGroup,
        instanceAvailabilityGroup: l.names.instanceAvailabilityGroup,
        sqlServerListenerUrl: l.partnerEndpoint,
        instanceFqdn: l.fqdn,
        instanceName: l.mi.name,
        database: l.sqlPrimary ? null : l.request.database,
      }),
    },
  }),
  async inspect(io) {
    const dag = await readDag(io.link, await io.sql());
    if (dag) checkOurs(io.link, dag);
    return dag ? { dag } : {};
  },
  needed: (o) => !o.dag,
  found: (o) => [`distributed availability group ${o.dag!.name}`],
  async act(io) {
    const out = report(this.id);
    await io.run(this.render(io.link).tsql!.create!);
    out.changed.push(`created distributed availability group ${io.link.names.link}`);
    // The batch is guarded: if another run created a DAG of this name meanwhile, it did nothing. Check it.
    const dag = await readDag(io.link, await io.sql());
    if (dag) checkOurs(io.link, dag);
    return out;
  },
});
