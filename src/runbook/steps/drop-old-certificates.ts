import { sameName } from '../../link/names.js';
import * as catalog from '../../sql/catalog.js';
import * as sql from '../../sql/statements.js';
import { replacedCertificates } from '../checks/server-certificates.js';
import { defineStep, report, StepProblem } from '../step.js';

/**
 * drop-old-certificates (BP "Rotate certificate" step 4): `DROP CERTIFICATE [old]` on SQL Server, once every link is
 * connected on the new certificate and no instance trusts the old one. Never the endpoint's certificate.
 */
export const dropOldCertificates = defineStep<{ present: string[]; endpointCertificate: string | null }>({
  id: 'drop-old-certificates',
  scope: 'sqlserver',
  target: 'sqlserver',
  title: (l) =>
    `Drop the replaced certificate(s) ${replacedCertificates(l)
      .map((c) => (typeof c === 'string' ? c : c.reference))
      .join(', ')} on SQL Server`,
  render: (l) => ({
    tsql: Object.fromEntries(
      replacedCertificates(l).map((c) => [
        `drop:${typeof c === 'string' ? c : c.name}`,
        sql.dropCertificate(c),
      ]),
    ),
  }),
  async inspect(io) {
    const session = await io.sql();
    const names = await catalog.certificateNames(session);
    const endpoint = await catalog.readEndpoint(session);
    const present = replacedCertificates(io.link).filter(
      (c): c is string => typeof c === 'string' && [...names].some((n) => sameName(n, c)),
    );
    return { present, endpointCertificate: endpoint?.certificateName ?? null };
  },
  needed: (o) => o.present.length > 0,
  found: () => ['no replaced certificate left on SQL Server'],
  async act(io, o) {
    const out = report(this.id);
    for (const name of o.present) {
      if (sameName(name, o.endpointCertificate ?? undefined))
        throw new StepProblem(
          'sqlserver',
          'CertificateInUse',
          `the endpoint authenticates with ${name}: it is not dropped`,
          'someone switched the endpoint back: look at it, then re-run',
        );
      await io.run(sql.dropCertificate(name));
      out.changed.push(`dropped certificate ${name}`);
    }
    return out;
  },
});
