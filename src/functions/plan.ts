import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { errorBody, InvalidRequestError } from '../link/errors.js';
import { createLink } from '../runbook/operations/create-link.js';
import { buildPlan, planToJson, renderScript } from '../runbook/plan.js';
import { parseLinkRequest, type LinkRequest } from '../link/request.js';
import type { Operation } from '../runbook/operation.js';
import {
  acceptedResponse,
  checkEnvelope,
  errorResponse,
  internalError,
  invalidRequestResponse,
  jsonResponse,
  readJsonObject,
} from './http.js';

/** `live` in a plan envelope: true or false, or a 400 naming it. */
export function liveFlag(body: Record<string, unknown>): boolean {
  if (body.live !== undefined && typeof body.live !== 'boolean')
    throw new InvalidRequestError([
      { code: 'InvalidType', target: 'live', message: 'live must be true or false' },
    ]);
  return body.live === true;
}

/**
 * The answer to a plan request for any operation: the plan (JSON steps, notes and the reviewable script), or with
 * `live` a short orchestration that runs the operation's preflight and every step's inspection (nothing executed)
 * and keeps only the steps still needed; still inspecting after a minute: 202 with milink's own status URL.
 */
export async function planAnswer(
  request: HttpRequest,
  context: InvocationContext,
  op: Operation,
  linkRequest: LinkRequest,
  parameters: Record<string, unknown> | undefined,
  live: boolean,
): Promise<HttpResponseInit> {
  if (!live) {
    const plan = buildPlan(op, linkRequest, {}, parameters);
    return jsonResponse(200, {
      ...(op.name !== createLink.name ? { operation: op.name, notes: plan.notes } : {}),
      ...planToJson(plan),
      script: renderScript(plan),
    });
  }
  const client = df.getClient(context);
  const instanceId = await client.startNew('planOperation', {
    input: { operation: op.name, request: linkRequest, ...(parameters ? { parameters } : {}) },
  });
  const answer = await client.waitForCompletionOrCreateCheckStatusResponse(request, instanceId, {
    timeoutInMilliseconds: 60_000,
    retryIntervalInMilliseconds: 250,
  });
  // still inspecting after a minute: milink's own status URL (never the extension's, which carry its key)
  if (answer.status !== 200) return acceptedResponse(request, instanceId, { operation: 'planOperation' });
  const status = await client.getStatus(instanceId);
  if (String(status.runtimeStatus) !== 'Completed')
    return errorResponse(
      502,
      errorBody('LivePlanFailed', String(status.output ?? 'the live plan failed'), undefined, instanceId),
    );
  return jsonResponse(200, {
    live: true,
    ...(op.name !== createLink.name ? { operation: op.name } : {}),
    instanceId,
    ...(status.output as object),
  });
}

/**
 * POST /api/links/plan `{ "request": {…}, "live"?: true }`: the plan for a link request, as JSON steps and as
 * the reviewable script; with `live`, only the steps the estate still needs.
 */
export async function planHandler(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  try {
    const body = await readJsonObject(request);
    checkEnvelope(body, ['request', 'live'], ['request']);
    const live = liveFlag(body);
    return await planAnswer(
      request,
      context,
      createLink,
      parseLinkRequest(body.request, new Date()),
      undefined,
      live,
    );
  } catch (e) {
    if (e instanceof InvalidRequestError) return invalidRequestResponse(e);
    context.error(`plan failed: ${(e as Error).name}`);
    return internalError();
  }
}

app.http('linkPlan', {
  route: 'links/plan',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: planHandler,
});
