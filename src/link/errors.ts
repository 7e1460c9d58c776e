/**
 * Errors in the shape Azure users know from ARM:
 * `{ "error": { "code", "message", "details": [ { "code", "target", "message" } ] } }`.
 */
export interface ErrorDetail {
  code: string;
  target: string;
  message: string;
}

export interface ErrorBody {
  error: { code: string; message: string; target?: string; details?: ErrorDetail[] };
}

export function errorBody(
  code: string,
  message: string,
  details?: ErrorDetail[],
  target?: string,
): ErrorBody {
  const error: ErrorBody['error'] = { code, message };
  if (target !== undefined) error.target = target;
  if (details && details.length > 0) error.details = details;
  return { error };
}

/**
 * A JSON object from text (or an already parsed value): text that is not JSON, or JSON that is not an
 * object, is an InvalidRequestError naming the rule. `what` names the thing in the message.
 */
export function jsonObject(input: unknown, what: string): Record<string, unknown> {
  let value = input;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw new InvalidRequestError([{ code: 'InvalidJson', target: '', message: `${what} must be JSON` }]);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new InvalidRequestError([
      { code: 'InvalidType', target: '', message: `${what} must be a JSON object` },
    ]);
  return value as Record<string, unknown>;
}

/** A request that breaks a rule: answered 400 over HTTP, sent to the poison queue from the queue. */
export class InvalidRequestError extends Error {
  constructor(readonly details: ErrorDetail[]) {
    super(
      `The link request is invalid: ${details.map((d) => `${d.target || '(request)'}: ${d.message}`).join('; ')}`,
    );
    this.name = 'InvalidRequestError';
  }
  toBody(): ErrorBody {
    return errorBody('InvalidLinkRequest', this.message, this.details);
  }
}
