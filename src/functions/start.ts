import { randomUUID } from 'node:crypto';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type * as df from 'durable-functions';
import { settings } from '../config.js';
import { resolveNames } from '../link/names.js';
import type { LinkRequest } from '../link/request.js';
import { linkInstanceId } from '../link/status.js';
import type { OperationInput } from '../orchestrators/runner.js';
import { errorBody } from '../link/errors.js';
import { acceptedResponse, errorResponse } from './http.js';

/** The orchestration input for a validated request; settings are read here, never in the orchestrator. */
export function operationInput(
  operation: string,
  request: LinkRequest,
  ticketId?: string,
  parameters?: Record<string, unknown>,
): OperationInput {
  const s = settings();
  return {
    operation,
    run: randomUUID(),
    request,
    ...(ticketId ? { ticketId } : {}),
    ...(parameters ? { parameters } : {}),
    options: {
      deadlineHours: s.MILINK_LINK_DEADLINE_HOURS,
      pollIntervalSeconds: s.MILINK_POLL_INTERVAL_SECONDS,
      stepAttempts: s.MILINK_STEP_ATTEMPTS,
      stepRetrySeconds: s.MILINK_STEP_RETRY_SECONDS,
    },
  };
}

/** The orchestration id of the link a request is about: one operation per link at a time. */
export function instanceIdFor(request: LinkRequest): string {
  return linkInstanceId(request.managedInstance.name, resolveNames(request, {}).link);
}

/** Runtime statuses of an orchestration that still runs. */
export const ACTIVE = new Set(['Running', 'Pending', 'ContinuedAsNew']);

export type StartOutcome =
  | { started: true; instanceId: string }
  | { started: false; instanceId: string; runtimeStatus: string; operation: string };

/**
 * Starts an orchestration under an id its caller derives (a link, a SQL Server, a fleet). The start itself is the
 * test (the backend refuses a second running instance of one id), so two requests at once cannot both start: the
 * one refused is told which one runs. A refusal whose running instance ended before its status was read is tried
 * again (a few times at most).
 */
export async function startUnder(
  client: df.DurableClient,
  instanceId: string,
  name: string,
  input: unknown,
): Promise<StartOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.startNew(name, { instanceId, input });
      return { started: true, instanceId };
    } catch (e) {
      const existing = await client.getStatus(instanceId).catch(() => undefined);
      if (existing && ACTIVE.has(String(existing.runtimeStatus)))
        return {
          started: false,
          instanceId,
          runtimeStatus: String(existing.runtimeStatus),
          operation: existing.name ?? name,
        };
      if (!existing?.runtimeStatus || attempt >= 3) throw e;
    }
  }
}

/** Starts an operation under its link's id (one operation per link at a time). */
export function startOperation(
  client: df.DurableClient,
  operation: string,
  request: LinkRequest,
  ticketId?: string,
  parameters?: Record<string, unknown>,
): Promise<StartOutcome> {
  return startUnder(
    client,
    instanceIdFor(request),
    operation,
    operationInput(operation, request, ticketId, parameters),
  );
}

/**
 * The answer to a request that started (or found running) an operation: 202 with milink's own status URL, or 409
 * naming the operation that runs under the id (`code`; `about` says what the id is about, e.g. "for this link on
 * mi-prod").
 */
export function startAnswer(
  request: HttpRequest,
  context: InvocationContext,
  operation: string,
  outcome: StartOutcome,
  code: string,
  about: string,
): HttpResponseInit {
  if (!outcome.started)
    return errorResponse(
      409,
      errorBody(
        code,
        `${outcome.operation} ${about} is ${outcome.runtimeStatus}: ${outcome.instanceId}`,
        undefined,
        outcome.instanceId,
      ),
    );
  context.log(`${operation} started: ${outcome.instanceId}`);
  return acceptedResponse(request, outcome.instanceId, { operation });
}
