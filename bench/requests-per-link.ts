/**
 * Benchmark: what one createLink costs in requests, before the link's PUT and per look while it waits, side by side
 * with the runbook done by a plain script (bench/sequential-baseline.ts) through the same drivers.
 *
 *   npx tsx bench/requests-per-link.ts
 *
 * Both run in this one process, each on its own demo estate (local/sim/estates/demo.json) and virtual clock: SalesDb
 * first (the pair's first link: everything shared is made), then OrdersDb (a second link of the same SQL Server and
 * instance). The stand-ins count: SQL round trips (batches + RPCs, the driver's session set-up and connection checks
 * included) on the SQL Server, requests on the ARM stand-in, secret reads on the Key Vault stand-in (GET of a secret
 * answered 200; the 401 bearer challenges apart). "Before the PUT" is what the stand-ins saw from the start of that
 * database's createLink until its link's PUT arrives; "per look" is what they saw between two GETs of the link after
 * the PUT, averaged. Goals before the PUT: ≤ 30 SQL round trips, ≤ 8 ARM requests, ≤ 2 Key Vault reads.
 * Writes bench/results/requests-per-link.json and .md.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { milinkHostOn } from './lib/milink-host.js';
import { VirtualClock } from '../local/sim/clock.js';
import { startEstate, type EstateSpec, type RunningEstate } from '../local/sim/estate/estate.js';
import { SequentialRunbook } from './sequential-baseline.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const request = JSON.parse(readFileSync(join(root, 'examples/local-request.json'), 'utf8')) as {
  sqlServer: {
    host: string;
    login: string;
    loginSecret: string;
    masterKeySecret: string;
    endpointPort: number;
  };
  managedInstance: { subscriptionId: string; resourceGroup: string; name: string };
  database: string;
  certificateExpiry: string;
  backupPath: string;
};
const DATABASES = [request.database, 'OrdersDb'];
const GOALS = { sql: 30, arm: 8, keyVaultReads: 2 };

interface Counts {
  sql: number;
  arm: number;
  keyVaultReads: number;
  keyVaultChallenges: number;
}
const ZERO: Counts = { sql: 0, arm: 0, keyVaultReads: 0, keyVaultChallenges: 0 };

/** The stand-ins' counts since `start()`, with snapshots at the watched link's PUT and at every GET of it after. */
class Meter {
  private link = '';
  private base: Counts = ZERO;
  put?: Counts;
  looks: Counts[] = [];
  constructor(private readonly estate: RunningEstate) {
    const links = estate.links;
    const put = links.put.bind(links);
    const get = links.get.bind(links);
    links.put = (mi, name, body) => {
      if (name === this.link) this.put = this.now();
      return put(mi, name, body);
    };
    links.get = (mi, name) => {
      if (name === this.link && this.put) this.looks.push(this.now());
      return get(mi, name);
    };
  }

  start(database: string): void {
    this.link = `DAG1_${database}`;
    this.put = undefined;
    this.looks = [];
    this.base = ZERO;
    this.base = this.now();
  }

  now(): Counts {
    const kv = this.estate.keyVault.journal;
    const reads = kv.filter((r) => r.method === 'GET' && r.path.startsWith('/secrets/') && r.status === 200);
    return {
      sql:
        [...this.estate.sqlServers.values()].reduce((n, s) => n + s.counters.roundTrips, 0) - this.base.sql,
      arm: this.estate.arm.journal.length - this.base.arm,
      keyVaultReads: reads.length - this.base.keyVaultReads,
      keyVaultChallenges: kv.filter((r) => r.status === 401).length - this.base.keyVaultChallenges,
    };
  }

  /** Mean of what happened between two looks (from the first look on). */
  perLook(): Counts & { looks: number } {
    const n = this.looks.length - 1;
    const first = this.looks[0]!;
    const last = this.looks.at(-1)!;
    const mean = (k: keyof Counts) => (n > 0 ? Number(((last[k] - first[k]) / n).toFixed(2)) : 0);
    return {
      looks: this.looks.length,
      sql: mean('sql'),
      arm: mean('arm'),
      keyVaultReads: mean('keyVaultReads'),
      keyVaultChallenges: mean('keyVaultChallenges'),
    };
  }
}

interface Measured {
  database: string;
  beforePut: Counts;
  perLook: Counts & { looks: number };
  total: Counts;
  /** SQL batches before the PUT by their first meaningful line, most repeated first (where the round trips go). */
  batches: Array<{ batch: string; times: number }>;
}

async function measure(
  estate: RunningEstate,
  meter: Meter,
  database: string,
  run: () => Promise<void>,
): Promise<Measured> {
  const journal = () => [...estate.sqlServers.values()].flatMap((s) => s.journal);
  const from = journal().length;
  meter.start(database);
  await run();
  if (!meter.put) throw new Error(`no PUT of the link of ${database} seen`);
  const byLine = new Map<string, number>();
  for (const e of journal().slice(from, from + meter.put.sql)) {
    const line =
      e.text
        .split('\n')
        .map((l) => l.trim())
        .find((l) => l && !/^USE \[master\];$/i.test(l) && !l.startsWith('--')) ?? '';
    byLine.set(line.slice(0, 90), (byLine.get(line.slice(0, 90)) ?? 0) + 1);
  }
  return {
    database,
    beforePut: meter.put,
    perLook: meter.perLook(),
    total: meter.now(),
    batches: [...byLine.entries()]
      .map(([batch, times]) => ({ batch, times }))
      .sort((a, b) => b.times - a.times),
  };
}

async function demoEstate(): Promise<{ estate: RunningEstate; clock: VirtualClock; meter: Meter }> {
  const spec = JSON.parse(readFileSync(join(root, 'local/sim/estates/demo.json'), 'utf8')) as EstateSpec;
  const clock = new VirtualClock('2026-11-22T08:00:00Z');
  const estate = await startEstate(spec, { clock, retryAfterSeconds: 0 });
  return { estate, clock, meter: new Meter(estate) };
}

async function milink(): Promise<Measured[]> {
  const { estate, clock, meter } = await demoEstate();
  const dir = mkdtempSync(join(tmpdir(), 'milink-requests-'));
  const host = await milinkHostOn(estate, clock, dir);
  try {
    const side: Measured[] = [];
    for (const database of DATABASES)
      side.push(
        await measure(estate, meter, database, async () => {
          const res = await fetch(`${host.baseUrl}/api/links`, {
            method: 'POST',
            headers: { 'x-functions-key': host.functionKey, 'content-type': 'application/json' },
            body: JSON.stringify({ ...request, database }),
          });
          const posted = (await res.json()) as { instanceId: string };
          await host.client.waitForCompletion(posted.instanceId, { timeoutMs: 600_000 });
          const status = await host.client.getStatus(posted.instanceId);
          if (status?.runtimeStatus !== 'Completed')
            throw new Error(`createLink ${database}: ${JSON.stringify(status)}`);
        }),
      );
    return side;
  } finally {
    await host.close();
    await estate.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function baseline(): Promise<Measured[]> {
  const { estate, clock, meter } = await demoEstate();
  try {
    const script = new SequentialRunbook({
      connection: estate.connection,
      clock,
      sqlHost: request.sqlServer.host,
      login: request.sqlServer.login,
      loginSecret: request.sqlServer.loginSecret,
      masterKeySecret: request.sqlServer.masterKeySecret,
      instance: request.managedInstance,
      endpointPort: request.sqlServer.endpointPort,
      backupPath: request.backupPath,
      certificateExpiry: request.certificateExpiry,
      lookSeconds: 5,
    });
    const side: Measured[] = [];
    for (const database of DATABASES)
      side.push(await measure(estate, meter, database, async () => void (await script.linkOne(database))));
    return side;
  } finally {
    await estate.close();
  }
}

const script = await baseline();
const app = await milink();
writeFileSync(
  join(here, 'results/requests-per-link.json'),
  `${JSON.stringify({ node: process.version, goalsBeforePut: GOALS, milink: app, baseline: script }, null, 2)}\n`,
);

const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : '—');
const table = (i: number): string[] => {
  const m = app[i]!;
  const b = script[i]!;
  const row = (what: string, k: keyof Counts, goal?: number) =>
    `| ${what} | ${m.beforePut[k]}${goal === undefined ? '' : m.beforePut[k] <= goal ? ' ✓' : ' ✗'} | ${b.beforePut[k]} | ${ratio(m.beforePut[k], b.beforePut[k])} | ${goal ?? '—'} | ${m.perLook[k]} | ${b.perLook[k]} |`;
  return [
    `## ${i === 0 ? "The pair's first link" : 'A second link of the same pair'}: ${m.database}`,
    '',
    `Looks after the PUT: milink ${m.perLook.looks}, the script ${b.perLook.looks}. The whole createLink: milink ${m.total.sql} SQL, ${m.total.arm} ARM, ${m.total.keyVaultReads} Key Vault; the script ${b.total.sql} SQL, ${b.total.arm} ARM, ${b.total.keyVaultReads} Key Vault.`,
    '',
    '| before the PUT | milink | baseline | milink / baseline | goal | per look, milink | per look, baseline |',
    '|---|---|---|---|---|---|---|',
    row('SQL round trips', 'sql', GOALS.sql),
    row('ARM requests', 'arm', GOALS.arm),
    row('Key Vault reads', 'keyVaultReads', GOALS.keyVaultReads),
    row('Key Vault challenges (401)', 'keyVaultChallenges'),
    '',
    "milink's SQL batches before the PUT (first line, times sent):",
    '',
    ...m.batches.map((x) => `- ${x.times}× \`${x.batch.replace(/`/g, "'")}\``),
    '',
  ];
};
const md = [
  '# Requests per link: createLink on the demo estate',
  '',
  "Counted by the stand-ins: SQL round trips (batches + RPCs; the driver's session set-up and connection checks",
  'included), ARM requests (operation status looks and final GETs included), Key Vault secret reads (the 401 bearer',
  'challenges apart). "Per look": mean between two GETs of the link after its PUT. SalesDb first, then OrdersDb on the',
  'same SQL Server and instance; each side in one process, milink on the local host with production settings. Baseline:',
  'the runbook by a plain script with the same drivers and builders (bench/sequential-baseline.ts: mssql with its',
  'defaults, a look every 5 s). Goals before the PUT: ≤ 30 SQL, ≤ 8 ARM, ≤ 2 Key Vault reads.',
  '',
  ...table(0),
  ...table(1),
].join('\n');
writeFileSync(join(here, 'results/requests-per-link.md'), md);
console.log(md);
process.exit(0);
