import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalHost, type LocalHost } from '../../local/host/host.js';
import { VirtualClock } from '../../local/sim/clock.js';
import { startEstate, type EstateSpec, type RunningEstate } from '../../local/sim/estate/estate.js';
import { repoRoot } from '../helpers/runbook.js';

/** The simulated estate and milink's app on the local host, sharing one virtual clock. */
export interface Bed {
  estate: RunningEstate;
  host: LocalHost;
  clock: VirtualClock;
  dir: string;
  logs: string[];
  /** Calls the app's HTTP API with the function key. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }>;
  /** Waits until an orchestration ends; returns the link status from GET /api/links/{id}. */
  finish(instanceId: string, timeoutMs?: number): Promise<any>;
  close(): Promise<void>;
}

export function demoSpec(): EstateSpec {
  return JSON.parse(readFileSync(join(repoRoot, 'local/sim/estates/demo.json'), 'utf8')) as EstateSpec;
}

export function demoRequest(overrides: Record<string, unknown> = {}): any {
  return {
    sqlServer: {
      host: 'sqlbox1.contoso.local',
      port: 1433,
      endpointAddress: '10.0.0.4',
      endpointPort: 5022,
      login: 'milink_admin',
      loginSecret: 'sqlbox1-login',
      masterKeySecret: 'sqlbox1-master-key',
      tls: { encrypt: false, trustServerCertificate: true },
    },
    managedInstance: {
      subscriptionId: '00000000-0000-0000-0000-000000000001',
      resourceGroup: 'rg-data',
      name: 'mi-prod',
    },
    database: 'SalesDb',
    initialPrimary: 'SqlServer',
    certificateExpiry: '2027-11-30',
    backupPath: '/var/opt/mssql/backup/',
    ...overrides,
  };
}

export interface BedOptions {
  spec?: EstateSpec;
  /** Reuse a state directory (a restarted host). */
  dir?: string;
  env?: Record<string, string>;
  queues?: 'azurite-memory' | false;
}

export async function startBed(opts: BedOptions = {}): Promise<Bed> {
  const clock = new VirtualClock('2026-11-22T08:00:00Z');
  const estate = await startEstate(opts.spec ?? demoSpec(), { clock, retryAfterSeconds: 0 });
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'milink-e2e-'));
  const connectionFile = join(dir, `estate-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(connectionFile, JSON.stringify(estate.connection));
  const logs: string[] = [];
  const host = await startLocalHost({
    stateDir: join(dir, 'host'),
    clock,
    queues: opts.queues ?? false,
    env: {
      MILINK_ARM_ENDPOINT: estate.connection.arm.endpoint,
      MILINK_KEYVAULT_URL: estate.connection.keyVault.url,
      MILINK_LOCAL_CONNECTION_FILE: connectionFile,
      MILINK_POLL_INTERVAL_SECONDS: '15',
      MILINK_LINK_DEADLINE_HOURS: '2',
      ...opts.env,
    },
    log: (line) => logs.push(line),
    onClockAdvance: () => estate.advance(),
  });
  const api: Bed['api'] = async (method, path, body) => {
    const response = await fetch(`${host.baseUrl}${path}`, {
      method,
      headers: { 'x-functions-key': host.functionKey, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, json, text };
  };
  return {
    estate,
    host,
    clock,
    dir,
    logs,
    api,
    async finish(instanceId, timeoutMs = 60_000) {
      await host.client.waitForCompletion(instanceId, { timeoutMs });
      return (await api('GET', `/api/links/${instanceId}`)).json;
    },
    async close() {
      await host.close();
      await estate.close();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
