import { linksToInstance, sameName } from '../../link/names.js';
import * as catalog from '../../sql/catalog.js';
import * as sql from '../../sql/statements.js';
import { known } from '../context.js';
import { defineStep, report, type StepIo } from '../step.js';

export interface PairUse {
  /** Other links of this SQL Server / instance pair: DAGs on SQL Server that reach the instance, links on it from this SQL Server. */
  otherLinks: string[];
}

/** The other links between this SQL Server and this instance, seen from SQL Server (DAGs whose listener is the instance). */
export async function otherSqlLinks(io: StepIo): Promise<string[]> {
  const fqdn = known(io.link.fqdn);
  const groups = await catalog.readAvailabilityGroups(await io.sql());
  return groups
    .filter((g) => g.isDistributed && !sameName(g.name, io.link.names.link) && linksToInstance(g, fqdn))
    .map((g) => g.name);
}

/**
 * drop-instance-certificate (optional, `dropCertificates: true`): the instance's endpoint certificate that SQL
 * Server imported under the instance FQDN, only when no other link of this SQL Server reaches that instance. The
 * documents are silent on cleanup; the Azure root certificates stay (every instance's links use them).
 */
export const dropInstanceCertificate = defineStep<PairUse & { exists: boolean }>({
  id: 'drop-instance-certificate',
  scope: 'pair',
  target: 'sqlserver',
  include: (l) => l.parameters.dropCertificates === true,
  title: (l) => `Drop the certificate of ${l.mi.name} on SQL Server (unless another link to it needs it)`,
  render: (l) => ({ tsql: { drop: sql.dropCertificate(l.fqdn) } }),
  async inspect(io) {
    const exists = (await catalog.readCertificate(await io.sql(), known(io.link.fqdn))) !== undefined;
    return { exists, otherLinks: await otherSqlLinks(io) };
  },
  needed: (o) => o.exists && o.otherLinks.length === 0,
  found: (o) =>
    o.exists ? [`kept: ${o.otherLinks.join(', ')} still link(s) to the instance`] : ['no such certificate'],
  async act(io) {
    const out = report(this.id);
    await io.run(this.render(io.link).tsql!.drop!);
    out.changed.push(`dropped certificate ${known(io.link.fqdn)}`);
    return out;
  },
});
