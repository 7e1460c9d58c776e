import { app, output, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { InvalidRequestError, jsonObject } from '../link/errors.js';
import { isLifecycleAction, LIFECYCLE_ACTIONS, parseLifecycleRequest } from '../link/lifecycle.js';
import { CERTIFICATE_ACTIONS, isCertificateAction } from '../link/certificates.js';
import { parseCertificateBody, startCertificateOperation } from './certificates.js';
import { parseLinkRequest } from '../link/request.js';
import { parseFleetRequest } from '../link/fleet.js';
import { startFleet } from './fleets.js';
import { TICKET_EVENT } from '../orchestrators/runner.js';
import { startOperation } from './start.js';

/**
 * Queue `link-requests`: tickets `{ "ticketId", "action": "create", "request": {…} }` start the same
 * orchestration as POST /api/links, the ticket id in every log line. An invalid message goes to
 * `link-requests-poison` at once with the reason attached (no retries); nothing is executed.
 */
export const poisonQueue = output.storageQueue({
  queueName: 'link-requests-poison',
  connection: 'AzureWebJobsStorage',
});

const TICKET_FIELDS = ['ticketId', 'action', 'request', 'options'];
const ACTIONS = ['create', ...Object.keys(LIFECYCLE_ACTIONS), ...Object.keys(CERTIFICATE_ACTIONS)];

function parseTicket(message: unknown): {
  ticketId: string;
  action: string;
  request: unknown;
  options: unknown;
} {
  const ticket = jsonObject(message, 'the message');
  const details = [
    ...Object.keys(ticket)
      .filter((k) => !TICKET_FIELDS.includes(k))
      .map((k) => ({
        code: 'UnknownField',
        target: k,
        message: `unknown field ${k}: a ticket has ticketId, action, request and options`,
      })),
  ];
  if (typeof ticket.ticketId !== 'string' || !/^[A-Za-z0-9._:-]{1,64}$/.test(ticket.ticketId))
    details.push({
      code: 'InvalidValue',
      target: 'ticketId',
      message: 'ticketId must be 1-64 letters, digits and . _ : -',
    });
  if (typeof ticket.action !== 'string' || !ACTIONS.includes(ticket.action))
    details.push({
      code: 'InvalidValue',
      target: 'action',
      message: `action must be one of ${ACTIONS.map((a) => `"${a}"`).join(', ')}`,
    });
  if (ticket.action === 'create' && ticket.options !== undefined)
    details.push({ code: 'UnknownField', target: 'options', message: 'a create ticket takes no options' });
  if (ticket.request === undefined)
    details.push({ code: 'MissingField', target: 'request', message: 'request is required' });
  if (details.length > 0) throw new InvalidRequestError(details);
  return {
    ticketId: ticket.ticketId as string,
    action: ticket.action as string,
    request: ticket.request,
    options: ticket.options,
  };
}

export async function linkRequestsHandler(message: unknown, context: InvocationContext): Promise<void> {
  let ticketId = '?';
  try {
    const ticket = parseTicket(message);
    ticketId = ticket.ticketId;
    if (isCertificateAction(ticket.action)) {
      // a SQL Server's certificates: one operation at a time per server, under its own id
      const parsed = parseCertificateBody(ticket.action, ticket.request, ticket.options);
      const outcome = await startCertificateOperation(df.getClient(context), parsed, ticketId);
      context.log(
        outcome.started
          ? `[ticket ${ticketId}] ${parsed.operation} started: ${outcome.instanceId}`
          : `[ticket ${ticketId}] ${outcome.operation} already ${outcome.runtimeStatus}: ${outcome.instanceId}; nothing started`,
      );
      return;
    }
    // a create ticket whose request names databases (or a batch of pairs) is a fleet
    const body = ticket.request as Record<string, unknown> | null;
    if (
      ticket.action === 'create' &&
      body &&
      typeof body === 'object' &&
      ('databases' in body || 'batch' in body)
    ) {
      const fleet = await startFleet(df.getClient(context), parseFleetRequest(body, new Date()), ticketId);
      context.log(
        fleet.started
          ? `[ticket ${ticketId}] createFleet started: ${fleet.instanceId}`
          : `[ticket ${ticketId}] createFleet already running: ${fleet.instanceId}; nothing started`,
      );
      return;
    }
    const lifecycle = isLifecycleAction(ticket.action)
      ? parseLifecycleRequest(ticket.action, ticket.request, ticket.options, new Date())
      : undefined;
    const operation = lifecycle?.operation ?? 'createLink';
    const request = lifecycle?.request ?? parseLinkRequest(ticket.request, new Date());
    const outcome = await startOperation(
      df.getClient(context),
      operation,
      request,
      ticketId,
      lifecycle?.parameters,
    );
    context.log(
      outcome.started
        ? `[ticket ${ticketId}] ${operation} started: ${outcome.instanceId}`
        : `[ticket ${ticketId}] ${outcome.operation} already ${outcome.runtimeStatus}: ${outcome.instanceId}; nothing started`,
    );
    // the running operation learns of the ticket (its status lists it); a run that ends meanwhile simply does not
    if (!outcome.started)
      await df
        .getClient(context)
        .raiseEvent(outcome.instanceId, TICKET_EVENT, { ticketId })
        .catch(() => undefined);
  } catch (e) {
    if (!(e instanceof InvalidRequestError)) throw e; // transient: the host retries, then poisons
    context.warn(`[ticket ${ticketId}] invalid message moved to link-requests-poison: ${e.message}`);
    context.extraOutputs.set(poisonQueue, {
      reason: e.toBody().error,
      message: typeof message === 'string' ? message : JSON.stringify(message),
      dequeueCount: context.triggerMetadata?.dequeueCount ?? null,
      messageId: context.triggerMetadata?.id ?? null,
    });
  }
}

app.storageQueue('linkRequests', {
  queueName: 'link-requests',
  connection: 'AzureWebJobsStorage',
  extraInputs: [df.input.durableClient()],
  extraOutputs: [poisonQueue],
  handler: linkRequestsHandler,
});
