import * as df from 'durable-functions';
import { settings } from '../config.js';
import {
  DEFAULT_CERTIFICATE_LIFETIME_DAYS,
  parseCertificateRequest,
  serverInstanceId,
} from '../link/certificates.js';
import { sameName } from '../link/names.js';
import type { OperationInput } from '../orchestrators/runner.js';
import type { ServerTarget } from './health.js';
import { configuredThresholds } from './health.js';
import { inventoryStores } from './inventory.js';

/** A rotation the nightly sweep starts: the SQL Server, its orchestration id and the operation's input. */
export interface CertificateRotation {
  sqlServer: string;
  instanceId: string;
  input: OperationInput;
  /** Days left on the endpoint certificate that brought it into the window. */
  daysLeft: number;
}

/**
 * Automatic rotation (opt-in: `certificateRotationDays` in MILINK_HEALTH_THRESHOLDS): the SQL Servers whose endpoint
 * certificate the night's report found within the rotation window, each with the rotateCertificate input the sweep
 * starts under the server's id (one at a time per server). Settings and the clock are read here, not in the
 * orchestrator. None when the window is not set.
 */
export async function certificateRotations(input: {
  date: string;
  at: string;
  servers: ServerTarget[];
}): Promise<CertificateRotation[]> {
  const window = configuredThresholds().certificateRotationDays;
  if (window === undefined) return [];
  const report = await (await inventoryStores()).reports.byDate(input.date);
  if (!report) return [];
  const s = settings();
  const due = new Map<string, number>();
  for (const f of report.findings) {
    if (f.checkId !== 'endpoint-certificate-expiry' || typeof f.value !== 'number' || f.value > window)
      continue;
    const server = /^sqlserver:(.+?)\/certificate:/.exec(f.target)?.[1];
    if (server) due.set(server, Math.min(f.value, due.get(server) ?? Infinity));
  }
  const out: CertificateRotation[] = [];
  for (const [server, daysLeft] of due) {
    const target = input.servers.find((t) => sameName(t.sqlServer, server));
    if (!target) continue;
    const now = new Date(input.at);
    const parsed = parseCertificateRequest(
      'rotate-certificate',
      target.request,
      {},
      now,
      DEFAULT_CERTIFICATE_LIFETIME_DAYS,
    );
    out.push({
      sqlServer: target.sqlServer,
      instanceId: serverInstanceId(parsed.request),
      daysLeft,
      input: {
        operation: parsed.operation,
        run: `${input.at}-${target.sqlServer}`.replace(/[^0-9A-Za-z-]/g, '-'),
        request: parsed.request,
        parameters: parsed.parameters,
        options: {
          deadlineHours: s.MILINK_LINK_DEADLINE_HOURS,
          pollIntervalSeconds: s.MILINK_POLL_INTERVAL_SECONDS,
          stepAttempts: s.MILINK_STEP_ATTEMPTS,
          stepRetrySeconds: s.MILINK_STEP_RETRY_SECONDS,
        },
      },
    });
  }
  return out;
}

df.app.activity('certificateRotations', {
  handler: (input: unknown) => certificateRotations(input as Parameters<typeof certificateRotations>[0]),
});
