/**
 * POST /api/links/adopt with a link request (the same schema as POST /api/links): records a link created by hand or
 * by another tool in the inventory, once it is seen on both sides (the link over ARM, its distributed availability
 * group on SQL Server). The check runs as a short orchestration (adoptLink); the answer waits for it.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { randomUUID } from 'node:crypto';
import { errorBody, InvalidRequestError } from '../link/errors.js';
import { parseLinkRequest } from '../link/request.js';
import { decodeFailure } from '../link/status.js';
import {
  errorResponse,
  internalError,
  invalidRequestResponse,
  jsonResponse,
  readJsonObject,
} from './http.js';

const WAIT_MS = 60_000;

/** Adoption problems the caller can fix, answered 404/409; anything else is a 502 naming the service. */
const NOT_FOUND = new Set(['LinkNotFoundOnInstance', 'DagNotFoundOnSqlServer']);

export async function postAdopt(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const body = await readJsonObject(request);
    const linkRequest = parseLinkRequest(body, new Date());
    const client = df.getClient(context);
    const instanceId = `adopt-${randomUUID()}`;
    await client.startNew('adoptLink', { instanceId, input: { operation: 'adopt', request: linkRequest } });
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const status = await client.getStatus(instanceId).catch(() => undefined);
      const state = String(status?.runtimeStatus ?? '');
      if (state === 'Completed') return jsonResponse(200, status!.output);
      if (state === 'Failed' || state === 'Terminated') {
        const failure = decodeFailure(String(status?.output ?? ''), 'adopt');
        const code = NOT_FOUND.has(failure.code) ? 404 : failure.code === 'LinkDatabaseMismatch' ? 409 : 502;
        return errorResponse(
          code,
          errorBody(failure.code, failure.message, [
            { code: failure.code, target: failure.target, message: failure.advice },
          ]),
        );
      }
      if (Date.now() > deadline)
        return jsonResponse(202, { instanceId, message: 'the adoption is still being checked' });
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (e) {
    if (e instanceof InvalidRequestError) return invalidRequestResponse(e);
    context.error(`POST /api/links/adopt failed: ${(e as Error).name}: ${(e as Error).message}`);
    return internalError();
  }
}

app.http('linksAdopt', {
  route: 'links/adopt',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: postAdopt,
});
