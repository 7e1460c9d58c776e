import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  armLink,
  changesIn,
  demoRequest,
  demoSpec,
  journalOf,
  startBed,
  until,
  type Bed,
} from './harness.js';

/**
 * Issue 6's triggers end to end: re-posting a finished request, 409 while a run for the same link is going,
 * the status with step states and seeding progress, the plan (static and live), and the queue trigger's
 * tickets (valid: the same orchestration, the ticket in the log lines; invalid: poisoned at once).
 */

type Step = { id: string; state: string };

/** ARM requests that change something (anything but GET). */
function armChanges(bed: Bed, from = 0) {
  return bed.estate.arm.journal.slice(from).filter((r) => r.method !== 'GET');
}

describe('HTTP: plan, live plan, progress, 409 while running, re-posting a finished request', () => {
  let bed: Bed;
  let planIds: string[];
  let instanceId: string;
  beforeAll(async () => {
    const spec = demoSpec();
    // A database that needs prepare-database (SIMPLE recovery, no backup), and seeding slow enough to watch:
    // 200 MB at 2 MB per simulated second.
    spec.sqlServers[0]!.databases = [
      { name: 'SalesDb', recoveryModel: 'SIMPLE', fullBackup: false, sizeMb: 200 },
    ];
    spec.timing = { seedingMBps: 2 };
    bed = await startBed({ spec });
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('POST /api/links/plan without live returns the JSON plan and the script, touching nothing', async () => {
    const res = await bed.api('POST', '/api/links/plan', { request: demoRequest() });
    expect(res.status, res.text).toBe(200);
    const steps = res.json.steps as Array<{ id: string; tsql?: string[]; arm?: unknown[] }>;
    planIds = steps.map((s) => s.id);
    expect(planIds).toEqual([
      'read-managed-instance',
      'prepare-database',
      'master-key',
      'sqlserver-certificate',
      'export-sqlserver-certificate',
      'trust-sqlserver-certificate',
      'export-instance-certificate',
      'import-instance-certificate',
      'import-root-certificates',
      'validate-instance-certificate',
      'mirroring-endpoint',
      'availability-group',
      'distributed-availability-group',
      'create-link',
      'wait-for-link',
      'verify-connection',
      'first-log-backup',
    ]);
    const ag = steps.find((s) => s.id === 'availability-group')!;
    expect(ag.tsql?.join('\n')).toMatch(/CREATE AVAILABILITY GROUP \[AG_SalesDb\]/);
    const script = res.json.script as string;
    expect(script).toMatch(/CREATE AVAILABILITY GROUP \[DAG1_SalesDb\]/);
    expect(script).toMatch(/\$\(MasterKeyPassword\)/);
    expect(script).toMatch(/^!! az rest --method put .*distributedAvailabilityGroups\/DAG1_SalesDb/m);
    for (const id of planIds) expect(script).toContain(`: ${id} — `);
    // No estate contact at all: nothing reached SQL Server or ARM.
    expect(journalOf(bed, 'SQLBOX1')).toEqual([]);
    expect(bed.estate.arm.journal).toEqual([]);
  });

  it('a plan request that breaks the envelope is a 400 naming the field', async () => {
    const res = await bed.api('POST', '/api/links/plan', { request: demoRequest(), live: 'yes' });
    expect(res.status).toBe(400);
    expect(res.json.error.details).toEqual([expect.objectContaining({ target: 'live' })]);
    const unknown = await bed.api('POST', '/api/links/plan', { request: demoRequest(), dryRun: true });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.details).toEqual([
      expect.objectContaining({ code: 'UnknownField', target: 'dryRun' }),
    ]);
    expect(journalOf(bed, 'SQLBOX1')).toEqual([]);
  });

  it('with "live": true on a fresh estate it returns every step (only the read is done) and executes nothing', async () => {
    const res = await bed.api('POST', '/api/links/plan', { request: demoRequest(), live: true });
    expect(res.status, res.text).toBe(200);
    expect(res.json.live).toBe(true);
    expect(res.json.failures).toEqual([]);
    expect(res.json.done).toEqual(['read-managed-instance']);
    expect((res.json.steps as Step[]).map((s) => s.id)).toEqual(planIds.slice(1));
    expect(changesIn(journalOf(bed, 'SQLBOX1'))).toEqual([]);
    expect(armChanges(bed)).toEqual([]);
  });

  it('while the run waits for the link: steps done/current/pending, seeding progress, and a 409 naming it', async () => {
    bed.host.setAutoAdvance(false);
    // The link's PUT answers slowly once, so the run can be seen in the middle of its steps.
    bed.estate.armFaults.latency(1500, { method: 'PUT', path: '/distributedAvailabilityGroups/', times: 1 });
    const posted = await bed.api('POST', '/api/links', demoRequest());
    expect(posted.status, posted.text).toBe(202);
    instanceId = posted.json.instanceId;
    expect(posted.json.statusUrl).toMatch(new RegExp(`/api/links/${instanceId}$`));

    const midway = await until(async () => {
      const s = (await bed.api('GET', `/api/links/${instanceId}`)).json;
      return s?.current === 'create-link' ? s : undefined;
    }, 'the status to show create-link as the current step');
    expect(midway.runtimeStatus).toBe('Running');
    expect(midway.phase).toBe('running');
    expect((midway.steps as Step[]).map((s) => s.id)).toEqual(planIds);
    const at = planIds.indexOf('create-link');
    expect((midway.steps as Step[]).map((s) => s.state)).toEqual([
      ...planIds.slice(0, at).map(() => 'done'),
      'current',
      ...planIds.slice(at + 1).map(() => 'pending'),
    ]);
    expect(midway.progress).toBeUndefined();
    // Every step up to the link's creation runs; the orchestration then sleeps on a durable timer.
    await bed.host.idle();

    const first = await bed.api('GET', `/api/links/${instanceId}`);
    expect(first.status).toBe(200);
    expect(first.json.runtimeStatus).toBe('Running');
    expect(first.json.phase).toBe('waiting');
    expect((first.json.steps as Step[]).map((s) => s.id)).toEqual(planIds);
    const states = Object.fromEntries((first.json.steps as Step[]).map((s) => [s.id, s.state]));
    for (const id of planIds.slice(0, planIds.indexOf('create-link') + 1))
      expect(states[id], id).toBe('done');
    expect(states['wait-for-link']).toBe('current');
    expect(first.json.current).toBe('wait-for-link');
    expect(states['verify-connection']).toBe('pending');
    expect(states['first-log-backup']).toBe('pending');

    // The same link asked again (any case of the database name): 409 naming the running orchestration.
    for (const request of [demoRequest(), demoRequest({ database: 'SALESDB' })]) {
      const again = await bed.api('POST', '/api/links', request);
      expect(again.status, again.text).toBe(409);
      expect(again.json.error.code).toBe('LinkOperationInProgress');
      expect(again.json.error.target).toBe(instanceId);
      expect(again.json.error.message).toContain(instanceId);
      expect(again.json.error.message).toMatch(/Running/);
    }

    // Move the clock timer by timer until the status shows seeding under way.
    let seen: any;
    for (let i = 0; i < 10 && !seen; i++) {
      bed.host.advance(60_000);
      await bed.host.idle();
      const s = (await bed.api('GET', `/api/links/${instanceId}`)).json;
      expect(s.runtimeStatus).toBe('Running');
      if (s.progress?.replicaState === 'Seeding') seen = s;
    }
    expect(seen, 'the status showed the link seeding').toBeDefined();
    expect(seen.phase).toBe('waiting');
    expect(seen.progress.seedingProgress).toMatch(/^\d{1,3}%$/);
    expect(seen.progress.databaseMb).toBe(200);
    expect(seen.progress.transferredMb).toBeGreaterThan(0);
    expect(seen.progress.transferredMb).toBeLessThan(200);
    expect(Object.fromEntries((seen.steps as Step[]).map((s) => [s.id, s.state]))['wait-for-link']).toBe(
      'current',
    );

    // setAutoAdvance(true) alone does not wake the host's pump; idle() does (and lets time run to the end).
    bed.host.setAutoAdvance(true);
    await bed.host.idle();
    const done = await bed.finish(instanceId);
    expect(done.runtimeStatus, JSON.stringify(done, null, 2)).toBe('Completed');
    expect((done.steps as Step[]).every((s) => s.state === 'done')).toBe(true);
    expect(done.progress.replicaState).toBe('Connected');
    expect(armLink(bed, 'mi-prod', 'DAG1_SalesDb').properties.databases[0].synchronizationHealth).toBe(
      'HEALTHY',
    );
  });

  it('with "live": true after the link was created it returns no steps', async () => {
    const res = await bed.api('POST', '/api/links/plan', { request: demoRequest(), live: true });
    expect(res.status, res.text).toBe(200);
    expect(res.json.steps).toEqual([]);
    expect([...(res.json.done as string[])].sort()).toEqual([...planIds].sort());
  });

  it('re-posting the finished request runs no DDL and ends Completed again', async () => {
    // A re-post comes later: an hour passes on the shared clock (without it, the virtual clock would stand
    // still between the runs, which no real re-post does).
    bed.host.advance(3_600_000);
    await bed.host.idle();
    const journal = journalOf(bed, 'SQLBOX1');
    const from = journal.length;
    const armFrom = bed.estate.arm.journal.length;
    const posted = await bed.api('POST', '/api/links', demoRequest());
    expect(posted.status, posted.text).toBe(202);
    expect(posted.json.instanceId).toBe(instanceId);
    const status = await bed.finish(instanceId);
    expect(status.runtimeStatus, JSON.stringify(status, null, 2)).toBe('Completed');
    expect((status.steps as Step[]).every((s) => s.state === 'done')).toBe(true);
    const second = journal.slice(from);
    expect(second.length).toBeGreaterThan(0);
    expect(changesIn(second).map((e) => e.text)).toEqual([]);
    expect(armChanges(bed, armFrom)).toEqual([]);
    // Every step reports that it found what it needed and changed nothing.
    for (const report of status.output.reports as Array<{ step: string; changed: string[] }>)
      expect(report.changed, report.step).toEqual([]);
  });
});

describe('queue link-requests: tickets', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await startBed({ queues: 'azurite-memory' });
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('an invalid ticket goes to link-requests-poison at once with the reason; nothing is executed', async () => {
    const bad = [
      { ticketId: 'CHG-0001', action: 'create', request: demoRequest({ database: 'master' }) },
      { ticketId: 'CHG-0002', action: 'explode', request: demoRequest() },
      'not json at all',
    ];
    for (const message of bad) await bed.host.queues.send('link-requests', message);
    await bed.host.idle();
    const poisoned = (await bed.host.queues.receiveAll('link-requests-poison')) as any[];
    expect(poisoned).toHaveLength(3);
    const byTicket = (text: string) =>
      poisoned.map((p) => (typeof p === 'string' ? JSON.parse(p) : p)).find((p) => p.message.includes(text));
    for (const p of poisoned.map((x) => (typeof x === 'string' ? JSON.parse(x) : x))) {
      expect(p.dequeueCount, JSON.stringify(p)).toBe(1);
      expect(p.reason.code).toBe('InvalidLinkRequest');
    }
    const system = byTicket('CHG-0001');
    expect(system.reason.details.map((d: { target: string }) => d.target)).toContain('database');
    const action = byTicket('CHG-0002');
    expect(action.reason.details).toEqual([
      expect.objectContaining({ target: 'action', code: 'InvalidValue' }),
    ]);
    expect(byTicket('not json').reason.details[0].code).toBe('InvalidJson');
    expect(await bed.host.queues.peek('link-requests')).toEqual([]);
    // Nothing reached SQL Server or ARM, no orchestration started.
    expect(journalOf(bed, 'SQLBOX1')).toEqual([]);
    expect(bed.estate.arm.journal).toEqual([]);
    expect(bed.host.stats.episodes).toBe(0);
    expect(bed.host.stats.activityRuns).toBe(0);
  });

  it('a valid ticket starts the same orchestration; the ticket id is in its log lines', async () => {
    const request = demoRequest();
    bed.host.setAutoAdvance(false); // hold the run at its first durable timer
    await bed.host.queues.send('link-requests', { ticketId: 'CHG-4242', action: 'create', request });
    await bed.host.idle();
    const started = bed.logs.find((l) =>
      /\[ticket CHG-4242\] createLink started: link-mi-prod-[0-9a-f]{12}/.test(l),
    );
    expect(started, bed.logs.join('\n')).toBeDefined();
    const id = /(link-mi-prod-[0-9a-f]{12})/.exec(started!)![1]!;
    const running = (await bed.api('GET', `/api/links/${id}`)).json;
    expect(running.runtimeStatus).toBe('Running');
    expect(running.ticketId).toBe('CHG-4242');

    // The orchestration is the one POST /api/links uses for this link: posting now is a 409 naming it.
    const posted = await bed.api('POST', '/api/links', request);
    expect(posted.status, posted.text).toBe(409);
    expect(posted.json.error.target).toBe(id);
    // A second ticket for the same link starts nothing and is not poisoned.
    await bed.host.queues.send('link-requests', { ticketId: 'CHG-4243', action: 'create', request });
    await bed.host.idle();
    expect(
      bed.logs.some((l) =>
        l.includes(`[ticket CHG-4243] createLink already Running: ${id}; nothing started`),
      ),
    ).toBe(true);
    expect(await bed.host.queues.peek('link-requests-poison')).toEqual([]);
    expect(await bed.host.queues.peek('link-requests')).toEqual([]);

    bed.host.setAutoAdvance(true);
    await bed.host.idle();
    const status = await bed.finish(id);
    expect(status.runtimeStatus, JSON.stringify(status, null, 2)).toBe('Completed');
    expect(status.ticketId).toBe('CHG-4242');
    // the second ticket joined the running operation: its id is in the status
    expect(status.tickets).toEqual(['CHG-4243']);
    expect(status.output.health.healthy).toBe(true);
    const orchestrationLines = bed.logs.filter((l) => l.includes(`[createLink ${id}]`));
    expect(orchestrationLines.length).toBeGreaterThan(5);
    for (const line of orchestrationLines) expect(line).toContain('[ticket CHG-4242]');
    expect(bed.logs.some((l) => l.includes('CHG-4243') && l.includes(`[createLink ${id}]`))).toBe(false);
  });
});
