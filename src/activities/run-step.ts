import { stepById } from '../runbook/operations.js';
import type { StepReport } from '../runbook/step.js';
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

/** runStep: any runbook step by id — inspect, act only if needed, report. */
export async function runStep(io: ActivityIo): Promise<StepResult> {
  const step = stepById(io.step);
  if (!step) throw new Error(`no runbook step ${io.step}`);
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
