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
