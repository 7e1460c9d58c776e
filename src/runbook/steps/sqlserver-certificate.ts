import * as catalog from '../../sql/catalog.js';
import * as sql from '../../sql/statements.js';
import { known } from '../context.js';
import { defineStep, report } from '../step.js';

/** sqlserver-certificate: `Cert_<server>_endpoint` with its expiry, if absent. */
export const sqlServerCertificate = defineStep<{ name: string; expiry?: Date }>({
  id: 'sqlserver-certificate',
  scope: 'sqlserver',
  target: 'sqlserver',
  title: (l) =>
    `SQL Server certificate ${l.names.certificate ?? 'Cert_<@@SERVERNAME>_endpoint'}, expiring ${l.request.certificateExpiry}`,
  render: (l) => ({
    tsql: { create: sql.createSqlServerCertificate(l.names.certificateRef, l.request.certificateExpiry) },
  }),
  async inspect(io) {
    const name = known(io.link.names.certificateRef);
    const existing = await catalog.readCertificate(await io.sql(), name);
    return existing ? { name, expiry: existing.expiryDate } : { name };
  },
  needed: (o) => o.expiry === undefined,
  found: (o) => [`certificate ${o.name}, expiring ${o.expiry?.toISOString().slice(0, 10)}`],
  async act(io, o) {
    const out = report(this.id);
    await io.run(this.render(io.link).tsql!.create!);
    out.changed.push(`certificate ${o.name} created, expiring ${io.request.certificateExpiry}`);
    return out;
  },
});
