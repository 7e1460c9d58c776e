import * as arm from '../../azure/arm-requests.js';
import { normaliseHex } from '../../sql/quote.js';
import * as sql from '../../sql/statements.js';
import { linkContext } from '../context.js';
import { defineStep, report } from '../step.js';
import { exportSqlServerCertificate, readEndpointCertificate } from './export-sqlserver-certificate.js';

interface TrustObservation {
  name: string;
  blob: string;
  /** The name under which the instance already trusts this certificate (compared by content). */
  trustedAs?: string;
}

/** trust-sqlserver-certificate: upload SQL Server's certificate to the instance (serverTrustCertificates), unless trusted. */
export const trustSqlServerCertificate = defineStep<TrustObservation>({
  id: 'trust-sqlserver-certificate',
  scope: 'pair',
  target: 'azure',
  uses: exportSqlServerCertificate,
  title: (l) => `Trust SQL Server's certificate on ${l.mi.name}`,
  reads: (l) => ({ trusted: arm.listServerTrustCertificates(l.mi) }),
  render: (l) => ({
    arm: {
      upload: arm.putServerTrustCertificate(
        l.mi,
        l.endpointCertificate ?? sql.variables.certificateName.reference,
        l.facts.sqlServerCertificate ?? sql.variables.sqlServerPublicKey.reference,
      ),
    },
  }),
  async inspect(io) {
    const cert = await readEndpointCertificate(io);
    const list = await io.arm.call(
      this.reads!(io.link).trusted!,
      `listing certificates trusted by ${io.link.mi.name}`,
    );
    const ours = normaliseHex(cert.blob);
    const trusted = (
      (list.json as { value?: Array<{ name: string; properties?: { publicBlob?: string } }> }).value ?? []
    ).find((t) => {
      try {
        return t.properties?.publicBlob !== undefined && normaliseHex(t.properties.publicBlob) === ours;
      } catch {
        return false;
      }
    });
    return trusted ? { ...cert, trustedAs: trusted.name } : cert;
  },
  needed: (o) => o.trustedAs === undefined,
  found: (o) => [`the instance trusts ${o.name} as ${o.trustedAs}`],
  async act(io, o) {
    const out = report(this.id);
    const upload = this.render(linkContext(io.request, { ...io.facts, sqlServerCertificate: o.blob })).arm!
      .upload!;
    await io.arm.complete(upload, `uploading certificate ${o.name} to ${io.link.mi.name}`);
    out.changed.push(`${io.link.mi.name} now trusts ${o.name}`);
    return out;
  },
});
