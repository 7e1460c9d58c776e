/**
 * The health sweep's triggers (docs/health.md): the nightly timer (MILINK_HEALTH_SCHEDULE, `0 0 2 * * *` by
 * default), `POST /api/health/sweep` on demand and `GET /api/health/sweep` for its status, the stored reports
 * (`GET /api/health` latest, `GET /api/health/{date}`) and the dashboard (`GET /api/health/dashboard`).
 */
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
  type Timer,
} from '@azure/functions';
import * as df from 'durable-functions';
import { settings } from '../config.js';
import { inventoryStores } from '../activities/inventory.js';
import { errorBody } from '../link/errors.js';
import { HEALTH_SWEEP, HEALTH_SWEEP_ID, type HealthSweepInput } from '../orchestrators/healthSweep.js';
import { errorResponse, internalError, jsonResponse } from './http.js';
import { startUnder, type StartOutcome } from './start.js';

const DEFAULT_SCHEDULE = '0 0 2 * * *';

/** The timer's schedule, read when the app registers its functions (settings are validated when a sweep starts). */
function schedule(): string {
  const value = process.env.MILINK_HEALTH_SCHEDULE?.trim();
  return value ? value : DEFAULT_SCHEDULE;
}

/** Starts the sweep under its one id; a sweep already running is not started twice. */
export function startSweep(
  client: df.DurableClient,
  trigger: HealthSweepInput['trigger'],
): Promise<StartOutcome> {
  const s = settings();
  const input: HealthSweepInput = {
    concurrency: s.MILINK_HEALTH_CONCURRENCY,
    trigger,
    webhook: !!s.MILINK_ALERT_WEBHOOK_URL,
  };
  return startUnder(client, HEALTH_SWEEP_ID, HEALTH_SWEEP, input);
}

export async function healthTimer(_timer: Timer, context: InvocationContext): Promise<void> {
  const outcome = await startSweep(df.getClient(context), 'timer');
  context.log(
    outcome.started
      ? `health sweep started: ${outcome.instanceId}`
      : `health sweep already ${outcome.runtimeStatus}: nothing started`,
  );
}

async function postSweep(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const client = df.getClient(context);
    const outcome = await startSweep(client, 'http');
    if (!outcome.started)
      return errorResponse(
        409,
        errorBody(
          'HealthSweepInProgress',
          `a health sweep is ${outcome.runtimeStatus}`,
          undefined,
          outcome.instanceId,
        ),
      );
    // milink's own status URL: never the durable extension's management URLs, which carry its system key
    const statusUrl = `${new URL(request.url).origin}/api/health/sweep`;
    return jsonResponse(
      202,
      { instanceId: outcome.instanceId, statusUrl },
      { location: statusUrl, 'retry-after': '10' },
    );
  } catch (e) {
    context.error(`POST /api/health/sweep failed: ${(e as Error).message}`);
    return internalError();
  }
}

async function getSweep(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const status = await df
      .getClient(context)
      .getStatus(HEALTH_SWEEP_ID)
      .catch(() => undefined);
    if (!status?.runtimeStatus)
      return errorResponse(404, errorBody('NotFound', 'no health sweep has run yet'));
    return jsonResponse(200, {
      instanceId: HEALTH_SWEEP_ID,
      runtimeStatus: status.runtimeStatus,
      createdTime: status.createdTime,
      lastUpdatedTime: status.lastUpdatedTime,
      progress: status.customStatus ?? null,
      output: status.output ?? null,
    });
  } catch (e) {
    context.error(`GET /api/health/sweep failed: ${(e as Error).message}`);
    return internalError();
  }
}

const noReport = () =>
  errorResponse(
    404,
    errorBody('NoHealthReport', 'no health report yet: the first sweep has not run (POST /api/health/sweep)'),
  );

async function getLatest(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const report = await (await inventoryStores()).reports.latest();
    return report ? jsonResponse(200, report) : noReport();
  } catch (e) {
    context.error(`GET /api/health failed: ${(e as Error).message}`);
    return internalError();
  }
}

async function getByDate(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const date = request.params.date ?? '';
  const valid =
    /^\d{4}-\d{2}-\d{2}$/.test(date) && new Date(`${date}T00:00:00Z`).toISOString().startsWith(date);
  if (!valid)
    return errorResponse(
      400,
      errorBody('InvalidValue', 'date must be a night written YYYY-MM-DD', [
        { code: 'InvalidValue', target: 'date', message: 'date must be a night written YYYY-MM-DD' },
      ]),
    );
  try {
    const report = await (await inventoryStores()).reports.byDate(date);
    return report
      ? jsonResponse(200, report)
      : errorResponse(404, errorBody('NoHealthReport', `no health report for ${date}`, undefined, date));
  } catch (e) {
    context.error(`GET /api/health/${date} failed: ${(e as Error).message}`);
    return internalError();
  }
}

async function getDashboard(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const { reports } = await inventoryStores();
    const recent = await reports.recent(14);
    const report = recent.at(-1);
    if (!report) return noReport();
    const { renderDashboard } = await import('../health/dashboard.js');
    return {
      status: 200,
      body: renderDashboard(report, { previous: recent.slice(0, -1) }),
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy':
          "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:",
        'cache-control': 'no-store',
      },
    };
  } catch (e) {
    context.error(`GET /api/health/dashboard failed: ${(e as Error).message}`);
    return internalError();
  }
}

app.timer('healthSweepTimer', {
  schedule: schedule(),
  extraInputs: [df.input.durableClient()],
  handler: healthTimer,
});

// literal routes first: the local host matches in order (Azure prefers literal segments anyway)
const client = [df.input.durableClient()];
app.http('healthSweepStart', {
  route: 'health/sweep',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: client,
  handler: postSweep,
});
app.http('healthSweepStatus', {
  route: 'health/sweep',
  methods: ['GET'],
  authLevel: 'function',
  extraInputs: client,
  handler: getSweep,
});
app.http('healthDashboard', {
  route: 'health/dashboard',
  methods: ['GET'],
  authLevel: 'function',
  handler: getDashboard,
});
app.http('healthLatest', { route: 'health', methods: ['GET'], authLevel: 'function', handler: getLatest });
app.http('healthByDate', {
  route: 'health/{date}',
  methods: ['GET'],
  authLevel: 'function',
  handler: getByDate,
});
