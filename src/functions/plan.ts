import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { errorBody, InvalidRequestError } from '../link/errors.js';
import { createLink } from '../runbook/operations/create-link.js';
import { buildPlan, planToJson, renderScript } from '../runbook/plan.js';
import { parseLinkRequest } from '../link/request.js';
import {
  acceptedResponse,
  checkEnvelope,
  errorResponse,
  internalError,
  invalidRequestResponse,
  jsonResponse,
  readJsonObject,
} from './http.js';

/**
 * POST /api/links/plan `{ "request": {…}, "live"?: true }`: the plan for a link request, as JSON steps and as
 * the reviewable script. With `live`, a short orchestration inspects the estate (nothing is executed) and
 * only the steps still needed are returned.
 */
export async function planHandler(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  try {
    const body = await readJsonObject(request);
    checkEnvelope(body, ['request', 'live'], ['request']);
    if (body.live !== undefined && typeof body.live !== 'boolean')
      throw new InvalidRequestError([
        { code: 'InvalidType', target: 'live', message: 'live must be true or false' },
      ]);
    const linkRequest = parseLinkRequest(body.request, new Date());
    if (!body.live) {
      const plan = buildPlan(createLink, linkRequest);
      return jsonResponse(200, { ...planToJson(plan), script: renderScript(plan) });
    }
    const client = df.getClient(context);
    const instanceId = await client.startNew('planOperation', {
      input: { operation: createLink.name, request: linkRequest },
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
    return jsonResponse(200, { live: true, instanceId, ...(status.output as object) });
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
