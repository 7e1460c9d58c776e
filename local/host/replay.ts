/**
 * The host's side of a replay: given the orchestrator's cumulative action list (replay schema V2+) and the
 * history it was run against, assign sequence ids to the actions exactly as the Durable extension does,
 * check them against the history's scheduling events (non-determinism), and work out what is newly
 * scheduled.
 *
 * Ids are handed out in the order the extension's own (C#) replay would call the Durable Task APIs: top-level
 * actions one after another, each started when the previous one finished; the children of Task.all/any
 * together; a retried call takes one id per attempt plus one per retry timer (a timer is created even after
 * the last failed attempt), in the order the history's failures and timer firings are processed.
 */
import { EventType, EventTypeName, type HistoryEvent, unwrapSdkInput } from './history.js';

export class NonDeterminismError extends Error {
  override name = 'NonDeterministicOrchestrationException';
}

/** Action types of durable-functions' ActionType enum. */
export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
} as const;

export interface SdkAction {
  actionType: number;
  functionName?: string;
  input?: unknown;
  instanceId?: string;
  fireAt?: Date;
  isCanceled?: boolean;
  externalEventName?: string;
  retryOptions?: {
    firstRetryIntervalInMilliseconds: number;
    maxNumberOfAttempts: number;
    backoffCoefficient?: number;
    maxRetryIntervalInMilliseconds?: number;
    retryTimeoutInMilliseconds?: number;
  };
  compoundActions?: SdkAction[];
}

/** A unit of work the host must carry out (it has a sequence id and a scheduling event). */
export type NewWork =
  | { kind: 'activity'; id: number; name: string; input: unknown }
  | { kind: 'timer'; id: number; fireAt: Date; canceled: boolean }
  | { kind: 'sub'; id: number; name: string; instanceId: string | undefined; input: unknown };

interface Node {
  done: boolean;
  failed: boolean;
  listeners: (() => void)[];
}

interface Leaf extends Node {
  work: NewWork;
  scheduled: boolean;
}

const MAX_DATE = 8.64e15;

function finish(node: Node, failed: boolean): void {
  if (node.done) return;
  node.done = true;
  node.failed = failed;
  for (const l of node.listeners.splice(0)) l();
}

function newNode(): Node {
  return { done: false, failed: false, listeners: [] };
}

function when(node: Node, fn: () => void): void {
  if (node.done) fn();
  else node.listeners.push(fn);
}

function describe(work: NewWork): string {
  switch (work.kind) {
    case 'activity':
      return `an activity task named '${work.name}'`;
    case 'sub':
      return `a sub-orchestration named '${work.name}'`;
    case 'timer':
      return 'a durable timer';
  }
}

const schedulingKind: Record<number, NewWork['kind']> = {
  [EventType.TaskScheduled]: 'activity',
  [EventType.TimerCreated]: 'timer',
  [EventType.SubOrchestrationInstanceCreated]: 'sub',
};

function describeEvent(e: HistoryEvent): string {
  const kind = schedulingKind[e.EventType];
  if (kind === 'activity') return `an activity task named '${e.Name}'`;
  if (kind === 'sub') return `a sub-orchestration named '${e.Name}'`;
  return 'a durable timer';
}

export interface ReplayOutcome {
  /** Work created by this replay that has no scheduling event in the history yet, in id order. */
  newWork: NewWork[];
  /** Every timer id whose action the orchestrator has cancelled. */
  canceledTimers: number[];
  /** Input of a continueAsNew action, if the orchestrator called it. */
  continueAsNew?: { input: unknown };
}

export interface ReplayOptions {
  maximumShortTimerMs: number;
  longRunningTimerIntervalMs: number;
}

export function replayActions(
  orchestrationName: string,
  history: HistoryEvent[],
  actions: SdkAction[],
  opts: ReplayOptions,
): ReplayOutcome {
  let nextId = 0;
  let currentTime = new Date(0);
  const byId = new Map<number, Leaf>();
  const leaves: Leaf[] = [];
  const waiting = new Map<string, Node[]>();
  const buffered = new Map<string, number>();
  const invoked = new Map<SdkAction, Node>();
  const timerActions = new Map<number, SdkAction>();
  let continueAsNew: { input: unknown } | undefined;
  let top = 0;
  let started = false;

  const leaf = (make: (id: number) => NewWork): Leaf => {
    const id = nextId++;
    const l: Leaf = { ...newNode(), work: make(id), scheduled: false };
    byId.set(id, l);
    leaves.push(l);
    return l;
  };

  const timerLeaf = (fireAt: Date, action?: SdkAction): Leaf => {
    const l = leaf((id) => ({ kind: 'timer', id, fireAt, canceled: false }));
    if (action) timerActions.set(l.work.id, action);
    return l;
  };

  const retried = (attempt: () => Node, action: SdkAction): Node => {
    const node = newNode();
    const ro = action.retryOptions;
    if (!ro) throw new Error(`${orchestrationName}: a retry action without retryOptions`);
    let attemptNo = 1;
    const run = (): void => {
      const a = attempt();
      when(a, () => {
        if (!a.failed) return finish(node, false);
        const coefficient = ro.backoffCoefficient ?? 1;
        let delay = ro.firstRetryIntervalInMilliseconds * Math.pow(coefficient, attemptNo - 1);
        if (ro.maxRetryIntervalInMilliseconds && ro.maxRetryIntervalInMilliseconds > 0) {
          delay = Math.min(delay, ro.maxRetryIntervalInMilliseconds);
        }
        const t = timerLeaf(new Date(currentTime.getTime() + delay));
        when(t, () => {
          attemptNo++;
          if (attemptNo > ro.maxNumberOfAttempts) finish(node, true);
          else run();
        });
      });
    };
    run();
    return node;
  };

  const longTimer = (action: SdkAction): Node => {
    const finalAt = action.fireAt ?? new Date(MAX_DATE);
    const next = (): Date =>
      finalAt.getTime() - currentTime.getTime() > opts.maximumShortTimerMs
        ? new Date(currentTime.getTime() + opts.longRunningTimerIntervalMs)
        : finalAt;
    if (finalAt.getTime() - currentTime.getTime() <= opts.maximumShortTimerMs)
      return timerLeaf(finalAt, action);
    const node = newNode();
    const step = (): void => {
      const t = timerLeaf(next(), action);
      when(t, () => {
        if (finalAt.getTime() > currentTime.getTime()) step();
        else finish(node, false);
      });
    };
    step();
    return node;
  };

  const invoke = (action: SdkAction): Node => {
    const seen = invoked.get(action);
    if (seen) return seen;
    let node: Node;
    switch (action.actionType) {
      case ActionType.CallActivity:
        node = leaf((id) => ({
          kind: 'activity',
          id,
          name: action.functionName ?? '',
          input: unwrapSdkInput(action.input),
        }));
        break;
      case ActionType.CallActivityWithRetry:
        node = retried(
          () =>
            leaf((id) => ({
              kind: 'activity',
              id,
              name: action.functionName ?? '',
              input: unwrapSdkInput(action.input),
            })),
          action,
        );
        break;
      case ActionType.CallSubOrchestrator:
        node = leaf((id) => ({
          kind: 'sub',
          id,
          name: action.functionName ?? '',
          instanceId: action.instanceId,
          input: action.input,
        }));
        break;
      case ActionType.CallSubOrchestratorWithRetry: {
        let attempt = 0;
        node = retried(
          () =>
            leaf((id) => ({
              kind: 'sub',
              id,
              name: action.functionName ?? '',
              // each attempt needs its own instance when the caller fixed one
              instanceId:
                action.instanceId && attempt++ > 0 ? `${action.instanceId}:${attempt}` : action.instanceId,
              input: action.input,
            })),
          action,
        );
        break;
      }
      case ActionType.CreateTimer:
        node = longTimer(action);
        break;
      case ActionType.WaitForExternalEvent: {
        node = newNode();
        const name = action.externalEventName ?? '';
        const n = buffered.get(name) ?? 0;
        if (n > 0) {
          buffered.set(name, n - 1);
          finish(node, false);
        } else {
          waiting.set(name, [...(waiting.get(name) ?? []), node]);
        }
        break;
      }
      case ActionType.WhenAll: {
        node = newNode();
        const children = (action.compoundActions ?? []).map(invoke);
        const check = (): void => {
          if (children.some((c) => c.done && c.failed)) finish(node, true);
          else if (children.every((c) => c.done)) finish(node, false);
        };
        if (children.length === 0) finish(node, false);
        for (const c of children) when(c, check);
        break;
      }
      case ActionType.WhenAny: {
        node = newNode();
        const children = (action.compoundActions ?? []).map(invoke);
        for (const c of children) when(c, () => finish(node, false));
        break;
      }
      case ActionType.ContinueAsNew:
        continueAsNew = { input: unwrapSdkInput(action.input) };
        node = newNode();
        finish(node, false);
        break;
      default:
        throw new Error(
          `${orchestrationName}: action type ${action.actionType} (entities, durable HTTP) is not supported by the local host`,
        );
    }
    invoked.set(action, node);
    return node;
  };

  const advanceTop = (): void => {
    while (top < actions.length) {
      const action = actions[top++];
      if (!action) break;
      const node = invoke(action);
      if (!node.done) {
        when(node, advanceTop);
        return;
      }
    }
  };

  const complete = (id: number | undefined, failed: boolean, e: HistoryEvent): void => {
    const l = id === undefined ? undefined : byId.get(id);
    if (!l) {
      throw new NonDeterminismError(
        `Non-deterministic workflow detected in orchestration '${orchestrationName}': the history holds ` +
          `${EventTypeName[e.EventType] ?? e.EventType} for sequence id ${id}, but the current replay has no ` +
          `task with that id.`,
      );
    }
    finish(l, failed);
  };

  for (const e of history) {
    switch (e.EventType) {
      case EventType.OrchestratorStarted:
        currentTime = new Date(e.Timestamp);
        break;
      case EventType.ExecutionStarted:
        if (!started) {
          started = true;
          advanceTop();
        }
        break;
      case EventType.TaskScheduled:
      case EventType.TimerCreated:
      case EventType.SubOrchestrationInstanceCreated: {
        const l = byId.get(e.EventId);
        const kind = schedulingKind[e.EventType];
        if (!l) {
          throw new NonDeterminismError(
            `Non-deterministic workflow detected in orchestration '${orchestrationName}': a previous execution ` +
              `scheduled ${describeEvent(e)} with sequence id ${e.EventId}, but the current replay execution ` +
              `hasn't (yet?) scheduled this task. Was a change made to the orchestrator code after this instance ` +
              `had already started running?`,
          );
        }
        const sameName = l.work.kind === 'timer' || ('name' in l.work && l.work.name === e.Name);
        if (l.work.kind !== kind || !sameName) {
          throw new NonDeterminismError(
            `Non-deterministic workflow detected in orchestration '${orchestrationName}': a previous execution ` +
              `scheduled ${describeEvent(e)} with sequence id ${e.EventId}, but the current replay produced ` +
              `${describe(l.work)} with that id. Was a change made to the orchestrator code after this instance ` +
              `had already started running?`,
          );
        }
        l.scheduled = true;
        break;
      }
      case EventType.TaskCompleted:
        complete(e.TaskScheduledId, false, e);
        break;
      case EventType.TaskFailed:
        complete(e.TaskScheduledId, true, e);
        break;
      case EventType.SubOrchestrationInstanceCompleted:
        complete(e.TaskScheduledId, false, e);
        break;
      case EventType.SubOrchestrationInstanceFailed:
        complete(e.TaskScheduledId, true, e);
        break;
      case EventType.TimerFired:
        complete(e.TimerId, false, e);
        break;
      case EventType.EventRaised: {
        const name = e.Name ?? '';
        const list = waiting.get(name);
        const w = list?.shift();
        if (w) finish(w, false);
        else buffered.set(name, (buffered.get(name) ?? 0) + 1);
        break;
      }
      default:
        break;
    }
  }

  const canceledTimers: number[] = [];
  for (const [id, action] of timerActions) if (action.isCanceled) canceledTimers.push(id);
  const newWork = leaves
    .filter((l) => !l.scheduled)
    .map((l) =>
      l.work.kind === 'timer' && canceledTimers.includes(l.work.id) ? { ...l.work, canceled: true } : l.work,
    );
  return { newWork, canceledTimers, ...(continueAsNew ? { continueAsNew } : {}) };
}
