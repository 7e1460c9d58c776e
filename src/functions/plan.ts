import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { InvalidRequestError } from '../link/errors.js';
import { buildPlan, planToJson, renderScript } from '../link/plan.js';
import { parseLinkRequest } from '../link/request.js';
import {
  checkEnvelope,
  internalError,
  invalidRequestResponse,
  jsonResponse,
  readJsonObject,
} from './http.js';

/**
 * POST /api/links/plan `{ "request": {…} }`: the plan for a link request, as JSON steps and as the
 * reviewable script. Nothing is executed.
 */
export async function planHandler(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  try {
    const body = await readJsonObject(request);
    checkEnvelope(body, ['request'], ['request']);
    const linkRequest = parseLinkRequest(body.request, new Date());
    const plan = buildPlan(linkRequest);
    return jsonResponse(200, { ...planToJson(plan), script: renderScript(plan) });
  } catch (e) {
    if (e instanceof InvalidRequestError) return invalidRequestResponse(e);
    context.error(`plan failed: ${(e as Error).name}`);
    return internalError();
  }
}

app.http('linkPlan', { route: 'links/plan', methods: ['POST'], authLevel: 'function', handler: planHandler });
