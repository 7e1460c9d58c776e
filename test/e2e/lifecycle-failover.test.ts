import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  armLink,
  changesIn,
  dagReplicaStates,
  demoRequest,
  demoSpec,
  journalOf,
  startBed,
  type Bed,
} from './harness.js';

/**
 * Issue 13, failover ("Fail over link"): planned failover SQL Server → instance → SQL Server under a write
 * workload on SQL Server 2022 CU13 (T-SQL FAILOVER one way, ARM failover Planned back), 0 transactions lost as
 * the estate counts them, roles verified on both sides, the link healthy again; a forced failover under load
 * reports how far behind the new primary was, which is what the estate counted as lost.
 */

const target = { server: 'SQLBOX1', database: 'SalesDb' };
/** The estate's LSN step for one transaction of 4096 bytes (local/sim/estate/workload.ts: 512-byte blocks × 100000). */
const LSN_PER_TRANSACTION = 8n * 100_000n;

async function createLink(bed: Bed, overrides: Record<string, unknown> = {}) {
  const created = await bed.api('POST', '/api/links', demoRequest({ failoverMode: 'Manual', ...overrides }));
  expect(created.status, created.text).toBe(202);
  const status = await bed.finish(created.json.instanceId);
  expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
}

async function failover(bed: Bed, options: Record<string, unknown>) {
  const posted = await bed.api('POST', '/api/links/failover', {
    request: demoRequest({ failoverMode: 'Manual' }),
    options,
  });
  expect(posted.status, posted.text).toBe(202);
  return bed.finish(posted.json.instanceId, 120_000);
}

function sqlRole(rows: Array<{ endpoint: string; role: string | null }>) {
  // the DAG's SQL Server member has SQL Server's listener; the other member is the instance
  return rows.find((r) => !/database\.windows\.net/i.test(r.endpoint))?.role;
}

async function roundTrip(bed: Bed, path: string) {
  const control = bed.estate.control;
  control.startWorkload(target, { transactionsPerSecond: 50 });
  bed.clock.advance(60_000);
  control.stopWorkload(target);

  const arrived = await failover(bed, { to: 'ManagedInstance', workloadStopped: true, lsnStableSeconds: 30 });
  expect(arrived.runtimeStatus, JSON.stringify(arrived.error ?? arrived.failures)).toBe('Completed');
  expect(arrived.operation).toBe('failoverLink');
  const failed = arrived.output.reports.find((r: { step: string }) => r.step === 'fail-over');
  expect(failed.details.path).toBe(path);
  // roles on both sides, as each reports them
  expect(sqlRole(await dagReplicaStates(bed, 'SQLBOX1', 'DAG1_SalesDb'))).toBe('SECONDARY');
  const mi = armLink(bed, 'mi-prod', 'DAG1_SalesDb');
  expect(mi.properties.instanceLinkRole).toBe('Primary');
  expect(mi.properties.databases[0].connectedState).toBe('CONNECTED');
  expect(mi.properties.databases[0].synchronizationHealth).toBe('HEALTHY');
  // the failover ran once, after synchronous commit
  const texts = changesIn(journalOf(bed, 'SQLBOX1')).map((e) => e.text);
  const sync = texts.findIndex((t) => /SYNCHRONOUS_COMMIT/.test(t) && !/ASYNCHRONOUS/.test(t));
  const switched = texts
    .map((t, i) => (/\bFAILOVER;|SET \(ROLE = SECONDARY\)/.test(t) ? i : -1))
    .filter((i) => i >= 0);
  expect(sync).toBeGreaterThanOrEqual(0);
  expect(switched).toHaveLength(1);
  expect(switched[0]).toBeGreaterThan(sync);

  // the application writes on the instance now, then stops for the failback
  control.startWorkload(target, { transactionsPerSecond: 50 });
  bed.clock.advance(60_000);
  control.stopWorkload(target);
  const back = await failover(bed, { to: 'SqlServer', workloadStopped: true, lsnStableSeconds: 30 });
  expect(back.runtimeStatus, JSON.stringify(back.error ?? back.failures)).toBe('Completed');
  expect(back.output.reports.find((r: { step: string }) => r.step === 'fail-over').details.path).toBe(
    'arm-planned',
  );
  expect(sqlRole(await dagReplicaStates(bed, 'SQLBOX1', 'DAG1_SalesDb'))).toBe('PRIMARY');
  const after = armLink(bed, 'mi-prod', 'DAG1_SalesDb');
  expect(after.properties.instanceLinkRole).toBe('Secondary');
  expect(after.properties.databases[0].connectedState).toBe('CONNECTED');
  expect(after.properties.databases[0].synchronizationHealth).toBe('HEALTHY');
  const failovers = bed.estate.arm.journal.filter((r) => r.method === 'POST' && r.path.includes('/failover'));
  expect(failovers.map((r) => r.status)).toEqual(path === 'tsql-failover' ? [202] : [202, 202]);

  const { promotions } = control.workload(target);
  expect(promotions.map((p) => p.promoted)).toEqual(['managedInstance', 'sqlServer']);
  expect(promotions.map((p) => p.lost)).toEqual([0, 0]);
  expect(promotions.every((p) => p.previousPrimaryCommitted > 0)).toBe(true);
}

describe('planned failover SQL Server → instance → SQL Server (SQL Server 2022 CU13, two-way link)', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await startBed();
    await createLink(bed);
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('refuses a planned failover without the stop-workload confirmation (400 naming the field)', async () => {
    const posted = await bed.api('POST', '/api/links/failover', {
      request: demoRequest({ failoverMode: 'Manual' }),
      options: { to: 'ManagedInstance' },
    });
    expect(posted.status).toBe(400);
    expect(posted.json.error.details).toEqual([
      expect.objectContaining({
        target: 'options.workloadStopped',
        message: expect.stringMatching(/must be true/),
      }),
    ]);
  });

  it('plans the T-SQL path for CU13: synchronous commit, the LSN wait, FAILOVER on SQL Server', async () => {
    const plan = await bed.api('POST', '/api/links/failover/plan', {
      request: demoRequest({ failoverMode: 'Manual' }),
      options: { to: 'ManagedInstance', workloadStopped: true },
      live: true,
    });
    expect(plan.status, plan.text).toBe(200);
    expect(plan.json.failures).toEqual([]);
    const steps = plan.json.steps as Array<{ id: string; title: string; tsql?: string[] }>;
    expect(steps.map((s) => s.id)).toEqual([
      'synchronous-commit',
      'wait-for-lsn',
      'fail-over',
      'verify-roles',
      'asynchronous-commit',
    ]);
    expect(steps[0]!.tsql!.join('\n')).toMatch(/AVAILABILITY_MODE = SYNCHRONOUS_COMMIT/);
    expect(steps[2]!.tsql!.join('\n')).toContain('ALTER AVAILABILITY GROUP [DAG1_SalesDb] FAILOVER;');
  });

  it('fails over and back under a write workload: 0 transactions lost, roles verified, healthy again', async () => {
    await roundTrip(bed, 'tsql-failover');
    const texts = changesIn(journalOf(bed, 'SQLBOX1')).map((e) => e.text);
    expect(texts.filter((t) => /\bFAILOVER;/.test(t))).toHaveLength(1);
  });
});

for (const variant of [
  {
    name: 'SQL Server 2022 CU12 (before T-SQL failover)',
    version: 2022,
    cu: 12,
    policy: 'SQLServer2022',
    there: 'demote-then-forced',
  },
  { name: 'SQL Server 2025', version: 2025, cu: 0, policy: 'SQLServer2025', there: 'tsql-failover' },
] as const)
  describe(`planned failover round trip on ${variant.name}`, () => {
    let bed: Bed;
    beforeAll(async () => {
      const spec = demoSpec();
      Object.assign(spec.sqlServers[0]!, { version: variant.version, cu: variant.cu });
      spec.managedInstances[0]!.updatePolicy = variant.policy;
      bed = await startBed({ spec });
      await createLink(bed);
    });
    afterAll(async () => {
      await bed?.close();
    });

    it(`goes there by ${variant.there} and back by ARM Planned: 0 lost, roles verified, healthy again`, async () => {
      await roundTrip(bed, variant.there);
    });
  });

describe('a planned failover never starts while the LSNs move (the workload was not stopped)', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await startBed({ env: { MILINK_LINK_DEADLINE_HOURS: '0.25' } });
    await createLink(bed);
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('waits, then fails at wait-for-lsn without any FAILOVER', async () => {
    // a light workload (the log never fills, which would stop it and let the LSNs settle)
    bed.estate.control.startWorkload(target, { transactionsPerSecond: 5, logBytesPerTransaction: 512 });
    const status = await failover(bed, {
      to: 'ManagedInstance',
      workloadStopped: true,
      lsnStableSeconds: 30,
    });
    bed.estate.control.stopWorkload(target);
    expect(status.runtimeStatus).toBe('Failed');
    expect(status.error).toMatchObject({ step: 'wait-for-lsn', code: 'LsnNotSynchronized' });
    expect(status.progress.requiredSeconds).toBe(30);
    const texts = changesIn(journalOf(bed, 'SQLBOX1')).map((e) => e.text);
    expect(texts.some((t) => /\bFAILOVER\b/.test(t))).toBe(false);
    expect(sqlRole(await dagReplicaStates(bed, 'SQLBOX1', 'DAG1_SalesDb'))).toBe('PRIMARY');
    expect(bed.estate.control.workload(target).promotions).toEqual([]);
  });
});

describe('forced failover to the instance under load (allowDataLoss)', () => {
  let bed: Bed;
  beforeAll(async () => {
    const spec = demoSpec();
    bed = await startBed({ spec });
    await createLink(bed);
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('reports how far behind the instance was: the transactions the estate counted as lost', async () => {
    const control = bed.estate.control;
    control.startWorkload(target, { transactionsPerSecond: 100 });
    control.tuneReplication(target, { shipDelaySeconds: 3 });
    bed.clock.advance(30_000);
    const status = await failover(bed, { to: 'ManagedInstance', allowDataLoss: true });
    control.stopWorkload(target);
    expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
    const details = status.output.reports.find((r: { step: string }) => r.step === 'fail-over').details;
    expect(details.path).toBe('arm-forced');
    const [promotion] = control.workload(target).promotions;
    expect(promotion!.promoted).toBe('managedInstance');
    expect(promotion!.lost).toBeGreaterThan(0);
    expect(BigInt(details.lsnBehind)).toBe(BigInt(promotion!.lost) * LSN_PER_TRANSACTION);
    expect(details.secondsBehind).toBe(3);
    // both sides primary now: split brain, shown in the status
    expect(status.progress.splitBrain).toBe(true);
    expect(status.steps.map((s: { id: string }) => s.id)).toEqual(['fail-over', 'verify-roles']);
  });

  it("detects the split brain in its operations' preflight: a failover and a drop are refused", async () => {
    for (const [path, options] of [
      ['/api/links/failover', { to: 'SqlServer', workloadStopped: true }],
      ['/api/links/drop', {}],
    ] as const) {
      const posted = await bed.api('POST', path, {
        request: demoRequest({ failoverMode: 'Manual' }),
        options,
      });
      expect(posted.status, posted.text).toBe(202);
      const status = await bed.finish(posted.json.instanceId);
      expect(status.runtimeStatus, path).toBe('Failed');
      expect(status.error, path).toMatchObject({ step: 'preflight', code: 'SplitBrain' });
    }
    expect(armLink(bed, 'mi-prod', 'DAG1_SalesDb')).toBeDefined();
  });

  it('resolves it with explicit confirmation: the tail-log backup first, then SQL Server demoted', async () => {
    const unconfirmed = await bed.api('POST', '/api/links/resolve-split-brain', {
      request: demoRequest({ failoverMode: 'Manual' }),
      options: { demote: 'SqlServer' },
    });
    expect(unconfirmed.status).toBe(400);
    expect(unconfirmed.json.error.details).toEqual([expect.objectContaining({ target: 'options.confirm' })]);

    const journalFrom = journalOf(bed, 'SQLBOX1').length;
    const posted = await bed.api('POST', '/api/links/resolve-split-brain', {
      request: demoRequest({ failoverMode: 'Manual' }),
      options: { demote: 'SqlServer', confirm: true },
    });
    expect(posted.status, posted.text).toBe(202);
    const status = await bed.finish(posted.json.instanceId);
    expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
    const changes = changesIn(journalOf(bed, 'SQLBOX1').slice(journalFrom)).map((e) => e.text);
    expect(changes).toEqual([
      expect.stringMatching(
        /^BACKUP LOG \[SalesDb\] TO DISK = N'\/var\/opt\/mssql\/backup\/milink_SalesDb_tail_\d{14}\.trn';$/,
      ),
      expect.stringMatching(/ALTER AVAILABILITY GROUP \[DAG1_SalesDb\] SET \(ROLE = SECONDARY\);$/),
    ]);
    expect(sqlRole(await dagReplicaStates(bed, 'SQLBOX1', 'DAG1_SalesDb'))).toBe('SECONDARY');
    const link = armLink(bed, 'mi-prod', 'DAG1_SalesDb');
    expect(link.properties.instanceLinkRole).toBe('Primary');
    expect(link.properties.databases[0].connectedState).toBe('CONNECTED');
    // a re-run finds nothing to do
    const again = await bed.api('POST', '/api/links/resolve-split-brain', {
      request: demoRequest({ failoverMode: 'Manual' }),
      options: { demote: 'SqlServer', confirm: true },
    });
    const rerun = await bed.finish(again.json.instanceId);
    expect(rerun.runtimeStatus, JSON.stringify(rerun.error ?? rerun.failures)).toBe('Completed');
    expect(changesIn(journalOf(bed, 'SQLBOX1').slice(journalFrom))).toHaveLength(2);
  });
});

describe('split brain resolved by demoting the instance (setRole), SQL Server keeps the primary role', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await startBed();
    await createLink(bed);
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('needs the instance backed up first, then demotes it with ARM setRole; the link is healthy again', async () => {
    const control = bed.estate.control;
    control.startWorkload(target, { transactionsPerSecond: 50 });
    bed.clock.advance(20_000);
    const forced = await failover(bed, { to: 'ManagedInstance', allowDataLoss: true });
    control.stopWorkload(target);
    expect(forced.runtimeStatus, JSON.stringify(forced.error)).toBe('Completed');
    const body = {
      request: demoRequest({ failoverMode: 'Manual' }),
      options: { demote: 'ManagedInstance', confirm: true },
    };
    // no backup on the instance yet: refused before any change
    const early = await bed.api('POST', '/api/links/resolve-split-brain', body);
    const refused = await bed.finish(early.json.instanceId);
    expect(refused.runtimeStatus).toBe('Failed');
    expect(refused.error).toMatchObject({ step: 'preflight', code: 'InstanceBackupMissing' });
    expect(bed.estate.arm.journal.some((r) => r.path.includes('/setRole'))).toBe(false);

    bed.clock.advance(6 * 60_000);
    const posted = await bed.api('POST', '/api/links/resolve-split-brain', body);
    const status = await bed.finish(posted.json.instanceId);
    expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
    expect(status.warnings).toEqual(
      expect.arrayContaining([expect.objectContaining({ check: 'instance-backup' })]),
    );
    expect(bed.estate.arm.journal.filter((r) => r.method === 'POST' && r.path.includes('/setRole'))).toEqual([
      expect.objectContaining({ status: 202 }),
    ]);
    const link = armLink(bed, 'mi-prod', 'DAG1_SalesDb');
    expect(link.properties.instanceLinkRole).toBe('Secondary');
    expect(link.properties.databases[0]).toMatchObject({
      connectedState: 'CONNECTED',
      synchronizationHealth: 'HEALTHY',
    });
    expect(sqlRole(await dagReplicaStates(bed, 'SQLBOX1', 'DAG1_SalesDb'))).toBe('PRIMARY');
  });
});

describe('forced failover to the instance with SQL Server down (disaster recovery)', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await startBed();
    await createLink(bed);
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('goes on with the instance alone, says so, and reports the loss from what the instance knows', async () => {
    const control = bed.estate.control;
    control.startWorkload(target, { transactionsPerSecond: 100 });
    control.tuneReplication(target, { shipDelaySeconds: 2 });
    bed.clock.advance(30_000);
    // SQL Server stops answering: open connections are closed at their next request, new ones at once
    const faults = bed.estate.sqlServers.get('SQLBOX1')!.faults;
    faults.dropOnText.push({ pattern: /[\s\S]/ });
    faults.dropNextConnections = 1_000_000;
    const status = await failover(bed, { to: 'ManagedInstance', allowDataLoss: true });
    control.stopWorkload(target);
    faults.dropOnText.length = 0;
    faults.dropNextConnections = 0;
    expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
    expect(status.warnings).toEqual(
      expect.arrayContaining([expect.objectContaining({ check: 'sqlserver-reachable' })]),
    );
    expect(armLink(bed, 'mi-prod', 'DAG1_SalesDb').properties.instanceLinkRole).toBe('Primary');
    const details = status.output.reports.find((r: { step: string }) => r.step === 'fail-over').details;
    const [promotion] = control.workload(target).promotions;
    expect(promotion!.lost).toBeGreaterThan(0);
    expect(BigInt(details.lsnBehind)).toBe(BigInt(promotion!.lost) * LSN_PER_TRANSACTION);
    expect(details.secondsBehind).toBe(2);
  });
});

describe('a two-way link whose instance has another update policy ("Update policy")', () => {
  let bed: Bed;
  beforeAll(async () => {
    const spec = demoSpec();
    spec.managedInstances[0]!.updatePolicy = 'SQLServer2025';
    bed = await startBed({ spec });
    await createLink(bed);
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('refuses a planned failover to the instance: it could not replicate back (use migrate)', async () => {
    const from = journalOf(bed, 'SQLBOX1').length;
    const status = await failover(bed, { to: 'ManagedInstance', workloadStopped: true });
    expect(status.runtimeStatus).toBe('Failed');
    expect(status.error).toMatchObject({ step: 'preflight', code: 'OneWayLink' });
    expect(status.error.advice).toMatch(/migrate/);
    expect(changesIn(journalOf(bed, 'SQLBOX1').slice(from))).toEqual([]);
  });
});
