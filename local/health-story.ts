/**
 * The rest of `npx milink local`'s story once the first link is healthy (issue 14): a second link from a ticket
 * on the link-requests queue, then the nightly health sweep fired on the local host's clock, a short health summary
 * and, with --serve, the dashboard's address.
 */
import type { LocalHost } from './host/host.js';
import { formatSummary, type HealthReport } from '../src/health/report.js';
import { resolveNames } from '../src/link/names.js';
import { linkInstanceId } from '../src/link/status.js';

export interface HealthStoryOptions {
  host: LocalHost;
  /** The request the first link was made from; the ticket asks for the same link of `database`. */
  request: unknown;
  database: string;
  serve: boolean;
  line(text: string): void;
}

const TERMINAL = ['Completed', 'Failed', 'Terminated'];

async function followTicket(o: HealthStoryOptions, instanceId: string): Promise<Record<string, any>> {
  const headers = { 'x-functions-key': o.host.functionKey };
  const shown = new Map<string, string>();
  for (const until = Date.now() + 600_000; Date.now() < until;) {
    const got = await fetch(`${o.host.baseUrl}/api/links/${instanceId}`, { headers });
    const status = (await got.json()) as Record<string, any>;
    for (const step of (status.steps ?? []) as Array<{ id: string; title: string; state: string }>) {
      if (shown.get(step.id) === step.state || step.state === 'pending' || step.state === 'current') continue;
      shown.set(step.id, step.state);
      o.line(`  ${step.state === 'done' ? '✔' : '✖'} ${step.id.padEnd(32)} ${step.title}`);
    }
    if (TERMINAL.includes(String(status.runtimeStatus))) return status;
    await new Promise((r) => setTimeout(r, 300));
  }
  return { runtimeStatus: 'TimedOut' };
}

/** Returns false when the second link could not be made or the sweep failed. */
export async function runHealthStory(o: HealthStoryOptions): Promise<boolean> {
  const { host, line } = o;
  // the same request for another database, its names derived again
  const { names: _names, ...rest } = o.request as Record<string, any>;
  const request: Record<string, any> = { ...rest, database: o.database };
  const ticketId = `local-${o.database.toLowerCase()}`;
  const link = resolveNames({ database: o.database, sqlServer: request.sqlServer ?? {} }, {}).link;
  const instanceId = linkInstanceId(String(request.managedInstance?.name ?? ''), link);
  line(`\nmilink local: ticket ${ticketId} on queue link-requests: create ${link} (${o.database})`);
  await host.queues.send('link-requests', { ticketId, action: 'create', request });
  const status = await followTicket(o, instanceId);
  if (status.runtimeStatus !== 'Completed') {
    line(`milink local: the ticket's link was not created (${status.runtimeStatus})`);
    if (status.error) line(JSON.stringify(status.error, null, 2));
    return false;
  }
  line(
    `milink local: link ${status.output?.link} (${o.database} -> ${status.output?.managedInstance}) is healthy`,
  );

  line(
    `\nmilink local: the nightly health sweep (timer healthSweepTimer, fired at ${host.now().toISOString()})`,
  );
  await host.fireTimer('healthSweepTimer');
  const sweep = await host.client.waitForCompletion('milink-health-sweep', { timeoutMs: 120_000 });
  if (sweep.runtimeStatus !== 'Completed') {
    line(`milink local: the health sweep ${sweep.runtimeStatus}: ${String(sweep.output)}`);
    return false;
  }
  const got = await fetch(`${host.baseUrl}/api/health`, { headers: { 'x-functions-key': host.functionKey } });
  const report = (await got.json()) as HealthReport;
  for (const text of formatSummary(report).split('\n')) line(`  ${text}`);
  if (o.serve)
    line(`  dashboard: ${host.baseUrl}/api/health/dashboard?code=${encodeURIComponent(host.functionKey)}`);
  return true;
}
