import { sameName } from '../../link/names.js';
import * as catalog from '../../sql/catalog.js';
import * as sql from '../../sql/statements.js';
import { defineStep, report } from '../step.js';

interface AgObservation {
  exists: boolean;
  /** Other distributed availability groups that have this AG as a member. */
  usedBy: string[];
}

/**
 * drop-availability-group (optional, `dropAvailabilityGroup: true`): `DROP AVAILABILITY GROUP [ag]` on SQL Server
 * ("Configure link with scripts": on the respective instance), only when no other distributed availability group
 * uses it (several links of one database share its AG).
 */
export const dropAvailabilityGroup = defineStep<AgObservation>({
  id: 'drop-availability-group',
  scope: 'database',
  target: 'sqlserver',
  include: (l) => l.parameters.dropAvailabilityGroup === true,
  title: (l) =>
    `Drop the availability group ${l.names.availabilityGroup} on SQL Server (unless another link uses it)`,
  render: (l) => ({ tsql: { drop: sql.dropAvailabilityGroup(l.names.availabilityGroup) } }),
  async inspect(io) {
    const ag = io.link.names.availabilityGroup;
    const groups = await catalog.readAvailabilityGroups(await io.sql());
    const exists = groups.some((g) => !g.isDistributed && sameName(g.name, ag));
    const usedBy = groups
      .filter(
        (g) =>
          g.isDistributed &&
          !sameName(g.name, io.link.names.link) &&
          g.replicas.some((r) => sameName(r.replicaServerName, ag)),
      )
      .map((g) => g.name);
    return { exists, usedBy };
  },
  needed: (o) => o.exists && o.usedBy.length === 0,
  found: (o) =>
    o.exists
      ? [`kept: ${o.usedBy.join(', ')} still use(s) the availability group`]
      : ['no such availability group'],
  async act(io) {
    const out = report(this.id);
    await io.run(this.render(io.link).tsql!.drop!);
    out.changed.push(`dropped availability group ${io.link.names.availabilityGroup}`);
    return out;
  },
});
