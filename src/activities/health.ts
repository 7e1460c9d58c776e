/**
 * The health sweep's activities (docs/health.md): what to read (from the inventory), one read per SQL Server (the
 * health batch, one round trip, with the login the inventoried request names) and per managed instance (one ARM
 * list with its pages, and the instance for its update policy), then the report: built, stored in Blob Storage,
 * compared with the previous night's, one message per alert on the `link-alerts` queue. A source that does not
 * answer is carried as its error (a finding), never thrown: the sweep completes.
 */
import * as df from 'durable-functions';
import { output, type InvocationContext } from '@azure/functions';
import { getManagedInstance, listLinks, type InstanceRef } from '../azure/arm-requests.js';
import { ArmError } from '../azure/errors.js';
import { settings } from '../config.js';
import { ALERT_QUEUE, alertMessage, diffReports, webhookBody, type Alert } from '../health/alerts.js';
import type { InstanceSweep, ManagedLink, ServerSweep, Unreachable } from '../health/inputs.js';
import { observeInstance, observeServer, unreachable } from '../health/observe.js';
import { buildReport, formatSummary, type HealthReport } from '../health/report.js';
import { thresholds } from '../health/thresholds.js';
import type { LinkRequest } from '../link/request.js';
import { defineActivity, type ActivityIo } from './io.js';
import { inventoryStores } from './inventory.js';

/** The alert queue as an output binding (docs/health.md, "Alerts"). */
export const alertQueue = output.storageQueue({ queueName: ALERT_QUEUE, connection: 'AzureWebJobsStorage' });

/** A SQL Server to read, with the request (secret names only) whose login the sweep uses. */
export interface ServerTarget {
  sqlServer: string;
  request: LinkRequest;
  links: number;
}

export interface InstanceTarget {
  instance: string;
  ref: InstanceRef;
  links: number;
}

export interface SweepTargets {
  inventory: ManagedLink[];
  servers: ServerTarget[];
  instances: InstanceTarget[];
}

/** Reads the inventory: the links, and each SQL Server and instance once. */
async function targets(): Promise<SweepTargets> {
  const { inventory } = await inventoryStores();
  const records = (await inventory.list()).filter((r) => r.state !== 'dropped');
  const servers = new Map<string, ServerTarget>();
  const instances = new Map<string, InstanceTarget>();
  for (const r of records) {
    const request = r.request as unknown as LinkRequest;
    const s = servers.get(r.sqlServer.toLowerCase());
    if (s) s.links++;
    else servers.set(r.sqlServer.toLowerCase(), { sqlServer: r.sqlServer, request, links: 1 });
    const i = instances.get(r.instance.toLowerCase());
    if (i) i.links++;
    else
      instances.set(r.instance.toLowerCase(), {
        instance: r.instance,
        ref: {
          subscriptionId: request.managedInstance.subscriptionId,
          resourceGroup: request.managedInstance.resourceGroup,
          name: request.managedInstance.name,
        },
        links: 1,
      });
  }
  return {
    inventory: records.map((r) => ({
      instance: r.instance,
      linkName: r.linkName,
      sqlServer: r.sqlServer,
      database: r.database,
    })),
    servers: [...servers.values()],
    instances: [...instances.values()],
  };
}

/**
 * What a read leaves in the orchestration's history: the source, where its observation is kept until the report
 * (Blob Storage, `sweeps/<run>/<slot>.json`), and its error when it did not answer. The history holds names, not
 * observations, so it stays small whatever the number of links.
 */
export interface ReadRef {
  name: string;
  blob: string;
  error?: Unreachable;
}

interface ReadInput {
  run: string;
  slot: string;
}

async function staged(
  run: string,
  slot: string,
  name: string,
  sweep: ServerSweep | InstanceSweep,
): Promise<ReadRef> {
  const { reports } = await inventoryStores();
  const blob = await reports.stage(run, slot, sweep);
  return sweep.error ? { name, blob, error: sweep.error } : { name, blob };
}

/** One SQL Server: the health batch, once. An unreachable server is returned as its error, not thrown. */
async function observeSqlServer(io: ActivityIo): Promise<ReadRef> {
  const { sqlServer, run, slot } = io.input as unknown as ReadInput & { sqlServer: string };
  io.step = 'health';
  const sweep = await observeServer(sqlServer, (text) => io.run(text));
  if (sweep.error) {
    sweep.error.message = io.scrub(sweep.error.message);
    io.log(`${sqlServer} did not answer: ${sweep.error.code ?? ''} ${sweep.error.message}`);
  }
  return staged(run, slot, sqlServer, sweep);
}

/** One managed instance: its links (every page) and its update policy. An instance that fails is its error. */
async function observeManagedInstance(io: ActivityIo): Promise<ReadRef> {
  const { instance, ref, run, slot } = io.input as unknown as ReadInput & {
    instance: string;
    ref: InstanceRef;
  };
  io.step = 'health';
  const first = listLinks(ref);
  const sweep = await observeInstance(
    instance,
    async (nextLink) => {
      if (nextLink === undefined)
        return (await io.arm.call(first, `list the links of ${instance}`)).json as { value?: unknown[] };
      const page = await io.arm.send({ method: 'GET', url: nextLink });
      if (page.status >= 400)
        throw ArmError.fromResponse(
          page.status,
          page.json,
          `list the links of ${instance} (next page)`,
          first,
        );
      return page.json as { value?: unknown[]; nextLink?: string };
    },
    async () => {
      const mi = await io.arm.call(getManagedInstance(ref), `read managed instance ${instance}`);
      return (mi.json as { properties?: { databaseFormat?: string } })?.properties?.databaseFormat ?? null;
    },
  );
  if (sweep.error) io.log(`${instance} did not answer: ${sweep.error.code ?? ''} ${sweep.error.message}`);
  return staged(run, slot, instance, sweep);
}

export interface ReportInput {
  at: string;
  run: string;
  inventory: ManagedLink[];
  servers: ReadRef[];
  instances: ReadRef[];
  /** Whether the alerts are wanted back (for the webhook); otherwise only their number. */
  webhook: boolean;
}

export interface ReportOutput {
  date: string;
  blob: string;
  summary: HealthReport['summary'];
  /** The terminal summary (formatSummary). */
  text: string;
  alertCount: number;
  /** The night's alerts, when a webhook is to get them. */
  alerts: Alert[];
}

/** Thresholds from settings (MILINK_HEALTH_THRESHOLDS, JSON; empty: the documented defaults). */
export function configuredThresholds() {
  const text = settings().MILINK_HEALTH_THRESHOLDS;
  return thresholds(text ? JSON.parse(text) : {});
}

/**
 * Builds tonight's report against the previous night's (trends, seeding progress), stores it, and puts one message
 * per new, changed or resolved finding on the alert queue.
 */
async function report(input: ReportInput, context: InvocationContext): Promise<ReportOutput> {
  const { reports } = await inventoryStores();
  const load = async <T extends ServerSweep | InstanceSweep>(r: ReadRef, unread: T): Promise<T> => {
    if (!r.blob) return unread;
    try {
      return (await reports.staged(r.blob)) as T;
    } catch (e) {
      context.warn(`the read of ${r.name} could not be loaded: ${(e as Error).message}`);
      return unread;
    }
  };
  const lost = { message: 'the read could not be loaded' };
  const t0 = performance.now();
  const servers = await inBatches(input.servers, (r) =>
    load<ServerSweep>(r, { sqlServer: r.name, error: r.error ?? lost }),
  );
  const instances = await inBatches(input.instances, (r) =>
    load<InstanceSweep>(r, { instance: r.name, error: r.error ?? lost }),
  );
  const date = input.at.slice(0, 10);
  // trends and seeding progress come from the previous night; alerts from the last report sent, which is
  // tonight's when the sweep already ran tonight (a second run does not repeat its alerts)
  const [[previous], earlier] = await Promise.all([reports.recent(1, date), reports.byDate(date)]);
  const t1 = performance.now();
  const built = buildReport(
    { at: input.at, inventory: input.inventory, servers, instances },
    { thresholds: configuredThresholds(), previous: previous ?? null },
  );
  const t2 = performance.now();
  const blob = await reports.save(built);
  const t3 = performance.now();
  const alerts = diffReports(earlier ?? previous ?? null, built);
  if (alerts.length > 0) context.extraOutputs.set(alertQueue, alerts.map(alertMessage));
  await reports
    .unstage(input.run)
    .catch((e: unknown) => context.warn(`sweep reads not removed: ${(e as Error).message}`));
  const ms = (a: number, b: number) => Math.round(b - a);
  context.log(
    `health ${built.date}: ${built.summary.links} links, ${built.findings.length} findings, ${alerts.length} alerts ` +
      `(reads and the previous report loaded in ${ms(t0, t1)} ms, checked in ${ms(t1, t2)} ms, ` +
      `stored in ${ms(t2, t3)} ms, reads removed in ${ms(t3, performance.now())} ms)`,
  );
  return {
    date: built.date,
    blob,
    summary: built.summary,
    text: formatSummary(built),
    alertCount: alerts.length,
    alerts: input.webhook ? alerts : [],
  };
}

/** Maps with at most 16 at a time (downloads of the sweep's reads). */
async function inBatches<T, R>(items: T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, items.length) }, worker));
  return out;
}

/** Posts the night's alerts to the configured webhook (one post); the URL never leaves this activity. */
async function webhook(input: { alerts: Alert[] }): Promise<{ sent: boolean; status?: number }> {
  const s = settings();
  const url = s.MILINK_ALERT_WEBHOOK_URL;
  const body = webhookBody(
    input.alerts,
    s.MILINK_DASHBOARD_URL ? { dashboardUrl: s.MILINK_DASHBOARD_URL } : {},
  );
  if (!url || !body) return { sent: false };
  let status: number;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    status = response.status;
    await response.arrayBuffer().catch(() => undefined);
  } catch (e) {
    // the URL holds the webhook's token: only the failure's kind leaves
    throw new Error(`the alert webhook could not be reached (${unreachable(e).code ?? 'network error'})`);
  }
  if (status >= 300) throw new Error(`the alert webhook answered HTTP ${status}`);
  return { sent: true, status };
}

df.app.activity('healthTargets', { handler: () => targets() });
defineActivity('healthObserveServer', observeSqlServer);
defineActivity('healthObserveInstance', observeManagedInstance);
df.app.activity('healthReport', {
  extraOutputs: [alertQueue],
  handler: (input: unknown, context: InvocationContext) => report(input as ReportInput, context),
});
df.app.activity('healthWebhook', { handler: (input: unknown) => webhook(input as { alerts: Alert[] }) });
