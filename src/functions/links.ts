import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { errorBody, InvalidRequestError } from '../link/errors.js';
import { parseLinkRequest } from '../link/request.js';
import type { OperationStatus } from '../link/status.js';
import { startOperation } from './start.js';
import {
  errorResponse,
  internalError,
  invalidRequestResponse,
  jsonResponse,
  readJsonObject,
} from './http.js';

/** POST /api/links: validates the link request (the body) and starts createLink; 202 with status URLs. */
export async function postLink(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const body = await readJsonObject(request);
    const linkRequest = parseLinkRequest(body, new Date());
    const client = df.getClient(context);
    const outcome = await startOperation(client, 'createLink', linkRequest);
    if (!outcome.started)
      return errorResponse(
        409,
        errorBody(
          'LinkOperationInProgress',
          `${outcome.operation} for this link on ${linkRequest.managedInstance.name} is ${outcome.runtimeStatus}: ${outcome.instanceId}`,
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
    // durable-functions' getStatus answers an unknown id by throwing (the backend's 404)
    const client = df.getClient(context);
    const status = await client.getStatus(instanceId).catch(() => undefined);
    if (!status || !status.runtimeStatus)
      return errorResponse(404, errorBody('NotFound', `no operation ${instanceId}`, undefined, instanceId));
    const custom = (status.customStatus ?? {}) as Partial<OperationStatus>;
    // a run that handed its operation over to the resolved link's id answers with that run's status
    const next = custom.handedOverTo
      ? await client.getStatus(custom.handedOverTo).catch(() => undefined)
      : undefined;
    if (next?.runtimeStatus) {
      const nextCustom = (next.customStatus ?? {}) as Partial<OperationStatus>;
      return jsonResponse(200, {
        instanceId: custom.handedOverTo,
        handedOverFrom: instanceId,
        name: next.name,
        runtimeStatus: next.runtimeStatus,
        createdTime: status.createdTime,
        lastUpdatedTime: next.lastUpdatedTime,
        ...nextCustom,
        ...(nextCustom.ticketId || !custom.ticketId ? {} : { ticketId: custom.ticketId }),
        output: next.output ?? null,
      });
    }
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
