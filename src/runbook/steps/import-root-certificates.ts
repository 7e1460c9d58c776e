import * as catalog from '../../sql/catalog.js';
import { ROOT_CERTIFICATES } from '../../sql/roots.js';
import * as sql from '../../sql/statements.js';
import { defineStep, report } from '../step.js';

/** import-root-certificates: the MicrosoftPKI and DigiCertPKI roots, each with `sp_certificate_add_issuer`. */
export const importRootCertificates = defineStep<{ missing: string[] }>({
  id: 'import-root-certificates',
  scope: 'sqlserver',
  target: 'sqlserver',
  title: () => 'Import the MicrosoftPKI and DigiCertPKI roots with their issuer',
  render: () => ({
    tsql: Object.fromEntries(ROOT_CERTIFICATES.map((root) => [root.name, sql.importRootCertificate(root)])),
  }),
  async inspect(io) {
    const names = await catalog.certificateNames(await io.sql());
    return { missing: ROOT_CERTIFICATES.filter((r) => !names.has(r.name)).map((r) => r.name) };
  },
  needed: (o) => o.missing.length > 0,
  found: () => ROOT_CERTIFICATES.map((r) => `root ${r.name}`),
  async act(io, o) {
    const out = report(this.id);
    const batches = this.render(io.link).tsql!;
    for (const root of ROOT_CERTIFICATES)
      if (o.missing.includes(root.name)) {
        await io.run(batches[root.name]!);
        out.changed.push(`imported root ${root.name} for ${root.issuerPattern}`);
      } else out.found.push(`root ${root.name}`);
    return out;
  },
});
