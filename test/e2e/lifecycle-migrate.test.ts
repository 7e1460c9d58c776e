import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EstateSpec } from '../../local/sim/estate/estate.js';
import { armLink, changesIn, demoRequest, journalOf, queryServer, startBed, type Bed } from './harness.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/runbook.js';

/**
 * Issue 13, migration on SQL Server 2019 (one-way: "Managed Instance link overview", "Fail over link"): a plain
 * failover to the instance is refused with the reason; the migration fails over with 0 transactions lost (LSNs equal
 * and stable first), waits for the instance's first full backup, then drops the link and the SQL Server objects.
 */
const spec = () =>
  JSON.parse(readFileSync(join(repoRoot, 'local/sim/estates/sql2019.json'), 'utf8')) as EstateSpec;

const request = () =>
  demoRequest({
    sqlServer: {
      ...demoRequest().sqlServer,
      host: 'sqlbox19.contoso.local',
      endpointAddress: '10.0.0.5',
      loginSecret: 'sqlbox19-login',
      masterKeySecret: 'sqlbox19-master-key',
    },
  });

const target = { server: 'SQLBOX19', database: 'SalesDb' };

describe('migration from SQL Server 2019 to the instance', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await startBed({ spec: spec() });
    const created = await bed.api('POST', '/api/links', request());
    expect(created.status, created.text).toBe(202);
    const status = await bed.finish(created.json.instanceId);
    expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('refuses a plain failover to the instance: one-way on SQL Server 2016-2019, use migrate', async () => {
    const posted = await bed.api('POST', '/api/links/failover', {
      request: request(),
      options: { to: 'ManagedInstance', workloadStopped: true },
    });
    const status = await bed.finish(posted.json.instanceId);
    expect(status.runtimeStatus).toBe('Failed');
    expect(status.error).toMatchObject({ step: 'preflight', code: 'OneWayLink' });
    expect(status.error.advice).toMatch(/migrate/);
    expect(status.failures[0].message).toMatch(/one-way on SQL Server 2016-2019/);
  });

  it('fails over (0 lost), waits for the first full backup, then drops the link and the SQL Server objects', async () => {
    const control = bed.estate.control;
    control.startWorkload(target, { transactionsPerSecond: 30 });
    bed.clock.advance(60_000);
    control.stopWorkload(target);
    const unconfirmed = await bed.api('POST', '/api/links/migrate', { request: request(), options: {} });
    expect(unconfirmed.status).toBe(400);
    expect(unconfirmed.json.error.details[0].target).toBe('options.workloadStopped');

    const from = journalOf(bed, 'SQLBOX19').length;
    const posted = await bed.api('POST', '/api/links/migrate', {
      request: request(),
      options: { workloadStopped: true, lsnStableSeconds: 15, dropSqlServerObjects: true },
    });
    expect(posted.status, posted.text).toBe(202);
    const status = await bed.finish(posted.json.instanceId, 120_000);
    expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
    expect(status.operation).toBe('migrateLink');
    const reports = status.output.reports as Array<{ step: string; details?: { path?: string } }>;
    expect(reports.find((r) => r.step === 'fail-over')?.details?.path).toBe('demote-then-forced');
    // nothing lost; the database is primary on the instance, with its first full backup, the link gone
    const { promotions } = control.workload(target);
    // (dropping the link leaves both copies read/write: the estate then counts SQL Server's copy as promoted too)
    expect(promotions[0]).toMatchObject({ promoted: 'managedInstance', lost: 0 });
    expect(promotions.every((p) => p.lost === 0)).toBe(true);
    expect(promotions[0]!.previousPrimaryCommitted).toBeGreaterThan(0);
    const backups = control.instanceBackups('mi-prod', 'SalesDb');
    expect(backups).toHaveLength(1);
    expect(armLink(bed, 'mi-prod', 'DAG1_SalesDb')).toBeUndefined();
    const mi = bed.estate.instances.all()[0]!;
    expect(mi.databases.get('salesdb')?.status).toBe('Online');
    // the link was dropped only after the backup had finished
    const full = await bed.host.client.getStatus(posted.json.instanceId, { showHistory: true });
    const history = (full?.history ?? []) as Array<{
      EventType: number;
      Name?: string;
      Input?: string;
      Timestamp?: string;
    }>;
    const deleteScheduled = history.find(
      (e) => e.EventType === 4 && e.Name === 'runStep' && JSON.parse(e.Input ?? '{}').step === 'delete-link',
    );
    expect(deleteScheduled?.Timestamp).toBeDefined();
    expect(Date.parse(backups[0]!.backup_finish_date)).toBeLessThanOrEqual(
      Date.parse(deleteScheduled!.Timestamp!),
    );
    const steps = (status.steps as Array<{ id: string }>).map((s) => s.id);
    expect(steps.indexOf('wait-for-first-backup')).toBeLessThan(steps.indexOf('delete-link'));
    expect(await queryServer(bed, 'SQLBOX19', 'SELECT name FROM sys.availability_groups')).toEqual([]);
    const changes = changesIn(journalOf(bed, 'SQLBOX19').slice(from)).map((e) => e.text);
    expect(changes.filter((t) => /SET \(ROLE = SECONDARY\)/.test(t))).toHaveLength(1);
    expect(changes.filter((t) => /DROP AVAILABILITY GROUP \[DAG1_SalesDb\]/.test(t))).toHaveLength(1);

    // a failback now: the link is gone
    const back = await bed.api('POST', '/api/links/failover', {
      request: request(),
      options: { to: 'SqlServer', workloadStopped: true },
    });
    const refused = await bed.finish(back.json.instanceId);
    expect(refused.runtimeStatus).toBe('Failed');
    expect(refused.error).toMatchObject({ step: 'preflight', code: 'LinkNotFound' });
  });
});
