/**
 * The orchestration engine: runs instances episode by episode with the app's real orchestrator handlers
 * (durable-functions' own replay engine), runs activities under a concurrency limit, fires durable timers,
 * starts sub-orchestrations, and persists every instance before acting on a step.
 */
import { randomUUID } from 'node:crypto';
import { InvocationContext, invocationContextFor } from './sdk.js';
import type { Registration } from './capture.js';
import type { HostClock } from './clock.js';
import { event, EventType, fromJson, toJson, type HistoryEvent } from './history.js';
import { NonDeterminismError, replayActions, type NewWork, type SdkAction } from './replay.js';
import { InstanceStore, type InstanceRecord, type RuntimeStatus } from './store.js';

export interface Status {
  name: string;
  instanceId: string;
  runtimeStatus: RuntimeStatus;
  input: unknown;
  output: unknown;
  customStatus: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  history?: HistoryEvent[];
}

/** What one replay of an orchestrator returned, kept for tests and benchmarks. */
export interface ReplayTrace {
  instanceId: string;
  name: string;
  historyLength: number;
  isDone: boolean;
  actions: SdkAction[];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
}

export interface EngineOptions {
  registrations: Registration[];
  store: InstanceStore;
  clock: HostClock;
  maxConcurrentActivities: number;
  log?: (line: string) => void;
  trace?: (t: ReplayTrace) => void;
  /** Called after the engine moved a virtual clock (e.g. to let a simulated estate catch up). */
  onClockAdvance?: (now: Date) => void;
  /** Writes an activity's output bindings (queues) once it returned; a failure fails the activity, as in Azure. */
  activityOutputs?: (reg: Registration, context: InvocationContext, returned: unknown) => Promise<void>;
}

interface OrchestratorState {
  isDone: boolean;
  actions: SdkAction[][];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
}

const OUT_OF_PROC_MARKER = '\n\n$OutOfProcData$:';
const SHORT_TIMER_MS = 6 * 24 * 3600_000;
const LONG_INTERVAL_MS = 3 * 24 * 3600_000;
const TERMINAL: RuntimeStatus[] = ['Completed', 'Failed', 'Terminated'];

export class DuplicateInstanceError extends Error {}

interface ActivityItem {
  instanceId: string;
  execution: number;
  id: number;
  name: string;
  input: unknown;
}

interface TimerItem {
  instanceId: string;
  execution: number;
  id: number;
  fireAt: Date;
  handle?: ReturnType<typeof setTimeout>;
}

export class Engine {
  /**
   * replays and historyEvents: the work of replaying (events replayed, summed over replays); recordedEvents: the
   * events every execution ended with, summed over executions (a continued-as-new generation's history counts).
   */
  readonly stats = { replays: 0, historyEvents: 0, activityRuns: 0, episodes: 0, recordedEvents: 0 };
  private readonly orchestrators = new Map<string, Registration>();
  private readonly activities = new Map<string, Registration>();
  private readonly instances = new Map<string, InstanceRecord>();
  private readonly runnable = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly activityQueue: ActivityItem[] = [];
  private readonly inFlight = new Set<string>();
  private readonly timers = new Map<string, TimerItem>();
  private readonly changeListeners = new Set<(rec: InstanceRecord) => void>();
  private idleWaiters: (() => void)[] = [];
  private activeActivities = 0;
  private busy = 0;
  private pumping = false;
  private wanted = false;
  private closed = false;
  private autoAdvanceOn = true;
  /** Virtual clock: move to the next durable timer when idle. Turning it back on resumes the work. */
  get autoAdvance(): boolean {
    return this.autoAdvanceOn;
  }
  set autoAdvance(on: boolean) {
    this.autoAdvanceOn = on;
    if (on) this.kick();
  }

  constructor(private readonly opts: EngineOptions) {
    for (const r of opts.registrations) {
      if (r.kind === 'orchestration') this.orchestrators.set(r.name, r);
      if (r.kind === 'activity') this.activities.set(r.name, r);
    }
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  /** Loads every instance from disk and resumes the running ones from their histories. */
  resume(): void {
    for (const rec of this.opts.store.loadAll()) this.instances.set(rec.instanceId, rec);
    for (const rec of this.instances.values()) {
      if (rec.runtimeStatus === 'Running' || rec.runtimeStatus === 'Pending') {
        if (rec.inbox.length > 0) this.runnable.add(rec.instanceId);
        this.dispatch(rec);
      }
    }
    this.kick();
  }

  // ---- client operations ----

  startNew(
    name: string,
    instanceId: string | undefined,
    input: unknown,
    parent?: InstanceRecord['parent'],
  ): string {
    if (!this.orchestrators.has(name))
      throw new Error(`no orchestrator function named '${name}' is registered`);
    const id = instanceId ?? randomUUID().replace(/-/g, '');
    const existing = this.instances.get(id);
    if (existing && !TERMINAL.includes(existing.runtimeStatus)) {
      throw new DuplicateInstanceError(
        `An Orchestration instance with the status ${existing.runtimeStatus} already exists.`,
      );
    }
    const now = this.opts.clock.now();
    const rec: InstanceRecord = {
      instanceId: id,
      name,
      ...(input !== undefined ? { input: JSON.stringify(input) } : {}),
      runtimeStatus: 'Pending',
      createdTime: now.toISOString(),
      lastUpdatedTime: now.toISOString(),
      history: [],
      inbox: [event(EventType.ExecutionStarted, now, { Name: name, Input: toJson(input) })],
      execution: (existing?.execution ?? 0) + 1,
      ...(parent ? { parent } : {}),
    };
    this.cancelTimers(id);
    this.instances.set(id, rec);
    this.opts.store.save(rec);
    this.runnable.add(id);
    this.kick();
    return id;
  }

  raiseEvent(instanceId: string, name: string, data: unknown): 'ok' | 'notFound' | 'gone' {
    const rec = this.instances.get(instanceId);
    if (!rec) return 'notFound';
    if (TERMINAL.includes(rec.runtimeStatus)) return 'gone';
    rec.inbox.push(event(EventType.EventRaised, this.opts.clock.now(), { Name: name, Input: toJson(data) }));
    this.opts.store.save(rec);
    this.runnable.add(instanceId);
    this.kick();
    return 'ok';
  }

  terminate(instanceId: string, reason: string): 'ok' | 'notFound' | 'gone' {
    const rec = this.instances.get(instanceId);
    if (!rec) return 'notFound';
    if (TERMINAL.includes(rec.runtimeStatus)) return 'gone';
    const now = this.opts.clock.now();
    rec.history.push(event(EventType.ExecutionTerminated, now, { Input: toJson(reason) }));
    rec.inbox = [];
    rec.runtimeStatus = 'Terminated';
    rec.output = toJson(reason);
    rec.lastUpdatedTime = now.toISOString();
    this.opts.store.save(rec);
    this.cancelTimers(instanceId);
    this.runnable.delete(instanceId);
    this.notifyParent(rec, `Sub orchestrator function '${rec.name}' was terminated: ${reason}`);
    this.changed(rec);
    this.kick();
    return 'ok';
  }

  purge(instanceId: string): number {
    const rec = this.instances.get(instanceId);
    if (!rec) return 0;
    this.instances.delete(instanceId);
    this.cancelTimers(instanceId);
    this.runnable.delete(instanceId);
    this.opts.store.remove(instanceId);
    return 1;
  }

  getStatus(instanceId: string, showHistory = false): Status | undefined {
    const rec = this.instances.get(instanceId);
    if (!rec) return undefined;
    return {
      name: rec.name,
      instanceId: rec.instanceId,
      runtimeStatus: rec.runtimeStatus,
      input: fromJson(rec.input) ?? null,
      output: fromJson(rec.output) ?? null,
      customStatus: fromJson(rec.customStatus) ?? null,
      createdTime: rec.createdTime,
      lastUpdatedTime: rec.lastUpdatedTime,
      ...(showHistory ? { history: structuredClone(rec.history) } : {}),
    };
  }

  listStatuses(): Status[] {
    return [...this.instances.keys()].map((id) => this.getStatus(id) as Status);
  }

  onChange(fn: (rec: InstanceRecord) => void): () => void {
    this.changeListeners.add(fn);
    return () => this.changeListeners.delete(fn);
  }

  /** Marks work done outside the engine (a trigger handler) as runnable, for `idle()`. */
  async track<T>(work: () => Promise<T>): Promise<T> {
    this.busy++;
    try {
      return await work();
    } finally {
      this.busy--;
      this.kick();
    }
  }

  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.kick();
    });
  }

  /** Moves a virtual clock forward and fires the timers that became due. */
  advance(ms: number): void {
    const v = this.opts.clock.virtual;
    if (!v) throw new Error('advance() needs a virtual clock');
    v.advance(ms);
    this.opts.onClockAdvance?.(v.now());
    this.kick();
  }

  close(): void {
    this.flush();
    this.closed = true;
    for (const t of this.timers.values()) if (t.handle) clearTimeout(t.handle);
    this.timers.clear();
  }

  // ---- the pump ----

  private kick(): void {
    if (this.closed) return;
    this.wanted = true;
    if (!this.pumping)
      void this.pump().catch((err: unknown) =>
        this.log(`engine error: ${(err as Error).stack ?? String(err)}`),
      );
  }

  private isIdle(): boolean {
    return (
      this.runnable.size === 0 &&
      this.activeActivities === 0 &&
      this.activityQueue.length === 0 &&
      this.busy === 0 &&
      !this.hasDueTimer() &&
      !(this.opts.clock.virtual && this.autoAdvance && this.timers.size > 0)
    );
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.wanted && !this.closed) {
        this.wanted = false;
        // let I/O callbacks (HTTP requests, activity completions) run between rounds
        await new Promise((r) => setImmediate(r));
        this.fireDueTimers();
        this.flush();
        while (this.runnable.size > 0 && !this.closed) {
          const id = this.runnable.values().next().value as string;
          this.runnable.delete(id);
          const rec = this.instances.get(id);
          if (rec && rec.inbox.length > 0 && !TERMINAL.includes(rec.runtimeStatus)) await this.episode(rec);
        }
        this.startActivities();
        if (
          this.opts.clock.virtual &&
          this.autoAdvance &&
          this.activeActivities === 0 &&
          this.activityQueue.length === 0 &&
          this.busy === 0 &&
          this.runnable.size === 0 &&
          this.timers.size > 0
        ) {
          const next = Math.min(...[...this.timers.values()].map((t) => t.fireAt.getTime()));
          const v = this.opts.clock.virtual;
          if (next > v.now().getTime()) {
            v.advance(next - v.now().getTime());
            this.opts.onClockAdvance?.(v.now());
          }
          this.wanted = true;
        }
      }
    } finally {
      this.pumping = false;
    }
    if (this.isIdle()) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  // ---- episodes ----

  private async episode(rec: InstanceRecord): Promise<void> {
    const reg = this.orchestrators.get(rec.name);
    const now = this.opts.clock.now();
    const previous = rec.history.length;
    // events delivered while the orchestrator runs stay in the inbox for the next episode
    const taken = rec.inbox.length;
    const added = [event(EventType.OrchestratorStarted, now), ...rec.inbox.slice(0, taken)];
    const history = [...rec.history, ...added];
    if (rec.runtimeStatus === 'Pending') rec.runtimeStatus = 'Running';
    this.stats.episodes++;

    let state: OrchestratorState | undefined;
    let failure: string | undefined;
    if (!reg) {
      failure = `The orchestrator function '${rec.name}' does not exist.`;
    } else {
      const trigger = {
        history: history.map((e, i) => ({ ...structuredClone(e), IsPlayed: i < previous })),
        input: fromJson(rec.input),
        instanceId: rec.instanceId,
        isReplaying: false,
        parentInstanceId: rec.parent?.instanceId,
        upperSchemaVersion: 1,
        upperSchemaVersionNew: 2,
        longRunningTimerIntervalDuration: '3.00:00:00',
        maximumShortTimerDuration: '6.00:00:00',
        defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
      };
      const context = new InvocationContext({
        functionName: rec.name,
        invocationId: randomUUID(),
        options: { trigger: reg.trigger as never, extraInputs: [], extraOutputs: [] },
        logHandler: (level, ...args) =>
          this.log(`[${rec.name} ${rec.instanceId}] ${level}: ${args.join(' ')}`),
      });
      this.stats.replays++;
      this.stats.historyEvents += history.length;
      try {
        state = (await reg.handler(trigger, context)) as OrchestratorState;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        const at = message.indexOf(OUT_OF_PROC_MARKER);
        if (at >= 0) {
          state = JSON.parse(message.slice(at + OUT_OF_PROC_MARKER.length)) as OrchestratorState;
          // actions came through JSON: turn timer dates back into Dates
          reviveDates(state.actions);
          failure = `Orchestrator function '${rec.name}' failed: ${state.error ?? message.slice(0, at)}`;
        } else {
          failure = `Orchestrator function '${rec.name}' failed: ${message}`;
        }
      }
    }
    const actions = state?.actions[0] ?? [];
    this.opts.trace?.({
      instanceId: rec.instanceId,
      name: rec.name,
      historyLength: history.length,
      isDone: state?.isDone ?? false,
      actions,
      ...(state && 'output' in state ? { output: state.output } : {}),
      ...(failure ? { error: failure } : {}),
      ...(state?.customStatus !== undefined ? { customStatus: state.customStatus } : {}),
    });

    let newWork: NewWork[] = [];
    let continueAsNew: { input: unknown } | undefined;
    try {
      const outcome = replayActions(rec.name, history, actions, {
        maximumShortTimerMs: SHORT_TIMER_MS,
        longRunningTimerIntervalMs: LONG_INTERVAL_MS,
      });
      newWork = outcome.newWork;
      continueAsNew = outcome.continueAsNew;
      rec.canceledTimers = outcome.canceledTimers;
    } catch (err) {
      // non-determinism, or an action the local host cannot carry out: the instance fails with the reason
      if (err instanceof NonDeterminismError || failure === undefined) failure = (err as Error).message;
    }

    rec.history = history;
    rec.inbox = rec.inbox.slice(taken);
    rec.lastUpdatedTime = now.toISOString();
    if (state?.customStatus !== undefined) rec.customStatus = toJson(state.customStatus);
    if (!failure) {
      for (const w of newWork) rec.history.push(schedulingEvent(w, now));
    }
    rec.history.push(event(EventType.OrchestratorCompleted, now));

    if (failure) {
      this.log(`[${rec.name} ${rec.instanceId}] failed: ${failure}`);
      rec.history.push(
        event(EventType.ExecutionCompleted, now, { OrchestrationStatus: 'Failed', Result: failure }),
      );
      rec.runtimeStatus = 'Failed';
      rec.output = toJson(failure);
    } else if (continueAsNew) {
      this.stats.recordedEvents += rec.history.length;
      rec.execution++;
      rec.history = [];
      rec.input = toJson(continueAsNew.input);
      // external events not yet consumed are carried over to the new execution
      rec.inbox = [
        event(EventType.ExecutionStarted, now, { Name: rec.name, Input: rec.input }),
        ...rec.inbox.filter((e) => e.EventType === EventType.EventRaised),
      ];
      rec.runtimeStatus = 'Running';
      delete rec.output;
      this.cancelTimers(rec.instanceId);
      this.runnable.add(rec.instanceId);
    } else if (state?.isDone) {
      rec.history.push(
        event(EventType.ExecutionCompleted, now, {
          OrchestrationStatus: 'Completed',
          Result: toJson(state.output),
        }),
      );
      rec.runtimeStatus = 'Completed';
      rec.output = toJson(state.output);
    }
    if (TERMINAL.includes(rec.runtimeStatus)) this.stats.recordedEvents += rec.history.length;
    // persist before acting on the step
    this.opts.store.save(rec);
    if (TERMINAL.includes(rec.runtimeStatus)) {
      this.cancelTimers(rec.instanceId);
      if (rec.runtimeStatus === 'Completed') this.notifyParent(rec);
      else this.notifyParent(rec, `Sub orchestrator function '${rec.name}' failed: ${failure ?? ''}`);
    } else {
      if (rec.inbox.length > 0) this.runnable.add(rec.instanceId);
      this.dispatch(rec);
    }
    this.changed(rec);
  }

  private changed(rec: InstanceRecord): void {
    for (const l of this.changeListeners) l(rec);
  }

  /** Starts whatever the history has scheduled and not yet seen completed (also after a restart). */
  private dispatch(rec: InstanceRecord): void {
    const done = new Set<number>();
    for (const e of [...rec.history, ...rec.inbox]) {
      if (e.EventType === EventType.TaskCompleted || e.EventType === EventType.TaskFailed)
        done.add(e.TaskScheduledId!);
      if (
        e.EventType === EventType.SubOrchestrationInstanceCompleted ||
        e.EventType === EventType.SubOrchestrationInstanceFailed
      )
        done.add(e.TaskScheduledId!);
      if (e.EventType === EventType.TimerFired) done.add(e.TimerId!);
    }
    for (const e of rec.history) {
      if (done.has(e.EventId)) continue;
      const key = `${rec.instanceId}|${rec.execution}|${e.EventId}`;
      if (e.EventType === EventType.TaskScheduled && !this.inFlight.has(key)) {
        this.inFlight.add(key);
        this.activityQueue.push({
          instanceId: rec.instanceId,
          execution: rec.execution,
          id: e.EventId,
          name: e.Name ?? '',
          input: fromJson(e.Input),
        });
      } else if (e.EventType === EventType.TimerCreated && !this.timers.has(key)) {
        if (rec.canceledTimers?.includes(e.EventId)) continue;
        this.armTimer(key, {
          instanceId: rec.instanceId,
          execution: rec.execution,
          id: e.EventId,
          fireAt: new Date(e.FireAt ?? 0),
        });
      } else if (e.EventType === EventType.SubOrchestrationInstanceCreated && !this.inFlight.has(key)) {
        this.inFlight.add(key);
        const childId = e.InstanceId ?? `${rec.instanceId}:${e.EventId}`;
        const child = this.instances.get(childId);
        const parent = { instanceId: rec.instanceId, taskId: e.EventId, execution: rec.execution };
        const ours = child?.parent?.instanceId === rec.instanceId && child.parent.execution === rec.execution;
        if (!child || (TERMINAL.includes(child.runtimeStatus) && !ours)) {
          try {
            this.startNew(e.Name ?? '', childId, fromJson(e.Input), parent);
          } catch (err) {
            this.deliver(rec.instanceId, rec.execution, {
              type: EventType.SubOrchestrationInstanceFailed,
              fields: {
                TaskScheduledId: e.EventId,
                Reason: `Sub orchestrator function '${e.Name}' could not start: ${(err as Error).message}`,
                Details: '',
              },
            });
          }
        } else if (TERMINAL.includes(child.runtimeStatus)) {
          this.notifyParent(child);
        } else if (!ours) {
          // another orchestration runs under this id: the extension refuses to create the sub-orchestration
          this.deliver(rec.instanceId, rec.execution, {
            type: EventType.SubOrchestrationInstanceFailed,
            fields: {
              TaskScheduledId: e.EventId,
              Reason: `Sub orchestrator function '${e.Name}' could not start: An Orchestration instance with the status ${child.runtimeStatus} already exists.`,
              Details: '',
            },
          });
        }
      }
    }
    this.startActivities();
  }

  private deliver(
    instanceId: string,
    execution: number,
    ev: { type: number; fields: Partial<HistoryEvent> },
  ): void {
    const rec = this.instances.get(instanceId);
    if (!rec || rec.execution !== execution || TERMINAL.includes(rec.runtimeStatus)) return;
    rec.inbox.push(event(ev.type, this.opts.clock.now(), ev.fields));
    // saved once per pump round (and always before the episode that acts on it); completions lost in a
    // crash before that only make their activity run again
    this.dirty.add(instanceId);
    this.runnable.add(instanceId);
    this.kick();
  }

  private flush(): void {
    for (const id of this.dirty) {
      const rec = this.instances.get(id);
      if (rec) this.opts.store.save(rec);
    }
    this.dirty.clear();
  }

  private notifyParent(child: InstanceRecord, failure?: string): void {
    const p = child.parent;
    if (!p) return;
    if (child.runtimeStatus === 'Completed') {
      this.deliver(p.instanceId, p.execution, {
        type: EventType.SubOrchestrationInstanceCompleted,
        fields: { TaskScheduledId: p.taskId, Result: child.output },
      });
    } else {
      this.deliver(p.instanceId, p.execution, {
        type: EventType.SubOrchestrationInstanceFailed,
        fields: {
          TaskScheduledId: p.taskId,
          Reason:
            failure ??
            `Sub orchestrator function '${child.name}' failed: ${fromJson(child.output) as string}`,
          Details: '',
        },
      });
    }
  }

  // ---- activities ----

  private startActivities(): void {
    while (this.activeActivities < this.opts.maxConcurrentActivities && this.activityQueue.length > 0) {
      const item = this.activityQueue.shift()!;
      this.activeActivities++;
      void this.runActivity(item).finally(() => {
        this.activeActivities--;
        this.inFlight.delete(`${item.instanceId}|${item.execution}|${item.id}`);
        this.startActivities();
        this.kick();
      });
    }
  }

  private async runActivity(item: ActivityItem): Promise<void> {
    const reg = this.activities.get(item.name);
    this.stats.activityRuns++;
    let ev: { type: number; fields: Partial<HistoryEvent> };
    if (!reg) {
      ev = {
        type: EventType.TaskFailed,
        fields: {
          TaskScheduledId: item.id,
          Reason: `The activity function '${item.name}' does not exist.`,
          Details: '',
        },
      };
    } else {
      const context = invocationContextFor(reg, `${item.name} ${item.instanceId}`, (line) => this.log(line), {
        instanceId: item.instanceId,
      });
      try {
        const result = await reg.handler(item.input, context);
        await this.opts.activityOutputs?.(reg, context, result);
        ev = { type: EventType.TaskCompleted, fields: { TaskScheduledId: item.id, Result: toJson(result) } };
      } catch (err) {
        ev = {
          type: EventType.TaskFailed,
          fields: { TaskScheduledId: item.id, ...failureFields(item.name, err) },
        };
      }
    }
    if (this.closed) return;
    this.deliver(item.instanceId, item.execution, ev);
  }

  // ---- timers ----

  private hasDueTimer(): boolean {
    const now = this.opts.clock.now().getTime();
    for (const t of this.timers.values()) if (t.fireAt.getTime() <= now) return true;
    return false;
  }

  private armTimer(key: string, t: TimerItem): void {
    this.timers.set(key, t);
    const delay = this.opts.clock.realDelayUntil(t.fireAt);
    if (Number.isFinite(delay)) {
      // Node timers cap at ~24.8 days; re-arm on wake if still early
      t.handle = setTimeout(() => this.kick(), Math.min(delay, 2 ** 31 - 1));
      t.handle.unref?.();
    }
  }

  private fireDueTimers(): void {
    const now = this.opts.clock.now().getTime();
    const due = [...this.timers.entries()]
      .filter(([, t]) => t.fireAt.getTime() <= now)
      .sort((a, b) => a[1].fireAt.getTime() - b[1].fireAt.getTime());
    for (const [key, t] of due) {
      this.timers.delete(key);
      if (t.handle) clearTimeout(t.handle);
      this.deliver(t.instanceId, t.execution, {
        type: EventType.TimerFired,
        fields: { TimerId: t.id, FireAt: t.fireAt.toISOString() },
      });
    }
    // re-arm real timers that woke early (scaled clocks, long delays)
    for (const [key, t] of this.timers) {
      if (t.handle && !due.some(([k]) => k === key)) {
        clearTimeout(t.handle);
        this.armTimer(key, t);
      }
    }
  }

  private cancelTimers(instanceId: string): void {
    for (const [key, t] of this.timers) {
      if (t.instanceId === instanceId) {
        if (t.handle) clearTimeout(t.handle);
        this.timers.delete(key);
      }
    }
  }
}

function schedulingEvent(w: NewWork, now: Date): HistoryEvent {
  switch (w.kind) {
    case 'activity':
      return event(EventType.TaskScheduled, now, { Name: w.name, Input: toJson(w.input) }, w.id);
    case 'timer':
      return event(EventType.TimerCreated, now, { FireAt: w.fireAt.toISOString() }, w.id);
    case 'sub':
      return event(
        EventType.SubOrchestrationInstanceCreated,
        now,
        { Name: w.name, InstanceId: w.instanceId, Input: toJson(w.input) },
        w.id,
      );
  }
}

/** How the host reports an activity's exception: FailureDetails when the SDK serialized them, else Reason/Details. */
function failureFields(name: string, err: unknown): Partial<HistoryEvent> {
  const message = err instanceof Error ? err.message : String(err);
  try {
    const parsed = JSON.parse(message) as { ErrorType?: string };
    if (parsed && typeof parsed === 'object' && typeof parsed.ErrorType === 'string') {
      return { FailureDetails: parsed };
    }
  } catch {
    // not serialized failure details
  }
  return {
    Reason: `Activity function '${name}' failed: ${message}`,
    Details: err instanceof Error && err.stack ? err.stack : message,
  };
}

function reviveDates(actions: unknown): void {
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.fireAt === 'string') o.fireAt = new Date(o.fireAt);
      Object.values(o).forEach(walk);
    }
  };
  walk(actions);
}
