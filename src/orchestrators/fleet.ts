import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import { resolveNames } from '../link/names.js';
import type { LinkRequest } from '../link/request.js';
import { decodeFailure, linkInstanceId, pairInstanceId, type StepFailure } from '../link/status.js';
import type { OperationInput, RunOptions } from './runner.js';

/**
 * createFleet: many databases, each pair of SQL Server and instance prepared once, then each database linked as a
 * sub-orchestration under its own link's id (so another operation on one of these links is refused while it runs),
 * with at most `perServer` links in flight per SQL Server and `perInstance` per instance. One failed database does
 * not stop the others. A re-run converges: what exists is found by each step's inspection and left alone.
 * Deterministic: the schedule depends only on the input and the completions the history replays.
 */
export interface FleetInput {
  run: string;
  ticketId?: string;
  /** The pairs, each with its databases' link requests (no secrets: secret names only). */
  pairs: Array<{ requests: LinkRequest[] }>;
  options: RunOptions;
  concurrency: { perServer: number; perInstance: number };
}

export type FleetItemState = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';

export interface FleetStatus {
  operation: 'createFleet';
  phase: 'preparing' | 'linking' | 'succeeded' | 'failed';
  ticketId?: string;
  pairs: Array<{
    sqlServer: string;
    managedInstance: string;
    instanceId: string;
    state: FleetItemState;
    error?: StepFailure;
  }>;
  databases: Array<{
    database: string;
    sqlServer: string;
    managedInstance: string;
    link: string;
    instanceId: string;
    state: FleetItemState;
    error?: StepFailure;
  }>;
  counts: Record<FleetItemState, number>;
}

const serverKey = (r: LinkRequest) => `${r.sqlServer.host.toLowerCase()}:${r.sqlServer.port}`;
const instanceKey = (r: LinkRequest) =>
  `${r.managedInstance.subscriptionId}/${r.managedInstance.resourceGroup}/${r.managedInstance.name}`.toLowerCase();

function failureOf(task: Task, step: string): StepFailure {
  const message = (task.result as Error | undefined)?.message ?? String(task.result ?? 'failed');
  const failure = decodeFailure(message, step);
  if (/already exists/.test(message))
    return {
      step,
      target: 'milink',
      code: 'LinkOperationInProgress',
      message: 'another operation runs on this link',
      advice: 'wait for it to finish, then re-run the fleet request (it converges)',
    };
  return failure;
}

export const createFleetOrchestrator = function* (
  context: OrchestrationContext,
): Generator<Task, unknown, Task> {
  const input = context.df.getInput() as FleetInput;
  const subInput = (operation: string, request: LinkRequest): OperationInput => ({
    operation,
    run: input.run,
    request,
    ...(input.ticketId ? { ticketId: input.ticketId } : {}),
    options: input.options,
  });
  const status: FleetStatus = {
    operation: 'createFleet',
    phase: 'preparing',
    ...(input.ticketId ? { ticketId: input.ticketId } : {}),
    pairs: input.pairs.map((p) => ({
      sqlServer: p.requests[0]!.sqlServer.serverName ?? p.requests[0]!.sqlServer.host,
      managedInstance: p.requests[0]!.managedInstance.name,
      instanceId: pairInstanceId(p.requests[0]!.managedInstance.name, serverKey(p.requests[0]!)),
      state: 'pending',
    })),
    databases: input.pairs.flatMap((p) =>
      p.requests.map((r) => {
        const link = resolveNames(r, {}).link;
        return {
          database: r.database,
          sqlServer: r.sqlServer.serverName ?? r.sqlServer.host,
          managedInstance: r.managedInstance.name,
          link,
          instanceId: linkInstanceId(r.managedInstance.name, link),
          state: 'pending' as FleetItemState,
        };
      }),
    ),
    counts: { pending: 0, running: 0, succeeded: 0, failed: 0, skipped: 0 },
  };
  const requests = input.pairs.flatMap((p) => p.requests);
  const publish = () => {
    status.counts = { pending: 0, running: 0, succeeded: 0, failed: 0, skipped: 0 };
    for (const d of status.databases) status.counts[d.state]++;
    context.df.setCustomStatus(status);
  };
  publish();

  // ---- each pair once: what the SQL Server and the instance share
  for (const [i, pair] of input.pairs.entries()) {
    const entry = status.pairs[i]!;
    entry.state = 'running';
    publish();
    try {
      yield context.df.callSubOrchestrator(
        'prepareLinkPair',
        subInput('prepareLinkPair', pair.requests[0]!),
        entry.instanceId,
      );
      entry.state = 'succeeded';
    } catch (e) {
      entry.state = 'failed';
      entry.error = decodeFailure((e as Error).message, 'prepareLinkPair');
      // without the pair's certificates and endpoint none of its databases can link
      for (const d of status.databases)
        if (d.sqlServer === entry.sqlServer && d.managedInstance === entry.managedInstance)
          d.state = 'skipped';
    }
    publish();
  }

  // ---- each database: bounded per SQL Server and per instance
  status.phase = 'linking';
  publish();
  const inFlight = new Map<Task, number>();
  const busy = (key: string, of: (r: LinkRequest) => string) =>
    [...inFlight.values()].filter((j) => of(requests[j]!) === key).length;
  const startable = () =>
    status.databases.findIndex(
      (d, j) =>
        d.state === 'pending' &&
        busy(serverKey(requests[j]!), serverKey) < input.concurrency.perServer &&
        busy(instanceKey(requests[j]!), instanceKey) < input.concurrency.perInstance,
    );
  for (;;) {
    for (let j = startable(); j >= 0; j = startable()) {
      const d = status.databases[j]!;
      d.state = 'running';
      inFlight.set(
        context.df.callSubOrchestrator('linkDatabase', subInput('linkDatabase', requests[j]!), d.instanceId),
        j,
      );
    }
    publish();
    if (inFlight.size === 0) break;
    const done = (yield context.df.Task.any([...inFlight.keys()])) as Task;
    const j = inFlight.get(done)!;
    inFlight.delete(done);
    const d = status.databases[j]!;
    if (done.isFaulted) {
      d.state = 'failed';
      d.error = failureOf(done, 'linkDatabase');
    } else d.state = 'succeeded';
  }

  status.phase = status.databases.every((d) => d.state === 'succeeded') ? 'succeeded' : 'failed';
  publish();
  return { outcome: status.phase, counts: status.counts, databases: status.databases };
};

df.app.orchestration('createFleet', createFleetOrchestrator);
