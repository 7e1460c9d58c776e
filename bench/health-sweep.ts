/**
 * Benchmark: the nightly health sweep at 10, 100 and 1,000 links, side by side in this one process.
 *
 *   npx tsx bench/health-sweep.ts [--sizes 10:1:1,100:10:10,1000:100:10] [--page 50] [--concurrency 16]
 *
 * Each size is `links:sqlServers:instances`: a generated estate (links pre-made and synchronized), milink's app on
 * the local host with Azurite (queues, tables, blobs), the inventory written as adoption writes it, then the
 * nightly timer fired twice (night 1 opens the SQL sessions; night 2 reuses them, as a warm Functions instance
 * would). Timed from the timer to the orchestration's completion: inventory read, one activity per SQL Server
 * (one health batch) and per instance (one ARM list with its pages, and the instance), the report built, stored
 * in Blob Storage and compared with the previous night. The stand-ins count what was asked: T-SQL round trips
 * per server and ARM list pages per instance. Writes bench/results/health-sweep.json and .md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startLocalHost } from '../local/host/host.js';
import { FAST_RETRY_SETTINGS, milinkSettingsFor } from '../local/host/milink-settings.js';
import { VirtualClock } from '../local/sim/clock.js';
import { startEstate, type EstateSpec } from '../local/sim/estate/estate.js';
import { InventoryStore } from '../src/inventory/store.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10:1:1,100:10:10,1000:100:10' },
    page: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '16' },
  },
});
const sizes = values.sizes.split(',').map((s) => {
  const [links, servers, instances] = s.split(':').map(Number);
  return { links: links!, servers: servers!, instances: instances! };
});
const pageSize = Number(values.page);
const concurrency = Number(values.concurrency);
const SUB = '00000000-0000-0000-0000-000000000001';
const GOAL_MS = 20_000;

async function pool(count: number, width: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker));
}

interface Night {
  ms: number;
  /** The orchestration's history at its end (what each replay reads back). */
  historyBytes: number;
  /** The machine's 1-minute load average as the sweep started (other work on the same 2 cores shows here). */
  load: number;
  /** From the timer until every server and instance was read (the rest: the report, stored and compared). */
  readsMs: number;
  /** The report activity's phases, as it logs them. */
  reportPhases: string;
  roundTripsPerServer: { min: number; max: number };
  loginsPerServer: { min: number; max: number };
  listPagesPerInstance: { min: number; max: number };
  instanceGets: number;
  findings: number;
  /** Messages put on link-alerts (the local host writes them one by one to Azurite). */
  alerts: number;
  replays: number;
}

interface Row {
  links: number;
  sqlServers: number;
  instances: number;
  expectedPagesPerInstance: number;
  estateStartMs: number;
  inventoryWriteMs: number;
  night1: Night;
  night2: Night;
  msPerLink: number;
  perLinkRatioToSmallest: number;
  reportBytes: number;
  /** Night 2's findings by check id. */
  night2Checks: Record<string, number>;
}

const minMax = (xs: number[]) => ({ min: Math.min(...xs), max: Math.max(...xs) });

async function runSize(size: { links: number; servers: number; instances: number }): Promise<Row> {
  const reportPhases: string[] = [];
  const clock = new VirtualClock('2026-11-22T01:59:00Z');
  let t = performance.now();
  const estate = await startEstate(
    {
      generate: { sqlServers: size.servers, instances: size.instances, links: size.links },
    } as unknown as EstateSpec,
    { clock, retryAfterSeconds: 0, armListPageSize: pageSize },
  );
  const estateStartMs = performance.now() - t;
  const dir = mkdtempSync(join(tmpdir(), 'milink-bench-health-'));
  const host = await startLocalHost({
    stateDir: join(dir, 'host'),
    clock,
    queues: 'azurite-memory',
    env: {
      ...milinkSettingsFor(estate.connection, dir),
      ...FAST_RETRY_SETTINGS,
      MILINK_HEALTH_CONCURRENCY: String(concurrency),
    },
    // the report activity's own account of its time (loaded, checked, stored, reads removed)
    log: (line) => {
      const m = /health \d{4}-\d{2}-\d{2}: .*\((reads and the previous report loaded in .*)\)/.exec(line);
      if (m) reportPhases.push(m[1]!);
    },
    onClockAdvance: () => estate.advance(),
  });
  try {
    // the inventory as POST /api/links/adopt writes it (one record per link, secret names only)
    const store = InventoryStore.fromConnectionString(host.storageConnectionString!, 'milinkinventory', {
      allowInsecureConnection: true,
    });
    const servers = estate.connection.sqlServers;
    const width = Math.max(3, String(size.servers).length);
    const dbWidth = Math.max(4, String(size.links).length);
    t = performance.now();
    await store.ensureTable();
    await pool(size.links, 32, async (k) => {
      const s = k % size.servers;
      const server = servers.find((x) => x.serverName === `SQL${String(s + 1).padStart(width, '0')}`)!;
      const database = `Db${String(k + 1).padStart(dbWidth, '0')}`;
      const instance = `mi-${String((s % size.instances) + 1).padStart(2, '0')}`;
      const at = clock.now().toISOString();
      await store.upsert({
        instance,
        linkName: `DAG1_${database}`,
        sqlServer: server.serverName,
        database,
        request: {
          sqlServer: {
            host: server.host,
            port: 1433,
            endpointAddress: server.endpointAddress,
            endpointPort: 5022,
            login: 'milink_admin',
            loginSecret: `${server.serverName.toLowerCase()}-login`,
            masterKeySecret: `${server.serverName.toLowerCase()}-master-key`,
            tls: { encrypt: false, trustServerCertificate: true },
          },
          managedInstance: { subscriptionId: SUB, resourceGroup: 'rg-estate', name: instance },
          database,
          initialPrimary: 'SqlServer',
          failoverMode: 'None',
          certificateExpiry: '2030-01-01',
        },
        lastOperation: { kind: 'adopt', status: 'succeeded', at },
        state: 'adopted',
        updatedAt: at,
      });
    });
    const inventoryWriteMs = performance.now() - t;

    const night = async (): Promise<Night> => {
      for (const s of estate.sqlServers.values()) s.counters.reset();
      estate.arm.journal.length = 0;
      const replays = host.stats.replays;
      const load = loadavg()[0]!;
      const start = performance.now();
      // when the reads end: the orchestration's status moves to its report phase
      let readsMs = 0;
      const watch = setInterval(() => {
        void host.client.getStatus('milink-health-sweep').then((st) => {
          const phase = (st?.customStatus as { phase?: string } | undefined)?.phase;
          if (!readsMs && (phase === 'report' || phase === 'alerts' || phase === 'done'))
            readsMs = performance.now() - start;
        });
      }, 20);
      await host.fireTimer('healthSweepTimer');
      const done = await host.client.waitForCompletion('milink-health-sweep', { timeoutMs: 600_000 });
      clearInterval(watch);
      const ms = performance.now() - start;
      if (done.runtimeStatus !== 'Completed')
        throw new Error(`sweep ${done.runtimeStatus}: ${String(done.output)}`);
      const history = await host.client.getStatus('milink-health-sweep', { showHistory: true });
      const historyBytes = JSON.stringify(history?.history ?? []).length;
      const output = done.output as {
        summary: { critical: number; warning: number; info: number };
        alerts: number;
      };
      const counters = [...estate.sqlServers.values()].map((s) => s.counters);
      const lists = new Map<string, number>();
      let instanceGets = 0;
      for (const j of estate.arm.journal) {
        const m = /\/managedInstances\/([^/]+)(\/distributedAvailabilityGroups)?$/.exec(j.path);
        if (j.method !== 'GET' || !m) continue;
        if (m[2]) lists.set(m[1]!, (lists.get(m[1]!) ?? 0) + 1);
        else instanceGets++;
      }
      return {
        ms,
        load,
        historyBytes,
        readsMs: readsMs || ms,
        reportPhases: reportPhases.at(-1) ?? '',
        roundTripsPerServer: minMax(counters.map((c) => c.roundTrips)),
        loginsPerServer: minMax(counters.map((c) => c.logins)),
        listPagesPerInstance: minMax([...lists.values()]),
        instanceGets,
        findings: output.summary.critical + output.summary.warning + output.summary.info,
        alerts: output.alerts,
        replays: host.stats.replays - replays,
      };
    };
    const night1 = await night();
    host.advance(24 * 3600_000);
    estate.advance();
    const night2 = await night();
    const latest = await fetch(`${host.baseUrl}/api/health`, {
      headers: { 'x-functions-key': host.functionKey },
    });
    const text = await latest.text();
    const reportBytes = text.length;
    const checks: Record<string, number> = {};
    for (const f of (JSON.parse(text) as { findings: Array<{ checkId: string }> }).findings)
      checks[f.checkId] = (checks[f.checkId] ?? 0) + 1;
    const linksPerInstance = Math.ceil(size.links / Math.min(size.instances, size.servers));
    return {
      links: size.links,
      sqlServers: size.servers,
      instances: Math.min(size.instances, size.servers),
      expectedPagesPerInstance: Math.max(1, Math.ceil(linksPerInstance / pageSize)),
      estateStartMs,
      inventoryWriteMs,
      night1,
      night2,
      msPerLink: night2.ms / size.links,
      perLinkRatioToSmallest: 0,
      reportBytes,
      night2Checks: checks,
    };
  } finally {
    await host.close();
    await estate.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
for (const size of sizes) {
  process.stdout.write(
    `health sweep: ${size.links} links on ${size.servers} servers / ${size.instances} instances … `,
  );
  const row = await runSize(size);
  rows.push(row);
  process.stdout.write(`night 1 ${row.night1.ms.toFixed(0)} ms, night 2 ${row.night2.ms.toFixed(0)} ms\n`);
}
const smallest = rows[0]!.msPerLink;
for (const r of rows) r.perLinkRatioToSmallest = r.msPerLink / smallest;

const f0 = (x: number) => x.toFixed(0);
const f2 = (x: number) => x.toFixed(2);
const range = (r: { min: number; max: number }) => (r.min === r.max ? String(r.min) : `${r.min}–${r.max}`);
const cpu = cpus();
const md = `# Health sweep: 10 to 1,000 links

Node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? 'CPU'}, ${new Date().toISOString()}. All sizes in this one
process, one after another. Each size: a generated estate (links synchronized), milink on the local host with Azurite,
the inventory written as adoption writes it, the nightly timer fired twice. Timed from the timer to the
orchestration's completion (inventory read, one activity per SQL Server and per instance at most ${concurrency} at a
time, the report built, stored and compared with the previous night). Night 1 opens the SQL sessions; night 2
reuses them. ARM lists in pages of ${pageSize}. Goal: 1,000 links in ≤ ${GOAL_MS / 1000} s. The load average
column shows other work sharing the machine's cores (above ${cpu.length}, the sweep waited for a CPU).

| links | SQL Servers | instances | night 1 ms | night 2 ms (reads + report) | ms per link (night 1 / 2) | per link ÷ ${rows[0]!.links}-link run (night 1 / 2) | T-SQL round trips per server (night 1 / 2) | logins per server (night 1 / 2) | list pages per instance (expected) | instance GETs | findings (night 1 / 2) | alerts (night 1 / 2) | report bytes | history bytes | load average (night 1 / 2) |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${rows
  .map(
    (r) =>
      `| ${r.links} | ${r.sqlServers} | ${r.instances} | ${f0(r.night1.ms)} | ${f0(r.night2.ms)} (${f0(r.night2.readsMs)} + ${f0(r.night2.ms - r.night2.readsMs)}) | ${f2(r.night1.ms / r.links)} / ${f2(r.msPerLink)} | ${f2(r.night1.ms / r.links / (rows[0]!.night1.ms / rows[0]!.links))} / ${f2(r.perLinkRatioToSmallest)} | ${range(r.night1.roundTripsPerServer)} / ${range(r.night2.roundTripsPerServer)} | ${range(r.night1.loginsPerServer)} / ${range(r.night2.loginsPerServer)} | ${range(r.night2.listPagesPerInstance)} (${r.expectedPagesPerInstance}) | ${r.night2.instanceGets} | ${r.night1.findings} / ${r.night2.findings} | ${r.night1.alerts} / ${r.night2.alerts} | ${r.reportBytes} | ${r.night2.historyBytes} | ${r.night1.load.toFixed(1)} / ${r.night2.load.toFixed(1)} |`,
  )
  .join('\n')}

Round trips: night 2 is the sweep's own read, one health batch per server. Night 1 adds the driver's session setup:
mssql opens two connections on a session's first batch (its pool's connect and the request's own), and tedious sends
one \`SET\` options batch after each login. Night 2's findings by check: ${rows
  .map((r) => `${r.links} links: ${JSON.stringify(r.night2Checks)}`)
  .join(
    '; ',
  )} — a day has passed without a log backup on any database (\`log-backup-age\`, BP), as the check means to say.

Night 2 is the worst night for alerts: every link's finding is new, so the report phase includes writing one
queue message per link (the local host writes an output binding's messages one at a time). The report activity
at each size (night 2): ${rows.map((r) => `${r.links} links: ${r.night2.reportPhases}`).join('; ')}.

Largest run: ${f0(rows.at(-1)!.night1.ms)} ms (night 1), ${f0(rows.at(-1)!.night2.ms)} ms (night 2) for ${rows.at(-1)!.links}
links = ${f2(rows.at(-1)!.night2.ms / GOAL_MS)} of the ${GOAL_MS / 1000} s goal. Per-link time ÷ the smallest run's
below 1 means the sweep grows slower than the number of links (fixed costs spread over more links).
Not timed: estate start (${rows.map((r) => `${f0(r.estateStartMs)} ms`).join(', ')}) and writing the inventory
(${rows.map((r) => `${f0(r.inventoryWriteMs)} ms`).join(', ')}).
`;
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(
  join(here, 'results', 'health-sweep.json'),
  `${JSON.stringify({ pageSize, concurrency, rows }, null, 2)}\n`,
);
writeFileSync(join(here, 'results', 'health-sweep.md'), md);
process.stdout.write(md);
