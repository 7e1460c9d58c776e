/**
 * Issue 17: rotateCertificate for a SQL Server whose endpoint certificate serves three links to two instances.
 * Microsoft's order ("Best practices for maintaining the link", "Rotate certificate"): a new certificate, trusted by
 * the instance, the endpoint switched to it, the old one dropped — for every instance the SQL Server replicates to
 * before the switch, or the links of the one left out fail with 41973 ("Troubleshoot issues with the link").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changesIn, type Bed } from './harness.js';
import {
  armLinkOf,
  certificateBed,
  endpointCertificate,
  LINKS,
  serverCertificates,
  serverRequest,
  trustsOf,
  type CertificateBed,
} from './certificates-bed.js';

let bed: CertificateBed;
let host: Bed;

beforeAll(async () => {
  bed = await certificateBed();
  host = await bed.host();
}, 240_000);

afterAll(async () => {
  await bed?.close();
});

describe('rotateCertificate: one SQL Server, three links, two instances', () => {
  it('refuses a bad request with the options named', async () => {
    const bad = await host.api('POST', '/api/certificates/rotate', {
      request: serverRequest(),
      options: { expiry: '2026-02-30', certificateName: 'a b', everything: true },
    });
    expect(bad.status).toBe(400);
    // not a date at all: a 400 as well, never a 500
    const worse = await host.api('POST', '/api/certificates/rotate', {
      request: serverRequest(),
      options: { expiry: 'soon' },
    });
    expect(worse.status).toBe(400);
    expect(worse.json.error.details.map((d: { target: string }) => d.target)).toEqual(['options.expiry']);
    const targets = bad.json.error.details.map((d: { target: string }) => d.target);
    expect(targets).toEqual(
      expect.arrayContaining(['options.expiry', 'options.certificateName', 'options.everything']),
    );
  });

  it('prints the plan (every instance the live plan found, the T-SQL and az rest commands)', async () => {
    const plan = await host.api('POST', '/api/certificates/rotate/plan', {
      request: serverRequest(),
      options: { expiry: '2028-06-30' },
    });
    expect(plan.status, plan.text).toBe(200);
    expect(plan.json.steps.map((s: { id: string }) => s.id)).toEqual([
      'new-endpoint-certificate',
      'trust-new-certificate',
      'switch-endpoint-certificate',
      'wait-for-new-certificate',
      'untrust-old-certificates',
      'drop-old-certificates',
    ]);
    expect(plan.json.script).toContain('CREATE CERTIFICATE [$(NewCertificateName)]');
    expect(plan.json.script).toContain("EXPIRY_DATE = N'20280630'");
    expect(plan.json.script).toContain('AUTHENTICATION = CERTIFICATE [$(NewCertificateName)]');
    expect(plan.json.script).toContain('serverTrustCertificates/$(NewCertificateName)');
    const live = await host.api('POST', '/api/certificates/rotate/plan', {
      request: serverRequest(),
      options: { expiry: '2028-06-30' },
      live: true,
    });
    expect(live.status, live.text).toBe(200);
    expect(live.json.failures).toEqual([]);
    expect(live.json.steps.map((s: { id: string }) => s.id)).toContain('switch-endpoint-certificate');
    // the live plan names both instances and the server's own names
    const trust = live.json.steps.find((s: { id: string }) => s.id === 'trust-new-certificate');
    expect(JSON.stringify(trust)).toContain('mi-prod');
    expect(JSON.stringify(trust)).toContain('mi-dr');
    expect(JSON.stringify(live.json)).toContain('Cert_SQLBOX1_endpoint_20280630');
  });

  it('rotates with every link connected and healthy throughout; the old certificate and trusts are gone', async () => {
    const old = endpointCertificate(bed.estate)!;
    expect(old).toBe('Cert_SQLBOX1_endpoint');
    expect(trustsOf(bed.estate, 'mi-prod')).toEqual([old]);
    expect(trustsOf(bed.estate, 'mi-dr')).toEqual([old]);
    const server = bed.estate.sqlServers.get('SQLBOX1')!;
    const from = server.journal.length;
    const armFrom = bed.estate.arm.journal.length;
    bed.trouble.length = 0;
    bed.certificates.clear();
    bed.watching = true;
    try {
      const posted = await host.api('POST', '/api/certificates/rotate', {
        request: serverRequest(),
        options: { expiry: '2028-06-30' },
      });
      expect(posted.status, posted.text).toBe(202);
      expect(posted.json.instanceId).toMatch(/^cert-sqlbox1-contoso-local-[0-9a-f]{12}$/);
      // a second request for the same server while it runs: refused, whatever the link it names
      const second = await host.api('POST', '/api/certificates/rotate', {
        request: { ...serverRequest(), database: 'InventoryDb' },
      });
      expect(second.status).toBe(409);
      const status = await host.finish(posted.json.instanceId, 120_000);
      expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
      expect(status.operation).toBe('rotateCertificate');
    } finally {
      bed.watching = false;
    }
    const next = 'Cert_SQLBOX1_endpoint_20280630';
    // no link was ever seen disconnected or unhealthy: the endpoint switch itself costs nothing
    expect(bed.trouble).toEqual([]);
    for (const [instance, database] of LINKS) {
      const db = armLinkOf(bed.estate, instance, database).properties.databases[0];
      expect(db.partnerAuthCertValidity.certificateName).toBe(next);
      expect(db.partnerAuthCertValidity.expiryDate.slice(0, 10)).toBe('2028-06-30');
      expect(db.connectedState).toBe('CONNECTED');
      // seen on the old certificate, then on the new one: nothing else
      expect([...bed.certificates.get(`${instance}/DAG1_${database}`)!]).toEqual([old, next]);
    }
    expect(endpointCertificate(bed.estate)).toBe(next);
    expect(
      serverCertificates(bed.estate)
        .filter((c) => c.privateKey)
        .map((c) => c.name),
    ).toEqual([next]);
    expect(trustsOf(bed.estate, 'mi-prod')).toEqual([next]);
    expect(trustsOf(bed.estate, 'mi-dr')).toEqual([next]);
    // the SQL changes, each once, in Microsoft's order
    const changes = changesIn(server.journal.slice(from))
      .filter((e) => !e.dropped && e.errorNumbers.length === 0)
      .map((e) => e.text);
    expect(changes).toHaveLength(3);
    expect(changes[0]).toContain(`CREATE CERTIFICATE [${next}]`);
    expect(changes[1]).toContain(`AUTHENTICATION = CERTIFICATE [${next}]`);
    expect(changes[2]).toContain(`DROP CERTIFICATE [${old}]`);
    // both instances trusted the new one before the switch; each trust PUT and DELETE once
    const arm = bed.estate.arm.journal.slice(armFrom).filter((r) => r.method !== 'GET' && r.status < 400);
    expect(arm.map((r) => `${r.method} ${r.path.split('/managedInstances/')[1]!.split('?')[0]}`)).toEqual([
      `PUT mi-prod/serverTrustCertificates/${next}`,
      `PUT mi-dr/serverTrustCertificates/${next}`,
      `DELETE mi-prod/serverTrustCertificates/${old}`,
      `DELETE mi-dr/serverTrustCertificates/${old}`,
    ]);
  });

  it('a re-run of the same request changes nothing', async () => {
    const server = bed.estate.sqlServers.get('SQLBOX1')!;
    const from = server.journal.length;
    const armFrom = bed.estate.arm.journal.length;
    const posted = await host.api('POST', '/api/certificates/rotate', {
      request: serverRequest(),
      options: { expiry: '2028-06-30' },
    });
    expect(posted.status, posted.text).toBe(202);
    const status = await host.finish(posted.json.instanceId, 60_000);
    expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
    expect(changesIn(server.journal.slice(from)).filter((e) => !e.dropped)).toEqual([]);
    expect(bed.estate.arm.journal.slice(armFrom).filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('refuses to start while a link of the SQL Server is down for another reason', async () => {
    await bed.estate.control.setTrouble({
      kind: 'disconnected',
      link: { instance: 'mi-dr', name: 'DAG1_InventoryDb' },
      errorNumber: 41986,
    });
    try {
      const posted = await host.api('POST', '/api/certificates/rotate', {
        request: serverRequest(),
        options: { expiry: '2028-07-31' },
      });
      const status = await host.finish(posted.json.instanceId, 60_000);
      expect(status.runtimeStatus).toBe('Failed');
      expect(status.error.step).toBe('preflight');
      expect(JSON.stringify(status.failures)).toContain('DAG1_InventoryDb on mi-dr is DISCONNECTED');
      expect(endpointCertificate(bed.estate)).toBe('Cert_SQLBOX1_endpoint_20280630');
      expect(serverCertificates(bed.estate).map((c) => c.name)).not.toContain(
        'Cert_SQLBOX1_endpoint_20280731',
      );
    } finally {
      await bed.estate.control.clearTrouble('disconnected', { instance: 'mi-dr', name: 'DAG1_InventoryDb' });
    }
  });
});
