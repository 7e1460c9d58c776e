import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { armLink, changesIn, demoRequest, journalOf, queryServer, startBed, type Bed } from './harness.js';

/**
 * Issue 13, drop: ARM DELETE of the link, then the DAG on SQL Server, then (asked for) the AG and the pair's
 * certificates — each only when nothing else needs it; a re-run changes nothing.
 */
describe('dropLink end to end (SQL Server 2022 CU13, link healthy, SQL Server primary)', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await startBed();
    const created = await bed.api('POST', '/api/links', demoRequest());
    expect(created.status, created.text).toBe(202);
    const status = await bed.finish(created.json.instanceId);
    expect(status.runtimeStatus, JSON.stringify(status.error)).toBe('Completed');
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('answers 400 naming the option and its rule', async () => {
    const bad = await bed.api('POST', '/api/links/drop', {
      request: demoRequest(),
      options: { override: ['everything'], dropAll: true },
    });
    expect(bad.status).toBe(400);
    const targets = bad.json.error.details.map((d: { target: string }) => d.target);
    expect(targets).toEqual(expect.arrayContaining(['options.override.0', 'options.dropAll']));
  });

  it('prints the plan: the ARM DELETE as az rest, the DROPs as T-SQL', async () => {
    const plan = await bed.api('POST', '/api/links/drop/plan', {
      request: demoRequest(),
      options: { dropAvailabilityGroup: true, dropCertificates: true },
    });
    expect(plan.status, plan.text).toBe(200);
    expect(plan.json.steps.map((s: { id: string }) => s.id)).toEqual([
      'delete-link',
      'wait-for-link-deleted',
      'drop-distributed-availability-group',
      'drop-availability-group',
      'drop-instance-certificate',
      'untrust-sqlserver-certificate',
    ]);
    expect(plan.json.script).toContain(
      "!! az rest --method delete --url 'https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-data/providers/Microsoft.Sql/managedInstances/mi-prod/distributedAvailabilityGroups/DAG1_SalesDb?api-version=2025-01-01'",
    );
    expect(plan.json.script).toContain('DROP AVAILABILITY GROUP [DAG1_SalesDb];');
    expect(plan.json.script).toContain('DROP AVAILABILITY GROUP [AG_SalesDb];');
    // without the options, neither the AG nor the certificates are in the plan
    const bare = await bed.api('POST', '/api/links/drop/plan', { request: demoRequest() });
    expect(bare.json.steps.map((s: { id: string }) => s.id)).not.toContain('drop-availability-group');
    // live: every step still to do
    const live = await bed.api('POST', '/api/links/drop/plan', { request: demoRequest(), live: true });
    expect(live.status, live.text).toBe(200);
    expect(live.json.failures).toEqual([]);
    expect(live.json.steps.map((s: { id: string }) => s.id)).toEqual([
      'delete-link',
      'wait-for-link-deleted',
      'drop-distributed-availability-group',
    ]);
  });

  it('drops the link, the DAG, the AG and the certificates of the pair; a re-run changes nothing', async () => {
    const before = changesIn(journalOf(bed, 'SQLBOX1')).length;
    const body = { request: demoRequest(), options: { dropAvailabilityGroup: true, dropCertificates: true } };
    const posted = await bed.api('POST', '/api/links/drop', body);
    expect(posted.status, posted.text).toBe(202);
    const status = await bed.finish(posted.json.instanceId);
    expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
    expect(status.operation).toBe('dropLink');
    expect(status.steps.every((s: { state: string }) => s.state === 'done')).toBe(true);
    expect(armLink(bed, 'mi-prod', 'DAG1_SalesDb')).toBeUndefined();
    const groups = await queryServer(bed, 'SQLBOX1', 'SELECT name FROM sys.availability_groups');
    expect(groups).toEqual([]);
    const certs = await queryServer(
      bed,
      'SQLBOX1',
      "SELECT name FROM sys.certificates WHERE name LIKE 'mi-prod.%'",
    );
    expect(certs).toEqual([]);
    const mi = bed.estate.instances.all()[0]!;
    expect(mi.serverTrustCertificates.size).toBe(0);
    // SQL Server's own endpoint certificate stays: the endpoint authenticates with it
    const own = await queryServer(
      bed,
      'SQLBOX1',
      "SELECT name FROM sys.certificates WHERE name = 'Cert_SQLBOX1_endpoint'",
    );
    expect(own).toHaveLength(1);
    const dropped = changesIn(journalOf(bed, 'SQLBOX1'))
      .slice(before)
      .map((e) => e.text);
    expect(dropped.filter((t) => /DROP AVAILABILITY GROUP \[DAG1_SalesDb\]/.test(t))).toHaveLength(1);
    expect(dropped.filter((t) => /DROP AVAILABILITY GROUP \[AG_SalesDb\]/.test(t))).toHaveLength(1);
    const deletes = bed.estate.arm.journal.filter((r) => r.method === 'DELETE');
    expect(deletes.map((r) => r.path.split('?')[0]!.split('/').slice(-2).join('/'))).toEqual([
      'distributedAvailabilityGroups/DAG1_SalesDb',
      'serverTrustCertificates/Cert_SQLBOX1_endpoint',
    ]);

    const again = await bed.api('POST', '/api/links/drop', body);
    expect(again.status, again.text).toBe(202);
    const second = await bed.finish(again.json.instanceId);
    expect(second.runtimeStatus, JSON.stringify(second.error ?? second.failures)).toBe('Completed');
    expect(second.output.reports.every((r: { changed: string[] }) => r.changed.length === 0)).toBe(true);
    expect(changesIn(journalOf(bed, 'SQLBOX1')).slice(before).length).toBe(dropped.length);
    expect(bed.estate.arm.journal.filter((r) => r.method === 'DELETE')).toHaveLength(2);
  });
});

/** Fails the demo link over to the instance (planned, after a workload that is then stopped). */
async function failoverToInstance(bed: Bed) {
  const target = { server: 'SQLBOX1', database: 'SalesDb' };
  bed.estate.control.startWorkload(target, { transactionsPerSecond: 20 });
  bed.clock.advance(30_000);
  bed.estate.control.stopWorkload(target);
  const posted = await bed.api('POST', '/api/links/failover', {
    request: demoRequest(),
    options: { to: 'ManagedInstance', workloadStopped: true, lsnStableSeconds: 15 },
  });
  expect(posted.status, posted.text).toBe(202);
  const status = await bed.finish(posted.json.instanceId);
  expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
  expect(bed.estate.control.workload(target).promotions.map((p) => p.lost)).toEqual([0]);
}

describe('drop right after a failover to the instance ("Troubleshoot issues with the link": first full backup)', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await startBed();
    const created = await bed.api('POST', '/api/links', demoRequest());
    expect(created.status, created.text).toBe(202);
    expect((await bed.finish(created.json.instanceId)).runtimeStatus).toBe('Completed');
    await failoverToInstance(bed);
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('is refused before the instance has its first full backup, changing nothing', async () => {
    expect(bed.estate.control.instanceBackups('mi-prod', 'SalesDb')).toEqual([]);
    const posted = await bed.api('POST', '/api/links/drop', { request: demoRequest() });
    expect(posted.status, posted.text).toBe(202);
    const status = await bed.finish(posted.json.instanceId);
    expect(status.runtimeStatus).toBe('Failed');
    expect(status.error).toMatchObject({
      step: 'preflight',
      code: 'FirstFullBackupMissing',
      target: 'azure',
    });
    expect(status.failures).toEqual([expect.objectContaining({ check: 'first-backup' })]);
    expect(armLink(bed, 'mi-prod', 'DAG1_SalesDb')).toBeDefined();
    expect(bed.estate.arm.journal.filter((r) => r.method === 'DELETE')).toEqual([]);
  });

  it('a failback on this one-way link (failoverMode None) is refused with the reason', async () => {
    const posted = await bed.api('POST', '/api/links/failover', {
      request: demoRequest(),
      options: { to: 'SqlServer', workloadStopped: true },
    });
    const status = await bed.finish(posted.json.instanceId);
    expect(status.runtimeStatus).toBe('Failed');
    expect(status.error).toMatchObject({ step: 'preflight', code: 'OneWayLink' });
    expect(status.failures[0].message).toMatch(/failoverMode None: it is one-way to Azure/);
    expect(bed.estate.arm.journal.some((r) => r.path.includes('/failover') && r.method === 'POST')).toBe(
      false,
    );
  });

  it('proceeds once the backup exists (the managed database shows its earliest restore point)', async () => {
    bed.clock.advance(6 * 60_000);
    expect(bed.estate.control.instanceBackups('mi-prod', 'SalesDb')).toHaveLength(1);
    const posted = await bed.api('POST', '/api/links/drop', { request: demoRequest() });
    const status = await bed.finish(posted.json.instanceId);
    expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
    expect((status.warnings ?? []).filter((w: { check: string }) => w.check === 'first-backup')).toEqual([]);
    expect(armLink(bed, 'mi-prod', 'DAG1_SalesDb')).toBeUndefined();
    // the database stands alone on the instance, read/write
    const mi = bed.estate.instances.all()[0]!;
    expect(mi.databases.get('salesdb')?.status).toBe('Online');
  });
});

describe('drop right after a failover with the override', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await startBed();
    const created = await bed.api('POST', '/api/links', demoRequest());
    expect((await bed.finish(created.json.instanceId)).runtimeStatus).toBe('Completed');
    await failoverToInstance(bed);
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('proceeds and the status says what was overridden', async () => {
    const posted = await bed.api('POST', '/api/links/drop', {
      request: demoRequest(),
      options: { override: ['first-backup'] },
    });
    const status = await bed.finish(posted.json.instanceId);
    expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
    // (other warnings, such as the inventory's, are not this test's business)
    const overridden = status.warnings.filter((w: { check: string }) => w.check === 'first-backup');
    expect(overridden).toEqual([
      expect.objectContaining({ check: 'first-backup', message: expect.stringMatching(/^overridden: /) }),
    ]);
    expect(status.output.warnings).toEqual(expect.arrayContaining(overridden));
    expect(bed.estate.control.instanceBackups('mi-prod', 'SalesDb')).toEqual([]);
    expect(armLink(bed, 'mi-prod', 'DAG1_SalesDb')).toBeUndefined();
  });
});
