import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import {
  CERTIFICATE_ACTIONS,
  DEFAULT_CERTIFICATE_LIFETIME_DAYS,
  parseCertificateRequest,
  serverInstanceId,
  type CertificateAction,
  type CertificateRequest,
} from '../link/certificates.js';
import { InvalidRequestError } from '../link/errors.js';
import { operationNamed } from '../runbook/operations.js';
import { checkEnvelope, internalError, invalidRequestResponse, readJsonObject } from './http.js';
import { liveFlag, planAnswer } from './plan.js';
import { operationInput, startAnswer, startUnder, type StartOutcome } from './start.js';

/**
 * A SQL Server's certificates over HTTP: `POST /api/certificates/rotate` (rotateCertificate) and
 * `POST /api/certificates/refresh` (refreshInstanceCertificates) with `{ "request": {…a link request of that SQL
 * Server…}, "options": {…} }` start the operation under the SQL Server's id (`cert-…`: one at a time per server; 409
 * while one runs), and `…/plan` with the same body (and `"live": true`) returns its plan and reviewable script.
 */

/** Starts a certificate operation under its SQL Server's id; a running one is reported, not started again. */
export function startCertificateOperation(
  client: df.DurableClient,
  parsed: CertificateRequest,
  ticketId?: string,
): Promise<StartOutcome> {
  const input = operationInput(parsed.operation, parsed.request, ticketId, parsed.parameters);
  return startUnder(client, serverInstanceId(parsed.request), parsed.operation, input);
}

export function parseCertificateBody(action: CertificateAction, request: unknown, options: unknown) {
  return parseCertificateRequest(action, request, options, new Date(), DEFAULT_CERTIFICATE_LIFETIME_DAYS);
}

function certificateStart(action: CertificateAction) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    try {
      const body = await readJsonObject(request);
      checkEnvelope(body, ['request', 'options'], ['request']);
      const parsed = parseCertificateBody(action, body.request, body.options);
      const outcome = await startCertificateOperation(df.getClient(context), parsed);
      const about = `for SQL Server ${parsed.request.sqlServer.host}`;
      return startAnswer(request, context, parsed.operation, outcome, 'ServerOperationInProgress', about);
    } catch (e) {
      if (e instanceof InvalidRequestError) return invalidRequestResponse(e);
      context.error(`POST /api/certificates/${action} failed: ${(e as Error).name}: ${(e as Error).message}`);
      return internalError();
    }
  };
}

function certificatePlan(action: CertificateAction) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    try {
      const body = await readJsonObject(request);
      checkEnvelope(body, ['request', 'options', 'live'], ['request']);
      const live = liveFlag(body);
      const parsed = parseCertificateBody(action, body.request, body.options);
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

const ROUTES: Record<CertificateAction, { route: string; name: string }> = {
  'rotate-certificate': { route: 'certificates/rotate', name: 'certificatesRotate' },
  'refresh-instance-certificates': { route: 'certificates/refresh', name: 'certificatesRefresh' },
};

for (const action of Object.keys(CERTIFICATE_ACTIONS) as CertificateAction[]) {
  if (!operationNamed(CERTIFICATE_ACTIONS[action].operation)) continue;
  const { route, name } = ROUTES[action];
  app.http(name, {
    route,
    methods: ['POST'],
    authLevel: 'function',
    extraInputs: [df.input.durableClient()],
    handler: certificateStart(action),
  });
  app.http(`${name}Plan`, {
    route: `${route}/plan`,
    methods: ['POST'],
    authLevel: 'function',
    extraInputs: [df.input.durableClient()],
    handler: certificatePlan(action),
  });
}
