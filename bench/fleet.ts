/**
 * Benchmark: a fleet of 1, 50 and 200 databases of one SQL Server linked in one request, against the estate's physical
 * limit and against the runbook done database by database by a plain script. Azure allows 100 links per instance
 * (milink's preflight refuses the 101st), so up to 100 databases go to one instance and 200 to two (a batch of two
 * pairs, 100 databases each).
 *
 *   npx tsx bench/fleet.ts [--sizes 1,50,200] [--baseline 1,50] [--db-mb 10240] [--mbps 20] [--bandwidth 1000]
 *                          [--concurrency 100]
 *
 * Each run in this one process, on its own virtual clock and its own generated estate (`linkState: 'none'`, every
 * database --db-mb): one seeding stream moves at most --mbps MB per simulated second, and the SQL Server's and the
 * instance's links each carry --bandwidth MB/s shared fairly by the links seeding through them (the estate's
 * `serverSeedingMBps` / `instanceSeedingMBps`).
 * - milink: `POST /api/fleets` on the local host with production settings and the fleet's concurrency per SQL Server
 *   and per instance at --concurrency; its time runs from the POST to the fleet's completion.
 * - the physical limit: the link's creation + the seeding no schedule can beat (each stream at most --mbps, all
 *   streams through one SQL Server or one instance together at most --bandwidth) + the catch-up.
 * - the sequential baseline (bench/sequential-baseline.ts): each database's runbook to a healthy link before the next.
 * Also counted by the stand-ins: every CREATE of a shared object sent to SQL Server (master key, SQL Server's
 * certificate, each instance's certificate, the two roots, the endpoint) and the certificate uploads to the instances.
 * Writes bench/results/fleet.json and .md.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { milinkHostOn } from './lib/milink-host.js';
import { VirtualClock } from '../local/sim/clock.js';
import { startEstate, type RunningEstate } from '../local/sim/estate/estate.js';
import { expandGeneratedSpec } from '../local/sim/estate/generate.js';
import type { JournalEntry } from '../local/sim/sqlserver/index.js';
import { SequentialRunbook } from './sequential-baseline.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1,50,200' },
    baseline: { type: 'string', default: '1,50' },
    'db-mb': { type: 'string', default: '10240' },
    mbps: { type: 'string', default: '20' },
    bandwidth: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '100' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const baselineSizes = new Set(values.baseline.split(',').filter(Boolean).map(Number));
const dbMb = Number(values['db-mb']);
const mbps = Number(values.mbps);
const bandwidth = Number(values.bandwidth);
const concurrency = Number(values.concurrency);

/** Azure's documented limit of links per instance. */
const LINKS_PER_INSTANCE = 100;
const instance = (i: number) => ({
  subscriptionId: '00000000-0000-0000-0000-000000000001',
  resourceGroup: 'rg-estate',
  name: `mi-${String(i + 1).padStart(2, '0')}`,
});
const SQL = {
  host: 'sql001.contoso.local',
  login: 'milink_admin',
  loginSecret: 'sql001-login',
  masterKeySecret: 'sql001-master-key',
};
const EXPIRY = '2027-11-30';
const BACKUPS = '/var/opt/mssql/backup/';

const databasesOf = (n: number) => Array.from({ length: n }, (_, i) => `Db${String(i + 1).padStart(4, '0')}`);
const instancesFor = (n: number) => Math.ceil(n / LINKS_PER_INSTANCE);
/** The databases going to instance i: 100 per instance, in order. */
const databasesFor = (n: number, i: number) =>
  databasesOf(n).slice(i * LINKS_PER_INSTANCE, (i + 1) * LINKS_PER_INSTANCE);

async function estateFor(n: number): Promise<{ estate: RunningEstate; clock: VirtualClock }> {
  const clock = new VirtualClock('2026-11-22T08:00:00Z');
  const { spec } = expandGeneratedSpec({
    generate: {
      sqlServers: 1,
      instances: instancesFor(n),
      links: n,
      linkState: 'none',
      databaseSizeMb: dbMb,
    },
  });
  const estate = await startEstate(spec, {
    clock,
    retryAfterSeconds: 0,
    timing: { seedingMBps: mbps, serverSeedingMBps: bandwidth, instanceSeedingMBps: bandwidth },
  });
  return { estate, clock };
}

/**
 * What no schedule can beat on this estate: creation, then the seeding the bandwidth allows (one stream's size at its
 * own rate; all of the SQL Server's bytes through its bandwidth; each instance's through its own), then the catch-up.
 */
function physicalLimitS(estate: RunningEstate): number {
  const links = estate.links.all();
  const mb = (l: (typeof links)[number]) => l.sizeBytes / (1024 * 1024);
  const sum = (ls: typeof links) => ls.reduce((a, l) => a + mb(l), 0);
  const perInstance = [...new Set(links.map((l) => l.mi))].map((mi) => sum(links.filter((l) => l.mi === mi)));
  const seeding = Math.max(
    Math.max(...links.map(mb)) / mbps,
    sum(links) / bandwidth,
    ...perInstance.map((t) => t / bandwidth),
  );
  return estate.links.timing.creationSeconds + seeding + estate.links.timing.catchupSeconds;
}

/** How many batches sent to SQL Server asked to create each shared object (guarded or not). */
function sharedCreates(journal: JournalEntry[], fqdns: string[]): Record<string, number> {
  const count = (re: RegExp) => journal.filter((e) => re.test(e.text.replace(/--[^\n]*/g, ' '))).length;
  const esc = (fqdn: string) => fqdn.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return {
    'master key': count(/\bCREATE\s+MASTER\s+KEY\b/i),
    'SQL Server certificate': count(/\bCREATE\s+CERTIFICATE\s+\[Cert_SQL001_endpoint\]/i),
    ...Object.fromEntries(
      fqdns.map((fqdn) => [
        `certificate ${fqdn.split('.')[0]}`,
        count(new RegExp(`\\bCREATE\\s+CERTIFICATE\\s+\\[${esc(fqdn)}\\]`, 'i')),
      ]),
    ),
    'MicrosoftPKI root': count(/\bCREATE\s+CERTIFICATE\s+\[MicrosoftPKI\]/i),
    'DigiCertPKI root': count(/\bCREATE\s+CERTIFICATE\s+\[DigiCertPKI\]/i),
    endpoint: count(/\bCREATE\s+ENDPOINT\b/i),
  };
}

interface Side {
  totalS: number;
  healthy: number;
  creates: Record<string, number>;
  trustUploads: number;
  sqlRoundTrips: number;
  armRequests: number;
  keyVaultReads: number;
  wallMs: number;
}

function facts(estate: RunningEstate, startedAt: number, endedAt: number, wallStart: number): Side {
  const server = estate.sqlServers.get('SQL001')!;
  const fqdns = estate.connection.managedInstances.map((m) => m.fqdn);
  estate.advance();
  return {
    totalS: (endedAt - startedAt) / 1000,
    healthy: estate.links.all().filter((l) => l.phase === 'Synchronized').length,
    creates: sharedCreates(server.journal, fqdns),
    trustUploads: estate.arm.journal.filter(
      (r) => r.method === 'PUT' && /serverTrustCertificates/.test(r.path),
    ).length,
    sqlRoundTrips: server.counters.roundTrips,
    armRequests: estate.arm.journal.length,
    keyVaultReads: estate.keyVault.journal.filter((r) => r.method === 'GET' && r.status === 200).length,
    wallMs: Math.round(performance.now() - wallStart),
  };
}

async function milink(n: number): Promise<Side & { limitS: number }> {
  const wallStart = performance.now();
  const { estate, clock } = await estateFor(n);
  const dir = mkdtempSync(join(tmpdir(), 'milink-fleet-'));
  const host = await milinkHostOn(estate, clock, dir, {
    MILINK_FLEET_PER_SERVER: String(concurrency),
    MILINK_FLEET_PER_INSTANCE: String(concurrency),
  });
  try {
    const pairs = Array.from({ length: instancesFor(n) }, (_, i) => ({
      sqlServer: {
        ...SQL,
        endpointAddress: estate.connection.sqlServers[0]!.endpointAddress,
        tls: { encrypt: false, trustServerCertificate: true },
      },
      managedInstance: instance(i),
      databases: databasesFor(n, i),
      initialPrimary: 'SqlServer',
      certificateExpiry: EXPIRY,
      backupPath: BACKUPS,
    }));
    const startedAt = clock.now().getTime();
    const res = await fetch(`${host.baseUrl}/api/fleets`, {
      method: 'POST',
      headers: { 'x-functions-key': host.functionKey, 'content-type': 'application/json' },
      body: JSON.stringify(pairs.length === 1 ? pairs[0] : { batch: pairs }),
    });
    const posted = (await res.json()) as { instanceId: string };
    if (res.status !== 202) throw new Error(`POST /api/fleets: ${res.status} ${JSON.stringify(posted)}`);
    await host.client.waitForCompletion(posted.instanceId, { timeoutMs: 3_600_000 });
    const fleet = (await (
      await fetch(`${host.baseUrl}/api/fleets/${posted.instanceId}`, {
        headers: { 'x-functions-key': host.functionKey },
      })
    ).json()) as { runtimeStatus: string; lastUpdatedTime: string; counts: Record<string, number> };
    if (fleet.runtimeStatus !== 'Completed' || fleet.counts['succeeded'] !== n)
      throw new Error(`fleet of ${n}: ${JSON.stringify(fleet)}`);
    const endedAt = new Date(fleet.lastUpdatedTime).getTime();
    return { ...facts(estate, startedAt, endedAt, wallStart), limitS: physicalLimitS(estate) };
  } finally {
    await host.close();
    await estate.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function sequential(n: number): Promise<Side> {
  const wallStart = performance.now();
  const { estate, clock } = await estateFor(n);
  try {
    const script = new SequentialRunbook({
      connection: estate.connection,
      clock,
      sqlHost: SQL.host,
      login: SQL.login,
      loginSecret: SQL.loginSecret,
      masterKeySecret: SQL.masterKeySecret,
      instance: instance(0),
      endpointPort: 5022,
      backupPath: BACKUPS,
      certificateExpiry: EXPIRY,
      lookSeconds: 5,
    });
    const startedAt = clock.now().getTime();
    const links = await script.linkAll(databasesOf(n));
    const endedAt = links.at(-1)!.healthyAt.getTime();
    return facts(estate, startedAt, endedAt, wallStart);
  } finally {
    await estate.close();
  }
}

interface Row {
  databases: number;
  limitS: number;
  milink: Side;
  ratioToLimit: number;
  baseline?: Side;
  speedUp?: number;
}

const rows: Row[] = [];
for (const n of sizes) {
  const baseline = baselineSizes.has(n) ? await sequential(n) : undefined;
  const m = await milink(n);
  const { limitS, ...side } = m;
  rows.push({
    databases: n,
    limitS,
    milink: side,
    ratioToLimit: Number((side.totalS / limitS).toFixed(3)),
    ...(baseline ? { baseline, speedUp: Number((baseline.totalS / side.totalS).toFixed(1)) } : {}),
  });
  console.log(JSON.stringify(rows.at(-1)));
}

const result = {
  node: process.version,
  databaseMb: dbMb,
  streamMBps: mbps,
  bandwidthMBps: bandwidth,
  concurrency,
  rows,
};
writeFileSync(join(here, 'results/fleet.json'), `${JSON.stringify(result, null, 2)}\n`);
const creates = (s: Side) =>
  `${
    Object.values(s.creates).every((c) => c === 1)
      ? `each 1 (${Object.keys(s.creates).length} objects)`
      : Object.entries(s.creates)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')
  }; uploads ${s.trustUploads}`;
const perDatabase = (s: Side, n: number) =>
  [s.sqlRoundTrips, s.armRequests, s.keyVaultReads].map((x) => (x / n).toFixed(1)).join(' / ');
const md = [
  '# A fleet in one request: the physical limit and the sequential baseline',
  '',
  `One SQL Server; up to 100 databases to one instance, 200 to two (100 each: Azure allows 100 links per instance), in`,
  `one request; every database ${dbMb >= 1024 ? `${dbMb / 1024} GB` : `${dbMb} MB`}; one seeding stream at most`,
  `${mbps} MB/s, the SQL Server's and each instance's links ${bandwidth} MB/s, shared by the links seeding through them;`,
  `milink with production settings and at most ${concurrency} links in flight per SQL Server and per instance; virtual clock.`,
  'Physical limit: creation + max(size / stream, total / bandwidth per server and per instance) + catch-up.',
  'Baseline: the runbook database by database',
  '(bench/sequential-baseline.ts, a look every 5 s). Goals: ≤ 1.05× the limit; ≥ 30× the baseline at 50; each shared CREATE once.',
  'Requests per database: everything the stand-ins counted over the whole run (SQL round trips, ARM requests, Key',
  'Vault reads) divided by the databases.',
  '',
  '| databases | physical limit (s) | milink (s) | ratio | healthy | baseline (s) | speed-up | shared CREATEs milink | shared CREATEs baseline | SQL / ARM / Key Vault per database, milink | the same, baseline | wall milink / baseline (s) |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.databases} | ${r.limitS} | ${r.milink.totalS} | ${r.ratioToLimit}× | ${r.milink.healthy}/${r.databases} | ${r.baseline?.totalS ?? '—'} | ${r.speedUp !== undefined ? `${r.speedUp}×` : '—'} | ${creates(r.milink)} | ${r.baseline ? creates(r.baseline) : '—'} | ${perDatabase(r.milink, r.databases)} | ${r.baseline ? perDatabase(r.baseline, r.databases) : '—'} | ${(r.milink.wallMs / 1000).toFixed(1)} / ${r.baseline ? (r.baseline.wallMs / 1000).toFixed(1) : '—'} |`,
  ),
  '',
].join('\n');
writeFileSync(join(here, 'results/fleet.md'), md);
console.log(md);
process.exit(0);
