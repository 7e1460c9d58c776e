import { describe, expect, it } from 'vitest';
import { alertMessage, diffReports, webhookBody } from '../../src/health/alerts.js';
import { buildReport, type HealthReport } from '../../src/health/report.js';
import { thresholds } from '../../src/health/thresholds.js';
import type { SweepInput } from '../../src/health/inputs.js';
import { AT, db0, healthyInput, KEY } from './fixtures.js';

const t = thresholds();
const nightOf = (n: number, input: SweepInput, previous: HealthReport | null = null) => {
  input.at = new Date(Date.parse(AT) + n * 86_400_000).toISOString();
  return buildReport(input, { thresholds: t, previous });
};
const logFull = (p: number) => healthyInput(({ server }) => (db0(server).logUsedPercent = p));

describe('alerts between nights', () => {
  it('a problem seeded on night 1 alerts once, is silent on night 2, sends "resolved" on night 3', () => {
    const n1 = nightOf(0, logFull(80));
    const a1 = diffReports(null, n1);
    expect(a1.map((a) => [a.kind, a.finding.checkId, a.finding.link])).toEqual([['new', 'log-space', KEY]]);
    const n2 = nightOf(1, logFull(82), n1); // the value moved, the severity did not
    expect(diffReports(n1, n2)).toEqual([]);
    const n3 = nightOf(2, logFull(10), n2);
    const a3 = diffReports(n2, n3);
    expect(a3.map((a) => [a.kind, a.finding.checkId, a.previousSeverity])).toEqual([
      ['resolved', 'log-space', 'warning'],
    ]);
  });

  it('a finding whose severity changes alerts again, as "changed"', () => {
    const n1 = nightOf(0, logFull(80));
    const n2 = nightOf(1, logFull(95), n1);
    const [a] = diffReports(n1, n2);
    expect(a).toMatchObject({
      kind: 'changed',
      previousSeverity: 'warning',
      finding: { severity: 'critical' },
    });
  });

  it('does not call a problem resolved because its server could not be read tonight', () => {
    const n1 = nightOf(0, logFull(80));
    const down = healthyInput(
      ({ input }) => (input.servers = [{ sqlServer: 'SQLBOX1', error: { message: 'ETIMEOUT' } }]),
    );
    const n2 = nightOf(1, down, n1);
    const a2 = diffReports(n1, n2);
    expect(a2.map((a) => [a.kind, a.finding.checkId])).toEqual([['new', 'sqlserver-unreachable']]);
    const n3 = nightOf(2, logFull(10), n2);
    expect(diffReports(n2, n3).map((a) => [a.kind, a.finding.checkId])).toEqual([
      ['resolved', 'sqlserver-unreachable'],
    ]);
  });

  it('puts one queue message per alert, with the finding and its advice', () => {
    const [a] = diffReports(null, nightOf(0, logFull(80)));
    expect(alertMessage(a!)).toMatchObject({
      schemaVersion: 1,
      kind: 'new',
      checkId: 'log-space',
      severity: 'warning',
      link: KEY,
      value: 80,
      threshold: 76,
      advice: expect.stringMatching(/holds log truncation/),
    });
  });
});

describe('the webhook body (Slack and Teams incoming webhooks)', () => {
  it('has text, a summary and Slack blocks, severity first, markup escaped', () => {
    const n1 = nightOf(
      0,
      healthyInput(({ server, input }) => {
        db0(server).logUsedPercent = 80;
        server.traceFlag12381 = true;
        input.servers[0]!.sqlServer = 'SQL<BOX>&1';
        input.inventory[0]!.sqlServer = 'SQL<BOX>&1';
      }),
    );
    const body = webhookBody(diffReports(null, n1), {
      dashboardUrl: 'https://milink.example/api/health/dashboard',
    })!;
    expect(body.summary).toBe('milink health 2026-12-01: 2 new');
    expect(body.text).toContain('🟠 *warning* mi-prod/DAG1_SalesDb');
    expect(body.text).toContain('SQL&lt;BOX&gt;&amp;1');
    expect(body.text).not.toContain('<BOX>');
    expect(body.text).toContain('Dashboard: https://milink.example/api/health/dashboard');
    expect(body.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: body.summary } });
    expect(body.blocks.filter((b) => b.type === 'section')).toHaveLength(2);
    expect(JSON.parse(JSON.stringify(body))).toEqual(body);
  });
  it('says nothing when nothing changed', () => {
    expect(webhookBody([])).toBeNull();
  });
});
