/**
 * Issue 17, automatic rotation (opt-in, `certificateRotationDays` in MILINK_HEALTH_THRESHOLDS): the nightly sweep
 * starts rotateCertificate for a SQL Server whose endpoint certificate is within the window, without a request, and
 * the report and the sweep's output say so ("Best practices for maintaining the link", "Rotate certificate").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until, type Bed } from './harness.js';
import { adopt, adoptRequest, advance, generatedLinks, nightlySweep, startHealthBed } from './health-bed.js';

const links = generatedLinks(1, 1, 2);
let bed: Bed;

beforeAll(async () => {
  bed = await startHealthBed(
    { sqlServers: 1, instances: 1, links: 2 },
    { env: { MILINK_HEALTH_THRESHOLDS: JSON.stringify({ certificateRotationDays: 14 }) } },
  );
  await adopt(bed, links);
}, 120_000);
afterAll(async () => bed?.close());

const endpointCertificate = () => bed.estate.sqlServers.get('SQL001')!.state.endpoint?.certificateName;
const armDb = (dag: string) => {
  bed.estate.advance();
  const mi = bed.estate.instances.all()[0]!;
  return (bed.estate.links.get(mi, dag) as any).properties.databases[0];
};

describe('automatic rotation by the nightly sweep', () => {
  it('leaves a certificate outside the window alone; rotates one 10 days from expiry without a request', async () => {
    const link = { instance: links[0]!.instance, name: links[0]!.dag };
    await bed.estate.control.setTrouble({ kind: 'certificateExpiring', link, days: 20 });
    const first = await nightlySweep(bed);
    expect(first.output.rotations).toBeUndefined();
    expect(endpointCertificate()).toBe('Cert_SQL001_endpoint');
    const info = first.report.findings.find((f: any) => f.checkId === 'endpoint-certificate-expiry');
    expect(info).toMatchObject({ severity: 'info', value: 20 });
    expect(info.advice).not.toContain('this sweep starts rotateCertificate');

    advance(bed, 10 * 86_400_000);
    const second = await nightlySweep(bed);
    const finding = second.report.findings.find((f: any) => f.checkId === 'endpoint-certificate-expiry');
    expect(finding).toMatchObject({ severity: 'warning', value: 10 });
    expect(finding.advice).toContain(
      'within the rotation window (14 days): this sweep starts rotateCertificate for SQL001',
    );
    expect(second.output.rotations).toEqual([
      {
        sqlServer: 'SQL001',
        instanceId: expect.stringMatching(/^cert-sql001-contoso-local-/),
        daysLeft: 10,
        outcome: 'rotated',
      },
    ]);
    const next = endpointCertificate();
    expect(next).toMatch(/^Cert_SQL001_endpoint_\d{8}$/);
    for (const l of links) {
      const db = armDb(l.dag);
      expect(db.connectedState).toBe('CONNECTED');
      expect(db.partnerAuthCertValidity.certificateName).toBe(next);
    }
    const certs = bed.estate.sqlServers
      .get('SQL001')!
      .state.certificates.filter((c) => c.pvtKeyEncryptionType === 'MK');
    expect(certs.map((c) => c.name)).toEqual([next]);
    // the rotation's own status, as GET /api/links/{id} shows any operation
    const status = await bed.api('GET', `/api/links/${second.output.rotations[0].instanceId}`);
    expect(status.json).toMatchObject({ operation: 'rotateCertificate', runtimeStatus: 'Completed' });
    // the next night: nothing in the window, nothing rotated
    advance(bed, 86_400_000);
    const third = await nightlySweep(bed);
    expect(third.output.rotations).toBeUndefined();
  });
});

describe('queue link-requests: rotate-certificate tickets', () => {
  it('a ticket rotates the SQL Server under its cert- id, the ticket in the log; a bad one is poisoned', async () => {
    const request = adoptRequest(bed, links[1]!);
    await bed.host.queues.send('link-requests', {
      ticketId: 'CHG-9001',
      action: 'rotate-certificate',
      request,
      options: { expiry: '2029-01-31' },
    });
    await bed.host.idle();
    const started = bed.logs.find((l) =>
      /\[ticket CHG-9001\] rotateCertificate started: cert-sql001-/.test(l),
    );
    expect(started, bed.logs.join('\n')).toBeDefined();
    const id = /(cert-[0-9a-z-]+)/.exec(started!)![1]!;
    const status = await bed.finish(id, 60_000);
    expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
    expect(status.ticketId).toBe('CHG-9001');
    expect(endpointCertificate()).toBe('Cert_SQL001_endpoint_20290131');

    await bed.host.queues.send('link-requests', {
      ticketId: 'CHG-9002',
      action: 'rotate-certificate',
      request,
      options: { expiry: 'soon' },
    });
    const poisoned = await until(async () => {
      const found = (await bed.host.queues.peek('link-requests-poison')) as any[];
      return found.length > 0 ? found : undefined;
    }, 'the poisoned ticket');
    expect(poisoned.map((p) => p.reason.details.map((d: { target: string }) => d.target))).toEqual([
      ['options.expiry'],
    ]);
    expect(endpointCertificate()).toBe('Cert_SQL001_endpoint_20290131');
  });
});
