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
