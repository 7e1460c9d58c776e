/**
 * The local host runs sample orchestrations with durable-functions' own replay engine and must produce the
 * histories and action sequences of the durable-functions repository's own tests
 * (test/testobjects/testhistories.ts and test/integration/orchestrator-spec.ts in Azure/azure-functions-durable-js).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLocalHost, type LocalHost, type ReplayTrace } from '../../local/host/host.js';
import { VirtualClock } from '../../local/sim/clock.js';
import { controls } from './apps/samples.js';
import { briefs, tasks } from './helpers.js';

const entry = resolve(import.meta.dirname, 'apps', 'samples.ts');
let host: LocalHost;
let stateDir: string;
const clock = new VirtualClock('2026-11-22T08:00:00Z');
const traces: ReplayTrace[] = [];
const advances: Date[] = [];
const tracesOf = (id: string): ReplayTrace[] => traces.filter((t) => t.instanceId === id);

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'milink-host-'));
  host = await startLocalHost({
    entry,
    stateDir,
    clock,
    queues: false,
    log: () => {},
    trace: (t) => traces.push(structuredClone(t)),
    onClockAdvance: (now) => advances.push(now),
  });
});

afterAll(async () => {
  await host?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

beforeEach(() => {
  controls.helloFailures.clear();
  host.setAutoAdvance(true);
});

async function run(name: string, input?: unknown, instanceId?: string) {
  const id = await host.client.startNew(name, { ...(instanceId ? { instanceId } : {}), input });
  await host.client.waitForCompletion(id, { timeoutMs: 10_000 });
  const status = await host.client.getStatus(id, { showHistory: true });
  return { id, status: status!, history: status!.history! };
}

describe('activities', () => {
  it('SayHelloWithActivity: history and actions as GetSayHelloWithActivityReplayOne', async () => {
    const { id, status, history } = await run('SayHelloWithActivity', 'World');
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toBe('Hello, World!');
    expect(briefs(history)).toEqual([
      'OrchestratorStarted',
      'ExecutionStarted SayHelloWithActivity "World"',
      'TaskScheduled#0 Hello "World"',
      'OrchestratorCompleted',
      'OrchestratorStarted',
      'TaskCompleted->0 "Hello, World!"',
      'OrchestratorCompleted',
      'ExecutionCompleted Completed',
    ]);
    const t = tracesOf(id);
    expect(t.map((x) => x.isDone)).toEqual([false, true]);
    // orchestrator-spec: actions [[new CallActivityAction("Hello", name)]] (the SDK JSON-encodes string inputs)
    expect(t[0]!.actions).toEqual([{ functionName: 'Hello', actionType: 0, input: '"World"' }]);
    expect(t[1]!.output).toBe('Hello, World!');
  });

  it('a sequence of activities takes ids 0, 1, 2 in order', async () => {
    const { status, history } = await run('SayHelloSequence');
    expect(status.output).toEqual(['Hello, Tokyo!', 'Hello, Seattle!', 'Hello, London!']);
    expect(tasks(history)).toEqual([
      'ExecutionStarted SayHelloSequence',
      'TaskScheduled#0 Hello "Tokyo"',
      'TaskCompleted->0 "Hello, Tokyo!"',
      'TaskScheduled#1 Hello "Seattle"',
      'TaskCompleted->1 "Hello, Seattle!"',
      'TaskScheduled#2 Hello "London"',
      'TaskCompleted->2 "Hello, London!"',
      'ExecutionCompleted Completed',
    ]);
  });

  it('an action the local host cannot carry out fails the instance with the reason', async () => {
    const { status } = await run('UsesDurableHttp');
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain(
      'action type 8 (entities, durable HTTP) is not supported by the local host',
    );
  });

  it('an orchestrator that throws fails the instance with its message', async () => {
    const { status } = await run('Failing', 'x');
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain('the orchestrator gave up');
  });
});

describe('retries', () => {
  it('retries a failed activity after the first interval (GetSayHelloWithActivityRetryRetryOne)', async () => {
    controls.helloFailures.set('World', 1);
    const { id, status, history } = await run('SayHelloWithActivityRetry', 'World');
    expect(status.output).toBe('Hello, World!');
    expect(briefs(history)).toEqual([
      'OrchestratorStarted',
      'ExecutionStarted SayHelloWithActivityRetry "World"',
      'TaskScheduled#0 Hello "World"',
      'OrchestratorCompleted',
      'OrchestratorStarted',
      'TaskFailed->0',
      'TimerCreated#1',
      'OrchestratorCompleted',
      'OrchestratorStarted',
      'TimerFired->1',
      'TaskScheduled#2 Hello "World"',
      'OrchestratorCompleted',
      'OrchestratorStarted',
      'TaskCompleted->2 "Hello, World!"',
      'OrchestratorCompleted',
      'ExecutionCompleted Completed',
    ]);
    const failedAt = Date.parse(history[4]!.Timestamp);
    expect(Date.parse(String(history[6]!.FireAt))).toBe(failedAt + 10_000);
    expect(history[5]!.Reason).toBe("Activity function 'Hello' failed: Result: Failure");
    // every replay returns the single CallActivityWithRetryAction("Hello", new RetryOptions(10000, 2), "World")
    for (const t of tracesOf(id)) {
      expect(t.actions).toEqual([
        {
          functionName: 'Hello',
          actionType: 1,
          input: '"World"',
          retryOptions: { firstRetryIntervalInMilliseconds: 10000, maxNumberOfAttempts: 2 },
        },
      ]);
    }
  });

  it('fails after the last attempt, after the final retry timer (GetSayHelloWithActivityRetryRetryTwo)', async () => {
    controls.helloFailures.set('World', 5);
    const callsBefore = controls.helloCalls;
    const { status, history } = await run('SayHelloWithActivityRetry', 'World');
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain("Activity function 'Hello' failed: Result: Failure");
    expect(controls.helloCalls - callsBefore).toBe(2);
    expect(tasks(history)).toEqual([
      'ExecutionStarted SayHelloWithActivityRetry "World"',
      'TaskScheduled#0 Hello "World"',
      'TaskFailed->0',
      'TimerCreated#1',
      'TimerFired->1',
      'TaskScheduled#2 Hello "World"',
      'TaskFailed->2',
      'TimerCreated#3',
      'TimerFired->3',
      'ExecutionCompleted Failed',
    ]);
  });

  it('fan-out with retries numbers the retry timer and re-attempt as GetSayHelloWithActivityRetryFanout', async () => {
    controls.helloFailures.set('Tokyo', 1);
    const { id, status, history } = await run('SayHelloWithActivityRetryFanout');
    expect(status.output).toEqual(['Hello, Tokyo!', 'Hello, Seattle!']);
    const t = tasks(history);
    expect(t.filter((b) => /Scheduled|Created/.test(b))).toEqual([
      'TaskScheduled#0 Hello "Tokyo"',
      'TaskScheduled#1 Hello "Seattle"',
      'TimerCreated#2',
      'TaskScheduled#3 Hello "Tokyo"',
    ]);
    expect(t).toContain('TaskFailed->0');
    expect(t).toContain('TaskCompleted->1 "Hello, Seattle!"');
    expect(t).toContain('TimerFired->2');
    expect(t).toContain('TaskCompleted->3 "Hello, Tokyo!"');
    const retry = (city: string) => ({
      functionName: 'Hello',
      actionType: 1,
      input: `"${city}"`,
      retryOptions: { firstRetryIntervalInMilliseconds: 100, maxNumberOfAttempts: 5 },
    });
    // replay schema V3 keeps Task.all as one compound action (V1 flattens it to the two retry actions)
    expect(tracesOf(id).at(-1)!.actions).toEqual([
      { actionType: 12, compoundActions: [retry('Tokyo'), retry('Seattle')] },
    ]);
  });
});

describe('fan-out/fan-in', () => {
  it('schedules every activity in one episode with ids in order and gathers the results', async () => {
    const { id, status, history } = await run('FanOutFanIn', 20);
    expect(status.output).toBe(20);
    const scheduled = tasks(history).filter((b) => b.startsWith('TaskScheduled'));
    expect(scheduled).toEqual(Array.from({ length: 20 }, (_, i) => `TaskScheduled#${i} Hello "City${i}"`));
    // all 20 were scheduled by the first replay, before any completion
    expect(briefs(history).indexOf('TaskScheduled#19 Hello "City19"')).toBeLessThan(
      briefs(history).findIndex((b) => b.startsWith('TaskCompleted')),
    );
    const first = tracesOf(id)[0]!;
    expect(first.actions).toHaveLength(1);
    expect(first.actions[0]!.actionType).toBe(12);
    expect(first.actions[0]!.compoundActions).toHaveLength(20);
  });
});

describe('timers', () => {
  it('a 10-minute durable timer takes no real time on the virtual clock', async () => {
    const started = Date.now();
    const before = clock.now().getTime();
    const { status, history } = await run('WaitOnTimer');
    expect(status.output).toBe('Timer fired!');
    expect(briefs(history)).toEqual([
      'OrchestratorStarted',
      'ExecutionStarted WaitOnTimer',
      'TimerCreated#0',
      'OrchestratorCompleted',
      'OrchestratorStarted',
      'TimerFired->0',
      'OrchestratorCompleted',
      'ExecutionCompleted Completed',
    ]);
    const fireAt = Date.parse(String(history[2]!.FireAt));
    expect(fireAt).toBe(Date.parse(history[0]!.Timestamp) + 10 * 60_000);
    expect(clock.now().getTime() - before).toBeGreaterThanOrEqual(10 * 60_000);
    expect(advances.at(-1)?.getTime()).toBe(fireAt);
    expect(host.now().getTime()).toBe(clock.now().getTime());
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('long timers', () => {
  it('splits a 7-day timer into a 3-day timer and the rest, with the ids the SDK expects', async () => {
    const { status, history } = await run('WaitSevenDays');
    expect(status.output).toBe('a week later');
    expect(tasks(history)).toEqual([
      'ExecutionStarted WaitSevenDays',
      'TimerCreated#0',
      'TimerFired->0',
      'TimerCreated#1',
      'TimerFired->1',
      'ExecutionCompleted Completed',
    ]);
    const start = Date.parse(history[0]!.Timestamp);
    const fireAts = history
      .filter((e) => e.EventType === 10)
      .map((e) => Date.parse(String(e.FireAt)) - start);
    expect(fireAts).toEqual([3 * 24 * 3600_000, 7 * 24 * 3600_000]);
  });
});

describe('sub-orchestrations', () => {
  it('creates the child with the given id and receives its result (GetSayHelloWithSubOrchestratorReplayOne)', async () => {
    const { id, status, history } = await run('SayHelloWithSubOrchestrator', 'World', 'parent-1');
    expect(status.output).toBe('Hello, World!');
    expect(briefs(history)).toEqual([
      'OrchestratorStarted',
      'ExecutionStarted SayHelloWithSubOrchestrator "World"',
      `SubOrchestrationInstanceCreated#0 SayHelloWithActivity ${id}:0`,
      'OrchestratorCompleted',
      'OrchestratorStarted',
      'SubOrchestrationInstanceCompleted->0 "Hello, World!"',
      'OrchestratorCompleted',
      'ExecutionCompleted Completed',
    ]);
    const child = await host.client.getStatus(`${id}:0`);
    expect(child?.runtimeStatus).toBe('Completed');
    expect(child?.input).toBe('World');
    expect(tracesOf(id)[0]!.actions).toEqual([
      {
        functionName: 'SayHelloWithActivity',
        actionType: 2,
        instanceId: `${id}:0`,
        input: 'World',
        version: undefined,
      },
    ]);
  });
});

describe('external events racing a timer', () => {
  it('the timer wins when no event comes', async () => {
    const { status, history } = await run('ApprovalWithTimeout');
    expect(status.output).toBe('timed out');
    expect(tasks(history)).toEqual([
      'ExecutionStarted ApprovalWithTimeout',
      'TimerCreated#0',
      'TimerFired->0',
      'ExecutionCompleted Completed',
    ]);
  });

  it('the event wins when raised before the deadline, over the HTTP API the DurableClient calls', async () => {
    host.setAutoAdvance(false);
    const id = await host.client.startNew('ApprovalWithTimeout', { instanceId: 'approval-1' });
    await host.idle();
    expect((await host.client.getStatus(id))?.runtimeStatus).toBe('Running');
    const res = await fetch(`${host.baseUrl}/api/instances/${id}/approve`, {
      method: 'POST',
      headers: { 'x-functions-key': host.functionKey },
    });
    expect(res.status).toBe(202);
    const status = await host.client.waitForCompletion(id, { timeoutMs: 10_000 });
    expect(status.output).toBe('approved: {"by":"http"}');
    const history = (await host.client.getStatus(id, { showHistory: true }))!.history;
    expect(tasks(history)).toEqual([
      'ExecutionStarted ApprovalWithTimeout',
      'TimerCreated#0',
      'EventRaised approval {"by":"http"}',
      'ExecutionCompleted Completed',
    ]);
    // the cancelled timer is not armed any more: letting time run does not touch the instance
    host.setAutoAdvance(true);
    await host.idle();
    expect((await host.client.getStatus(id, { showHistory: true }))!.history).toHaveLength(history!.length);
  });
});

describe('custom status', () => {
  it('publishes the custom status of each replay and keeps the last', async () => {
    const { id, status } = await run('SayHelloWithCustomStatus');
    expect(status.customStatus).toEqual({ step: 'done', greetings: 2 });
    expect(tracesOf(id).map((t) => t.customStatus)).toEqual([
      { step: 'Tokyo' },
      { step: 'Seattle' },
      { step: 'done', greetings: 2 },
    ]);
  });
});

describe('continueAsNew', () => {
  it('restarts the instance with the new input and a fresh history', async () => {
    const { id, status, history } = await run('ContinueAsNewCounter', { value: 0 });
    expect(status.output).toBe(3);
    expect(status.input).toEqual({ value: 2 });
    expect(tasks(history)).toEqual([
      'ExecutionStarted ContinueAsNewCounter {"value":2}',
      'TaskScheduled#0 Hello "round 3"',
      'TaskCompleted->0 "Hello, round 3!"',
      'ExecutionCompleted Completed',
    ]);
    const withContinue = tracesOf(id).filter((t) => t.actions.some((a) => a.actionType === 4));
    expect(withContinue.map((t) => t.actions)).toEqual([
      [
        { functionName: 'Hello', actionType: 0, input: '"round 1"' },
        { actionType: 4, input: { value: 1 } },
      ],
      [
        { functionName: 'Hello', actionType: 0, input: '"round 2"' },
        { actionType: 4, input: { value: 2 } },
      ],
    ]);
  });
});

describe('non-determinism', () => {
  it('fails an orchestrator whose replay schedules a different activity at the same id', async () => {
    controls.nondeterministicRuns = 0;
    const { status } = await run('NonDeterministic');
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toMatch(
      /Non-deterministic workflow detected in orchestration 'NonDeterministic'.*activity task named 'Hello' with sequence id 0.*activity task named 'Goodbye'/,
    );
  });
});

describe('HTTP triggers and the management API', () => {
  it('requires the function key', async () => {
    const res = await fetch(`${host.baseUrl}/api/orchestrators/SayHelloWithActivity`, { method: 'POST' });
    expect(res.status).toBe(401);
  });

  it('starts through an HTTP trigger, answers 202 with management URLs, and serves status, terminate and purge', async () => {
    host.setAutoAdvance(false);
    const key = { 'x-functions-key': host.functionKey };
    const res = await fetch(`${host.baseUrl}/api/orchestrators/ApprovalWithTimeout/http-1`, {
      method: 'POST',
      headers: key,
    });
    expect(res.status).toBe(202);
    const payload = (await res.json()) as Record<string, string>;
    expect(payload.id).toBe('http-1');
    expect(res.headers.get('location')).toBe(payload.statusQueryGetUri);
    expect(payload.statusQueryGetUri).toContain('taskHub=milink'); // hubName from the repository's host.json
    expect(
      payload.statusQueryGetUri!.startsWith(`${host.baseUrl}/runtime/webhooks/durabletask/instances/http-1?`),
    ).toBe(true);
    await host.idle();
    const running = await fetch(payload.statusQueryGetUri!);
    expect(running.status).toBe(202);
    expect(((await running.json()) as { runtimeStatus: string }).runtimeStatus).toBe('Running');
    const dup = await fetch(`${host.baseUrl}/api/orchestrators/ApprovalWithTimeout/http-1`, {
      method: 'POST',
      headers: key,
    });
    expect(dup.status).toBe(500);

    const term = await fetch(payload.terminatePostUri!.replace('{text}', 'enough'), { method: 'POST' });
    expect(term.status).toBe(202);
    const done = await fetch(payload.statusQueryGetUri!);
    expect(done.status).toBe(200);
    expect(await done.json()).toMatchObject({
      runtimeStatus: 'Terminated',
      output: 'enough',
      name: 'ApprovalWithTimeout',
    });

    const viaApp = await fetch(`${host.baseUrl}/api/instances/http-1`, { headers: key });
    expect(await viaApp.json()).toMatchObject({ runtimeStatus: 'Terminated' });
    const purged = await fetch(`${host.baseUrl}/api/instances/http-1`, { method: 'DELETE', headers: key });
    expect(await purged.json()).toEqual({ purged: 1 });
    expect(await host.client.getStatus('http-1')).toBeUndefined();
    expect((await fetch(payload.statusQueryGetUri!)).status).toBe(404);
  });
});

describe('scaled real clock', () => {
  it('runs a 10-minute durable timer 6000 times faster than the wall clock', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'milink-scaled-'));
    const scaled = await startLocalHost({
      entry,
      stateDir: dir,
      clock: { scale: 6000 },
      queues: false,
      log: () => {},
    });
    try {
      const started = Date.now();
      const id = await scaled.client.startNew('WaitOnTimer', {});
      const status = await scaled.client.waitForCompletion(id, { timeoutMs: 10_000 });
      const elapsed = Date.now() - started;
      expect(status.output).toBe('Timer fired!');
      expect(elapsed).toBeGreaterThanOrEqual(90); // 600 000 ms / 6000
      expect(elapsed).toBeLessThan(3000);
    } finally {
      await scaled.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
