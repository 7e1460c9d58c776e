/**
 * The health sweep end to end: a generated estate (links pre-made, synchronized), milink on the local host with
 * Azurite (queues, tables, blobs), links recorded through POST /api/links/adopt, and the nightly timer fired on the
 * virtual clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { VirtualClock } from '../../local/sim/clock.js';
import { startEstate, type EstateSpec } from '../../local/sim/estate/estate.js';
import { startHostOn, type Bed } from './harness.js';

export const SUB = '00000000-0000-0000-0000-000000000001';

export interface GeneratedLink {
  server: string;
  instance: string;
  database: string;
  dag: string;
}

/** The links a `{ generate }` estate makes: link k on server k mod S, server s to instance s mod I. */
export function generatedLinks(servers: number, instances: number, links: number): GeneratedLink[] {
  const width = Math.max(3, String(servers).length);
  const dbWidth = Math.max(4, String(links).length);
  return Array.from({ length: links }, (_, k) => {
    const s = k % servers;
    const database = `Db${String(k + 1).padStart(dbWidth, '0')}`;
    return {
      server: `SQL${String(s + 1).padStart(width, '0')}`,
      instance: `mi-${String((s % instances) + 1).padStart(2, '0')}`,
      database,
      dag: `DAG1_${database}`,
    };
  });
}

/** The link request of a generated link (secret names only), as a DBA would write it to adopt the link. */
export function adoptRequest(bed: Bed, l: GeneratedLink): Record<string, unknown> {
  const server = bed.estate.connection.sqlServers.find((s) => s.serverName === l.server)!;
  return {
    sqlServer: {
      host: server.host,
      endpointAddress: server.endpointAddress,
      login: 'milink_admin',
      loginSecret: `${l.server.toLowerCase()}-login`,
      masterKeySecret: `${l.server.toLowerCase()}-master-key`,
      tls: { encrypt: false, trustServerCertificate: true },
    },
    managedInstance: { subscriptionId: SUB, resourceGroup: 'rg-estate', name: l.instance },
    database: l.database,
    initialPrimary: 'SqlServer',
    certificateExpiry: '2030-01-01',
  };
}

export interface HealthBedOptions {
  env?: Record<string, string>;
  /** Items per page of the ARM stand-in's lists (default 100). */
  armListPageSize?: number;
}

/** The estate and milink on the local host with Azurite (queues, tables, blobs), one virtual clock. */
export async function startHealthBed(
  generate: { sqlServers: number; instances: number; links: number },
  opts: HealthBedOptions = {},
): Promise<Bed> {
  const clock = new VirtualClock('2026-11-22T08:00:00Z');
  const estate = await startEstate({ generate } as unknown as EstateSpec, {
    clock,
    retryAfterSeconds: 0,
    ...(opts.armListPageSize ? { armListPageSize: opts.armListPageSize } : {}),
  });
  const dir = mkdtempSync(join(tmpdir(), 'milink-health-'));
  const bed = await startHostOn(estate, {
    clock,
    dir,
    queues: 'azurite-memory',
    env: { MILINK_AZURE_RETRY_ATTEMPTS: '1', MILINK_SQL_RETRY_ATTEMPTS: '2', ...opts.env },
  });
  return {
    ...bed,
    async close() {
      await bed.close();
      await estate.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function adopt(bed: Bed, links: GeneratedLink[]): Promise<void> {
  for (const l of links) {
    const answer = await bed.api('POST', '/api/links/adopt', adoptRequest(bed, l));
    expect(answer.status, `${l.dag}: ${answer.text}`).toBe(200);
  }
}

/** Fires the nightly timer and waits for the sweep; returns its output and the report GET /api/health serves. */
export async function nightlySweep(bed: Bed): Promise<{ output: any; report: any }> {
  await bed.host.fireTimer('healthSweepTimer');
  const done = await bed.host.client.waitForCompletion('milink-health-sweep', { timeoutMs: 60_000 });
  expect(done.runtimeStatus, JSON.stringify(done.output)).toBe('Completed');
  const latest = await bed.api('GET', '/api/health');
  expect(latest.status).toBe(200);
  return { output: done.output, report: latest.json };
}

/** Moves the virtual clock (and the estate) forward. */
export function advance(bed: Bed, ms: number): void {
  bed.host.advance(ms);
  bed.estate.advance();
}
