/**
 * Issue 6, "Done when": killing the host between any two steps and restarting converges to the same end
 * state, with no object created twice.
 *
 * In process: every activity handler the app registered is wrapped (test-side only) so the host can be stopped
 * at an exact point of createLink, for every activity invocation N of an uninterrupted run:
 *  - "before N": the N-th activity never acts (the crash lands after the orchestration recorded activity N-1's
 *    completion and scheduled N, before N touched anything);
 *  - "after N": the N-th activity did all its work but the host dies before its completion is recorded, so the
 *    restarted host runs it again (at-least-once, as in Azure).
 * A new host on the same state directory and the same estate then finishes the orchestration. The estate must end
 * the same as after an uninterrupted run: the same changing statements in the same order (each CREATE once), one
 * trust, one link PUT, one link, healthy.
 *
 * Out of process: the host command (`local/host/main.ts`) as a child process, SIGKILLed three times at statements
 * chosen on the estate's side, restarted each time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_RETRY_SETTINGS, milinkSettingsFor } from '../../local/host/milink-settings.js';
import { RealClock, VirtualClock } from '../../local/sim/clock.js';
import { startEstate, type EstateSpec, type RunningEstate } from '../../local/sim/estate/estate.js';
import type { JournalEntry } from '../../local/sim/sqlserver/server.js';
import { repoRoot } from '../helpers/runbook.js';
import { tokenize } from '../helpers/tsql-tokens.js';
import { activityGate, passThrough } from './activity-gate.js';
import { demoRequest, demoSpec, startHostOn, type Bed } from './harness.js';

const dirs: string[] = [];
const estates: RunningEstate[] = [];
const hosts: Bed[] = [];
const children: ChildProcess[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'milink-restart-e2e-'));
  dirs.push(d);
  return d;
};

// ---------------------------------------------------------------- the crash points

const gates = activityGate();

beforeAll(() => gates.install());

afterAll(async () => {
  gates.restore();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.allSettled(hosts.map((h) => h.close()));
  await Promise.allSettled(estates.map((e) => e.close()));
  const { closeAllSessions } = await import('../../src/activities/io.js');
  await closeAllSessions();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// ---------------------------------------------------------------- what the estate shows

/** Statements that can change SQL Server (DBCC TRACESTATUS and the CA chain validation only read). */
const CHANGE =
  /\b(CREATE|ALTER|DROP|BACKUP|RESTORE|GRANT|EXEC(UTE)?(?!\s+sp_validate_certificate_ca_chain\b)|DBCC(?!\s+TRACESTATUS\b))\b/i;

/** Token shape of a batch with the run's variable parts (the FQDN, certificate blobs, dates) made uniform. */
function shape(text: string, fqdn: string): string {
  return tokenize(text)
    .map((t) => {
      if (t.kind === 'binary') return 'binary';
      if (t.kind === 'string' || t.kind === 'identifier')
        return `${t.kind}:${t.value
          .split(fqdn)
          .join('<fqdn>')
          .replace(/\d{4}-\d{2}-\d{2}[T ][\d:.]+Z?/g, '<time>')}`;
      return `${t.kind}:${t.value}`;
    })
    .join(' ');
}

/**
 * A re-run of availability-group repeats `ALTER AVAILABILITY GROUP … GRANT CREATE ANY DATABASE` when the DAG is
 * not there yet: no catalog view shows that grant, so the step cannot read it back; granting again creates
 * nothing and changes nothing. Only such a repetition, right after the same grant, is folded.
 */
function foldRegrants(list: string[]): string[] {
  return list.filter(
    (c, i) => !(i > 0 && list[i - 1] === c && /word:GRANT word:CREATE word:ANY word:DATABASE/.test(c)),
  );
}

/** The batches that can change SQL Server and ran without error, in order, as token shapes. */
function changes(journal: JournalEntry[], fqdn: string): string[] {
  return journal
    .filter((e) => e.kind === 'batch' && !e.dropped && e.errorNumbers.length === 0)
    .filter((e) => !/^\s*set\s+ansi_nulls/i.test(e.text))
    .filter((e) => CHANGE.test(e.text.replace(/N?'(?:[^']|'')*'/g, "''")))
    .map((e) => shape(e.text, fqdn));
}

function createsIn(journal: JournalEntry[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of journal) {
    if (e.kind !== 'batch' || e.dropped || e.errorNumbers.length > 0) continue;
    for (const m of e.text.matchAll(
      /\bCREATE\s+(MASTER\s+KEY|CERTIFICATE\s+\[[^\]]+\]|ENDPOINT\s+\[[^\]]+\]|AVAILABILITY\s+GROUP\s+\[[^\]]+\])/gi,
    )) {
      const key = m[1]!.replace(/\s+/g, ' ').toUpperCase();
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

interface EndState {
  changes: string[];
  /** Repeated grants folded out of `changes` (see foldRegrants). */
  regrants: number;
  creates: Map<string, number>;
  trustPuts: number;
  linkPuts: number;
  trusts: number;
  links: string[];
  linkHealthy: boolean;
}

function endState(estate: RunningEstate): EndState {
  const mi = estate.instances.all()[0]!;
  estate.advance();
  const journal = estate.sqlServers.get('SQLBOX1')!.journal;
  const links = estate.links.list(mi) as Array<{
    name: string;
    properties: { databases: Array<{ connectedState?: string; synchronizationHealth?: string }> };
  }>;
  const puts = estate.arm.journal.filter((r) => r.method === 'PUT' && r.status < 400);
  return {
    changes: foldRegrants(changes(journal, mi.fqdn)),
    regrants: changes(journal, mi.fqdn).length - foldRegrants(changes(journal, mi.fqdn)).length,
    creates: createsIn(journal),
    trustPuts: puts.filter((r) => r.path.includes('/serverTrustCertificates/')).length,
    linkPuts: puts.filter((r) => r.path.includes('/distributedAvailabilityGroups/')).length,
    trusts: mi.serverTrustCertificates.size,
    links: links.map((l) => l.name),
    linkHealthy: links.every((l) =>
      l.properties.databases.every(
        (d) => d.connectedState === 'CONNECTED' && d.synchronizationHealth === 'HEALTHY',
      ),
    ),
  };
}

// ---------------------------------------------------------------- runs

/** The two initial-primary variants of createLink. */
interface Variant {
  name: string;
  spec(): EstateSpec;
  request(): any;
  link: string;
}

const VARIANTS: Variant[] = [
  {
    name: 'SQL Server as initial primary',
    spec: demoSpec,
    request: () => demoRequest(),
    link: 'DAG1_SalesDb',
  },
  {
    name: 'the managed instance as initial primary',
    spec: () => {
      const spec = demoSpec();
      spec.managedInstances[0]!.databases = ['InventoryDb'];
      return spec;
    },
    request: () => demoRequest({ database: 'InventoryDb', initialPrimary: 'ManagedInstance' }),
    link: 'DAG1_InventoryDb',
  },
];

async function freshEstate(variant: Variant): Promise<{ estate: RunningEstate; clock: VirtualClock }> {
  const clock = new VirtualClock('2026-11-22T08:00:00Z');
  const estate = await startEstate(variant.spec(), { clock, retryAfterSeconds: 0 });
  estates.push(estate);
  return { estate, clock };
}

async function host(estate: RunningEstate, clock: VirtualClock, dir: string): Promise<Bed> {
  const bed = await startHostOn(estate, { clock, dir });
  hosts.push(bed);
  return bed;
}

const baselines = new Map<string, { activities: string[]; state: EndState }>();

async function uninterrupted(
  variant: Variant,
): Promise<{ activities: string[]; state: EndState; output: any }> {
  const { estate, clock } = await freshEstate(variant);
  const activities: string[] = [];
  gates.current = (name, run) => {
    activities.push(name);
    return run();
  };
  try {
    const bed = await host(estate, clock, tempDir());
    const posted = await bed.api('POST', '/api/links', variant.request());
    expect(posted.status, posted.text).toBe(202);
    const status = await bed.finish(posted.json.instanceId as string);
    expect(status.runtimeStatus, JSON.stringify(status)).toBe('Completed');
    await bed.close();
    const state = endState(estate);
    await estate.close();
    return { activities, state, output: status.output };
  } finally {
    gates.current = passThrough;
  }
}

type CutMode = 'before' | 'after';

async function runWithCut(variant: Variant, at: number, mode: CutMode) {
  const { estate, clock } = await freshEstate(variant);
  const dir = tempDir();
  const first = await host(estate, clock, dir);
  let count = 0;
  let cutName = '';
  let killed!: Promise<void>;
  // the host is stopped once the POST has been answered (closing it drops open HTTP connections)
  let answered!: () => void;
  const postAnswered = new Promise<void>((r) => (answered = r));
  const stop = () => postAnswered.then(() => first.close());
  const cut = new Promise<void>((resolve) => {
    gates.current = async (name, run) => {
      count++;
      if (count === at) {
        cutName = name;
        if (mode === 'before') {
          killed = stop();
          resolve();
          await killed;
          throw new Error('the host died before this activity acted');
        }
        // the activity did its work (or failed doing it); the host dies before its completion is recorded
        const outcome = await run().then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        );
        killed = stop();
        resolve();
        await killed;
        if ('error' in outcome) throw outcome.error;
        return outcome.value;
      }
      return run();
    };
  });
  const posted = await first.api('POST', '/api/links', variant.request());
  answered();
  expect(posted.status, posted.text).toBe(202);
  const id = posted.json.instanceId as string;
  await cut;
  await killed;
  // the restarted host: every activity it runs, by the step it runs
  const rerun: string[] = [];
  gates.current = (name, run) => {
    rerun.push(name);
    return run();
  };
  const before = first.host.stats.activityRuns;
  const second = await host(estate, clock, dir);
  const status = await second.finish(id);
  await second.close();
  const state = endState(estate);
  await estate.close();
  gates.current = passThrough;
  return { status, state, cutName, reran: second.host.stats.activityRuns, rerun, before };
}

const SQL_PRIMARY = VARIANTS[0]!;

describe('createLink survives its host being stopped between any two steps', () => {
  it('an uninterrupted run with SQL Server as initial primary: the reference end state', async () => {
    const run = await uninterrupted(SQL_PRIMARY);
    baselines.set(SQL_PRIMARY.name, { activities: run.activities, state: run.state });
    expect(run.activities[0]).toBe('preflight');
    expect(run.activities).toContain('create-link');
    expect(run.activities.filter((a) => a === 'wait-for-link').length).toBeGreaterThanOrEqual(2);
    // the last step, then the operation recorded in the inventory (a warning here: this host has no storage)
    expect(run.activities.slice(-2)).toEqual(['first-log-backup', 'record']);
    expect(run.state.links).toEqual(['DAG1_SalesDb']);
    expect(run.state.linkHealthy).toBe(true);
    expect(run.state.regrants).toBe(0);
    expect(run.state.trustPuts).toBe(1);
    expect(run.state.linkPuts).toBe(1);
    expect(run.state.trusts).toBe(1);
    expect([...run.state.creates.values()].every((n) => n === 1)).toBe(true);
    const keys = [...run.state.creates.keys()];
    expect(keys.filter((k) => /^CERTIFICATE \[MI-PROD\..+\.DATABASE\.WINDOWS\.NET\]$/.test(k))).toHaveLength(
      1,
    );
    expect(keys.filter((k) => !k.startsWith('CERTIFICATE [MI-PROD.')).sort()).toEqual([
      'AVAILABILITY GROUP [AG_SALESDB]',
      'AVAILABILITY GROUP [DAG1_SALESDB]',
      'CERTIFICATE [CERT_SQLBOX1_ENDPOINT]',
      'CERTIFICATE [DIGICERTPKI]',
      'CERTIFICATE [MICROSOFTPKI]',
      'ENDPOINT [DATABASE_MIRRORING_ENDPOINT]',
      'MASTER KEY',
    ]);
    expect(run.state.changes.some((c) => c.includes('word:BACKUP word:LOG'))).toBe(true);
  });

  it('an uninterrupted run with the managed instance as initial primary: the reference end state', async () => {
    const variant = VARIANTS[1]!;
    const run = await uninterrupted(variant);
    baselines.set(variant.name, { activities: run.activities, state: run.state });
    expect(run.activities[0]).toBe('preflight');
    expect(run.activities).toContain('create-link');
    expect(run.state.links).toEqual([variant.link]);
    expect(run.state.linkHealthy).toBe(true);
    expect(run.state.regrants).toBe(0);
    expect(run.state.linkPuts).toBe(1);
    expect(run.state.creates.get('AVAILABILITY GROUP [DAG1_INVENTORYDB]')).toBe(1);
    expect([...run.state.creates.values()].every((n) => n === 1)).toBe(true);
  });

  for (const variant of VARIANTS)
    for (const mode of ['before', 'after'] as const) {
      it(`${variant.name}: stopped ${mode} each activity of createLink, a new host converges to the reference end state`, async () => {
        const baseline = baselines.get(variant.name);
        expect(baseline, 'the reference run must pass first').toBeDefined();
        // every step once (its first activity), and the last look of the wait
        const cuts = baseline!.activities
          .map((name, i) => ({ name, at: i + 1 }))
          .filter(
            ({ name, at }) =>
              baseline!.activities.indexOf(name) === at - 1 ||
              at === baseline!.activities.lastIndexOf('wait-for-link') + 1,
          )
          .map(({ at }) => at);
        for (const at of cuts) {
          const run = await runWithCut(variant, at, mode);
          const where = `${mode} activity ${at} (${run.cutName})`;
          expect(run.cutName, where).toBe(baseline!.activities[at - 1]);
          expect(run.status.runtimeStatus, `${where}: ${JSON.stringify(run.status)}`).toBe('Completed');
          expect(run.status.phase, where).toBe('succeeded');
          expect(run.status.output.health.healthy, where).toBe(true);
          // the restarted host ran the cut activity (again, for "after") and everything after it
          // every step from the cut one on, once (the wait's looks are as many as the link needs then)
          const steps = (names: string[]) => names.filter((n) => n !== 'wait-for-link');
          expect(steps(run.rerun), where).toEqual(steps(baseline!.activities.slice(at - 1)));
          expect(run.reran, where).toBe(run.rerun.length);
          expect(run.state.changes, where).toEqual(baseline!.state.changes);
          const grants = baseline!.state.changes.some((c) => /word:GRANT word:CREATE word:ANY/.test(c));
          expect(run.state.regrants, where).toBe(
            grants && mode === 'after' && run.cutName === 'availability-group' ? 1 : 0,
          );
          expect(run.state.creates, where).toEqual(baseline!.state.creates);
          expect(run.state.trustPuts, where).toBe(baseline!.state.trustPuts);
          expect(run.state.linkPuts, where).toBe(1);
          expect(run.state.trusts, where).toBe(baseline!.state.trusts);
          expect(run.state.links, where).toEqual([variant.link]);
          expect(run.state.linkHealthy, where).toBe(true);
        }
      }, 150_000);
    }
});

// ---------------------------------------------------------------- a real crash: SIGKILL of the host process

const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const SCALE = 60;

async function spawnHost(
  stateDir: string,
  env: Record<string, string>,
  functionKey: string,
): Promise<{ child: ChildProcess; baseUrl: string; exited: Promise<unknown> }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      tsx,
      join(repoRoot, 'local/host/main.ts'),
      '--state-dir',
      stateDir,
      '--port',
      '0',
      '--no-queues',
      '--quiet',
      '--time-scale',
      String(SCALE),
      '--function-key',
      functionKey,
    ],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  const exited = new Promise((r) => child.once('exit', r));
  const baseUrl = await new Promise<string>((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m?.[1]) ok(m[1]);
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code, signal) => fail(new Error(`host exited (${code ?? signal}): ${out}`)));
  });
  return { child, baseUrl, exited };
}

describe('createLink survives SIGKILL of the host process', () => {
  it('killed three times (at CREATE CERTIFICATE, at CREATE AVAILABILITY GROUP of the DAG, while waiting for the link), a fourth host finishes with every object created once', async () => {
    const baseline = baselines.get(SQL_PRIMARY.name)!;
    expect(baseline, 'the reference run must pass first').toBeDefined();
    const estate = await startEstate(demoSpec(), { clock: new RealClock(SCALE), retryAfterSeconds: 0 });
    estates.push(estate);
    const dir = tempDir();
    const env = {
      ...milinkSettingsFor(estate.connection, dir),
      ...FAST_RETRY_SETTINGS,
      MILINK_POLL_INTERVAL_SECONDS: '15',
      MILINK_LINK_DEADLINE_HOURS: '2',
    };
    const stateDir = join(dir, 'host');
    const key = 'robustness-restart-key';

    // the kill is sent from the estate's side the moment the statement reaches SQL Server: the statement runs,
    // the host never hears back
    const journal = estate.sqlServers.get('SQLBOX1')!.journal;
    const killOn: Array<{ text: RegExp; child?: ChildProcess; sent?: boolean }> = [];
    const push = journal.push.bind(journal);
    journal.push = (...entries: JournalEntry[]) => {
      const n = push(...entries);
      for (const k of killOn)
        if (k.child && !k.sent && entries.some((e) => k.text.test(e.text))) {
          k.child.kill('SIGKILL');
          k.sent = true;
        }
      return n;
    };

    const first = await spawnHost(stateDir, env, key);
    killOn.push({ text: /CREATE CERTIFICATE \[Cert_SQLBOX1_endpoint\]/, child: first.child });
    const posted = await fetch(`${first.baseUrl}/api/links`, {
      method: 'POST',
      headers: { 'x-functions-key': key, 'content-type': 'application/json' },
      body: JSON.stringify(demoRequest()),
    });
    expect(posted.status).toBe(202);
    const id = ((await posted.json()) as { instanceId: string }).instanceId;
    await first.exited;
    expect(first.child.signalCode).toBe('SIGKILL');

    const second = await spawnHost(stateDir, env, key);
    killOn.push({ text: /CREATE AVAILABILITY GROUP \[DAG1_SalesDb\]/, child: second.child });
    await second.exited;
    expect(second.child.signalCode).toBe('SIGKILL');

    // the third dies while the link is being waited for (between polls, with a durable timer pending)
    const third = await spawnHost(stateDir, env, key);
    killOn.push({ text: /dm_hadr_physical_seeding_stats/, child: third.child });
    await third.exited;
    expect(third.child.signalCode).toBe('SIGKILL');

    const fourth = await spawnHost(stateDir, env, key);
    const deadline = Date.now() + 40_000;
    let status: any;
    for (;;) {
      const r = await fetch(`${fourth.baseUrl}/api/links/${id}`, { headers: { 'x-functions-key': key } });
      status = await r.json();
      if (['Completed', 'Failed', 'Terminated'].includes(status.runtimeStatus)) break;
      if (Date.now() > deadline) throw new Error(`not finished: ${JSON.stringify(status)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    fourth.child.kill('SIGTERM');
    await fourth.exited;

    expect(status.runtimeStatus, JSON.stringify(status)).toBe('Completed');
    expect(status.output.health.healthy).toBe(true);
    const state = endState(estate);
    // both statements the kills landed on did run once, and nothing was created twice
    expect(state.creates.get('CERTIFICATE [CERT_SQLBOX1_ENDPOINT]')).toBe(1);
    expect(state.creates.get('AVAILABILITY GROUP [DAG1_SALESDB]')).toBe(1);
    expect(state.creates).toEqual(baseline.state.creates);
    expect(state.changes).toEqual(baseline.state.changes);
    expect(state.trustPuts).toBe(1);
    expect(state.linkPuts).toBe(1);
    expect(state.links).toEqual(['DAG1_SalesDb']);
    expect(state.linkHealthy).toBe(true);
  }, 60_000);
});
