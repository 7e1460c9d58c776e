import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { settings } from '../config.js';
import { errorBody, InvalidRequestError } from '../link/errors.js';
import { buildPlan } from '../link/plan.js';
import { parseLinkRequest, type LinkRequest } from '../link/request.js';
import { linkInstanceId, type LinkStatus } from '../link/status.js';
import type { CreateLinkInput } from '../orchestrators/createLink.js';
import {
  errorResponse,
  internalError,
  invalidRequestResponse,
  jsonResponse,
  readJsonObject,
} from './http.js';

/** The orchestration input for a validated request; settings are read here, never in the orchestrator. */
export function createLinkInput(request: LinkRequest, ticketId?: string): CreateLinkInput {
  const s = settings();
  return {
    request,
    ...(ticketId ? { ticketId } : {}),
    options: {
      deadlineHours: s.MILINK_LINK_DEADLINE_HOURS,
      pollIntervalSeconds: s.MILINK_POLL_INTERVAL_SECONDS,
    },
  };
}

export function instanceIdFor(request: LinkRequest): string {
  return linkInstanceId(request.managedInstance.name, buildPlan(request).names.link);
}

const ACTIVE = new Set(['Running', 'Pending', 'ContinuedAsNew']);

export type StartOutcome =
  { started: true; instanceId: string } | { started: false; instanceId: string; runtimeStatus: string };

/** Starts createLink unless an orchestration for the same link is still running (then it is named). */
export async function startCreateLink(
  client: df.DurableClient,
  request: LinkRequest,
  ticketId?: string,
): Promise<StartOutcome> {
  const instanceId = instanceIdFor(request);
  const existing = await client.getStatus(instanceId).catch(() => undefined);
  if (existing && ACTIVE.has(String(existing.runtimeStatus)))
    return { started: false, instanceId, runtimeStatus: String(existing.runtimeStatus) };
  await client.startNew('createLink', { instanceId, input: createLinkInput(request, ticketId) });
  return { started: true, instanceId };
}

/** POST /api/links: validates the link request (the body) and starts createLink; 202 with status URLs. */
export async function postLink(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const body = await readJsonObject(request);
    const linkRequest = parseLinkRequest(body, new Date());
    const client = df.getClient(context);
    const outcome = await startCreateLink(client, linkRequest);
    if (!outcome.started)
      return errorResponse(
        409,
        errorBody(
          'LinkOperationInProgress',
          `an orchestration for link ${buildPlan(linkRequest).names.link} on ${linkRequest.managedInstance.name} is ${outcome.runtimeStatus}: ${outcome.instanceId}`,
          undefined,
          outcome.instanceId,
        ),
      );
    context.log(`createLink started: ${outcome.instanceId}`);
    const urls = client.createHttpManagementPayload(outcome.instanceId) as unknown as Record<string, string>;
    return jsonResponse(
      202,
      {
        instanceId: outcome.instanceId,
        statusUrl: `${new URL(request.url).origin}/api/links/${outcome.instanceId}`,
        management: urls,
      },
      { location: urls.statusQueryGetUri ?? '' },
    );
  } catch (e) {
    if (e instanceof InvalidRequestError) return invalidRequestResponse(e);
    context.error(`POST /api/links failed: ${(e as Error).name}: ${(e as Error).message}`);
    return internalError();
  }
}

/** GET /api/links/{instanceId}: runtime status, steps with their state, seeding progress, output or error. */
export async function getLink(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const instanceId = request.params.instanceId ?? '';
  if (!/^[A-Za-z0-9-]{1,100}$/.test(instanceId))
    return invalidRequestResponse(
      new InvalidRequestError([
        {
          code: 'InvalidValue',
          target: 'instanceId',
          message: 'instanceId must be 1-100 letters, digits and hyphens',
        },
      ]),
    );
  try {
    const status = await df.getClient(context).getStatus(instanceId);
    if (!status || !status.runtimeStatus)
      return errorResponse(
        404,
        errorBody('NotFound', `no orchestration ${instanceId}`, undefined, instanceId),
      );
    const custom = (status.customStatus ?? {}) as Partial<LinkStatus>;
    return jsonResponse(200, {
      instanceId,
      name: status.name,
      runtimeStatus: status.runtimeStatus,
      createdTime: status.createdTime,
      lastUpdatedTime: status.lastUpdatedTime,
      ...custom,
      output: status.output ?? null,
    });
  } catch (e) {
    context.error(`GET /api/links/${instanceId} failed: ${(e as Error).message}`);
    return internalError();
  }
}

app.http('linksCreate', {
  route: 'links',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: postLink,
});

app.http('linksGet', {
  route: 'links/{instanceId}',
  methods: ['GET'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: getLink,
});
