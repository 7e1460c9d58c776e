import type { PreflightProblem, StepFailure } from '../link/status.js';
import { operationNamed } from '../runbook/operations.js';
import { buildPlan, planToJson, type PlanStep } from '../runbook/plan.js';
import { ActivityIo, defineActivity } from './io.js';
import { runPreflight } from './preflight.js';

/** The live plan: what the estate still needs, found by every step's inspection; nothing is executed. */
export interface LivePlan {
  steps: PlanStep[];
  done: string[];
  warnings: PreflightProblem[];
  failures: PreflightProblem[];
  /** Steps whose inspection could not run because an earlier step is still needed. */
  blocked: StepFailure[];
}

export async function inspectOperation(io: ActivityIo): Promise<LivePlan> {
  const op = operationNamed(io.input.operation);
  if (!op) throw new Error(`no operation ${io.input.operation}`);
  const pre = await runPreflight(io);
  const plan = buildPlan(op, io.request, pre.facts, io.parameters);
  const planned = new Set(plan.steps.map((s) => s.id));
  const needed = new Set<string>();
  const done: string[] = [];
  const blocked: StepFailure[] = [];
  if (pre.failures.length === 0) {
    const look = new ActivityIo({ ...io.input, facts: pre.facts }, io.invocation, io.process);
    const readers = new Set(op.steps.flatMap((s) => (s.uses ? [s.uses.id] : [])));
    let earlierNeeded = false;
    let waitNeeded = false;
    for (const step of op.steps) {
      if (!planned.has(step.id)) continue;
      if (step.preflight) {
        done.push(step.id);
        continue;
      }
      // after a wait that is not over, nothing can be known yet: every later step is still to do
      if (waitNeeded) {
        needed.add(step.id);
        continue;
      }
      look.step = step.id;
      try {
        const observation = await step.inspect(look);
        if (step.needed(observation)) needed.add(step.id);
        else if (!readers.has(step.id)) done.push(step.id);
      } catch (e) {
        // An inspection that needs an earlier step's result cannot tell yet: the step is needed.
        if (!earlierNeeded) throw e;
        blocked.push(look.failure(e));
        needed.add(step.id);
      }
      if (needed.has(step.id)) {
        earlierNeeded = true;
        if (step.wait) waitNeeded = true;
      }
    }
    // a read step is needed exactly when the step that uses its output is
    for (const step of op.steps)
      if (step.uses && planned.has(step.uses.id)) {
        if (needed.has(step.id)) needed.add(step.uses.id);
        else done.push(step.uses.id);
      }
  }
  const json = planToJson(plan);
  const order = plan.steps.map((s) => s.id);
  return {
    steps: pre.failures.length > 0 ? json.steps : json.steps.filter((s) => needed.has(s.id)),
    done: done.filter((id) => planned.has(id)).sort((a, b) => order.indexOf(a) - order.indexOf(b)),
    warnings: pre.warnings,
    failures: pre.failures,
    blocked,
  };
}

defineActivity('inspectOperation', inspectOperation);
