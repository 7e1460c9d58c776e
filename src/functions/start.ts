import { randomUUID } from 'node:crypto';
import type * as df from 'durable-functions';
import { settings } from '../config.js';
import { resolveNames } from '../link/names.js';
import type { LinkRequest } from '../link/request.js';
import { linkInstanceId } from '../link/status.js';
import type { OperationInput } from '../orchestrators/runner.js';

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

const ACTIVE = new Set(['Running', 'Pending', 'ContinuedAsNew']);

export type StartOutcome =
  | { started: true; instanceId: string }
  | { started: false; instanceId: string; runtimeStatus: string; operation: string };

/**
 * Starts an operation under its link's id. The start itself is the test (the backend refuses a second running
 * instance of one id), so two requests at once cannot both start: the one refused is told which one runs.
 */
export async function startOperation(
  client: df.DurableClient,
  operation: string,
  request: LinkRequest,
  ticketId?: string,
  parameters?: Record<string, unknown>,
): Promise<StartOutcome> {
  const instanceId = instanceIdFor(request);
  // a refusal whose running instance ended before its status was read is tried again (a few times at most)
  for (let attempt = 1; ; attempt++) {
    try {
      await client.startNew(operation, {
        instanceId,
        input: operationInput(operation, request, ticketId, parameters),
      });
      return { started: true, instanceId };
    } catch (e) {
      const existing = await client.getStatus(instanceId).catch(() => undefined);
      if (existing && ACTIVE.has(String(existing.runtimeStatus)))
        return {
          started: false,
          instanceId,
          runtimeStatus: String(existing.runtimeStatus),
          operation: existing.name ?? operation,
        };
      if (!existing?.runtimeStatus || attempt >= 3) throw e;
    }
  }
}
