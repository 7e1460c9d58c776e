/**
 * Shared seeding bandwidth: with `timing.serverSeedingMBps` (or `instanceSeedingMBps`), the links seeding
 * through one SQL Server (or one instance) at the same time share its bandwidth fairly, recomputed whenever a
 * link starts or ends seeding, so many links together take total MB / bandwidth and no less. Without those
 * settings each link seeds at `seedingMBps` on its own, as before. Links are made by hand (the runbook's
 * T-SQL through mssql, the PUT through the ARM pipeline) and read back through ARM and the seeding DMVs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../local/sim/clock.js';
import { startEstate, type RunningEstate } from '../../../local/sim/estate/estate.js';
import type { LinkTiming, SimLink } from '../../../local/sim/estate/links.js';
import type { EstateSpec } from '../../../local/sim/estate/spec.js';
import { ByHand } from './by-hand.js';
import { establishTrust, SUB } from './link-setup.js';

const spec: EstateSpec = {
  sqlServers: [
    {
      serverName: 'SQLBOX2',
      host: 'sqlbox2.contoso.local',
      endpointAddress: '10.0.0.5',
      version: 2022,
      cu: 13,
      logins: [{ name: 'milink_admin', password: 'Pw-box2!', serverRoles: ['sysadmin'] }],
      databases: [
        { name: 'Alpha', fullBackup: true, sizeMb: 1000 },
        { name: 'Bravo', fullBackup: true, sizeMb: 1000 },
      ],
    },
  ],
  managedInstances: [{ subscriptionId: SUB, resourceGroup: 'rg-data', name: 'mi-prod' }],
  keyVault: { secrets: { 'sqlbox2-login': 'Pw-box2!', 'master-key': 'Mk-Secret#1' } },
};

let estate: RunningEstate | undefined;
let h: ByHand | undefined;

afterEach(async () => {
  await h?.close();
  await estate?.close();
  h = undefined;
  estate = undefined;
});

/** An estate with the runbook's trust and endpoint done on SQLBOX2, at the given timing. */
async function bed(
  timing: Partial<LinkTiming>,
): Promise<{ h: ByHand; clock: VirtualClock; estate: RunningEstate }> {
  const clock = new VirtualClock('2026-11-22T08:00:00Z');
  estate = await startEstate(spec, { clock, retryAfterSeconds: 0, timing });
  h = new ByHand(estate, clock);
  await establishTrust(h, 'SQLBOX2');
  return { h, clock, estate };
}

/** AG, DAG and the link's PUT for one database (not waited for). */
async function put(h: ByHand, database: string): Promise<string> {
  const names = { database, ag: `AG_${database}`, instanceAg: `AG_${database}_MI`, dag: `DAG1_${database}` };
  await h.availabilityGroups('SQLBOX2', { ...names, address: '10.0.0.5', port: 5022 });
  const path = `${h.miPath}/distributedAvailabilityGroups/${names.dag}`;
  const answer = await h.raw('PUT', path, {
    properties: {
      instanceLinkRole: 'Secondary',
      partnerAvailabilityGroupName: names.ag,
      instanceAvailabilityGroupName: names.instanceAg,
      partnerEndpoint: 'TCP://10.0.0.5:5022',
      failoverMode: 'Manual',
      seedingMode: 'Automatic',
      databases: [{ databaseName: database }],
    },
  });
  expect(answer.status).toBe(201);
  return path;
}

const link = (estate: RunningEstate, name: string): SimLink =>
  estate.links.all().find((l) => l.name === name)!;
const seconds = (from: Date | undefined, to: Date | undefined) => (to!.getTime() - from!.getTime()) / 1000;

async function progress(h: ByHand, path: string): Promise<string> {
  return (await h.raw('GET', path)).body.properties.databases[0].seedingProgress as string;
}

describe('shared seeding bandwidth', () => {
  it('two links on one SQL Server seed at half speed each; together they take total MB / bandwidth', async () => {
    const { h, clock, estate } = await bed({ seedingMBps: 20, serverSeedingMBps: 20 });
    const alpha = await put(h, 'Alpha');
    const bravo = await put(h, 'Bravo');
    clock.advance(30_000 + 50_000); // both join after 30 s, then seed for 50 s at 10 MB/s: 500 of 1,000 MB
    expect(await progress(h, alpha)).toBe('50%');
    expect(await progress(h, bravo)).toBe('50%');
    // the seeding DMVs say the same: half the bytes, at half the rate, ending when ARM says
    const seeding = (
      await h.run(
        'SQLBOX2',
        `SELECT local_database_name, transferred_size_bytes, database_size_bytes, transfer_rate_bytes_per_second
         FROM sys.dm_hadr_physical_seeding_stats ORDER BY local_database_name`,
      )
    ).recordset as Array<Record<string, number | string>>;
    expect(seeding.map((r) => Number(r.transferred_size_bytes) / Number(r.database_size_bytes))).toEqual([
      0.5, 0.5,
    ]);
    expect(seeding.map((r) => Number(r.transfer_rate_bytes_per_second))).toEqual([
      10 * 1024 * 1024,
      10 * 1024 * 1024,
    ]);
    clock.advance(60_000);
    estate.advance();
    const a = link(estate, 'DAG1_Alpha');
    const b = link(estate, 'DAG1_Bravo');
    expect(a.phase).toBe('Synchronized');
    expect(seconds(a.seedStart, a.seedEnd)).toBe(100);
    expect(seconds(b.seedStart, b.seedEnd)).toBe(100);
    // the physical limit: 2,000 MB through 20 MB/s, then the catch-up
    expect(seconds(a.joinAt, b.catchupEnd)).toBe(2000 / 20 + 5);
  });

  it('re-shares when a link starts or ends seeding: the first slows when the second joins, the second speeds up when the first ends', async () => {
    const { h, clock, estate } = await bed({ seedingMBps: 20, serverSeedingMBps: 20 });
    await put(h, 'Alpha');
    clock.advance(25_000);
    const bravo = await put(h, 'Bravo');
    // Alpha seeds alone from 30 s to 55 s (500 MB), then both share 20 MB/s: Alpha's other 500 MB take 50 s
    clock.advance(30_000 + 50_000);
    estate.advance();
    const a = link(estate, 'DAG1_Alpha');
    expect(seconds(a.seedStart, a.seedEnd)).toBe(75);
    expect(a.phase).toBe('Catchup');
    // Bravo had 500 MB at 10 MB/s, then seeds alone at 20 MB/s: its last 500 MB take 25 s
    expect(await progress(h, bravo)).toBe('50%');
    clock.advance(30_000);
    estate.advance();
    const b = link(estate, 'DAG1_Bravo');
    expect(seconds(b.seedStart, b.seedEnd)).toBe(75);
    expect(seconds(a.seedStart, b.seedEnd)).toBe(2000 / 20);
  });

  it("an instance's bandwidth is shared the same way, and a link never seeds faster than its own seedingMBps", async () => {
    const { h, clock, estate } = await bed({ seedingMBps: 4, instanceSeedingMBps: 20 });
    await put(h, 'Alpha');
    await put(h, 'Bravo');
    clock.advance(30_000 + 300_000);
    estate.advance();
    // a share of 10 MB/s each, capped at the link's own 4 MB/s: 1,000 MB in 250 s
    for (const name of ['DAG1_Alpha', 'DAG1_Bravo'])
      expect(seconds(link(estate, name).seedStart, link(estate, name).seedEnd)).toBe(250);
  });

  it('without shared bandwidth each link seeds at seedingMBps on its own, as before', async () => {
    const { h, clock, estate } = await bed({ seedingMBps: 20 });
    await put(h, 'Alpha');
    await put(h, 'Bravo');
    clock.advance(30_000 + 60_000);
    estate.advance();
    for (const name of ['DAG1_Alpha', 'DAG1_Bravo']) {
      const l = link(estate, name);
      expect(seconds(l.seedStart, l.seedEnd)).toBe(50);
      expect(l.seedRate).toBeUndefined();
    }
  });
});
