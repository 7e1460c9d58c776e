import * as arm from '../../azure/arm-requests.js';
import type { InstanceRef } from '../../azure/arm-requests.js';
import * as catalog from '../../sql/catalog.js';
import * as sql from '../../sql/statements.js';
import { missingCertificate, newCertificateName, servedInstances } from '../checks/server-certificates.js';
import { listTrusts } from './trust-sqlserver-certificate.js';
import { known, type LinkContext } from '../context.js';
import { defineStep, report, type StepIo } from '../step.js';

export interface NewTrustObservation {
  name: string;
  /** The new certificate, 0x… (public). */
  blob: string;
  /** The instances that do not trust it yet. */
  missing: InstanceRef[];
  trusted: string[];
}

function upload(l: LinkContext, mi: InstanceRef, blob?: string) {
  const name = newCertificateName(l);
  return arm.putServerTrustCertificate(
    mi,
    typeof name === 'string' ? name : name.reference,
    blob ?? sql.variables.newCertificatePublicKey.reference,
  );
}

/** Which of the served instances trust the new certificate (by content, whatever the trust's name). */
export async function inspectNewTrust(io: StepIo): Promise<NewTrustObservation> {
  const name = known(newCertificateName(io.link));
  const cert = await catalog.readCertificate(await io.sql(), name);
  if (!cert) throw missingCertificate(name, 're-run: new-endpoint-certificate creates it');
  const hex = cert.der.toString('hex').toUpperCase();
  const missing: InstanceRef[] = [];
  const trusted: string[] = [];
  for (const mi of servedInstances(io.link)) {
    const trust = (await listTrusts(io, mi)).find((t) => t.hex === hex);
    if (trust) trusted.push(`${mi.name} trusts ${name} as ${trust.name}`);
    else missing.push(mi);
  }
  return { name, blob: `0x${hex}`, missing, trusted };
}

/**
 * trust-new-certificate (BP "Rotate certificate" step 2): every instance the SQL Server's links reach trusts the new
 * certificate (serverTrustCertificates) before the endpoint switches to it — one instance left out and its links
 * break with 41973.
 */
export const trustNewCertificate = defineStep<NewTrustObservation>({
  id: 'trust-new-certificate',
  scope: 'sqlserver',
  target: 'azure',
  title: (l) =>
    `Trust the new certificate on ${servedInstances(l)
      .map((m) => m.name)
      .join(', ')}`,
  reads: (l) => ({ trusted: arm.listServerTrustCertificates(l.mi) }),
  render: (l) => ({
    arm: Object.fromEntries(servedInstances(l).map((mi) => [`upload:${mi.name}`, upload(l, mi)])),
  }),
  inspect: inspectNewTrust,
  needed: (o) => o.missing.length > 0,
  found: (o) => o.trusted,
  async act(io, o) {
    const out = report(this.id);
    out.found.push(...o.trusted);
    for (const mi of o.missing) {
      await io.arm.complete(upload(io.link, mi, o.blob), `uploading certificate ${o.name} to ${mi.name}`);
      out.changed.push(`${mi.name} now trusts ${o.name}`);
    }
    return out;
  },
});
