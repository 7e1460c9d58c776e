import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { errorBody, InvalidRequestError } from '../link/errors.js';
import { LIFECYCLE_ACTIONS, parseLifecycleRequest, type LifecycleAction } from '../link/lifecycle.js';
import { operationNamed } from '../runbook/operations.js';
import {
  checkEnvelope,
  errorResponse,
  internalError,
  invalidRequestResponse,
  readJsonObject,
} from './http.js';
import { liveFlag, planAnswer } from './plan.js';
import { ACTIVE, startAnswer, startOperation } from './start.js';

/**
 * The operations on an existing link, over HTTP: `POST /api/links/{drop|failover|resolve-split-brain|migrate}` with
 * `{ "request": {…the link request…}, "options": {…} }` starts the operation under the link's id (202 with the
 * status URL; 409 while another operation runs on the link), and `POST /api/links/{action}/plan` with the same body
 * (and `"live": true` to inspect the estate, executing nothing) returns its plan and reviewable script.
 */

/** "Fail over link": at most 8 databases fail over per instance at a time. */
export const FAILOVERS_PER_INSTANCE = 8;
const FAILING_OVER = new Set(['failoverLink', 'migrateLink']);

/** Failovers (and migrations) running on an instance now, by their orchestration ids (one per link). */
export async function failoversRunning(
  client: Pick<df.DurableClient, 'getStatusBy'>,
  instanceName: string,
): Promise<string[]> {
  // linkInstanceId: link-<instance>-<12 hex>; an instance name may itself hold hyphens (mi-prod, mi-prod-2)
  const ours = (id: string) =>
    id.startsWith(`link-${instanceName.toLowerCase()}-`) &&
    /^[0-9a-f]{12}$/.test(id.slice(`link-${instanceName}-`.length));
  const running = await client.getStatusBy({ runtimeStatus: [...ACTIVE] as df.OrchestrationRuntimeStatus[] });
  return running.filter((s) => FAILING_OVER.has(s.name) && ours(s.instanceId)).map((s) => s.instanceId);
}

function lifecycleStart(action: LifecycleAction) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    try {
      const body = await readJsonObject(request);
      checkEnvelope(body, ['request', 'options'], ['request']);
      const parsed = parseLifecycleRequest(action, body.request, body.options, new Date());
      const client = df.getClient(context);
      if (FAILING_OVER.has(parsed.operation)) {
        const mi = parsed.request.managedInstance.name;
        const running = await failoversRunning(client, mi);
        if (running.length >= FAILOVERS_PER_INSTANCE)
          return errorResponse(
            409,
            errorBody(
              'FailoverLimit',
              `${running.length} failovers run on ${mi} now; at most ${FAILOVERS_PER_INSTANCE} databases fail over per instance at a time ("Fail over link"): retry when one has finished`,
            ),
          );
      }
      const outcome = await startOperation(
        client,
        parsed.operation,
        parsed.request,
        undefined,
        parsed.parameters,
      );
      const about = `for this link on ${parsed.request.managedInstance.name}`;
      return startAnswer(request, context, parsed.operation, outcome, 'LinkOperationInProgress', about);
    } catch (e) {
      if (e instanceof InvalidRequestError) return invalidRequestResponse(e);
      context.error(`POST /api/links/${action} failed: ${(e as Error).name}: ${(e as Error).message}`);
      return internalError();
    }
  };
}

function lifecyclePlan(action: LifecycleAction) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    try {
      const body = await readJsonObject(request);
      checkEnvelope(body, ['request', 'options', 'live'], ['request']);
      const live = liveFlag(body);
      const parsed = parseLifecycleRequest(action, body.request, body.options, new Date());
      const op = operationNamed(parsed.operation);
      if (!op) return internalError(`operation ${parsed.operation} is not registered`);
      return await planAnswer(request, context, op, parsed.request, parsed.parameters, live);
    } catch (e) {
      if (e instanceof InvalidRequestError) return invalidRequestResponse(e);
      context.error(`plan of ${action} failed: ${(e as Error).name}`);
      return internalError();
    }
  };
}

const FUNCTION_NAMES: Record<LifecycleAction, string> = {
  drop: 'linksDrop',
  failover: 'linksFailover',
  'resolve-split-brain': 'linksResolveSplitBrain',
  migrate: 'linksMigrate',
};

for (const action of Object.keys(LIFECYCLE_ACTIONS) as LifecycleAction[]) {
  // only operations this build registers get a route
  if (!operationNamed(LIFECYCLE_ACTIONS[action].operation)) continue;
  app.http(FUNCTION_NAMES[action], {
    route: `links/${action}`,
    methods: ['POST'],
    authLevel: 'function',
    extraInputs: [df.input.durableClient()],
    handler: lifecycleStart(action),
  });
  app.http(`${FUNCTION_NAMES[action]}Plan`, {
    route: `links/${action}/plan`,
    methods: ['POST'],
    authLevel: 'function',
    extraInputs: [df.input.durableClient()],
    handler: lifecyclePlan(action),
  });
}
