/**
 * Benchmark: the local host's overhead on a fan-out of fixed-cost activities.
 *
 *   npx tsx bench/host-fanout.ts [--activities 100] [--cost-ms 20] [--concurrency 8,32,100] [--rounds 3]
 *
 * For each concurrency, in this one process and side by side: (a) the same activities run by a plain promise
 * pool of that concurrency (the activities' own time at that concurrency), (b) the orchestration on the local
 * host (replays with durable-functions' engine, every step persisted to disk). Reports wall time, the overhead
 * ratio (b ÷ a, and b ÷ the ideal ceil(n/c)·cost), replays and history events replayed. Writes
 * bench/results/host-fanout.json and .md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startLocalHost } from '../local/host/host.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    activities: { type: 'string', default: '100' },
    'cost-ms': { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '8,32,100' },
    rounds: { type: 'string', default: '3' },
  },
});
const n = Number(values.activities);
const costMs = Number(values['cost-ms']);
const concurrencies = values.concurrency.split(',').map(Number);
const rounds = Number(values.rounds);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function pool(count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

interface Row {
  concurrency: number;
  idealMs: number;
  baselineMs: number;
  hostMs: number;
  ratioToBaseline: number;
  ratioToIdeal: number;
  replays: number;
  historyEventsReplayed: number;
  finalHistoryLength: number;
  activityRuns: number;
}

const rows: Row[] = [];
for (const c of concurrencies) {
  const stateDir = mkdtempSync(join(tmpdir(), 'milink-bench-'));
  const host = await startLocalHost({
    entry: join(here, 'apps', 'fanout-app.ts'),
    stateDir,
    clock: 'real',
    queues: false,
    maxConcurrentActivities: c,
    log: () => {},
  });
  const baseline: number[] = [];
  const hosted: number[] = [];
  let replays = 0;
  let events = 0;
  let finalHistoryLength = 0;
  let activityRuns = 0;
  for (let r = 0; r < rounds; r++) {
    // (a) the activities alone at this concurrency
    let t0 = performance.now();
    await pool(n, c, () => sleep(costMs));
    baseline.push(performance.now() - t0);
    // (b) the same work as an orchestration on the host
    const before = { ...host.stats };
    t0 = performance.now();
    const id = await host.client.startNew('FanOut', { input: { count: n, costMs } });
    const status = await host.client.waitForCompletion(id, { timeoutMs: 600_000 });
    hosted.push(performance.now() - t0);
    if (status.output !== (n * (n - 1)) / 2) throw new Error(`wrong result ${JSON.stringify(status.output)}`);
    replays = host.stats.replays - before.replays;
    events = host.stats.historyEvents - before.historyEvents;
    activityRuns = host.stats.activityRuns - before.activityRuns;
    finalHistoryLength = (await host.client.getStatus(id, { showHistory: true }))!.history!.length;
  }
  await host.close();
  rmSync(stateDir, { recursive: true, force: true });
  const idealMs = Math.ceil(n / c) * costMs;
  const baselineMs = median(baseline);
  const hostMs = median(hosted);
  rows.push({
    concurrency: c,
    idealMs,
    baselineMs: Math.round(baselineMs * 10) / 10,
    hostMs: Math.round(hostMs * 10) / 10,
    ratioToBaseline: Math.round((hostMs / baselineMs) * 100) / 100,
    ratioToIdeal: Math.round((hostMs / idealMs) * 100) / 100,
    replays,
    historyEventsReplayed: events,
    finalHistoryLength,
    activityRuns,
  });
}

const result = {
  benchmark: 'host-fanout',
  date: new Date().toISOString(),
  node: process.version,
  activities: n,
  activityCostMs: costMs,
  rounds,
  statistic: 'median of rounds',
  rows,
};
const md = [
  `# Local host: fan-out of ${n} fixed-cost activities (${costMs} ms each)`,
  '',
  `Node ${process.version}, ${result.date}, median of ${rounds} rounds. Baseline = the same activities run by a`,
  'plain promise pool of the same concurrency, in the same process, alternating with the host runs.',
  'Overhead ratio = host wall time ÷ baseline wall time (and ÷ the ideal ceil(n/c)·cost).',
  '',
  '| concurrency | ideal ms | baseline ms | host ms | ratio (÷ baseline) | ratio (÷ ideal) | replays | history events replayed | final history length |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.concurrency} | ${r.idealMs} | ${r.baselineMs} | ${r.hostMs} | ${r.ratioToBaseline} | ${r.ratioToIdeal} | ${r.replays} | ${r.historyEventsReplayed} | ${r.finalHistoryLength} |`,
  ),
  '',
].join('\n');
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'host-fanout.json'), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(join(here, 'results', 'host-fanout.md'), md);
console.log(md);
