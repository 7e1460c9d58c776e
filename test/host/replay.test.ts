/**
 * The host's id assignment on its own: histories shaped like the durable-functions repository's test
 * histories, with the actions its orchestrator-spec expects, must lead to exactly the next work the Durable
 * extension would schedule.
 */
import { describe, expect, it } from 'vitest';
import { event, EventType as T, type HistoryEvent } from '../../local/host/history.js';
import { NonDeterminismError, replayActions, type SdkAction } from '../../local/host/replay.js';

const opts = { maximumShortTimerMs: 6 * 24 * 3600_000, longRunningTimerIntervalMs: 3 * 24 * 3600_000 };
const t0 = Date.parse('2026-11-22T08:00:00Z');
const at = (ms: number): Date => new Date(t0 + ms);
const started = (ms: number): HistoryEvent => event(T.OrchestratorStarted, at(ms));
const completed = (ms: number): HistoryEvent => event(T.OrchestratorCompleted, at(ms));
const exec = (name: string, input?: string): HistoryEvent =>
  event(T.ExecutionStarted, at(0), { Name: name, ...(input ? { Input: input } : {}) });
const scheduled = (id: number, name: string, ms = 0): HistoryEvent =>
  event(T.TaskScheduled, at(ms), { Name: name }, id);
const failed = (id: number, ms: number): HistoryEvent =>
  event(T.TaskFailed, at(ms), {
    TaskScheduledId: id,
    Reason: "Activity function 'Hello' failed: Result: Failure",
    Details: 'Big stack trace here',
  });
const done = (id: number, result: unknown, ms: number): HistoryEvent =>
  event(T.TaskCompleted, at(ms), { TaskScheduledId: id, Result: JSON.stringify(result) });
const timerCreated = (id: number, fireMs: number, ms: number): HistoryEvent =>
  event(T.TimerCreated, at(ms), { FireAt: at(fireMs).toISOString() }, id);
const timerFired = (id: number, ms: number): HistoryEvent => event(T.TimerFired, at(ms), { TimerId: id });

const retryHello = (input: string, first: number, attempts: number): SdkAction => ({
  functionName: 'Hello',
  actionType: 1,
  input: JSON.stringify(input),
  retryOptions: { firstRetryIntervalInMilliseconds: first, maxNumberOfAttempts: attempts },
});

describe('retries', () => {
  it('after a failure, creates the retry timer with the next id at failure time + interval (RetryFailOne)', () => {
    const history = [
      started(0),
      exec('SayHelloWithActivityRetry', '"World"'),
      scheduled(0, 'Hello'),
      completed(0),
      started(1000),
      failed(0, 1000),
    ];
    const out = replayActions('SayHelloWithActivityRetry', history, [retryHello('World', 10000, 2)], opts);
    expect(out.newWork).toEqual([{ kind: 'timer', id: 1, fireAt: at(11000), canceled: false }]);
  });

  it('after the retry timer fires, schedules the next attempt with the next id (RetryRetryOne)', () => {
    const history = [
      started(0),
      exec('SayHelloWithActivityRetry', '"World"'),
      scheduled(0, 'Hello'),
      completed(0),
      started(1000),
      failed(0, 1000),
      timerCreated(1, 11000, 1000),
      completed(1000),
      started(11000),
      timerFired(1, 11000),
    ];
    const out = replayActions('SayHelloWithActivityRetry', history, [retryHello('World', 10000, 2)], opts);
    expect(out.newWork).toEqual([{ kind: 'activity', id: 2, name: 'Hello', input: 'World' }]);
  });

  it('after the last attempt fails, still creates a final retry timer (RetryRetryTwo)', () => {
    const history = [
      started(0),
      exec('SayHelloWithActivityRetry', '"World"'),
      scheduled(0, 'Hello'),
      completed(0),
      started(1000),
      failed(0, 1000),
      timerCreated(1, 11000, 1000),
      completed(1000),
      started(11000),
      timerFired(1, 11000),
      scheduled(2, 'Hello', 11000),
      completed(11000),
      started(12000),
      failed(2, 12000),
    ];
    const out = replayActions('SayHelloWithActivityRetry', history, [retryHello('World', 10000, 2)], opts);
    expect(out.newWork).toEqual([{ kind: 'timer', id: 3, fireAt: at(22000), canceled: false }]);
  });

  it('applies the backoff coefficient and the maximum interval', () => {
    const action: SdkAction = {
      ...retryHello('World', 1000, 5),
      retryOptions: {
        firstRetryIntervalInMilliseconds: 1000,
        maxNumberOfAttempts: 5,
        backoffCoefficient: 3,
        maxRetryIntervalInMilliseconds: 5000,
      },
    };
    const base = [started(0), exec('R'), scheduled(0, 'Hello'), completed(0), started(100), failed(0, 100)];
    expect(replayActions('R', base, [action], opts).newWork).toEqual([
      { kind: 'timer', id: 1, fireAt: at(1100), canceled: false },
    ]);
    const second = [
      ...base,
      timerCreated(1, 1100, 100),
      completed(100),
      started(1100),
      timerFired(1, 1100),
      scheduled(2, 'Hello', 1100),
      completed(1100),
      started(1200),
      failed(2, 1200),
    ];
    expect(replayActions('R', second, [action], opts).newWork).toEqual([
      { kind: 'timer', id: 3, fireAt: at(1200 + 3000), canceled: false },
    ]);
  });

  it('in a fan-out, the retry timer takes the id after the other branch (RetryFanout)', () => {
    const history = [
      started(0),
      exec('SayHelloWithActivityRetryFanout'),
      scheduled(0, 'Hello'),
      scheduled(1, 'Hello'),
      completed(0),
      started(110),
      failed(0, 100),
      done(1, 'Hello, Seattle!', 110),
    ];
    const actions: SdkAction[] = [
      { actionType: 12, compoundActions: [retryHello('Tokyo', 100, 5), retryHello('Seattle', 100, 5)] },
    ];
    const out = replayActions('SayHelloWithActivityRetryFanout', history, actions, opts);
    expect(out.newWork).toEqual([{ kind: 'timer', id: 2, fireAt: at(210), canceled: false }]);
  });
});

describe('non-determinism', () => {
  it('refuses an action whose id meets a scheduling event of another type', () => {
    const history = [
      started(0),
      exec('X'),
      scheduled(0, 'Hello'),
      completed(0),
      started(10),
      done(0, 'ok', 10),
    ];
    const actions: SdkAction[] = [{ actionType: 5, fireAt: at(60_000), isCanceled: false }];
    expect(() => replayActions('X', history, actions, opts)).toThrow(NonDeterminismError);
    expect(() => replayActions('X', history, actions, opts)).toThrow(
      /scheduled an activity task named 'Hello' with sequence id 0, but the current replay produced a durable timer/,
    );
  });

  it('refuses a replay that no longer schedules what the history holds', () => {
    const history = [started(0), exec('X'), scheduled(0, 'Hello'), completed(0)];
    expect(() => replayActions('X', history, [], opts)).toThrow(/hasn't \(yet\?\) scheduled this task/);
  });
});

describe('external events', () => {
  it('an event raised before the orchestrator waits for it is buffered, and the next action follows', () => {
    const history = [
      started(0),
      exec('E'),
      event(T.EventRaised, at(0), { Name: 'go', Input: '1' }),
      scheduled(0, 'Hello'),
      completed(0),
      started(10),
      done(0, 'ok', 10),
    ];
    const actions: SdkAction[] = [
      { functionName: 'Hello', actionType: 0, input: '"a"' },
      { actionType: 6, externalEventName: 'go' },
      { functionName: 'Hello', actionType: 0, input: '"b"' },
    ];
    expect(replayActions('E', history, actions, opts).newWork).toEqual([
      { kind: 'activity', id: 1, name: 'Hello', input: 'b' },
    ]);
  });
});
