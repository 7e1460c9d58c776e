/**
 * The nightly sweep on an estate with one link in each documented unhealthy state (made by the estate's trouble on
 * demand) beside healthy ones: each problem is reported with the check, severity and advice the reference card gives
 * ("Troubleshoot issues with the link", "Best practices for maintaining the link", "Configure link with scripts",
 * "Fail over link"), and the healthy links get no finding. The links are recorded through POST /api/links/adopt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InventoryStore } from '../../src/inventory/store.js';
import type { Bed } from './harness.js';
import { adopt, adoptRequest, advance, generatedLinks, nightlySweep, startHealthBed } from './health-bed.js';

// 7 servers, 4 instances, 14 links: server s holds Db(s+1) and Db(s+8) and links to instance s mod 4, so mi-04 has
// SQL004 alone (the instance certificate rotation touches only it).
const links = generatedLinks(7, 4, 14);
const ref = (db: string) => {
  const l = links.find((x) => x.database === db)!;
  return { instance: l.instance, name: l.dag };
};
const UNMANAGED = 'Db0013';
let bed: Bed;
let report: any;
let output: any;

beforeAll(async () => {
  bed = await startHealthBed({ sqlServers: 7, instances: 4, links: 14 });
  await adopt(
    bed,
    links.filter((l) => l.database !== UNMANAGED),
  );
  const c = bed.estate.control;
  c.setTrouble({ kind: 'logFull', link: ref('Db0002') });
  c.setTrouble({ kind: 'lagHigh', link: ref('Db0009'), transactionsPerSecond: 50, secondaryTps: 10 });
  c.setTrouble({ kind: 'disconnected', link: ref('Db0003'), errorNumber: 41973 });
  c.setTrouble({ kind: 'splitBrain', link: ref('Db0010') });
  c.setTrouble({ kind: 'chainInvalid', link: ref('Db0004') });
  c.setTrouble({ kind: 'certificateExpiring', link: ref('Db0005'), days: 10 });
  c.setTrouble({ kind: 'traceFlag12381', link: ref('Db0006') });
  c.setTrouble({ kind: 'certificateExpired', link: ref('Db0007') });
  advance(bed, 3 * 60_000);
  ({ output, report } = await nightlySweep(bed));
}, 120_000);
afterAll(async () => bed?.close());

const row = (f: any) => [
  f.checkId,
  f.severity,
  f.link ?? f.target.replace(/\.[0-9a-f]+\.database\.windows\.net$/, ''),
];

describe('the nightly sweep on troubled and healthy links', () => {
  it('reads every server and instance once, and stores the night', () => {
    expect(output.servers).toEqual({ total: 7, unreachable: [] });
    expect(output.instances).toEqual({ total: 4, unreachable: [] });
    expect(report.summary).toMatchObject({ links: 14, managed: 13, unmanaged: 1 });
    expect(output.blob).toBe(`reports/${report.date}.json`);
  });

  it('reports every problem with its check and severity, and nothing else', () => {
    expect(report.findings.map(row)).toEqual([
      // "Configure link with scripts": at 100 % log use replication stops
      ['log-space', 'critical', 'mi-02/DAG1_Db0002'],
      // the lag workload writes without log backups, so its log fills too (the same rule)
      ['log-space', 'critical', 'mi-02/DAG1_Db0009'],
      // "Troubleshoot issues with the link": 41973, SQL Server's certificate not on the instance
      ['connection', 'critical', 'mi-03/DAG1_Db0003'],
      // an expired endpoint certificate fails the link (BP "Rotate certificate", TS)
      ['connection', 'critical', 'mi-03/DAG1_Db0007'],
      ['partner-certificate-expiry', 'critical', 'mi-03/DAG1_Db0007'],
      // split brain after a forced failover (TS): both sides PRIMARY, and no connection between them
      ['connection', 'critical', 'mi-03/DAG1_Db0010'],
      ['split-brain', 'critical', 'mi-03/DAG1_Db0010'],
      ['connection', 'critical', 'mi-03/DAG1_Db0014'],
      ['partner-certificate-expiry', 'critical', 'mi-03/DAG1_Db0014'],
      // the instance rotated its certificate and SQL Server's copy expired: 41974 on both links of SQL004
      ['connection', 'critical', 'mi-04/DAG1_Db0004'],
      ['connection', 'critical', 'mi-04/DAG1_Db0011'],
      // the expiry watch sees that copy expired too (issue 17)
      ['instance-certificate-expiry', 'critical', 'sqlserver:SQL004/certificate:mi-04'],
      ['endpoint-certificate-expiry', 'critical', 'sqlserver:SQL007/certificate:Cert_SQL007_endpoint'],
      // 10 days left: between 14 (warning) and 7 (critical)
      ['partner-certificate-expiry', 'warning', 'mi-01/DAG1_Db0005'],
      ['partner-certificate-expiry', 'warning', 'mi-01/DAG1_Db0012'],
      // BP: lag "high" (no Microsoft number; 60 s as sp_Blitz check 268)
      ['lag', 'warning', 'mi-02/DAG1_Db0009'],
      ['instance-certificate-chain', 'warning', 'sqlserver:SQL004/certificate:mi-04'],
      ['endpoint-certificate-expiry', 'warning', 'sqlserver:SQL005/certificate:Cert_SQL005_endpoint'],
      // TS: "don't leave it enabled for ongoing replication"
      ['trace-flag-12381', 'warning', 'sqlserver:SQL006'],
      ['unmanaged-link', 'info', 'mi-02/DAG1_Db0013'],
    ]);
  });

  it('gives the documented code and advice', () => {
    const by = (checkId: string, where: string) =>
      report.findings.find((f: any) => f.checkId === checkId && (f.link ?? f.target).startsWith(where));
    expect(by('connection', 'mi-03/DAG1_Db0003')).toMatchObject({ code: '41973' });
    expect(by('connection', 'mi-03/DAG1_Db0003').advice).toMatch(/serverTrustCertificate/);
    expect(by('connection', 'mi-04/DAG1_Db0004')).toMatchObject({ code: '41974' });
    expect(by('connection', 'mi-04/DAG1_Db0004').advice).toMatch(
      /re-import the instance's endpoint certificate/,
    );
    expect(by('log-space', 'mi-02/DAG1_Db0002')).toMatchObject({ code: 'LOG_BACKUP', value: 100 });
    expect(by('log-space', 'mi-02/DAG1_Db0002').advice).toMatch(/log backup/);
    expect(by('lag', 'mi-02/DAG1_Db0009').value).toBeGreaterThanOrEqual(60);
    expect(by('lag', 'mi-02/DAG1_Db0009').value).toBeLessThan(900);
    expect(by('split-brain', 'mi-03/DAG1_Db0010').advice).toMatch(/SET \(ROLE = SECONDARY\)/);
    expect(by('trace-flag-12381', 'sqlserver:SQL006').advice).toMatch(/DBCC TRACEOFF\(12381, -1\)/);
    expect(by('endpoint-certificate-expiry', 'sqlserver:SQL005').advice).toMatch(/Rotate certificate/);
    expect(by('instance-certificate-chain', 'sqlserver:SQL004').advice).toMatch(/sp_certificate_add_issuer/);
    expect(by('unmanaged-link', 'mi-02/DAG1_Db0013').advice).toMatch(/POST \/api\/links\/adopt/);
  });

  it('finds nothing on the healthy links', () => {
    const healthy = ['mi-01/DAG1_Db0001', 'mi-01/DAG1_Db0008', 'mi-02/DAG1_Db0006'];
    expect(report.findings.filter((f: any) => healthy.includes(f.link))).toEqual([]);
    expect(report.links.filter((l: any) => healthy.includes(l.key)).map((l: any) => l.state)).toEqual([
      'healthy',
      'healthy',
      'healthy',
    ]);
  });

  it('serves the report by date and the dashboard', async () => {
    const byDate = await bed.api('GET', `/api/health/${report.date}`);
    expect(byDate.status).toBe(200);
    expect(byDate.json.findings).toEqual(report.findings);
    expect((await bed.api('GET', '/api/health/2020-01-01')).status).toBe(404);
    const bad = await bed.api('GET', '/api/health/2026-02-30');
    expect(bad.status).toBe(400);
    expect(bad.json.error.details[0].target).toBe('date');
    const page = await fetch(`${bed.host.baseUrl}/api/health/dashboard`, {
      headers: { 'x-functions-key': bed.host.functionKey },
    });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const html = await page.text();
    for (const name of ['DAG1_Db0003', 'DAG1_Db0010', 'Cert_SQL005_endpoint', 'DAG1_Db0013'])
      expect(html).toContain(name);
  });

  it('keeps secret names, never values, in the inventory', async () => {
    const store = InventoryStore.fromConnectionString(bed.host.storageConnectionString!, 'milinkinventory', {
      allowInsecureConnection: true,
    });
    const records = await store.list();
    expect(records.map((r) => r.linkName).sort()).toEqual(
      links
        .filter((l) => l.database !== UNMANAGED)
        .map((l) => l.dag)
        .sort(),
    );
    expect(records[0]).toMatchObject({
      state: 'adopted',
      lastOperation: { kind: 'adopt', status: 'succeeded' },
    });
    const text = JSON.stringify(records);
    // the generated estate's passwords and master key passwords all begin so
    expect(text).not.toMatch(/Sim-Only-/);
    expect(text).toContain('sql001-login');
  });

  it('refuses to adopt a link that is not on the instance', async () => {
    const missing = { ...adoptRequest(bed, links[0]!), database: 'NoSuchDb' };
    const answer = await bed.api('POST', '/api/links/adopt', missing);
    expect(answer.status).toBe(404);
    expect(answer.json.error.code).toBe('LinkNotFoundOnInstance');
  });
});
