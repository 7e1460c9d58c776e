/**
 * healthSweep: every link milink manages, checked from both sides (docs/health.md). Reads the inventory, then fans
 * out — one activity per SQL Server (one health batch) and per managed instance (one ARM list with its pages) — at
 * most `concurrency` at a time, builds and stores the night's report, and sends the alerts (queue, optional webhook).
 * A source that does not answer comes back as an error and becomes a finding; the sweep itself completes.
 * Deterministic: the night is the orchestration's clock; nothing secret passes through (secret names only).
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import type { ReadRef, ReportOutput, SweepTargets } from '../activities/health.js';
import type { CertificateRotation } from '../activities/certificate-rotations.js';

export const HEALTH_SWEEP = 'healthSweep';
/** One sweep at a time: the timer and POST /api/health/sweep start it under this id. */
export const HEALTH_SWEEP_ID = 'milink-health-sweep';

export interface HealthSweepInput {
  /** How many servers and instances are read at once (MILINK_HEALTH_CONCURRENCY). */
  concurrency: number;
  /** What started it: the timer, or a request. */
  trigger: 'timer' | 'http';
  /** Whether an alert webhook is configured (its URL stays in the activity's settings). */
  webhook: boolean;
}

export interface HealthSweepOutput {
  date: string;
  at: string;
  blob: string;
  summary: ReportOutput['summary'];
  /** formatSummary of the report. */
  text: string;
  servers: { total: number; unreachable: string[] };
  instances: { total: number; unreachable: string[] };
  alerts: number;
  webhook: 'sent' | 'not configured' | 'nothing to send' | 'failed';
  /** Automatic rotations this sweep ran (certificateRotationDays set): each SQL Server's, and how it ended. */
  rotations?: Array<{
    sqlServer: string;
    instanceId: string;
    daysLeft: number;
    outcome: 'rotated' | 'failed';
    message?: string;
  }>;
}

export interface HealthSweepStatus {
  phase: 'inventory' | 'reading' | 'report' | 'alerts' | 'rotations' | 'done';
  servers?: number;
  instances?: number;
  read?: number;
}

function* healthSweep(context: OrchestrationContext): Generator<Task, HealthSweepOutput, unknown> {
  const input = (context.df.getInput() ?? {}) as Partial<HealthSweepInput>;
  const concurrency = Math.max(1, Math.floor(input.concurrency ?? 16));
  const at = context.df.currentUtcDateTime.toISOString();
  const status: HealthSweepStatus = { phase: 'inventory' };
  context.df.setCustomStatus(status);

  const targets = (yield context.df.callActivity('healthTargets', {})) as SweepTargets;
  // names this sweep's reads (their secrets, and where they are kept until the report)
  const run = `health-${at.replace(/[^0-9A-Za-z]/g, '-')}`;
  const jobs: Array<() => Task> = [
    ...targets.servers.map(
      (s, n) => () =>
        context.df.callActivity('healthObserveServer', {
          operation: HEALTH_SWEEP,
          run,
          slot: `server-${n}`,
          request: s.request,
          facts: {},
          step: 'health',
          sqlServer: s.sqlServer,
        }),
    ),
    ...targets.instances.map(
      (i, n) => () =>
        context.df.callActivity('healthObserveInstance', {
          operation: HEALTH_SWEEP,
          run,
          slot: `instance-${n}`,
          facts: {},
          step: 'health',
          instance: i.instance,
          ref: i.ref,
        }),
    ),
  ];
  Object.assign(status, {
    phase: 'reading',
    servers: targets.servers.length,
    instances: targets.instances.length,
    read: 0,
  });
  context.df.setCustomStatus(status);

  // a sliding window: a new read starts as soon as one finishes, never more than `concurrency` at once
  const results: unknown[] = new Array(jobs.length);
  const running = new Map<Task, number>();
  let next = 0;
  while (next < jobs.length || running.size > 0) {
    while (running.size < concurrency && next < jobs.length) {
      running.set(jobs[next]!(), next);
      next++;
    }
    const done = (yield context.df.Task.any([...running.keys()])) as Task;
    const at = running.get(done)!;
    running.delete(done);
    results[at] = done.isFaulted ? undefined : done.result;
    status.read = (status.read ?? 0) + 1;
  }
  const unread = (name: string, what: string): ReadRef => ({
    name,
    blob: '',
    error: { message: `the read of this ${what} failed` },
  });
  const servers = targets.servers.map(
    (s, i) => (results[i] as ReadRef | undefined) ?? unread(s.sqlServer, 'SQL Server'),
  );
  const instances = targets.instances.map(
    (inst, i) =>
      (results[targets.servers.length + i] as ReadRef | undefined) ??
      unread(inst.instance, 'managed instance'),
  );

  status.phase = 'report';
  context.df.setCustomStatus(status);
  const report = (yield context.df.callActivity('healthReport', {
    at,
    run,
    inventory: targets.inventory,
    servers,
    instances,
    webhook: !!input.webhook,
  })) as ReportOutput;

  let webhook: HealthSweepOutput['webhook'] = input.webhook ? 'nothing to send' : 'not configured';
  if (input.webhook && report.alertCount > 0) {
    status.phase = 'alerts';
    context.df.setCustomStatus(status);
    try {
      yield context.df.callActivityWithRetry('healthWebhook', new df.RetryOptions(30_000, 3), {
        alerts: report.alerts,
      });
      webhook = 'sent';
    } catch {
      webhook = 'failed';
      if (!context.df.isReplaying) context.warn('the alert webhook failed; the alerts are on the queue');
    }
  }
  // automatic rotation (opt-in): rotateCertificate for each SQL Server in the window, under the server's id (one at
  // a time per server; its preflight refuses while a link of the server is not connected and healthy)
  const due = (yield context.df.callActivity('certificateRotations', {
    date: report.date,
    at,
    servers: targets.servers,
  })) as CertificateRotation[];
  const rotations: NonNullable<HealthSweepOutput['rotations']> = [];
  if (due.length > 0) {
    status.phase = 'rotations';
    context.df.setCustomStatus(status);
  }
  for (const r of due) {
    const row = { sqlServer: r.sqlServer, instanceId: r.instanceId, daysLeft: r.daysLeft };
    try {
      yield context.df.callSubOrchestrator('rotateCertificate', r.input, r.instanceId);
      rotations.push({ ...row, outcome: 'rotated' });
    } catch (e) {
      rotations.push({ ...row, outcome: 'failed', message: (e as Error).message });
      if (!context.df.isReplaying)
        context.warn(`automatic rotation on ${r.sqlServer} failed: ${r.instanceId}`);
    }
  }
  status.phase = 'done';
  context.df.setCustomStatus(status);
  return {
    date: report.date,
    at,
    blob: report.blob,
    summary: report.summary,
    text: report.text,
    servers: { total: servers.length, unreachable: servers.filter((s) => s.error).map((s) => s.name) },
    instances: { total: instances.length, unreachable: instances.filter((i) => i.error).map((i) => i.name) },
    alerts: report.alertCount,
    webhook,
    ...(rotations.length > 0 ? { rotations } : {}),
  };
}

df.app.orchestration(HEALTH_SWEEP, healthSweep);

/**
 * adoptLink: records a link made elsewhere once one activity saw it on both sides (a short orchestration, so the
 * HTTP trigger stays thin and the check runs where the clients and secrets are).
 */
df.app.orchestration('adoptLink', function* (context: OrchestrationContext) {
  const input = context.df.getInput() as Record<string, unknown>;
  return yield context.df.callActivity('adoptLink', {
    ...input,
    facts: {},
    step: 'adopt',
    since: context.df.currentUtcDateTime.toISOString(),
  });
});
