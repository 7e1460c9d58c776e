/**
 * Issue 17: certificates over time on the estate's clock. "Troubleshoot issues with the link": if the SQL Server
 * endpoint certificate expires, the link fails (41973); rotating it ("Best practices for maintaining the link",
 * "Rotate certificate") brings every link back. The instance's own certificate is rotated by the service; SQL Server
 * needs its chain to validate (`sp_validate_certificate_ca_chain`), and when it does not, the instance certificate
 * and the roots imported again ("Configure link with scripts").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changesIn, queryServer, type Bed } from './harness.js';
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

const state = (instance: string, database: string) => {
  bed.estate.advance();
  return armLinkOf(bed.estate, instance, database).properties.databases[0];
};

describe('an endpoint certificate left to expire', () => {
  it('breaks every link of the SQL Server with 41973 once the clock passes its expiry; rotating it brings them back', async () => {
    const server = bed.estate.sqlServers.get('SQLBOX1')!;
    const cert = server.state.certificates.find((c) => c.name === endpointCertificate(bed.estate))!;
    // the certificate expires in 3 days; the estate's clock goes 4 days on
    await bed.estate.control.setTrouble({
      kind: 'certificateExpiring',
      link: { instance: 'mi-prod', name: 'DAG1_SalesDb' },
      days: 3,
    });
    bed.clock.advance(4 * 86_400_000);
    for (const [instance, database] of LINKS) {
      const db = state(instance, database);
      expect(db.connectedState, `${instance}/${database}`).toBe('DISCONNECTED');
      expect(db.mostRecentLinkError).toMatch(/expired/);
    }
    // SQL Server's side says the same: every remote replica's last connection error is 41973
    const errors = await queryServer(
      host,
      'SQLBOX1',
      'SELECT rs.last_connect_error_number AS n FROM sys.dm_hadr_availability_replica_states rs WHERE rs.is_local = 0',
    );
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(new Set(errors.map((r) => Number(r.n)))).toEqual(new Set([41973]));
    expect(cert.expiryDate.getTime()).toBeLessThan(bed.clock.now().getTime());

    const posted = await host.api('POST', '/api/certificates/rotate', { request: serverRequest() });
    expect(posted.status, posted.text).toBe(202);
    const status = await host.finish(posted.json.instanceId, 120_000);
    expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
    // preflight said why the links were down, and went on
    expect(JSON.stringify(status.warnings)).toContain('expired');
    // the default lifetime: a year from the request
    const expected = new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
    const next = `Cert_SQLBOX1_endpoint_${expected}`;
    expect(endpointCertificate(bed.estate)).toBe(next);
    for (const [instance, database] of LINKS) {
      const db = state(instance, database);
      expect(db.connectedState, `${instance}/${database}`).toBe('CONNECTED');
      expect(db.synchronizationHealth).toBe('HEALTHY');
      expect(db.partnerAuthCertValidity.certificateName).toBe(next);
    }
    expect(
      serverCertificates(bed.estate)
        .filter((c) => c.privateKey)
        .map((c) => c.name),
    ).toEqual([next]);
    expect(trustsOf(bed.estate, 'mi-prod')).toEqual([next]);
    expect(trustsOf(bed.estate, 'mi-dr')).toEqual([next]);
  });
});

describe('an instance certificate whose chain no longer validates on SQL Server', () => {
  it('is found by the refresh, re-imported by FQDN, validated again; its link reconnects; a re-run changes nothing', async () => {
    const mi = bed.estate.instances.all().find((m) => m.name === 'mi-dr')!;
    await bed.estate.control.setTrouble({
      kind: 'chainInvalid',
      link: { instance: 'mi-dr', name: 'DAG1_InventoryDb' },
    });
    expect(state('mi-dr', 'InventoryDb').connectedState).toBe('DISCONNECTED');
    expect(state('mi-prod', 'SalesDb').connectedState).toBe('CONNECTED');
    const server = bed.estate.sqlServers.get('SQLBOX1')!;
    const from = server.journal.length;

    const plan = await host.api('POST', '/api/certificates/refresh/plan', {
      request: serverRequest(),
      live: true,
    });
    expect(plan.status, plan.text).toBe(200);
    expect(plan.json.steps.map((s: { id: string }) => s.id)).toEqual(['refresh-instance-certificates']);

    const posted = await host.api('POST', '/api/certificates/refresh', { request: serverRequest() });
    expect(posted.status, posted.text).toBe(202);
    const status = await host.finish(posted.json.instanceId, 60_000);
    expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
    expect(status.operation).toBe('refreshInstanceCertificates');

    const held = server.state.certificates.find((c) => c.name.toLowerCase() === mi.fqdn.toLowerCase())!;
    expect(held.der.equals(mi.endpointCertificate.der)).toBe(true);
    expect(state('mi-dr', 'InventoryDb').connectedState).toBe('CONNECTED');
    // what changed: mi-dr's certificate dropped and imported again; mi-prod's and the roots left alone
    const changes = changesIn(server.journal.slice(from))
      .filter((e) => !e.dropped && e.errorNumbers.length === 0)
      .map((e) => e.text);
    expect(changes).toHaveLength(2);
    expect(changes[0]).toContain(`DROP CERTIFICATE [${mi.fqdn}]`);
    expect(changes[1]).toContain(`CREATE CERTIFICATE [${mi.fqdn}] FROM BINARY = 0x`);
    // the chain validates now: sp_validate_certificate_ca_chain answers without error for both instances
    const after = server.journal.length;
    const again = await host.api('POST', '/api/certificates/refresh', { request: serverRequest() });
    const second = await host.finish(again.json.instanceId, 60_000);
    expect(second.runtimeStatus).toBe('Completed');
    expect(changesIn(server.journal.slice(after))).toEqual([]);
    const validations = server.journal
      .slice(from)
      .filter((e) => /sp_validate_certificate_ca_chain/.test(e.text));
    expect(validations.at(-1)!.errorNumbers).toEqual([]);
  });
});

describe('roots SQL Server no longer holds', () => {
  it('fail every chain; the refresh imports the roots again and leaves the current instance certificates alone', async () => {
    await queryServer(host, 'SQLBOX1', 'DROP CERTIFICATE [MicrosoftPKI]; DROP CERTIFICATE [DigiCertPKI];');
    for (const [instance, database] of LINKS)
      expect(state(instance, database).connectedState, `${instance}/${database}`).toBe('DISCONNECTED');
    const server = bed.estate.sqlServers.get('SQLBOX1')!;
    const from = server.journal.length;
    const posted = await host.api('POST', '/api/certificates/refresh', { request: serverRequest() });
    const status = await host.finish(posted.json.instanceId, 60_000);
    expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
    const changes = changesIn(server.journal.slice(from))
      .filter((e) => !e.dropped && e.errorNumbers.length === 0)
      .map((e) => e.text);
    // the instances' certificates are current: neither is dropped nor imported again
    expect(changes.join('\n')).not.toMatch(/database\.windows\.net\]/);
    expect(changes.filter((c) => /CREATE CERTIFICATE \[(MicrosoftPKI|DigiCertPKI)\]/.test(c))).toHaveLength(
      2,
    );
    for (const [instance, database] of LINKS)
      expect(state(instance, database).connectedState, `${instance}/${database}`).toBe('CONNECTED');
  });
});
