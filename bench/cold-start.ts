/**
 * Benchmark: how long the deployed entry takes to load, against Node starting and doing nothing.
 *
 *   npx tsx bench/cold-start.ts [--runs 15]
 *
 * Builds the deployable bundle (`npm run build`'s script), then in this one run and alternating, so the machine's
 * load falls on all three alike: (a) `node -e 0`; (b) `node` importing `dist/index.js` (the bundle split at
 * dynamic imports: the entry registers every function, the SDKs load in the first activity); (c) `node` importing
 * the same entry with every chunk loaded up front (what the entry cost before the SDKs were made lazy). The
 * Functions worker provides `@azure/functions-core`; a preload stub stands in for it here, as in the packaging test.
 * Reports medians and the entry's cost above `node -e 0`. Writes bench/results/cold-start.json and .md.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const runs = Number(values.runs);

const built = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, encoding: 'utf8' });
if (built.status !== 0) throw new Error(`build failed: ${built.stderr}`);

const dir = mkdtempSync(join(tmpdir(), 'milink-cold-'));
const preload = join(dir, 'functions-core.cjs');
writeFileSync(
  preload,
  `const Module = require('node:module');
const load = Module._load;
let registered = 0;
const core = {
  version: '4.x', hostVersion: '4.x', log() {},
  registerHook: () => ({ dispose() {} }), setProgrammingModel() {}, getProgrammingModel() {},
  registerFunction() { registered++; return { dispose() {} }; },
};
process.on('exit', () => { if (registered === 0) { console.error('no function registered'); process.exitCode = 1; } });
Module._load = function (request, ...rest) {
  return request === '@azure/functions-core' ? core : load.call(this, request, ...rest);
};
`,
);
const entry = pathToFileURL(join(root, 'dist/index.js')).href;
const chunks = readdirSync(join(root, 'dist/chunks'))
  .filter((f) => f.endsWith('.js'))
  .map((f) => pathToFileURL(join(root, 'dist/chunks', f)).href);

const variants = {
  'node -e 0': ['-e', '0'],
  'entry (lazy SDKs)': [
    '--require',
    preload,
    '--input-type=module',
    '-e',
    `await import(${JSON.stringify(entry)})`,
  ],
  'entry with every chunk': [
    '--require',
    preload,
    '--input-type=module',
    '-e',
    `await import(${JSON.stringify(entry)}); await Promise.all(${JSON.stringify(chunks)}.map((c) => import(c)));`,
  ],
} as const;

const times: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let i = 0; i < runs; i++)
  for (const [name, args] of Object.entries(variants)) {
    const start = process.hrtime.bigint();
    const run = spawnSync(process.execPath, [...args], { cwd: root, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (run.status !== 0) throw new Error(`${name} failed: ${run.stderr}`);
    times[name]!.push(ms);
  }
rmSync(dir, { recursive: true, force: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(times['node -e 0']!);
const rows = Object.entries(times).map(([name, xs]) => ({
  name,
  medianMs: Math.round(median(xs)),
  aboveNodeMs: Math.round(median(xs) - base),
  ratio: Number((median(xs) / base).toFixed(2)),
}));
const result = { node: process.version, runs, rows, goalAboveNodeMs: 120 };
writeFileSync(join(here, 'results/cold-start.json'), `${JSON.stringify(result, null, 2)}\n`);
const md = [
  '# Cold start: loading the deployed entry',
  '',
  `Node ${process.version}, ${runs} runs of each, alternating, median. Goal: the entry loads within 120 ms of \`node -e 0\`.`,
  '',
  '| what | median (ms) | above `node -e 0` (ms) | ratio to `node -e 0` |',
  '|---|---|---|---|',
  ...rows.map((r) => `| ${r.name} | ${r.medianMs} | ${r.aboveNodeMs} | ${r.ratio} |`),
  '',
].join('\n');
writeFileSync(join(here, 'results/cold-start.md'), md);
console.log(md);
