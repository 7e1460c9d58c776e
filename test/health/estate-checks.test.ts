/**
 * The checks on what the simulated estate really answers: the health batch over mssql on each SQL Server,
 * the links and the instance over ARM. Healthy links give no finding; trouble made on purpose gives the
 * right check, severity and advice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEALTH_BATCH, parseServerObservation } from '../../src/health/batch.js';
import { runChecks } from '../../src/health/checks.js';
import { parseArmLinks, type SweepInput } from '../../src/health/inputs.js';
import { thresholds } from '../../src/health/thresholds.js';
import { healthEstate, type HealthEstate } from './estate.js';

let h: HealthEstate;
const link = (db: string, port = 5022) => ({
  database: db,
  ag: `AG_${db}`,
  instanceAg: `AG_${db}_MI`,
  dag: `DAG1_${db}`,
  port,
});

beforeAll(async () => {
  h = await healthEstate([
    { name: 'SQLBOX1', databases: ['SalesDb', 'Orders'] },
    { name: 'SQLBOX2', databases: ['HrDb'] },
  ]);
  await h.createLink('SQLBOX1', link('SalesDb'));
  await h.createLink('SQLBOX2', link('HrDb'));
  h.clock.advance(120_000);
});
afterAll(async () => h?.close());

async function sweep(): Promise<SweepInput> {
  const mi = await h.hand.raw('GET', h.hand.miPath);
  return {
    at: h.clock.now().toISOString(),
    inventory: [
      { instance: 'mi-prod', linkName: 'DAG1_SalesDb', sqlServer: 'SQLBOX1', database: 'SalesDb' },
      { instance: 'mi-prod', linkName: 'DAG1_HrDb', sqlServer: 'SQLBOX2', database: 'HrDb' },
    ],
    servers: await Promise.all(
      ['SQLBOX1', 'SQLBOX2'].map(async (s) => ({
        sqlServer: s,
        observation: parseServerObservation(await h.query(s, HEALTH_BATCH)),
      })),
    ),
    instances: [
      {
        instance: 'mi-prod',
        links: parseArmLinks(await h.listLinks()),
        databaseFormat: mi.body.properties.databaseFormat ?? null,
      },
    ],
  };
}

describe('checks on the simulated estate', () => {
  it('find nothing wrong with two healthy links', async () => {
    const input = await sweep();
    expect(input.instances[0]!.links!.map((l) => l.name).sort()).toEqual(['DAG1_HrDb', 'DAG1_SalesDb']);
    expect(runChecks(input, thresholds())).toEqual([]);
  });

  it('report the link that lost the instance trust (41973), trace flag 12381 and an unmanaged link', async () => {
    const trust = [...h.mi.serverTrustCertificates.entries()];
    const box2Cert = trust.find(([, c]) => c.name === 'Cert_SQLBOX2_endpoint')!;
    h.mi.serverTrustCertificates.delete(box2Cert[0]);
    await h.query('SQLBOX1', 'DBCC TRACEON(12381, -1);');
    await h.createLink('SQLBOX1', link('Orders', 5022)); // created by hand, not in the inventory
    h.clock.advance(60_000);
    try {
      const findings = runChecks(await sweep(), thresholds());
      expect(findings.map((f) => [f.checkId, f.severity, f.link ?? f.target])).toEqual([
        ['connection', 'critical', 'mi-prod/DAG1_HrDb'],
        ['trace-flag-12381', 'warning', 'sqlserver:SQLBOX1'],
        ['unmanaged-link', 'info', 'mi-prod/DAG1_Orders'],
      ]);
      expect(findings[0]).toMatchObject({ code: '41973' });
      expect(findings[0]!.advice).toMatch(/serverTrustCertificate/);
    } finally {
      h.mi.serverTrustCertificates.set(box2Cert[0], box2Cert[1]);
      await h.query('SQLBOX1', 'DBCC TRACEOFF(12381, -1);');
    }
  });
});
