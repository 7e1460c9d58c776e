import { sameName } from '../../link/names.js';
import * as catalog from '../../sql/catalog.js';
import * as sql from '../../sql/statements.js';
import { defineStep, report, type Rendered } from '../step.js';

interface GroupObservation {
  ag?: catalog.AvailabilityGroupInfo;
  /** The DAG exists already (the grant was made before it, on a run that got that far). */
  dagExists: boolean;
  /** With the instance as initial primary: the grant of CREATE ANY DATABASE may still be missing. */
  grantPending: boolean;
}

/** availability-group: the AG on SQL Server (reused when the database already has one). */
export const availabilityGroup = defineStep<GroupObservation>({
  id: 'availability-group',
  scope: 'database',
  target: 'sqlserver',
  title: (l) =>
    `Availability group ${l.names.availabilityGroup}${l.sqlPrimary ? ` for ${l.request.database}` : ' (the instance seeds the database)'}`,
  render(l): Rendered {
    const create = sql.createAvailabilityGroup({
      name: l.names.availabilityGroup,
      database: l.sqlPrimary ? l.request.database : null,
      serverName: l.serverName,
      endpointUrl: l.partnerEndpoint,
      // SQL Server 2016 has no CLUSTER_TYPE clause
      withClusterTypeNone: l.version === undefined || l.version > 2016,
    });
    // With the instance as initial primary, the AG must be allowed to create the seeded database.
    return l.sqlPrimary
      ? { tsql: { create } }
      : { tsql: { create, grant: sql.grantCreateAnyDatabase(l.names.availabilityGroup) } };
  },
  async inspect(io) {
    const groups = await catalog.readAvailabilityGroups(await io.sql());
    const ag = groups.find((g) => !g.isDistributed && sameName(g.name, io.link.names.availabilityGroup));
    const dagExists = groups.some((g) => g.isDistributed && sameName(g.name, io.link.names.link));
    // No view shows the grant; it is made until the DAG exists, which the seeding it allows needs first.
    const grantPending = !io.link.sqlPrimary && (!ag || !dagExists);
    return ag ? { ag, dagExists, grantPending } : { dagExists, grantPending };
  },
  needed: (o) => !o.ag || o.grantPending,
  found: (o) => [
    `availability group ${o.ag!.name}${o.ag!.databases.length ? ` with ${o.ag!.databases.join(', ')}` : ''}`,
  ],
  async act(io, o) {
    const out = report(this.id);
    const { create, grant } = this.render(io.link).tsql!;
    if (o.ag) out.found.push(...this.found(o));
    else {
      await io.run(create!);
      out.changed.push(`created availability group ${io.link.names.availabilityGroup}`);
    }
    if (grant && o.grantPending) {
      await io.run(grant);
      out.changed.push(`granted CREATE ANY DATABASE to ${io.link.names.availabilityGroup}`);
    }
    return out;
  },
});
