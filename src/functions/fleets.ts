import { randomUUID } from 'node:crypto';
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { settings } from '../config.js';
import { errorBody, InvalidRequestError } from '../link/errors.js';
import { parseFleetRequest, type FleetPair } from '../link/fleet.js';
import { shortHash } from '../link/names.js';
import type { FleetInput, FleetStatus } from '../orchestrators/fleet.js';
import {
  errorResponse,
  instanceIdParam,
  internalError,
  invalidRequestResponse,
  jsonResponse,
  readJsonObject,
} from './http.js';
import { operationInput, startUnder, type StartOutcome } from './start.js';

/**
 * Fleets: `POST /api/fleets` with a link request whose `database` is `databases` (or `{ "batch": [ … ] }` of such
 * requests) prepares each SQL Server and instance pair once, then links every database with bounded concurrency;
 * `GET /api/fleets/{id}` shows every pair and database with its state and, for those running, their current step.
 */

/** The fleet's id from what it links: the same fleet asked twice finds the running one. */
export function fleetInstanceId(pairs: FleetPair[]): string {
  const what = pairs
    .flatMap((p) =>
      p.requests.map(
        (r) => `${r.managedInstance.name}/${r.sqlServer.host}:${r.sqlServer.port}/${r.database}`,
      ),
    )
    .map((x) => x.toLowerCase())
    .sort()
    .join('|');
  return `fleet-${shortHash(what, 16)}`;
}

export function fleetInput(pairs: FleetPair[], ticketId?: string): FleetInput {
  const s = settings();
  const { options } = operationInput('linkDatabase', pairs[0]!.requests[0]!);
  return {
    run: randomUUID(),
    ...(ticketId ? { ticketId } : {}),
    pairs,
    options,
    concurrency: { perServer: s.MILINK_FLEET_PER_SERVER, perInstance: s.MILINK_FLEET_PER_INSTANCE },
  };
}

/** Starts a fleet under its id; a fleet that runs already is named instead. */
export function startFleet(
  client: df.DurableClient,
  pairs: FleetPair[],
  ticketId?: string,
): Promise<StartOutcome> {
  return startUnder(client, fleetInstanceId(pairs), 'createFleet', fleetInput(pairs, ticketId));
}

export async function postFleet(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const pairs = parseFleetRequest(await readJsonObject(request), new Date());
    const outcome = await startFleet(df.getClient(context), pairs);
    const url = `${new URL(request.url).origin}/api/fleets/${outcome.instanceId}`;
    if (!outcome.started)
      return errorResponse(
        409,
        errorBody(
          'FleetInProgress',
          `this fleet is running: ${outcome.instanceId}`,
          undefined,
          outcome.instanceId,
        ),
      );
    context.log(`createFleet started: ${outcome.instanceId}`);
    return jsonResponse(
      202,
      {
        instanceId: outcome.instanceId,
        databases: pairs.reduce((n, p) => n + p.requests.length, 0),
        statusUrl: url,
      },
      { location: url, 'retry-after': '10' },
    );
  } catch (e) {
    if (e instanceof InvalidRequestError) return invalidRequestResponse(e);
    context.error(`POST /api/fleets failed: ${(e as Error).name}: ${(e as Error).message}`);
    return internalError();
  }
}

export async function getFleet(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const instanceId = instanceIdParam(request);
    const client = df.getClient(context);
    const status = await client.getStatus(instanceId).catch(() => undefined);
    if (!status?.runtimeStatus || status.name !== 'createFleet')
      return errorResponse(404, errorBody('NotFound', `no fleet ${instanceId}`, undefined, instanceId));
    const fleet = (status.customStatus ?? {}) as Partial<FleetStatus>;
    // the running databases' current step, from their own runs
    const databases = await Promise.all(
      (fleet.databases ?? []).map(async (d) => {
        if (d.state !== 'running') return d;
        const run = await client.getStatus(d.instanceId).catch(() => undefined);
        const custom = (run?.customStatus ?? {}) as {
          current?: string;
          phase?: string;
          handedOverTo?: string;
        };
        return {
          ...d,
          ...(custom.phase ? { phase: custom.phase } : {}),
          ...(custom.current ? { step: custom.current } : {}),
        };
      }),
    );
    return jsonResponse(200, {
      instanceId,
      runtimeStatus: status.runtimeStatus,
      createdTime: status.createdTime,
      lastUpdatedTime: status.lastUpdatedTime,
      ...fleet,
      databases,
      output: status.output ?? null,
    });
  } catch (e) {
    if (e instanceof InvalidRequestError) return invalidRequestResponse(e);
    context.error(`GET /api/fleets failed: ${(e as Error).message}`);
    return internalError();
  }
}

app.http('fleetsCreate', {
  route: 'fleets',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: postFleet,
});

app.http('fleetsGet', {
  route: 'fleets/{instanceId}',
  methods: ['GET'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: getFleet,
});
