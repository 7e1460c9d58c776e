/**
 * Benchmark: how close milink's createLink ends to the link's own critical path, for databases of 100 MB to 500 GB.
 *
 *   npx tsx bench/critical-path.ts [--sizes 100,1024,10240,102400,512000] [--mbps 20]
 *
 * For each size, in this one process and on a virtual clock: the simulated estate (the demo estate with SalesDb at
 * that size, seeding at --mbps MB per simulated second) and milink's app on the local host with production settings
 * (first look after 15 s, backoff to 5 min, the wait's own prediction from seeding's rate). The estate records its
 * critical path: from the link's PUT to its catch-up end. milink's wait ends when it sees the link healthy.
 * Reported side by side: the critical path, when milink saw the link done, their ratio (the overhead), the looks at
 * the link, and the orchestration's history events in all generations. Writes bench/results/critical-path.json and
 * .md.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { milinkHostOn } from './lib/milink-host.js';
import { VirtualClock } from '../local/sim/clock.js';
import { startEstate, type EstateSpec } from '../local/sim/estate/estate.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1024,10240,102400,512000' },
    mbps: { type: 'string', default: '20' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const mbps = Number(values.mbps);
const request = JSON.parse(readFileSync(join(root, 'examples/local-request.json'), 'utf8')) as Record<
  string,
  unknown
>;

interface Row {
  sizeMb: number;
  criticalPathS: number;
  milinkDoneS: number;
  overhead: number;
  looks: number;
  historyEvents: number;
  wallMs: number;
}

async function one(sizeMb: number): Promise<Row> {
  const started = performance.now();
  const spec = JSON.parse(readFileSync(join(root, 'local/sim/estates/demo.json'), 'utf8')) as EstateSpec;
  for (const db of spec.sqlServers[0]!.databases ?? []) if (db.name === 'SalesDb') db.sizeMb = sizeMb;
  const clock = new VirtualClock('2026-11-22T08:00:00Z');
  const estate = await startEstate(spec, { clock, retryAfterSeconds: 0, timing: { seedingMBps: mbps } });
  const dir = mkdtempSync(join(tmpdir(), 'milink-critical-'));
  const host = await milinkHostOn(estate, clock, dir);
  try {
    const res = await fetch(`${host.baseUrl}/api/links`, {
      method: 'POST',
      headers: { 'x-functions-key': host.functionKey, 'content-type': 'application/json' },
      body: JSON.stringify({ ...request, backupPath: '/var/opt/mssql/backup/' }),
    });
    const posted = (await res.json()) as { instanceId: string };
    await host.client.waitForCompletion(posted.instanceId, { timeoutMs: 600_000 });
    const status = (await (
      await fetch(`${host.baseUrl}/api/links/${posted.instanceId}`, {
        headers: { 'x-functions-key': host.functionKey },
      })
    ).json()) as { runtimeStatus: string; lastUpdatedTime: string; error?: unknown };
    if (status.runtimeStatus !== 'Completed') throw new Error(`${sizeMb} MB: ${JSON.stringify(status)}`);
    const link = estate.links.all()[0]!;
    const put = link.createdAt.getTime();
    const criticalPathS = (link.catchupEnd!.getTime() - put) / 1000;
    // the steps after the wait take no simulated time: the run ended at the wait's last look
    const milinkDoneS = (new Date(status.lastUpdatedTime).getTime() - put) / 1000;
    const putAt = estate.arm.journal.findIndex((r) => r.method === 'PUT' && /DAG1_SalesDb/.test(r.path));
    const looks = estate.arm.journal
      .slice(putAt + 1)
      .filter(
        (r) =>
          r.method === 'GET' && /\/distributedAvailabilityGroups\/DAG1_SalesDb$/.test(r.path.split('?')[0]!),
      ).length;
    return {
      sizeMb,
      criticalPathS,
      milinkDoneS,
      overhead: Number((milinkDoneS / criticalPathS).toFixed(3)),
      looks,
      historyEvents: host.stats.recordedEvents,
      wallMs: Math.round(performance.now() - started),
    };
  } finally {
    await host.close();
    await estate.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
for (const size of sizes) rows.push(await one(size));
const worst = Math.max(...rows.map((r) => r.overhead));
const result = { node: process.version, seedingMBps: mbps, rows, worstOverhead: worst };
writeFileSync(join(here, 'results/critical-path.json'), `${JSON.stringify(result, null, 2)}\n`);
const md = [
  "# createLink against the link's critical path",
  '',
  `Simulated seeding at ${mbps} MB/s; production settings; virtual clock. The critical path is the estate's own time`,
  "from the link's PUT to its catch-up end; milink is done when its wait's last look sees the link healthy.",
  `Worst overhead: ${worst}× (goal ≤ 1.02×). Looks: GETs of the link from the PUT on. History: events in all generations.`,
  '',
  '| database | critical path (s) | milink done (s) | overhead | looks | history events | wall (ms) |',
  '|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.sizeMb >= 1024 ? `${r.sizeMb / 1024} GB` : `${r.sizeMb} MB`} | ${r.criticalPathS} | ${r.milinkDoneS} | ${r.overhead}× | ${r.looks} | ${r.historyEvents} | ${r.wallMs} |`,
  ),
  '',
].join('\n');
writeFileSync(join(here, 'results/critical-path.md'), md);
console.log(md);
process.exit(0);
