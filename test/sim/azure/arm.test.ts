import { request } from 'node:https';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../local/sim/clock.js';
import { issueInstanceEndpointCertificate } from '../../../local/sim/azure/pki.js';
import { miPath, RG, startAzureHarness, SUB, type AzureHarness } from './harness.js';

const hex = (der: Buffer) => der.toString('hex').toUpperCase();

function unauthenticatedGet(
  url: string,
  ca: string,
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('ARM stand-in: managed instances and certificates', () => {
  let h: AzureHarness;
  beforeAll(async () => {
    h = await startAzureHarness({
      clock: new VirtualClock(),
      instances: [
        { subscriptionId: SUB, resourceGroup: RG, name: 'mi-prod', databases: ['Orders'] },
        {
          subscriptionId: SUB,
          resourceGroup: RG,
          name: 'mi-dr',
          updatePolicy: 'AlwaysUpToDate',
          dnsZone: 'abc123def4567',
        },
      ],
    });
  });
  afterAll(async () => {
    await h.close();
  });

  it('requires a bearer token (401 AuthenticationFailed)', async () => {
    const res = await unauthenticatedGet(`${h.arm.url}${miPath()}?api-version=2025-01-01`, h.caCertPem);
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body).error.code).toBe('AuthenticationFailed');
  });

  it('requires an api-version', async () => {
    const res = await h.raw('GET', `${h.arm.url}${miPath()}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('MissingApiVersionParameter');
  });

  it('answers managed instance GET with FQDN, collation, state and update policy (typed client and 2025-01-01)', async () => {
    const typed = await h.client.managedInstances.get(RG, 'mi-dr');
    expect(typed.fullyQualifiedDomainName).toBe('mi-dr.abc123def4567.database.windows.net');
    expect(typed.collation).toBe('SQL_Latin1_General_CP1_CI_AS');
    const raw = await h.raw('GET', miPath('mi-dr'));
    expect(raw.status).toBe(200);
    expect(raw.body).toMatchObject({
      name: 'mi-dr',
      type: 'Microsoft.Sql/managedInstances',
      properties: { state: 'Ready', databaseFormat: 'AlwaysUpToDate', dnsZone: 'abc123def4567' },
    });
    const prod = await h.raw('GET', miPath('mi-prod'));
    expect(prod.body.properties.databaseFormat).toBe('SQLServer2022');
    expect(prod.body.properties.fullyQualifiedDomainName).toMatch(
      /^mi-prod\.[0-9a-f]{13}\.database\.windows\.net$/,
    );
    const missing = await h.raw('GET', miPath('mi-nope'));
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('ResourceNotFound');
  });

  it('lists and gets the instance databases', async () => {
    const list = await h.raw('GET', `${miPath()}/databases`);
    expect(list.body.value.map((d: { name: string }) => d.name)).toEqual(['Orders']);
    const one = await h.raw('GET', `${miPath()}/databases/orders`);
    expect(one.body).toMatchObject({
      name: 'Orders',
      type: 'Microsoft.Sql/managedInstances/databases',
      properties: { status: 'Online' },
    });
    expect((await h.raw('GET', `${miPath()}/databases/SalesDb`)).status).toBe(404);
  });

  it('answers the endpoint certificate with 0x, issued to the FQDN by the Azure TLS issuing CA', async () => {
    const cert = await h.client.endpointCertificates.get(RG, 'mi-prod', 'DATABASE_MIRRORING');
    expect(cert.publicBlob).toMatch(/^0x[0-9A-F]+$/);
    const x = new X509Certificate(Buffer.from((cert.publicBlob ?? '').slice(2), 'hex'));
    const mi = h.instances.get(SUB, RG, 'mi-prod');
    expect(x.subject).toBe(`CN=${mi?.fqdn}`);
    expect(x.issuer).toContain('CN=Microsoft Azure RSA TLS Issuing CA 08');
    expect(x.issuer).toContain('O=Microsoft Corporation');
    const list = await h.raw('GET', `${miPath()}/endpointCertificates`);
    expect(list.body.value.map((c: { name: string }) => c.name)).toContain('DATABASE_MIRRORING');
  });

  it('trusts SQL Server certificates: with or without 0x, refusing non-certificates and a key trusted under another name', async () => {
    const now = h.clock.now();
    const a = issueInstanceEndpointCertificate('SQLBOX1', 'test-sql-a', now);
    const b = issueInstanceEndpointCertificate('SQLBOX2', 'test-sql-b', now);
    const created = await h.client.serverTrustCertificates.beginCreateOrUpdateAndWait(
      RG,
      'mi-prod',
      'Cert_SQLBOX1_endpoint',
      {
        publicBlob: `0x${hex(a.der)}`,
      },
    );
    expect(created.certificateName).toBe('Cert_SQLBOX1_endpoint');
    expect(created.thumbprint).toMatch(/^[0-9A-F]{40}$/);

    const put = await h.raw('PUT', `${miPath()}/serverTrustCertificates/Cert_SQLBOX2_endpoint`, {
      properties: { publicBlob: hex(b.der) },
    });
    expect(put.status).toBe(202);
    expect(put.headers['azure-asyncoperation']).toContain('serverTrustCertificatesAzureAsyncOperation');
    const op = await h.raw('GET', put.headers['azure-asyncoperation'] ?? '');
    expect(op.body.status).toBe('Succeeded');

    const again = await h.raw('PUT', `${miPath()}/serverTrustCertificates/Cert_SQLBOX2_endpoint`, {
      properties: { publicBlob: hex(b.der) },
    });
    expect(again.status).toBe(200);

    const sameKey = await h.raw('PUT', `${miPath()}/serverTrustCertificates/Other_name`, {
      properties: { publicBlob: hex(a.der) },
    });
    expect(sameKey.status).toBe(409);
    expect(sameKey.body.error.message).toContain('Cert_SQLBOX1_endpoint');

    const spkiOnly = new X509Certificate(a.der).publicKey.export({ type: 'spki', format: 'der' });
    const bareKey = await h.raw('PUT', `${miPath()}/serverTrustCertificates/Bare`, {
      properties: { publicBlob: `0x${hex(spkiOnly)}` },
    });
    expect(bareKey.status).toBe(400);
    expect(bareKey.body.error.code).toBe('InvalidPublicBlob');
    const notHex = await h.raw('PUT', `${miPath()}/serverTrustCertificates/Bad`, {
      properties: { publicBlob: 'hello' },
    });
    expect(notHex.status).toBe(400);

    const names: string[] = [];
    for await (const c of h.client.serverTrustCertificates.listByInstance(RG, 'mi-prod'))
      names.push(c.name ?? '');
    expect(names.sort()).toEqual(['Cert_SQLBOX1_endpoint', 'Cert_SQLBOX2_endpoint']);

    await h.client.serverTrustCertificates.beginDeleteAndWait(RG, 'mi-prod', 'Cert_SQLBOX2_endpoint');
    const gone = await h.raw('GET', `${miPath()}/serverTrustCertificates/Cert_SQLBOX2_endpoint`);
    expect(gone.status).toBe(404);
  });

  it('injects 429 with Retry-After, 5xx and dropped connections; the SDK pipeline retries through them', async () => {
    h.arm.faults.throttle(1, 0, { method: 'GET', path: /managedInstances\/mi-prod$/ });
    h.arm.faults.fail(1, 500, { method: 'GET' });
    h.arm.faults.drop(1, { method: 'GET' });
    const before = h.arm.faults.injected.length;
    const mi = await h.client.managedInstances.get(RG, 'mi-prod');
    expect(mi.name).toBe('mi-prod');
    expect(h.arm.faults.injected.slice(before).map((f) => f.kind)).toEqual(['throttle', 'error', 'drop']);
  });

  it('shows throttling to a raw client as 429 with Retry-After', async () => {
    h.arm.faults.throttle(5, 7, { method: 'GET', path: 'endpointCertificates' });
    try {
      const res = await unauthenticatedGet(
        `${h.arm.url}${miPath()}/endpointCertificates?api-version=2025-01-01`,
        h.caCertPem,
      );
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toBe('7');
    } finally {
      h.arm.faults.clear();
    }
  });
});
