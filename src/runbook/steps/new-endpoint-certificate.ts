import * as catalog from '../../sql/catalog.js';
import * as sql from '../../sql/statements.js';
import { newCertificateExpiry, newCertificateName } from '../checks/server-certificates.js';
import { known } from '../context.js';
import { defineStep, report } from '../step.js';

/**
 * new-endpoint-certificate (rotateCertificate, BP "Rotate certificate" step 1): the endpoint's next certificate,
 * under a new name (CREATE CERTIFICATE skips a name that exists, so the old one cannot be renewed in place).
 */
export const newEndpointCertificate = defineStep<{ name: string; expiry?: Date }>({
  id: 'new-endpoint-certificate',
  scope: 'sqlserver',
  target: 'sqlserver',
  title: (l) => {
    const name = newCertificateName(l);
    return `New endpoint certificate ${typeof name === 'string' ? name : name.reference}, expiring ${newCertificateExpiry(l)}`;
  },
  render: (l) => ({
    tsql: { create: sql.createSqlServerCertificate(newCertificateName(l), newCertificateExpiry(l)) },
  }),
  async inspect(io) {
    const name = known(newCertificateName(io.link));
    const existing = await catalog.readCertificate(await io.sql(), name);
    return existing ? { name, expiry: existing.expiryDate } : { name };
  },
  needed: (o) => o.expiry === undefined,
  found: (o) => [`certificate ${o.name}, expiring ${o.expiry?.toISOString().slice(0, 10)}`],
  async act(io, o) {
    const out = report(this.id);
    await io.run(this.render(io.link).tsql!.create!);
    out.changed.push(`certificate ${o.name} created, expiring ${newCertificateExpiry(io.link)}`);
    return out;
  },
});
