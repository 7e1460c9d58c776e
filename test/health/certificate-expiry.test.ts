/**
 * Issue 17, the expiry watch the nightly sweep runs: every SQL Server endpoint certificate and every instance
 * certificate SQL Server holds, days left against the thresholds (30/14/7 by default, configurable; "Best practices
 * for maintaining the link": rotate before the SQL Server certificate expires; "Troubleshoot issues with the link":
 * an expired certificate fails the link), each naming the link(s) it serves.
 */
import { describe, expect, it } from 'vitest';
import { runChecks, type Finding } from '../../src/health/checks.js';
import { thresholds } from '../../src/health/thresholds.js';
import type { SweepInput } from '../../src/health/inputs.js';
import { AT, FQDN, healthyInput } from './fixtures.js';

const daysFromAt = (days: number) => new Date(Date.parse(AT) + days * 86_400_000 + 3_600_000).toISOString();
const findings = (input: SweepInput, id: Finding['checkId'], t = thresholds()) =>
  runChecks(input, t).filter((f) => f.checkId === id);

describe('expiry watch', () => {
  it("names the links the SQL Server's endpoint certificate serves, and says how to rotate it for the whole server", () => {
    const [f] = findings(
      healthyInput(({ server }) => (server.certificates[0]!.expiryDate = daysFromAt(10))),
      'endpoint-certificate-expiry',
    );
    expect(f).toMatchObject({ severity: 'warning', value: 10, threshold: 14 });
    expect(f!.message).toContain('it serves 1 link(s): DAG1_SalesDb (mi-prod)');
    expect(f!.advice).toContain('POST /api/certificates/rotate');
  });

  it("watches the instance's certificate SQL Server holds: info at 30, warning at 14, critical at 7 and expired; silent at 31", () => {
    const at = (days: number, t = thresholds()) =>
      findings(
        healthyInput(({ server }) => (server.certificates[1]!.expiryDate = daysFromAt(days))),
        'instance-certificate-expiry',
        t,
      );
    expect(at(31)).toEqual([]);
    expect(at(30)[0]).toMatchObject({
      severity: 'info',
      threshold: 30,
      value: 30,
      link: null,
      target: `sqlserver:SQLBOX1/certificate:${FQDN}`,
    });
    expect(at(14)[0]).toMatchObject({ severity: 'warning', threshold: 14 });
    expect(at(7)[0]).toMatchObject({ severity: 'critical', threshold: 7 });
    expect(at(-2)[0]!.message).toMatch(/expired 2 days ago; it serves 1 link\(s\): DAG1_SalesDb \(mi-prod\)/);
    expect(at(-2)[0]!.advice).toContain('POST /api/certificates/refresh');
    // the thresholds are configurable (MILINK_HEALTH_THRESHOLDS)
    const wide = thresholds({ certificateDays: { info: 60, warning: 45, critical: 40 } });
    expect(at(50, wide)[0]).toMatchObject({ severity: 'info', threshold: 60 });
    expect(at(40, wide)[0]).toMatchObject({ severity: 'critical', threshold: 40 });
  });
});
