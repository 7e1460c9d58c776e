import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import prettier from 'prettier';
import { describe, expect, it } from 'vitest';
import {
  buildReport,
  formatSummary,
  healthReportJsonSchema,
  parseHealthReport,
  previousLinkStates,
  SCHEMA_VERSION,
} from '../../src/health/report.js';
import { thresholds } from '../../src/health/thresholds.js';
import { armDb0, AT, db0, healthyArmLink, healthyInput, KEY } from './fixtures.js';

const t = thresholds();
const night = (n: number) => new Date(Date.parse(AT) + n * 86_400_000).toISOString();

describe('the health report', () => {
  it('summarizes a healthy link and an unmanaged one, with certificates sorted by days left', () => {
    const input = healthyInput(({ input, server }) => {
      input.instances[0]!.links!.push({ ...healthyArmLink(), name: 'HandMade' });
      server.certificates[0]!.expiryDate = '2027-01-01T00:00:00.000Z';
    });
    const r = buildReport(input, { thresholds: t });
    expect(r).toMatchObject({
      schemaVersion: SCHEMA_VERSION,
      date: '2026-12-01',
      summary: { links: 2, managed: 1, unmanaged: 1, healthy: 2, critical: 0, warning: 0, info: 2 },
      servers: [{ sqlServer: 'SQLBOX1', reachable: true, version: '16.0.4125.3', traceFlag12381: false }],
      instances: [{ instance: 'mi-prod', reachable: true, links: 2, updatePolicy: 'SQLServer2022' }],
    });
    expect(r.links[0]).toMatchObject({
      key: KEY,
      state: 'healthy',
      worstSeverity: null,
      sqlServerRole: 'PRIMARY',
      instanceRole: 'Secondary',
      lagSeconds: 2,
      lastLogBackupAgeHours: 1,
      trend: { lagSeconds: [{ date: '2026-12-01', value: 2 }] },
    });
    expect(r.links[1]).toMatchObject({ key: 'mi-prod/HandMade', managed: false, worstSeverity: 'info' });
    expect(r.certificates.map((c) => [c.kind, c.where, c.daysLeft])).toEqual([
      ['sqlserver-endpoint', 'sqlserver:SQLBOX1', 30],
      ['sqlserver-as-seen-by-instance', 'mi-prod/DAG1_SalesDb', 181],
      ['sqlserver-as-seen-by-instance', 'mi-prod/HandMade', 181],
      ['instance-on-sqlserver', 'sqlserver:SQLBOX1', 181],
    ]);
    expect(parseHealthReport(JSON.parse(JSON.stringify(r)))).toEqual(r);
  });

  it('names each link state from what both sides report', () => {
    const state = (change: Parameters<typeof healthyInput>[0]) =>
      buildReport(healthyInput(change), { thresholds: t }).links[0]!.state;
    expect(state(({ server }) => (server.dags[0]!.remote!.connectedState = 'DISCONNECTED'))).toBe(
      'disconnected',
    );
    expect(state(({ arm }) => (armDb0(arm).replicaState = 'LinkCreationError'))).toBe('failed');
    expect(state(({ server }) => (db0(server).logUsedPercent = 80))).toBe('degraded');
    expect(state(({ input }) => (input.instances[0]!.links = []))).toBe('missing');
    expect(
      state(({ server, arm }) => {
        Object.assign(db0(server).seeding[0]!, { state: 'SEEDING', startedAt: AT, transferredBytes: 10 });
        armDb0(arm).replicaState = 'Seeding';
        armDb0(arm).seedingProgress = '10%';
      }),
    ).toBe('seeding');
  });

  it('carries the lag trend forward night by night, keeping the last nights only', () => {
    let previous = null;
    for (let n = 0; n < 5; n++) {
      const input = healthyInput(({ server }) => (db0(server).remote!.secondaryLagSeconds = 10 * (n + 1)));
      input.at = night(n);
      previous = buildReport(input, { thresholds: t, previous, trendNights: 3 });
    }
    expect(previous!.links[0]!.trend.lagSeconds).toEqual([
      { date: '2026-12-03', value: 30 },
      { date: '2026-12-04', value: 40 },
      { date: '2026-12-05', value: 50 },
    ]);
  });

  it('feeds the seeding progress of the previous night to the seeding check', () => {
    const seeding = (bytes: number, at: string) => {
      const input = healthyInput(({ server, arm }) => {
        Object.assign(db0(server).seeding[0]!, {
          state: 'SEEDING',
          completedAt: null,
          startedAt: AT,
          transferredBytes: bytes,
        });
        armDb0(arm).replicaState = 'Seeding';
      });
      input.at = at;
      return input;
    };
    const first = buildReport(seeding(500, night(0)), { thresholds: t });
    expect(previousLinkStates(first)).toEqual([
      { link: KEY, seedingOperationId: 'OP1', seedingTransferredBytes: 500, seedingProgress: null },
    ]);
    const stuck = buildReport(seeding(500, night(1)), { thresholds: t, previous: first });
    expect(stuck.findings.map((f) => f.checkId)).toContain('seeding');
    const moving = buildReport(seeding(900, night(1)), { thresholds: t, previous: first });
    expect(moving.findings.map((f) => f.checkId)).not.toContain('seeding');
  });

  it('keeps secrets out of what it says about an unreachable server', () => {
    const r = buildReport(
      healthyInput(({ input }) => {
        input.servers[0]!.error = { message: 'Login failed; Server=x;User Id=milink;Password=S3cr3t!;' };
        delete input.servers[0]!.observation;
      }),
      { thresholds: t },
    );
    expect(JSON.stringify(r)).not.toContain('S3cr3t!');
    expect(r.servers[0]!.error).toContain('Password=[redacted]');
  });

  it('sums up the night in a few terminal lines, serious findings only', () => {
    const r = buildReport(
      healthyInput(({ server, input }) => {
        db0(server).logUsedPercent = 95;
        input.instances[0]!.links!.push({ ...healthyArmLink(), name: 'HandMade' });
      }),
      { thresholds: t },
    );
    expect(formatSummary(r).split('\n')).toEqual([
      'health 2026-12-01: 2 links (1 healthy, 1 unmanaged); 1 critical, 0 warning, 1 info',
      expect.stringMatching(/^ {2}critical mi-prod\/DAG1_SalesDb: The log of SalesDb is 95 % full/),
    ]);
  });

  it('refuses a stored report of another shape', () => {
    expect(() => parseHealthReport({ schemaVersion: 2 })).toThrow();
  });

  it('documents its JSON Schema in docs/health-report.schema.json (MILINK_UPDATE_SCHEMA=1 rewrites it)', async () => {
    const file = join(import.meta.dirname, '../../docs/health-report.schema.json');
    const options = (await prettier.resolveConfig(file)) ?? {};
    const text = await prettier.format(JSON.stringify(healthReportJsonSchema()), {
      ...options,
      filepath: file,
    });
    if (process.env.MILINK_UPDATE_SCHEMA === '1') writeFileSync(file, text);
    expect(
      readFileSync(file, 'utf8'),
      'the schema file is stale: run MILINK_UPDATE_SCHEMA=1 npx vitest run test/health/report.test.ts',
    ).toBe(text);
    const schema = JSON.parse(text);
    expect(schema.properties.schemaVersion).toEqual({ type: 'number', const: SCHEMA_VERSION });
    expect(schema.required).toContain('findings');
  });
});
