import { sameName } from '../../link/names.js';
import * as catalog from '../../sql/catalog.js';
import * as sql from '../../sql/statements.js';
import { missingCertificate, newCertificateName } from '../checks/server-certificates.js';
import { known, type LinkContext } from '../context.js';
import { defineStep, report, StepProblem } from '../step.js';
import { inspectNewTrust } from './trust-new-certificate.js';

function alter(l: LinkContext, endpoint: catalog.EndpointInfo | null | undefined): string {
  return sql.alterEndpoint({
    name: endpoint?.name ?? sql.DEFAULT_ENDPOINT_NAME,
    port: endpoint?.port ?? l.request.sqlServer.endpointPort,
    certificate: newCertificateName(l),
    // what the endpoint allows besides stays as it is: Windows authentication other AGs use, RC4
    windowsAuth: endpoint?.windowsAuth ?? null,
    keepRc4: endpoint?.algorithms.includes('RC4') ?? false,
  });
}

/**
 * switch-endpoint-certificate (BP "Rotate certificate" step 3): `ALTER ENDPOINT … AUTHENTICATION = CERTIFICATE
 * [new]`. It runs only when every served instance trusts the new certificate, read again right before (the links
 * reconnect on the new certificate at once; the old one stays valid until dropped).
 */
export const switchEndpointCertificate = defineStep<{ endpoint: catalog.EndpointInfo | null; name: string }>({
  id: 'switch-endpoint-certificate',
  scope: 'sqlserver',
  target: 'sqlserver',
  title: (l) => {
    const name = newCertificateName(l);
    return `Switch the mirroring endpoint to ${typeof name === 'string' ? name : name.reference}`;
  },
  render: (l) => ({ tsql: { alter: alter(l, l.facts.endpoint) } }),
  async inspect(io) {
    return { endpoint: await catalog.readEndpoint(await io.sql()), name: known(newCertificateName(io.link)) };
  },
  needed: (o) => !sameName(o.endpoint?.certificateName ?? undefined, o.name),
  found: (o) => [`endpoint ${o.endpoint?.name} authenticates with ${o.name}`],
  async act(io, o) {
    const out = report(this.id);
    if (!o.endpoint)
      throw new StepProblem(
        'sqlserver',
        'NoEndpoint',
        'SQL Server has no mirroring endpoint',
        'create the link first (createLink)',
      );
    if (!(await catalog.readCertificate(await io.sql(), o.name)))
      throw missingCertificate(o.name, 're-run: new-endpoint-certificate creates it');
    const trust = await inspectNewTrust(io);
    if (trust.missing.length > 0)
      throw new StepProblem(
        'azure',
        'CertificateNotTrusted',
        `${trust.missing.map((m) => m.name).join(', ')} do(es) not trust ${o.name}: switching now would break their links (41973)`,
        're-run: trust-new-certificate uploads it first',
      );
    await io.run(alter(io.link, o.endpoint));
    out.changed.push(
      `endpoint ${o.endpoint.name} switched from ${o.endpoint.certificateName ?? 'no certificate'} to ${o.name}`,
    );
    return out;
  },
});
