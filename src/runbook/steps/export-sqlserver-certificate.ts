import * as catalog from '../../sql/catalog.js';
import * as sql from '../../sql/statements.js';
import { known, type LinkContext } from '../context.js';
import { defineStep, StepProblem, type StepIo } from '../step.js';

/** The endpoint's certificate as SQL Server holds it (DER as 0x… hex): what the instance must trust. */
export async function readEndpointCertificate(io: StepIo): Promise<{ name: string; blob: string }> {
  const name = known(io.link.endpointCertificateRef);
  const cert = await catalog.readCertificate(await io.sql(), name);
  if (!cert)
    throw new StepProblem(
      'sqlserver',
      '15151',
      `certificate ${name} does not exist on SQL Server`,
      're-run: sqlserver-certificate creates it',
    );
  return { name, blob: `0x${cert.der.toString('hex').toUpperCase()}` };
}

/** export-sqlserver-certificate: read the endpoint certificate's public part (CERTENCODED). */
export const exportSqlServerCertificate = defineStep<{ name: string; blob: string }>({
  id: 'export-sqlserver-certificate',
  scope: 'sqlserver',
  target: 'sqlserver',
  title: () => "Read SQL Server certificate's public part",
  render: (l: LinkContext) => ({ tsql: { read: sql.certificatePublicKeyQuery(l.endpointCertificateRef) } }),
  inspect: readEndpointCertificate,
  needed: () => false,
  found: (o) => [`certificate ${o.name} (${(o.blob.length - 2) / 2} bytes)`],
});
