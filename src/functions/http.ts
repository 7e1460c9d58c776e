import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { errorBody, InvalidRequestError, jsonObject, type ErrorBody } from '../link/errors.js';

/** Helpers shared by the HTTP triggers: JSON bodies and ARM-shaped error answers. */

export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResponseInit {
  return {
    status,
    jsonBody: body,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  };
}

export function errorResponse(status: number, body: ErrorBody): HttpResponseInit {
  return jsonResponse(status, body);
}

export function invalidRequestResponse(error: InvalidRequestError): HttpResponseInit {
  return errorResponse(400, error.toBody());
}

/** Reads a JSON object body; a body that is not JSON or not an object is a 400 naming the rule. */
export async function readJsonObject(request: HttpRequest): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await request.text();
  } catch {
    throw new InvalidRequestError([
      { code: 'InvalidBody', target: '', message: 'the request body could not be read' },
    ]);
  }
  return jsonObject(text, 'the request body');
}

/** Rejects fields other than the allowed ones in an envelope object. */
export function checkEnvelope(body: Record<string, unknown>, allowed: string[], required: string[]): void {
  const details = [
    ...Object.keys(body)
      .filter((k) => !allowed.includes(k))
      .map((k) => ({
        code: 'UnknownField',
        target: k,
        message: `unknown field ${k}: only ${allowed.join(', ')} are accepted`,
      })),
    ...required
      .filter((k) => body[k] === undefined)
      .map((k) => ({ code: 'MissingField', target: k, message: `${k} is required` })),
  ];
  if (details.length > 0) throw new InvalidRequestError(details);
}

export function internalError(
  message = 'milink could not answer this request; see the logs for the details',
): HttpResponseInit {
  return errorResponse(500, errorBody('InternalError', message));
}

/** The pause (seconds) a 202 answer asks a client to leave before it asks for the status. */
export const RETRY_AFTER_SECONDS = 10;

/** milink's own status URL of an operation (never the durable extension's management URLs, which carry its key). */
export function statusUrl(request: HttpRequest, instanceId: string): string {
  return `${new URL(request.url).origin}/api/links/${encodeURIComponent(instanceId)}`;
}

/** 202 for an operation that started or was asked to stop: its status URL as `Location`, and `Retry-After`. */
export function acceptedResponse(
  request: HttpRequest,
  instanceId: string,
  body: Record<string, unknown>,
): HttpResponseInit {
  const url = statusUrl(request, instanceId);
  return jsonResponse(
    202,
    { instanceId, ...body, statusUrl: url },
    { location: url, 'retry-after': String(RETRY_AFTER_SECONDS) },
  );
}

const INSTANCE_ID = /^[A-Za-z0-9-]{1,100}$/;

/** The `{instanceId}` route parameter, or an InvalidRequestError (400) naming the rule. */
export function instanceIdParam(request: HttpRequest): string {
  const instanceId = request.params.instanceId ?? '';
  if (!INSTANCE_ID.test(instanceId))
    throw new InvalidRequestError([
      {
        code: 'InvalidValue',
        target: 'instanceId',
        message: 'instanceId must be 1-100 letters, digits and hyphens',
      },
    ]);
  return instanceId;
}

export function notFoundResponse(instanceId: string): HttpResponseInit {
  return errorResponse(404, errorBody('NotFound', `no operation ${instanceId}`, undefined, instanceId));
}
