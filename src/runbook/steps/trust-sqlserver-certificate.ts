import * as arm from '../../azure/arm-requests.js';
import type { InstanceRef } from '../../azure/arm-requests.js';
import { normaliseHex } from '../../sql/quote.js';
import * as sql from '../../sql/statements.js';
import { linkContext } from '../context.js';
import { defineStep, OwnedByStep, report, type StepIo } from '../step.js';
import { exportSqlServerCertificate, readEndpointCertificate } from './export-sqlserver-certificate.js';

interface TrustResource {
  name: string;
  properties?: { publicBlob?: string; certificateName?: string };
}

/** The certificates an instance trusts (serverTrustCertificates), with their blobs normalised to hex. */
export async function listTrusts(
  io: Pick<StepIo, 'arm'>,
  mi: InstanceRef,
): Promise<Array<{ name: string; hex: string | undefined }>> {
  const response = await io.arm.call(
    arm.listServerTrustCertificates(mi),
    `listing certificates trusted by ${mi.name}`,
  );
  return ((response.json as { value?: TrustResource[] }).value ?? []).map((t) => {
    let hex: string | undefined;
    try {
      hex = t.properties?.publicBlob ? normaliseHex(t.properties.publicBlob) : undefined;
    } catch {
      hex = undefined;
    }
    return { name: t.name, hex };
  });
}

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
    // the export step's read, done here: an error reading is that step's
    const cert = await readEndpointCertificate(io).catch((e: unknown) => {
      throw new OwnedByStep(exportSqlServerCertificate.id, e);
    });
    const ours = normaliseHex(cert.blob);
    const trusted = (await listTrusts(io, io.link.mi)).find((t) => t.hex === ours);
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
