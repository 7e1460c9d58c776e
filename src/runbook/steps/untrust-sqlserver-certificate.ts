import { listTrusts } from './trust-sqlserver-certificate.js';
import * as arm from '../../azure/arm-requests.js';
import { sameName } from '../../link/names.js';
import { normaliseHex } from '../../sql/quote.js';
import * as sql from '../../sql/statements.js';
import { listInstanceLinks } from '../checks/create-link.js';
import { defineStep, report } from '../step.js';
import { otherSqlLinks, type PairUse } from './drop-instance-certificate.js';
import { readEndpointCertificate } from './export-sqlserver-certificate.js';

interface UntrustObservation extends PairUse {
  /** The name under which the instance trusts SQL Server's endpoint certificate (compared by content). */
  trustedAs?: string;
}

/**
 * untrust-sqlserver-certificate (optional, `dropCertificates: true`): the instance's trust of SQL Server's endpoint
 * certificate (`DELETE serverTrustCertificates/{name}`, as Remove-AzSqlInstanceServerTrustCertificate does), only
 * when no other link between this SQL Server and the instance needs it — on either side.
 */
export const untrustSqlServerCertificate = defineStep<UntrustObservation>({
  id: 'untrust-sqlserver-certificate',
  scope: 'pair',
  target: 'azure',
  include: (l) => l.parameters.dropCertificates === true,
  title: (l) => `Remove ${l.mi.name}'s trust of SQL Server's certificate (unless another link needs it)`,
  reads: (l) => ({ trusted: arm.listServerTrustCertificates(l.mi), links: arm.listLinks(l.mi) }),
  render: (l) => ({
    arm: {
      untrust: arm.deleteServerTrustCertificate(
        l.mi,
        l.endpointCertificate ?? sql.variables.certificateName.reference,
      ),
    },
  }),
  async inspect(io) {
    const cert = await readEndpointCertificate(io);
    const ours = normaliseHex(cert.blob);
    const trusted = (await listTrusts(io, io.link.mi)).find((t) => t.hex === ours);
    const fromInstance = (await listInstanceLinks(io))
      .filter(
        (l) =>
          !sameName(l.name, io.link.names.link) &&
          sameName(l.properties?.partnerEndpoint, io.link.partnerEndpoint),
      )
      .map((l) => l.name ?? '?');
    const otherLinks = [...new Set([...(await otherSqlLinks(io)), ...fromInstance])];
    return trusted ? { trustedAs: trusted.name, otherLinks } : { otherLinks };
  },
  needed: (o) => o.trustedAs !== undefined && o.otherLinks.length === 0,
  found: (o) =>
    o.trustedAs !== undefined
      ? [`kept: ${o.otherLinks.join(', ')} still need(s) the trust ${o.trustedAs}`]
      : ["the instance does not trust SQL Server's certificate"],
  async act(io, o) {
    const out = report(this.id);
    const request = arm.deleteServerTrustCertificate(io.link.mi, o.trustedAs!);
    await io.arm.complete(request, `removing trust ${o.trustedAs} from ${io.link.mi.name}`);
    out.changed.push(`${io.link.mi.name} no longer trusts ${o.trustedAs}`);
    return out;
  },
});
