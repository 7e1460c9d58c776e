import { stepById } from '../runbook/operations.js';
import type { Step, StepReport } from '../runbook/step.js';
import { defineActivity, type ActivityIo } from './io.js';

/** What running a step gives the orchestrator: its report, or for a wait whether it is over and what it saw. */
export interface StepResult {
  report?: StepReport;
  /** A wait: over (the link is there) or not. */
  done: boolean;
  /** A wait's observation (progress for the status); never a secret. */
  observation?: unknown;
  /** A long-running operation the step started or still follows (its poller's state). */
  lro?: string;
}

const held = new Map<string, Promise<void>>();

/** Runs `work` when no other work of the same key runs in this process (in the order they asked). */
async function exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
  const before = held.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const chained = before.then(() => mine);
  held.set(key, chained);
  await before;
  try {
    return await work();
  } finally {
    release();
    if (held.get(key) === chained) held.delete(key);
  }
}

/**
 * The objects a step of this scope changes are shared by every link of one SQL Server (master key, endpoint
 * certificate, endpoint) or of one SQL Server and instance (the certificates they trade): links created at once
 * look and act on them one after the other, so the second finds what the first made instead of making it again,
 * and no step changes an object of the pair (a remedy re-importing the instance certificate) while another reads it.
 */
function sharedKey(io: ActivityIo, scope: Step['scope']): string | undefined {
  const server = `${io.request.sqlServer.host.toLowerCase()}:${io.request.sqlServer.port}`;
  if (scope === 'sqlserver') return server;
  const mi = io.request.managedInstance;
  if (scope === 'pair') return `${server}|${mi.subscriptionId}/${mi.resourceGroup}/${mi.name}`.toLowerCase();
  return undefined;
}

/** runStep: any runbook step by id — inspect, act only if needed, report. */
export async function runStep(io: ActivityIo): Promise<StepResult> {
  const step = stepById(io.step);
  if (!step) throw new Error(`no runbook step ${io.step}`);
  const key = step.act && !step.wait ? sharedKey(io, step.scope) : undefined;
  return key ? exclusive(key, () => inspectAndAct(io, step)) : inspectAndAct(io, step);
}

async function inspectAndAct(io: ActivityIo, step: Step): Promise<StepResult> {
  const observation = await step.inspect(io);
  const needed = step.needed(observation);
  if (step.wait) {
    const lro = (observation as { operationState?: string }).operationState;
    return { done: !needed, observation, ...(lro ? { lro } : {}) };
  }
  if (!needed || !step.act)
    return { done: true, report: { step: step.id, found: step.found(observation), changed: [] } };
  const report = (await step.act(io, observation)) as StepReport & { operation?: string };
  const { operation, ...rest } = report;
  if (rest.changed.length > 0) io.log(rest.changed.join('; '));
  return { done: true, report: rest, ...(operation ? { lro: operation } : {}) };
}

defineActivity('runStep', runStep);
