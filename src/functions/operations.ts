import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { errorBody, InvalidRequestError } from '../link/errors.js';
import { hasControlCharacter } from '../link/request.js';
import type { OperationStatus } from '../link/status.js';
import { cancelRequestSchema, openApiDocument } from './api-schema.js';
import {
  acceptedResponse,
  errorResponse,
  instanceIdParam,
  internalError,
  invalidRequestResponse,
  jsonResponse,
  notFoundResponse,
} from './http.js';
import { statusOf } from './links.js';

const RUNNING = new Set(['Running', 'Pending', 'ContinuedAsNew', 'Suspended']);

/** The optional body `{ "reason": "…" }`: an empty body is no reason. */
async function readReason(request: HttpRequest): Promise<string | undefined> {
  const text = (await request.text()).trim();
  if (text === '') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new InvalidRequestError([
      { code: 'InvalidJson', target: '', message: 'the request body must be JSON' },
    ]);
  }
  const parsed = cancelRequestSchema.safeParse(body);
  if (!parsed.success)
    throw new InvalidRequestError(
      parsed.error.issues.map((i) => ({
        code: i.code === 'unrecognized_keys' ? 'UnknownField' : 'InvalidValue',
        target: i.code === 'unrecognized_keys' ? i.keys.join(', ') : i.path.join('.'),
        message:
          i.code === 'unrecognized_keys'
            ? `unknown field ${i.keys.join(', ')}: only reason is accepted`
            : 'reason must be 1-500 characters',
      })),
    );
  if (parsed.data.reason !== undefined && hasControlCharacter(parsed.data.reason))
    throw new InvalidRequestError([
      { code: 'InvalidValue', target: 'reason', message: 'reason cannot hold control characters' },
    ]);
  return parsed.data.reason;
}

/**
 * POST /api/operations/{instanceId}/cancel `{ "reason"?: "…" }`: terminates a running operation with the reason. A
 * run that went on under its resolved link's id is stopped there too. 404 for an unknown id, 409 when it is not
 * running. What the run already did stays done; a later run converges from there.
 */
export async function cancelOperation(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  let instanceId = '';
  try {
    instanceId = instanceIdParam(request);
    const given = await readReason(request);
    const client = df.getClient(context);
    const status = await statusOf(client, instanceId);
    if (!status) return notFoundResponse(instanceId);
    const runtimeStatus = String(status.runtimeStatus);
    if (!RUNNING.has(runtimeStatus))
      return errorResponse(
        409,
        errorBody(
          'OperationNotRunning',
          `operation ${instanceId} is ${runtimeStatus}: only a running operation can be cancelled`,
          undefined,
          instanceId,
        ),
      );
    const reason = `cancelled by an operator${given ? `: ${given}` : ''}`;
    const terminated: string[] = [];
    const custom = (status.customStatus ?? {}) as Partial<OperationStatus>;
    // the requested run first (it waits on the other), then the run it went on as
    for (const id of [instanceId, custom.handedOverTo]) {
      if (!id) continue;
      const s = id === instanceId ? status : await statusOf(client, id);
      if (!s || !RUNNING.has(String(s.runtimeStatus))) continue;
      await client.terminate(id, reason);
      terminated.push(id);
    }
    context.log(`cancelled ${terminated.join(', ')}: ${reason}`);
    return acceptedResponse(request, instanceId, { terminated, reason });
  } catch (e) {
    if (e instanceof InvalidRequestError) return invalidRequestResponse(e);
    context.error(`POST /api/operations/${instanceId}/cancel failed: ${(e as Error).message}`);
    return internalError();
  }
}

let document: Record<string, unknown> | undefined;

/** GET /api/openapi.json: the API's OpenAPI 3.1 document, generated from the zod schemas. */
export async function getOpenApi(): Promise<HttpResponseInit> {
  document ??= openApiDocument();
  return jsonResponse(200, document);
}

app.http('operationsCancel', {
  route: 'operations/{instanceId}/cancel',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: cancelOperation,
});

app.http('openApi', {
  route: 'openapi.json',
  methods: ['GET'],
  authLevel: 'function',
  handler: getOpenApi,
});
