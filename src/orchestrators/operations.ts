import * as df from 'durable-functions';
import type { OrchestrationContext } from 'durable-functions';
import { decodeFailure } from '../link/status.js';
import { OPERATIONS } from '../runbook/operations.js';
import type { LivePlan } from '../activities/inspect.js';
import { operationOrchestrator } from './runner.js';

/** Every registered operation runs on the one runner, under its own name. */
for (const op of OPERATIONS) df.app.orchestration(op.name, operationOrchestrator(op));

/**
 * planOperation: a short orchestration behind the live plan. One read-only activity runs the operation's preflight
 * and every step's inspection (nothing is executed) and returns only the steps still needed.
 */
df.app.orchestration('planOperation', function* (context: OrchestrationContext) {
  const input = context.df.getInput() as { operation: string };
  try {
    return (yield context.df.callActivity('inspectOperation', { ...input, facts: {} })) as LivePlan;
  } catch (e) {
    const failure = decodeFailure((e as Error).message, 'preflight');
    context.df.setCustomStatus({ error: failure });
    throw new Error(`${failure.code}: ${failure.message} — ${failure.advice}`);
  }
});
