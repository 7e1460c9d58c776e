/**
 * milink's main job on one machine: starts the simulated estate (its own process) and the local host with
 * milink's real functions, posts a link request for the sample database, shows the orchestration's progress
 * live, and ends by printing the link's health. `--serve` keeps the API running for your own requests.
 * Stopped with Ctrl-C while the operation runs, it leaves the estate running and its state in place, and
 * `--resume` starts the host again on that state: the orchestration goes on where it stopped.
 *
 *   npx milink local [--request <file>] [--estate <file>] [--time-scale <n>] [--serve] [--state-dir <dir>] [--resume]
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runHealthStory } from './health-story.js';
import { startLocalHost } from './host/host.js';
import { milinkSettingsFor } from './host/milink-settings.js';
import { launchEstate } from './sim/estate/launch.js';
import { isTerminal, outcomeLines, progressView } from '../src/cli/render.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const usage = `milink local — create a link on the embedded local estate (no Azure needed)

  npx milink local [options]

  --request <file>    link request to post (default examples/local-request.json)
  --estate <file>     estate to simulate (default local/sim/estates/demo.json)
  --time-scale <n>    simulated time runs n times faster than the wall clock (default 30)
  --state-dir <dir>   where the host keeps orchestration state (default .milink/local; wiped at start)
  --resume            go on with the operation a Ctrl-C stopped: keeps the state and the estate still running
  --serve             keep the API (and the estate) running after the link is healthy
  --help              this text
`;

function line(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** What a run leaves in its state directory so `--resume` can find the estate and the operation again. */
interface Saved {
  /** The estate process (launched detached: it outlives a stopped run). */
  estatePid: number;
  /** The orchestration the run follows, once posted. */
  instanceId?: string;
}

function readSaved(stateDir: string): Saved | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir, 'local-run.json'), 'utf8')) as Saved;
  } catch {
    return undefined;
  }
}

function writeSaved(stateDir: string, saved: Saved): void {
  writeFileSync(join(stateDir, 'local-run.json'), JSON.stringify(saved));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopProcess(pid: number): Promise<void> {
  if (!alive(pid)) return;
  // a pid left from before a reboot may name another program now: only the estate's launcher is stopped
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('launch')) return;
  } catch {
    /* no /proc (macOS, Windows): the pid file is all there is */
  }
  process.kill(pid, 'SIGTERM');
  for (const until = Date.now() + 10_000; alive(pid) && Date.now() < until;)
    await new Promise((r) => setTimeout(r, 50));
}

/** Whether the estate's ARM listener still answers. */
function listening(endpoint: string): Promise<boolean> {
  const url = new URL(endpoint);
  return new Promise<boolean>((done) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) }, () => {
      socket.destroy();
      done(true);
    });
    socket.on('error', () => done(false));
  });
}

export async function runLocal(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      request: { type: 'string' },
      estate: { type: 'string' },
      'time-scale': { type: 'string' },
      'state-dir': { type: 'string' },
      resume: { type: 'boolean' },
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
  const connectionFile = join(stateDir, 'estate-connection.json');
  const previous = readSaved(stateDir);
  let estate: { connection: Awaited<ReturnType<typeof launchEstate>>['connection']; pid: number };
  let saved: Saved;
  if (values.resume) {
    // the estate keeps its state in memory: resuming needs the very process the stopped run left running
    const connection = existsSync(connectionFile)
      ? (JSON.parse(readFileSync(connectionFile, 'utf8')) as typeof estate.connection)
      : undefined;
    if (
      !previous?.instanceId ||
      !connection ||
      !alive(previous.estatePid) ||
      !(await listening(connection.arm.endpoint))
    ) {
      process.stderr.write(
        `milink local: nothing to resume in ${stateDir} (no operation was stopped there, or its simulated estate is gone); run without --resume\n`,
      );
      return 1;
    }
    estate = { connection, pid: previous.estatePid };
    saved = previous;
    line(
      `milink local: resuming ${previous.instanceId} on the simulated estate still running (pid ${estate.pid})`,
    );
  } else {
    // a run stopped earlier left its estate running: it goes with the state it served
    if (previous) await stopProcess(previous.estatePid);
    rmSync(stateDir, { recursive: true, force: true });
    mkdirSync(stateDir, { recursive: true });
    line(
      `milink local: starting the simulated estate (${estateFile.replace(`${repoRoot}/`, '')}, time x${scale})`,
    );
    // detached: Ctrl-C stops this run, not the estate, so --resume finds it as it was
    estate = await launchEstate({ estateFile, connectionFile, timeScale: scale, detached: true });
    saved = { estatePid: estate.pid };
    writeSaved(stateDir, saved);
  }
  const request = values.resume ? undefined : (JSON.parse(readFileSync(requestFile, 'utf8')) as unknown);
  const host = await startLocalHost({
    stateDir: join(stateDir, 'host'),
    // The estate's clock (origin and scale): both processes tell the same simulated time.
    clock: estate.connection.clock
      ? { scale: estate.connection.clock.scale, originMs: estate.connection.clock.originMs }
      : { scale },
    // queues, tables and blobs: the link-requests ticket, the inventory and the health reports
    queues: 'azurite-memory',
    env: {
      ...milinkSettingsFor(estate.connection, stateDir),
      // Simulated minutes pass in seconds here: look at the link often enough to show its seeding.
      MILINK_POLL_INTERVAL_SECONDS: '2',
    },
    log: () => undefined,
  });
  let keepEstate = false;
  const stop = async () => {
    await host.close().catch(() => undefined);
    if (!keepEstate) {
      await stopProcess(estate.pid).catch(() => undefined);
      rmSync(join(stateDir, 'local-run.json'), { force: true });
    }
  };
  // Ctrl-C while the operation runs: the host stops (its instances are on disk), the estate keeps running
  let interrupted = false;
  let wake: () => void = () => undefined;
  const onInterrupt = () => {
    interrupted = true;
    wake();
  };
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);
  try {
    line(`milink local: API at ${host.baseUrl}/api (function key ${host.functionKey})`);
    const headers = { 'x-functions-key': host.functionKey, 'content-type': 'application/json' };
    let answer: { instanceId?: string; error?: unknown } = { instanceId: saved.instanceId };
    if (!values.resume) {
      const posted = await fetch(`${host.baseUrl}/api/links`, {
        method: 'POST',
        headers,
        body: JSON.stringify(request),
      });
      answer = (await posted.json()) as { instanceId?: string; error?: unknown };
      if (posted.status !== 202 || !answer.instanceId) {
        line(`milink local: the request was refused (${posted.status}):\n${JSON.stringify(answer, null, 2)}`);
        return 1;
      }
      saved = { ...saved, instanceId: answer.instanceId };
      writeSaved(stateDir, saved);
      line(`milink local: POST /api/links -> 202, orchestration ${answer.instanceId}\n`);
    }
    // the same live view as `milink watch` (src/cli/render.ts)
    const view = progressView();
    let status: Record<string, any> = {};
    for (;;) {
      const got = await fetch(`${host.baseUrl}/api/links/${answer.instanceId}`, { headers });
      status = (await got.json()) as Record<string, any>;
      for (const text of view(status)) line(text);
      if (isTerminal(status)) break;
      if (!interrupted) await new Promise<void>((r) => ((wake = r), setTimeout(r, 300)));
      if (interrupted) {
        keepEstate = true;
        line(
          `\nmilink local: stopped; ${answer.instanceId} is kept in ${stateDir} and the simulated estate keeps running (pid ${estate.pid})`,
        );
        line(
          `  go on with: npx milink local --resume${values['state-dir'] ? ` --state-dir ${values['state-dir']}` : ''}`,
        );
        return 130;
      }
    }
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
    line('');
    const outcome = outcomeLines(status);
    line(`milink local: ${outcome.headline}`);
    for (const text of outcome.details) line(text);
    if (!outcome.ok) return 1;
    // a second link from a queue ticket, then the nightly sweep and its summary (issue 14)
    if (
      request &&
      !(await runHealthStory({ host, request, database: 'OrdersDb', serve: !!values.serve, line }))
    )
      return 1;
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
