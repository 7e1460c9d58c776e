/**
 * A SQL Server with links to two instances (two databases to mi-prod, one to mi-dr), made by milink on a host that
 * is then stopped, and the eyes the certificate tests look through: every evaluation of the estate's links is
 * watched (the estate evaluates before every T-SQL batch and ARM request), so a link disconnected for any moment
 * milink's requests could see is recorded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { VirtualClock } from '../../local/sim/clock.js';
import { startEstate, type EstateSpec, type RunningEstate } from '../../local/sim/estate/estate.js';
import { demoRequest, demoSpec, startHostOn, type Bed } from './harness.js';

export const SUBSCRIPTION = '00000000-0000-0000-0000-000000000001';

export function certificateSpec(): EstateSpec {
  const spec = demoSpec() as any;
  spec.sqlServers[0].databases.push({
    name: 'InventoryDb',
    recoveryModel: 'FULL',
    fullBackup: true,
    sizeMb: 100,
  });
  spec.managedInstances.push({
    subscriptionId: SUBSCRIPTION,
    resourceGroup: 'rg-data',
    name: 'mi-dr',
    updatePolicy: 'SQLServer2022',
  });
  return spec as EstateSpec;
}

/** The links: [instance, database]. */
export const LINKS = [
  ['mi-prod', 'SalesDb'],
  ['mi-prod', 'OrdersDb'],
  ['mi-dr', 'InventoryDb'],
] as const;

export function linkRequest(instance: string, database: string): any {
  return demoRequest({
    managedInstance: { subscriptionId: SUBSCRIPTION, resourceGroup: 'rg-data', name: instance },
    database,
  });
}

/** The request a rotation names the SQL Server with: any of its links' requests. */
export const serverRequest = () => linkRequest('mi-prod', 'SalesDb');

export interface LinkSeen {
  at: string;
  link: string;
  connected: string | undefined;
  health: string | undefined;
  certificate: string | undefined;
  error?: string;
}

export interface CertificateBed {
  estate: RunningEstate;
  clock: VirtualClock;
  dirs: string[];
  /** Every evaluation of a link that was not CONNECTED and HEALTHY while watching. */
  trouble: LinkSeen[];
  /** Every certificate name the instances reported for each link while watching. */
  certificates: Map<string, Set<string>>;
  watching: boolean;
  /** A host on the estate: on a new state directory, or on `dir` (a host restarted where another stopped). */
  host(dir?: string): Promise<Bed>;
  close(): Promise<void>;
}

export function armLinkOf(estate: RunningEstate, instance: string, database: string): any {
  const mi = estate.instances.all().find((m) => m.name === instance)!;
  return estate.links.get(mi, `DAG1_${database}`);
}

/** Starts the estate, links the three databases with milink, and watches every link evaluation from then on. */
export async function certificateBed(): Promise<CertificateBed> {
  const clock = new VirtualClock('2026-11-22T08:00:00Z');
  const estate = await startEstate(certificateSpec(), { clock, retryAfterSeconds: 0 });
  const dirs: string[] = [];
  const hosts: Bed[] = [];
  const bed: CertificateBed = {
    estate,
    clock,
    dirs,
    trouble: [],
    certificates: new Map(),
    watching: false,
    async host(reuse?: string) {
      const dir = reuse ?? mkdtempSync(join(tmpdir(), 'milink-certificates-'));
      if (!reuse) dirs.push(dir);
      const h = await startHostOn(estate, { clock, dir });
      hosts.push(h);
      return h;
    },
    async close() {
      await Promise.allSettled(hosts.map((h) => h.close()));
      await estate.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
  const first = await bed.host();
  for (const [instance, database] of LINKS) {
    const created = await first.api('POST', '/api/links', linkRequest(instance, database));
    expect(created.status, created.text).toBe(202);
    const status = await first.finish(created.json.instanceId, 120_000);
    expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
  }
  await first.close();

  const links = estate.links;
  const advance = links.advance.bind(links);
  links.advance = () => {
    advance();
    if (!bed.watching) return;
    for (const [instance, database] of LINKS) {
      const body = armLinkOf(estate, instance, database);
      const db = body?.properties?.databases?.[0];
      const seen: LinkSeen = {
        at: clock.now().toISOString(),
        link: `${instance}/DAG1_${database}`,
        connected: db?.connectedState,
        health: db?.synchronizationHealth,
        certificate: db?.partnerAuthCertValidity?.certificateName,
        ...(db?.mostRecentLinkError ? { error: db.mostRecentLinkError } : {}),
      };
      if (seen.certificate) {
        const names = bed.certificates.get(seen.link) ?? new Set<string>();
        names.add(seen.certificate);
        bed.certificates.set(seen.link, names);
      }
      if (seen.connected !== 'CONNECTED' || seen.health !== 'HEALTHY') bed.trouble.push(seen);
    }
  };
  return bed;
}

/** The SQL Server's certificates in master, with or without a private key. */
export function serverCertificates(estate: RunningEstate) {
  return estate.sqlServers.get('SQLBOX1')!.state.certificates.map((c) => ({
    name: c.name,
    privateKey: c.pvtKeyEncryptionType === 'MK',
    expiry: c.expiryDate.toISOString(),
  }));
}

/** What each instance trusts: trust names. */
export function trustsOf(estate: RunningEstate, instance: string): string[] {
  const mi = estate.instances.all().find((m) => m.name === instance)!;
  return [...mi.serverTrustCertificates.values()].map((t) => t.name).sort();
}

export function endpointCertificate(estate: RunningEstate): string | undefined {
  return estate.sqlServers.get('SQLBOX1')!.state.endpoint?.certificateName ?? undefined;
}
