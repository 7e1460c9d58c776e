import * as arm from '../../azure/arm-requests.js';
import type { InstanceRef } from '../../azure/arm-requests.js';
import { sameName } from '../../link/names.js';
import * as catalog from '../../sql/catalog.js';
import {
  readServerCertificates,
  replacedCertificates,
  servedInstances,
} from '../checks/server-certificates.js';
import { listTrusts } from './trust-sqlserver-certificate.js';
import { defineStep, report, StepProblem } from '../step.js';

interface UntrustObservation {
  /** Trusts of a replaced certificate, found by content. */
  trusts: Array<{ mi: InstanceRef; trust: string; certificate: string }>;
}

/**
 * untrust-old-certificates: each served instance's trust of a certificate the rotation replaced (`DELETE
 * serverTrustCertificates/{name}`), found by content while SQL Server still holds that certificate — so it runs
 * before drop-old-certificates. Never the certificate the endpoint authenticates with.
 */
export const untrustOldCertificates = defineStep<UntrustObservation>({
  id: 'untrust-old-certificates',
  scope: 'sqlserver',
  target: 'azure',
  title: (l) =>
    `Remove the old certificate's trust from ${servedInstances(l)
      .map((m) => m.name)
      .join(', ')}`,
  reads: (l) => ({ trusted: arm.listServerTrustCertificates(l.mi) }),
  render: (l) => ({
    arm: Object.fromEntries(
      servedInstances(l).flatMap((mi) =>
        replacedCertificates(l).map((c) => {
          const name = typeof c === 'string' ? c : c.reference;
          return [`untrust:${mi.name}:${name}`, arm.deleteServerTrustCertificate(mi, name)];
        }),
      ),
    ),
  }),
  async inspect(io) {
    const session = await io.sql();
    const replaced = new Set(
      replacedCertificates(io.link)
        .filter((c): c is string => typeof c === 'string')
        .map((c) => c.toLowerCase()),
    );
    const endpoint = await catalog.readEndpoint(session);
    const { certificates } = await readServerCertificates(session);
    const inUse = certificates.find((c) => sameName(c.name, endpoint?.certificateName ?? undefined))?.hex;
    const old = certificates.filter((c) => replaced.has(c.name.toLowerCase()) && c.hex !== inUse);
    const trusts: UntrustObservation['trusts'] = [];
    for (const mi of servedInstances(io.link))
      for (const t of await listTrusts(io, mi)) {
        const cert = old.find((c) => c.hex === t.hex);
        if (cert) trusts.push({ mi, trust: t.name, certificate: cert.name });
      }
    return { trusts };
  },
  needed: (o) => o.trusts.length > 0,
  found: () => ['no instance trusts a replaced certificate'],
  async act(io, o) {
    const out = report(this.id);
    const endpoint = await catalog.readEndpoint(await io.sql());
    for (const { mi, trust, certificate } of o.trusts) {
      if (sameName(certificate, endpoint?.certificateName ?? undefined))
        throw new StepProblem(
          'sqlserver',
          'CertificateInUse',
          `the endpoint authenticates with ${certificate} again`,
          'someone switched the endpoint back: look at it, then re-run',
        );
      await io.arm.complete(
        arm.deleteServerTrustCertificate(mi, trust),
        `removing trust ${trust} from ${mi.name}`,
      );
      out.changed.push(`${mi.name} no longer trusts ${certificate} (${trust})`);
    }
    return out;
  },
});
