import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { InvalidRequestError } from '../link/errors.js';
import { hasControlCharacter, parseLinkRequest } from '../link/request.js';
import type { OperationStatus } from '../link/status.js';
import { OPERATIONS } from '../runbook/operations.js';
import { RUNTIME_STATUSES, type operationSummarySchema } from './api-schema.js';
import { startAnswer, startOperation } from './start.js';
import {
  instanceIdParam,
  internalError,
  invalidRequestResponse,
  jsonResponse,
  notFoundResponse,
  readJsonObject,
} from './http.js';
import type { z } from 'zod';

type Custom = Partial<OperationStatus>;

/** An orchestration's status, or undefined when no orchestration has this id (durable-functions throws on its 404). */
export async function statusOf(
  client: df.DurableClient,
  instanceId: string,
): Promise<df.DurableOrchestrationStatus | undefined> {
  try {
    const status = await client.getStatus(instanceId);
    return status?.runtimeStatus ? status : undefined;
  } catch (e) {
    if (/\b404\b/.test((e as Error).message ?? '')) return undefined;
    throw e;
  }
}

/** The phase shown for a status: a run an operator cancelled (terminated) says so. */
function phaseOf(runtimeStatus: string, custom: Custom): Custom['phase'] | 'cancelled' | undefined {
  return runtimeStatus === 'Terminated' ? 'cancelled' : custom.phase;
}

/** POST /api/links: validates the link request (the body) and starts createLink; 202 with its status URL. */
export async function postLink(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const body = await readJsonObject(request);
    const linkRequest = parseLinkRequest(body, new Date());
    const client = df.getClient(context);
    const outcome = await startOperation(client, 'createLink', linkRequest);
    const about = `for this link on ${linkRequest.managedInstance.name}`;
    return startAnswer(request, context, 'createLink', outcome, 'LinkOperationInProgress', about);
  } catch (e) {
    if (e instanceof InvalidRequestError) return invalidRequestResponse(e);
    context.error(`POST /api/links failed: ${(e as Error).name}: ${(e as Error).message}`);
    return internalError();
  }
}

/** GET /api/links/{instanceId}: runtime status, steps with their state, a wait's progress, output or error. */
export async function getLink(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  let instanceId = '';
  try {
    instanceId = instanceIdParam(request);
    const client = df.getClient(context);
    const status = await statusOf(client, instanceId);
    if (!status) return notFoundResponse(instanceId);
    const custom = (status.customStatus ?? {}) as Custom;
    // a run that handed its operation over to the resolved link's id answers with that run's status
    const next = custom.handedOverTo ? await statusOf(client, custom.handedOverTo) : undefined;
    if (next) {
      const nextCustom = (next.customStatus ?? {}) as Custom;
      const runtimeStatus = String(next.runtimeStatus);
      const phase = phaseOf(runtimeStatus, nextCustom);
      return jsonResponse(200, {
        instanceId: custom.handedOverTo,
        handedOverFrom: instanceId,
        name: next.name,
        runtimeStatus,
        createdTime: status.createdTime,
        lastUpdatedTime: next.lastUpdatedTime,
        ...nextCustom,
        ...(phase ? { phase } : {}),
        ...(nextCustom.ticketId || !custom.ticketId ? {} : { ticketId: custom.ticketId }),
        output: next.output ?? null,
      });
    }
    const runtimeStatus = String(status.runtimeStatus);
    const phase = phaseOf(runtimeStatus, custom);
    return jsonResponse(200, {
      instanceId,
      name: status.name,
      runtimeStatus,
      createdTime: status.createdTime,
      lastUpdatedTime: status.lastUpdatedTime,
      ...custom,
      ...(phase ? { phase } : {}),
      output: status.output ?? null,
    });
  } catch (e) {
    if (e instanceof InvalidRequestError) return invalidRequestResponse(e);
    context.error(`GET /api/links/${instanceId} failed: ${(e as Error).message}`);
    return internalError();
  }
}

const LIST_FILTERS = ['state', 'instance', 'ticket', 'link'];

interface ListFilter {
  states?: string[];
  instance?: string;
  ticket?: string;
  link?: string;
}

/** The list's query string: known filters only, each checked; a state is a runtime status in any case. */
function parseListFilter(query: URLSearchParams): ListFilter {
  const details: Array<{ code: string; target: string; message: string }> = [];
  for (const key of new Set(query.keys()))
    if (!LIST_FILTERS.includes(key) && key !== 'code')
      details.push({
        code: 'UnknownParameter',
        target: key,
        message: `unknown filter ${key}: only ${LIST_FILTERS.join(', ')} are accepted`,
      });
  const filter: ListFilter = {};
  const state = query.get('state');
  if (state !== null) {
    const states = state.split(',').map((s) => s.trim());
    const known = states.map((s) => RUNTIME_STATUSES.find((r) => r.toLowerCase() === s.toLowerCase()));
    if (known.some((k) => k === undefined))
      details.push({
        code: 'InvalidValue',
        target: 'state',
        message: `state must be one or more (comma-separated) of ${RUNTIME_STATUSES.join(', ')}`,
      });
    else filter.states = known as string[];
  }
  for (const key of ['instance', 'ticket', 'link'] as const) {
    const value = query.get(key);
    if (value === null) continue;
    if (value.length < 1 || value.length > 128 || hasControlCharacter(value))
      details.push({
        code: 'InvalidValue',
        target: key,
        message: `${key} must be 1-128 characters without control characters`,
      });
    else filter[key] = value;
  }
  if (details.length > 0) throw new InvalidRequestError(details);
  return filter;
}

type Summary = z.infer<typeof operationSummarySchema>;

function summaryOf(status: df.DurableOrchestrationStatus): Summary {
  const custom = (status.customStatus ?? {}) as Custom;
  const runtimeStatus = String(status.runtimeStatus) as Summary['runtimeStatus'];
  const phase = phaseOf(runtimeStatus, custom);
  const pick = <K extends keyof Custom>(k: K) => (custom[k] !== undefined ? { [k]: custom[k] } : {});
  return {
    instanceId: status.instanceId,
    name: status.name,
    runtimeStatus,
    createdTime: new Date(status.createdTime).toISOString(),
    lastUpdatedTime: new Date(status.lastUpdatedTime).toISOString(),
    ...pick('operation'),
    ...(phase ? { phase } : {}),
    ...pick('ticketId'),
    ...pick('tickets'),
    ...pick('link'),
    ...pick('managedInstance'),
    ...pick('database'),
    ...pick('current'),
    ...pick('handedOverTo'),
    ...pick('error'),
  } as Summary;
}

function matches(status: df.DurableOrchestrationStatus, filter: ListFilter): boolean {
  const custom = (status.customStatus ?? {}) as Custom;
  const same = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();
  if (filter.instance) {
    // before its first status, a run is known by its id: link-<instance>-<hash>
    const byId = new RegExp(
      `^link-${filter.instance.toLowerCase().replace(/[^a-z0-9-]/g, '')}-[0-9a-f]{12}$`,
    );
    if (
      !same(custom.managedInstance, filter.instance) &&
      !(custom.managedInstance === undefined && byId.test(status.instanceId))
    )
      return false;
  }
  if (filter.ticket && custom.ticketId !== filter.ticket && !(custom.tickets ?? []).includes(filter.ticket))
    return false;
  if (filter.link && !same(custom.link, filter.link)) return false;
  return true;
}

/**
 * GET /api/links: the operations milink ran or runs (createLink, dropLink, …), newest first, filtered by runtime
 * status (`state`), managed instance, ticket id and link name. The durable client's query does the state filter.
 */
export async function listLinks(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const filter = parseListFilter(request.query);
    const client = df.getClient(context);
    const all = filter.states
      ? await client.getStatusBy({ runtimeStatus: filter.states as df.OrchestrationRuntimeStatus[] })
      : await client.getStatusAll();
    const operations = new Set(OPERATIONS.map((o) => o.name));
    const value = all
      .filter((s) => operations.has(s.name) && matches(s, filter))
      .map(summaryOf)
      .sort((a, b) => b.createdTime.localeCompare(a.createdTime) || a.instanceId.localeCompare(b.instanceId));
    return jsonResponse(200, { value, count: value.length });
  } catch (e) {
    if (e instanceof InvalidRequestError) return invalidRequestResponse(e);
    context.error(`GET /api/links failed: ${(e as Error).message}`);
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

app.http('linksList', {
  route: 'links',
  methods: ['GET'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: listLinks,
});

app.http('linksGet', {
  route: 'links/{instanceId}',
  methods: ['GET'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: getLink,
});
