/**
 * milink's main job on one machine: starts the simulated estate (its own process) and the local host with
 * milink's real functions, posts a link request for the sample database, shows the orchestration's progress
 * live, and ends by printing the link's health. `--serve` keeps the API running for your own requests.
 *
 *   npx milink local [--request <file>] [--estate <file>] [--time-scale <n>] [--serve] [--state-dir <dir>]
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startLocalHost } from './host/host.js';
import { milinkSettingsFor } from './host/milink-settings.js';
import { launchEstate } from './sim/estate/launch.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const usage = `milink local — create a link on the embedded local estate (no Azure needed)

  npx milink local [options]

  --request <file>    link request to post (default examples/local-request.json)
  --estate <file>     estate to simulate (default local/sim/estates/demo.json)
  --time-scale <n>    simulated time runs n times faster than the wall clock (default 30)
  --state-dir <dir>   where the host keeps orchestration state (default .milink/local; wiped at start)
  --serve             keep the API (and the estate) running after the link is healthy
  --help              this text
`;

interface Step {
  id: string;
  title: string;
  state: string;
}

function line(text: string): void {
  process.stdout.write(`${text}\n`);
}

export async function runLocal(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      request: { type: 'string' },
      estate: { type: 'string' },
      'time-scale': { type: 'string' },
      'state-dir': { type: 'string' },
      serve: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    line(usage);
    return 0;
  }
  const scale = Number(values['time-scale'] ?? '30');
  if (!Number.isFinite(scale) || scale <= 0) {
    process.stderr.write('milink local: --time-scale must be a positive number\n');
    return 2;
  }
  const requestFile = resolve(values.request ?? join(repoRoot, 'examples/local-request.json'));
  const estateFile = resolve(values.estate ?? join(repoRoot, 'local/sim/estates/demo.json'));
  const stateDir = resolve(values['state-dir'] ?? join(repoRoot, '.milink/local'));
  rmSync(stateDir, { recursive: true, force: true });
  mkdirSync(stateDir, { recursive: true });
  const request = JSON.parse(readFileSync(requestFile, 'utf8')) as unknown;

  line(
    `milink local: starting the simulated estate (${estateFile.replace(`${repoRoot}/`, '')}, time x${scale})`,
  );
  const connectionFile = join(stateDir, 'estate-connection.json');
  const estate = await launchEstate({ estateFile, connectionFile, timeScale: scale });
  const host = await startLocalHost({
    stateDir: join(stateDir, 'host'),
    // The estate's clock origin: both processes tell the same simulated time.
    clock: { scale, ...(estate.connection.clock ? { originMs: estate.connection.clock.originMs } : {}) },
    queues: values.serve ? 'azurite-memory' : false,
    env: {
      ...milinkSettingsFor(estate.connection, stateDir),
      // Simulated minutes pass in seconds here: look at the link often enough to show its seeding.
      MILINK_POLL_INTERVAL_SECONDS: '2',
    },
    log: () => undefined,
  });
  const stop = async () => {
    await host.close().catch(() => undefined);
    await estate.stop().catch(() => undefined);
  };
  try {
    line(`milink local: API at ${host.baseUrl}/api (function key ${host.functionKey})`);
    const headers = { 'x-functions-key': host.functionKey, 'content-type': 'application/json' };
    const posted = await fetch(`${host.baseUrl}/api/links`, {
      method: 'POST',
      headers,
      body: JSON.stringify(request),
    });
    const answer = (await posted.json()) as { instanceId?: string; error?: unknown };
    if (posted.status !== 202 || !answer.instanceId) {
      line(`milink local: the request was refused (${posted.status}):\n${JSON.stringify(answer, null, 2)}`);
      return 1;
    }
    line(`milink local: POST /api/links -> 202, orchestration ${answer.instanceId}\n`);
    const shown = new Map<string, string>();
    let lastSeeding = '';
    let status: Record<string, any> = {};
    for (;;) {
      const got = await fetch(`${host.baseUrl}/api/links/${answer.instanceId}`, { headers });
      status = (await got.json()) as Record<string, any>;
      for (const step of (status.steps ?? []) as Step[]) {
        if (shown.get(step.id) === step.state || step.state === 'pending') continue;
        shown.set(step.id, step.state);
        const mark = step.state === 'done' ? '✔' : step.state === 'failed' ? '✖' : '…';
        line(`  ${mark} ${step.id.padEnd(32)} ${step.title}`);
      }
      const s = status.progress as Record<string, unknown> | undefined;
      if (s) {
        const text = s.replicaState
          ? `replica ${s.replicaState}${s.seedingProgress ? ` ${s.seedingProgress}` : ''}, ${s.connectedState ?? '?'}, ${s.synchronizationHealth ?? '?'}; SQL Server sees ${s.sqlServerConnectedState ?? '?'}`
          : `the instance is creating the link; SQL Server sees it ${s.sqlServerConnectedState ?? 'not yet'}`;
        if (text !== lastSeeding) line(`      link: ${text}`);
        lastSeeding = text;
      }
      if (['Completed', 'Failed', 'Terminated'].includes(String(status.runtimeStatus))) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    line('');
    if (status.runtimeStatus !== 'Completed') {
      line(`milink local: the link was not created (${status.runtimeStatus})`);
      if (status.error) line(JSON.stringify(status.error, null, 2));
      if (status.failures) line(JSON.stringify(status.failures, null, 2));
      return 1;
    }
    const h = status.output?.health ?? {};
    line(
      `milink local: link ${status.output?.link} (${status.output?.database} -> ${status.output?.managedInstance}) is healthy`,
    );
    line(
      `  replica state ${h.replicaState}, ${h.connectedState}, ${h.synchronizationHealth}; SQL Server sees the instance ${h.sqlServerConnectedState}`,
    );
    if (h.sendLagSeconds !== undefined) line(`  lag: send ${h.sendLagSeconds} s, redo ${h.redoLagSeconds} s`);
    if (h.certificateExpiry) line(`  SQL Server certificate valid until ${h.certificateExpiry}`);
    for (const w of (status.warnings ?? []) as Array<{ message: string; advice: string }>)
      line(`  warning: ${w.message} (${w.advice})`);
    if (values.serve) {
      line(`\nmilink local: serving ${host.baseUrl}/api with key ${host.functionKey}; Ctrl-C stops`);
      line(
        `  try: curl -s -H 'x-functions-key: ${host.functionKey}' ${host.baseUrl}/api/links/${answer.instanceId}`,
      );
      await new Promise<void>((resolveStop) => {
        process.once('SIGINT', () => resolveStop());
        process.once('SIGTERM', () => resolveStop());
      });
    }
    return 0;
  } finally {
    await stop();
  }
}
