/**
 * Issue 13, "Done when": the host stopped between any two steps of dropLink converges when restarted, each change
 * once. As in robustness-restart.test.ts, every activity handler the app registered is wrapped (test side only) so
 * the host stops at an exact point: "before N" (activity N never acts) or "after N" (it did its work, the host died
 * before its completion was recorded, so the new host runs it again, at least once as in Azure).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activityGate, passThrough } from './activity-gate.js';
import { VirtualClock } from '../../local/sim/clock.js';
import { startEstate, type RunningEstate } from '../../local/sim/estate/estate.js';
import { changesIn, demoRequest, demoSpec, startHostOn, type Bed } from './harness.js';

const dirs: string[] = [];
const estates: RunningEstate[] = [];
const hosts: Bed[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'milink-lifecycle-restart-'));
  dirs.push(d);
  return d;
};

const gates = activityGate();

beforeAll(async () => {
  await gates.install();
});

afterAll(async () => {
  gates.restore();
  await Promise.allSettled(hosts.map((h) => h.close()));
  await Promise.allSettled(estates.map((e) => e.close()));
  const { closeAllSessions } = await import('../../src/activities/io.js');
  await closeAllSessions();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The inventory's activity after every operation (another feature's): not cut here. */
const INVENTORY = new Set(['record', 'recordInventory']);

const DROP = { request: demoRequest(), options: { dropAvailabilityGroup: true, dropCertificates: true } };

/** An estate with a healthy link, made by a host that is then stopped. */
async function linkedEstate(): Promise<{ estate: RunningEstate; clock: VirtualClock; journalFrom: number }> {
  const clock = new VirtualClock('2026-11-22T08:00:00Z');
  const estate = await startEstate(demoSpec(), { clock, retryAfterSeconds: 0 });
  estates.push(estate);
  const bed = await startHostOn(estate, { clock, dir: tempDir() });
  hosts.push(bed);
  const created = await bed.api('POST', '/api/links', demoRequest());
  expect((await bed.finish(created.json.instanceId)).runtimeStatus).toBe('Completed');
  await bed.close();
  return { estate, clock, journalFrom: estate.sqlServers.get('SQLBOX1')!.journal.length };
}

interface DropEnd {
  /** SQL Server statements that changed something, since the drop began (texts). */
  changes: string[];
  linkDeletes: number;
  trustDeletes: number;
  links: number;
  trusts: number;
  groups: number;
}

function endState(estate: RunningEstate, journalFrom: number): DropEnd {
  const mi = estate.instances.all()[0]!;
  estate.advance();
  const deletes = estate.arm.journal.filter((r) => r.method === 'DELETE' && r.status < 400);
  const server = estate.sqlServers.get('SQLBOX1')!;
  return {
    changes: changesIn(server.journal.slice(journalFrom))
      .filter((e) => !e.dropped && e.errorNumbers.length === 0)
      .map((e) => e.text),
    linkDeletes: deletes.filter((r) => r.path.includes('/distributedAvailabilityGroups/')).length,
    trustDeletes: deletes.filter((r) => r.path.includes('/serverTrustCertificates/')).length,
    links: estate.links.list(mi).length,
    trusts: mi.serverTrustCertificates.size,
    groups: server.state.availabilityGroups.length,
  };
}

/** Runs an operation on a fresh linked estate with the host stopped before or after its `at`-th activity; a new host finishes it. */
async function runWithCut(
  path: string,
  body: unknown,
  at: number,
  mode: 'before' | 'after',
  prepare?: (estate: RunningEstate, clock: VirtualClock) => void,
) {
  const { estate, clock, journalFrom } = await linkedEstate();
  prepare?.(estate, clock);
  const dir = tempDir();
  const first = await startHostOn(estate, { clock, dir });
  hosts.push(first);
  let count = 0;
  let killed!: Promise<void>;
  let answered!: () => void;
  const postAnswered = new Promise<void>((r) => (answered = r));
  const stop = () => postAnswered.then(() => first.close());
  const cut = new Promise<void>((resolve) => {
    gates.current = async (step, run) => {
      if (INVENTORY.has(step)) return run();
      count++;
      if (count !== at) return run();
      if (mode === 'before') {
        killed = stop();
        resolve();
        await killed;
        throw new Error('the host died before this activity acted');
      }
      const result = await run();
      killed = stop();
      resolve();
      await killed;
      return result;
    };
  });
  const posted = await first.api('POST', path, body);
  answered();
  expect(posted.status, posted.text).toBe(202);
  await cut;
  await killed;
  gates.current = passThrough;
  const second = await startHostOn(estate, { clock, dir });
  hosts.push(second);
  const status = await second.finish(posted.json.instanceId);
  await second.close();
  return { estate, journalFrom, status };
}

/** The uninterrupted run: the activities in order. */
async function uninterrupted(
  path: string,
  body: unknown,
  prepare?: (estate: RunningEstate, clock: VirtualClock) => void,
) {
  const { estate, clock, journalFrom } = await linkedEstate();
  prepare?.(estate, clock);
  const activities: string[] = [];
  gates.current = (name, run) => {
    if (!INVENTORY.has(name)) activities.push(name);
    return run();
  };
  try {
    const bed = await startHostOn(estate, { clock, dir: tempDir() });
    hosts.push(bed);
    const posted = await bed.api('POST', path, body);
    expect(posted.status, posted.text).toBe(202);
    const status = await bed.finish(posted.json.instanceId);
    expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
    await bed.close();
  } finally {
    gates.current = passThrough;
  }
  return { estate, journalFrom, activities };
}

/** Each activity's first run, as cut points. */
function cutsOf(activities: string[]) {
  return activities
    .map((name, i) => ({ name, at: i + 1 }))
    .filter(({ name, at }) => activities.indexOf(name) === at - 1);
}

let baseline: { activities: string[]; state: DropEnd } | undefined;

describe('dropLink survives its host being stopped between any two steps', () => {
  it('an uninterrupted drop: the reference end state', async () => {
    const { estate, journalFrom, activities } = await uninterrupted('/api/links/drop', DROP);
    const state = endState(estate, journalFrom);
    baseline = { activities, state };
    expect(baseline.activities[0]).toBe('preflight');
    expect(baseline.activities).toEqual(
      expect.arrayContaining([
        'delete-link',
        'wait-for-link-deleted',
        'drop-distributed-availability-group',
        'drop-availability-group',
        'drop-instance-certificate',
        'untrust-sqlserver-certificate',
      ]),
    );
    expect(state).toMatchObject({ linkDeletes: 1, trustDeletes: 1, links: 0, trusts: 0, groups: 0 });
    expect(state.changes).toHaveLength(3);
  });

  for (const mode of ['before', 'after'] as const)
    it(`stopped ${mode} each activity of dropLink, a new host converges to the same end state, each change once`, async () => {
      expect(baseline, 'the reference run must pass first').toBeDefined();
      for (const { name, at } of cutsOf(baseline!.activities)) {
        const { estate, journalFrom, status } = await runWithCut('/api/links/drop', DROP, at, mode);
        const where = `${mode} activity ${at} (${name})`;
        expect(status.runtimeStatus, `${where}: ${JSON.stringify(status.error ?? status.failures)}`).toBe(
          'Completed',
        );
        const state = endState(estate, journalFrom);
        expect(state.changes, where).toEqual(baseline!.state.changes);
        expect({ ...state, linkDeletes: 0 }, where).toEqual({ ...baseline!.state, linkDeletes: 0 });
        // DELETE is idempotent: only a host that died after sending it, before recording so, sends it again
        expect(state.linkDeletes, where).toBe(mode === 'after' && name === 'delete-link' ? 2 : 1);
      }
    }, 150_000);
});

// ---------------------------------------------------------------- failoverLink

const FAILOVER = {
  request: demoRequest(),
  options: { to: 'ManagedInstance', workloadStopped: true, lsnStableSeconds: 15 },
};
const workload = { server: 'SQLBOX1', database: 'SalesDb' };

/** A workload that wrote for a minute and was stopped, as "Fail over link" asks before a planned failover. */
function wroteThenStopped(estate: RunningEstate, clock: VirtualClock) {
  estate.control.startWorkload(workload, { transactionsPerSecond: 20 });
  clock.advance(60_000);
  estate.control.stopWorkload(workload);
}

interface FailoverEnd {
  changes: string[];
  instanceRole: string;
  lost: number[];
  healthy: boolean;
}

function failoverEnd(estate: RunningEstate, journalFrom: number): FailoverEnd {
  const mi = estate.instances.all()[0]!;
  estate.advance();
  const link = estate.links.get(mi, 'DAG1_SalesDb') as {
    properties: {
      instanceLinkRole: string;
      databases: Array<{ connectedState?: string; synchronizationHealth?: string }>;
    };
  };
  return {
    changes: changesIn(estate.sqlServers.get('SQLBOX1')!.journal.slice(journalFrom))
      .filter((e) => !e.dropped && e.errorNumbers.length === 0)
      .map((e) => e.text),
    instanceRole: link.properties.instanceLinkRole,
    lost: estate.control.workload(workload).promotions.map((p) => p.lost),
    healthy: link.properties.databases.every(
      (d) => d.connectedState === 'CONNECTED' && d.synchronizationHealth === 'HEALTHY',
    ),
  };
}

let failoverBaseline: { activities: string[]; state: FailoverEnd } | undefined;

describe('failoverLink survives its host being stopped between any two steps', () => {
  it('an uninterrupted planned failover: the reference end state', async () => {
    const run = await uninterrupted('/api/links/failover', FAILOVER, wroteThenStopped);
    const state = failoverEnd(run.estate, run.journalFrom);
    failoverBaseline = { activities: run.activities, state };
    expect(run.activities.filter((a, i) => run.activities.indexOf(a) === i)).toEqual([
      'preflight',
      'synchronous-commit',
      'wait-for-lsn',
      'fail-over',
      'verify-roles',
      'asynchronous-commit',
    ]);
    expect(state).toMatchObject({ instanceRole: 'Primary', lost: [0], healthy: true });
    expect(state.changes).toHaveLength(2); // synchronous commit, FAILOVER
  });

  for (const mode of ['before', 'after'] as const)
    it(`stopped ${mode} each activity of failoverLink, a new host converges: one FAILOVER, 0 lost`, async () => {
      expect(failoverBaseline, 'the reference run must pass first').toBeDefined();
      for (const { name, at } of cutsOf(failoverBaseline!.activities)) {
        const run = await runWithCut('/api/links/failover', FAILOVER, at, mode, wroteThenStopped);
        const where = `${mode} activity ${at} (${name})`;
        expect(run.status.runtimeStatus, `${where}: ${JSON.stringify(run.status.error)}`).toBe('Completed');
        expect(failoverEnd(run.estate, run.journalFrom), where).toEqual(failoverBaseline!.state);
      }
    }, 150_000);
});

// ---------------------------------------------------------------- migrateLink

const MIGRATE = { request: demoRequest(), options: { workloadStopped: true, lsnStableSeconds: 15 } };

interface MigrateEnd {
  changes: string[];
  links: number;
  backups: number;
  lost: number[];
  instanceDatabase: string | undefined;
}

function migrateEnd(estate: RunningEstate, journalFrom: number): MigrateEnd {
  const mi = estate.instances.all()[0]!;
  estate.advance();
  return {
    changes: changesIn(estate.sqlServers.get('SQLBOX1')!.journal.slice(journalFrom))
      .filter((e) => !e.dropped && e.errorNumbers.length === 0)
      .map((e) => e.text),
    links: estate.links.list(mi).length,
    backups: estate.control.instanceBackups('mi-prod', 'SalesDb').length,
    lost: estate.control.workload(workload).promotions.map((p) => p.lost),
    instanceDatabase: mi.databases.get('salesdb')?.status,
  };
}

const linkDeletes = (estate: RunningEstate) =>
  estate.arm.journal.filter(
    (r) => r.method === 'DELETE' && r.status < 400 && r.path.includes('/distributedAvailabilityGroups/'),
  ).length;

let migrateBaseline: { activities: string[]; state: MigrateEnd } | undefined;

describe('migrateLink survives its host being stopped between any two steps', () => {
  it('an uninterrupted migration: the reference end state', async () => {
    const run = await uninterrupted('/api/links/migrate', MIGRATE, wroteThenStopped);
    const state = migrateEnd(run.estate, run.journalFrom);
    migrateBaseline = { activities: run.activities, state };
    expect(run.activities.filter((a, i) => run.activities.indexOf(a) === i)).toEqual([
      'preflight',
      'synchronous-commit',
      'wait-for-lsn',
      'fail-over',
      'verify-roles',
      'wait-for-first-backup',
      'delete-link',
      'wait-for-link-deleted',
      'drop-distributed-availability-group',
    ]);
    expect(state).toMatchObject({ links: 0, backups: 1, instanceDatabase: 'Online' });
    expect(state.lost.every((n) => n === 0)).toBe(true);
    expect(state.changes).toHaveLength(3); // synchronous commit, FAILOVER, DROP of the DAG
    expect(linkDeletes(run.estate)).toBe(1);
  });

  for (const mode of ['before', 'after'] as const)
    it(`stopped ${mode} each activity of migrateLink, a new host converges: each change once, 0 lost`, async () => {
      expect(migrateBaseline, 'the reference run must pass first').toBeDefined();
      for (const { name, at } of cutsOf(migrateBaseline!.activities)) {
        const run = await runWithCut('/api/links/migrate', MIGRATE, at, mode, wroteThenStopped);
        const where = `${mode} activity ${at} (${name})`;
        expect(run.status.runtimeStatus, `${where}: ${JSON.stringify(run.status.error)}`).toBe('Completed');
        expect(migrateEnd(run.estate, run.journalFrom), where).toEqual(migrateBaseline!.state);
        expect(linkDeletes(run.estate), where).toBe(mode === 'after' && name === 'delete-link' ? 2 : 1);
      }
    }, 150_000);
});

// ---------------------------------------------------------------- resolveSplitBrain

const RESOLVE = { request: demoRequest(), options: { demote: 'SqlServer', confirm: true } };

/** Both sides PRIMARY, as after a forced failover ("Troubleshoot issues with the link"). */
function splitBrain(estate: RunningEstate) {
  estate.control.setTrouble({ kind: 'splitBrain', link: { instance: 'mi-prod', name: 'DAG1_SalesDb' } });
}

interface ResolveEnd {
  /** Changes as statements, the tail-log file's time stamp (the request's moment) left out. */
  changes: string[];
  instanceRole: string;
  sqlRole: string | undefined;
}

function resolveEnd(estate: RunningEstate, journalFrom: number): ResolveEnd {
  const mi = estate.instances.all()[0]!;
  estate.advance();
  const server = estate.sqlServers.get('SQLBOX1')!;
  const dag = server.state.availabilityGroups.find((g) => g.name === 'DAG1_SalesDb');
  return {
    changes: changesIn(server.journal.slice(journalFrom))
      .filter((e) => !e.dropped && e.errorNumbers.length === 0)
      .map((e) => e.text.replace(/_tail_\d{14}\.trn/, '_tail_<stamp>.trn')),
    instanceRole: (estate.links.get(mi, 'DAG1_SalesDb') as { properties: { instanceLinkRole: string } })
      .properties.instanceLinkRole,
    sqlRole: dag?.replicas.find((r) => r.isLocal)?.role,
  };
}

let resolveBaseline: { activities: string[]; state: ResolveEnd } | undefined;

describe('resolveSplitBrain survives its host being stopped between any two steps', () => {
  it('an uninterrupted resolution: the reference end state', async () => {
    const run = await uninterrupted('/api/links/resolve-split-brain', RESOLVE, splitBrain);
    const state = resolveEnd(run.estate, run.journalFrom);
    resolveBaseline = { activities: run.activities, state };
    expect(run.activities.filter((a, i) => run.activities.indexOf(a) === i)).toEqual([
      'preflight',
      'split-brain-backup',
      'demote-sqlserver',
      'verify-roles',
    ]);
    expect(state).toEqual({
      changes: [
        "BACKUP LOG [SalesDb] TO DISK = N'/var/opt/mssql/backup/milink_SalesDb_tail_<stamp>.trn';",
        expect.stringMatching(/ALTER AVAILABILITY GROUP \[DAG1_SalesDb\] SET \(ROLE = SECONDARY\);$/),
      ],
      instanceRole: 'Primary',
      sqlRole: 'SECONDARY',
    });
  });

  for (const mode of ['before', 'after'] as const)
    it(`stopped ${mode} each activity of resolveSplitBrain, a new host converges: one backup, one demotion`, async () => {
      expect(resolveBaseline, 'the reference run must pass first').toBeDefined();
      for (const { name, at } of cutsOf(resolveBaseline!.activities)) {
        const run = await runWithCut('/api/links/resolve-split-brain', RESOLVE, at, mode, splitBrain);
        const where = `${mode} activity ${at} (${name})`;
        expect(run.status.runtimeStatus, `${where}: ${JSON.stringify(run.status.error)}`).toBe('Completed');
        expect(resolveEnd(run.estate, run.journalFrom), where).toEqual(resolveBaseline!.state);
      }
    }, 150_000);
});
