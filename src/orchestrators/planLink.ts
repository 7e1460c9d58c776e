import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import type { LivePlan } from '../activities/inspect.js';
import type { LinkRequest } from '../link/request.js';
import { decodeFailure } from '../link/status.js';

/**
 * planLink: a short orchestration behind `POST /api/links/plan` with `"live": true`. One read-only activity
 * runs every step's inspection (nothing is executed) and returns only the steps still needed.
 */
export const planLinkOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const { request } = context.df.getInput() as { request: LinkRequest };
  try {
    return (yield context.df.callActivity('inspectLink', { request, facts: {} })) as LivePlan;
  } catch (e) {
    const failure = decodeFailure((e as Error).message, 'preflight');
    context.df.setCustomStatus({ error: failure });
    throw new Error(`${failure.code}: ${failure.message} — ${failure.advice}`);
  }
};

df.app.orchestration('planLink', planLinkOrchestrator);
