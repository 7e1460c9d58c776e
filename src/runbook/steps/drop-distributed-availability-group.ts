import * as sql from '../../sql/statements.js';
import { defineStep, report } from '../step.js';

/** Whether SQL Server has an availability group of this name (distributed or not). */
export async function hasAvailabilityGroup(
  io: { sql(): Promise<{ query(t: string, p: Record<string, string>): Promise<unknown[]> }> },
  name: string,
): Promise<boolean> {
  const rows = await (
    await io.sql()
  ).query('SELECT 1 AS x FROM sys.availability_groups WHERE name = @name', {
    name,
  });
  return rows.length > 0;
}

/**
 * drop-distributed-availability-group: `DROP AVAILABILITY GROUP [dag]` on SQL Server, which the link's deletion on
 * the instance does not do ("Fail over link", "Configure link with scripts": needed outside SSMS).
 */
export const dropDistributedAvailabilityGroup = defineStep<{ exists: boolean }>({
  id: 'drop-distributed-availability-group',
  scope: 'link',
  target: 'sqlserver',
  title: (l) => `Drop the distributed availability group ${l.names.link} on SQL Server`,
  render: (l) => ({ tsql: { drop: sql.dropAvailabilityGroup(l.names.link) } }),
  async inspect(io) {
    return { exists: await hasAvailabilityGroup(io, io.link.names.link) };
  },
  needed: (o) => o.exists,
  found: () => ['SQL Server has no distributed availability group of that name'],
  async act(io) {
    const out = report(this.id);
    await io.run(this.render(io.link).tsql!.drop!);
    out.changed.push(`dropped distributed availability group ${io.link.names.link}`);
    return out;
  },
});
