/**
 * The local host command.
 *
 *   npx tsx local/host/main.ts [--entry <file>] [--state-dir .milink/host] [--port 7071]
 *                              [--estate <estate.json>] [--time-scale n] [--function-key k] [--no-queues]
 *
 * Starts milink's functions on localhost (and, with --estate, the simulated estate through
 * local/sim/estate/launch.ts), prints where the API listens and the function key, and runs until SIGINT or
 * SIGTERM.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startLocalHost } from './host.js';
import { milinkSettingsFor, type EstateAddresses } from './milink-settings.js';

interface LaunchedEstate {
  connection: EstateAddresses & { clock?: { originMs: number; scale: number } };
  pid: number;
  stop(): Promise<void>;
}
type LaunchEstate = (opts: {
  estateFile: string;
  connectionFile: string;
  timeScale?: number;
  detached?: boolean;
}) => Promise<LaunchedEstate>;

const here = dirname(fileURLToPath(import.meta.url));

/** The estate a connection file describes, when its ARM listener still answers. */
async function reachable(connectionFile: string): Promise<LaunchedEstate['connection'] | undefined> {
  let connection: LaunchedEstate['connection'];
  try {
    connection = JSON.parse(readFileSync(connectionFile, 'utf8')) as LaunchedEstate['connection'];
  } catch {
    return undefined;
  }
  const url = new URL(connection.arm.endpoint);
  const open = await new Promise<boolean>((done) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) }, () => {
      socket.destroy();
      done(true);
    });
    socket.on('error', () => done(false));
  });
  return open ? connection : undefined;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      entry: { type: 'string' },
      'state-dir': { type: 'string', default: '.milink/host' },
      port: { type: 'string', default: '7071' },
      estate: { type: 'string' },
      'time-scale': { type: 'string' },
      'function-key': { type: 'string' },
      'no-queues': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
  });
  const stateDir = resolve(values['state-dir']);
  mkdirSync(stateDir, { recursive: true });
  const timeScale = values['time-scale'] !== undefined ? Number(values['time-scale']) : undefined;
  const env: Record<string, string> = {};
  let estate: LaunchedEstate | undefined;
  if (values.estate) {
    const launcher = join(here, '..', 'sim', 'estate', 'launch.ts');
    if (!existsSync(launcher)) throw new Error(`--estate needs ${launcher}, which does not exist yet`);
    const mod = (await import(pathToFileURL(launcher).href)) as { launchEstate: LaunchEstate };
    const connectionFile = join(stateDir, 'estate-connection.json');
    const pidFile = join(stateDir, 'estate.pid');
    // The estate runs detached so it outlives a killed host; a restarted host finds it again.
    const running =
      existsSync(connectionFile) && existsSync(pidFile) ? await reachable(connectionFile) : undefined;
    if (running) {
      const pid = Number(readFileSync(pidFile, 'utf8'));
      estate = {
        connection: running,
        pid,
        stop: async () => {
          try {
            process.kill(pid, 'SIGTERM');
          } catch {
            /* already gone */
          }
        },
      };
      console.log(`simulated estate already running (pid ${pid}); reusing ${connectionFile}`);
    } else {
      estate = await mod.launchEstate({
        estateFile: resolve(values.estate),
        connectionFile,
        detached: true,
        ...(timeScale !== undefined ? { timeScale } : {}),
      });
      writeFileSync(pidFile, String(estate.pid));
    }
    Object.assign(env, milinkSettingsFor(estate.connection, stateDir));
    console.log(`simulated estate running (pid ${estate.pid}); connection file ${connectionFile}`);
  }
  const host = await startLocalHost({
    ...(values.entry ? { entry: resolve(values.entry) } : {}),
    stateDir,
    port: Number(values.port),
    // With an estate, share its clock (origin and scale) so both tell the same simulated time.
    clock: estate?.connection.clock
      ? { scale: estate.connection.clock.scale, originMs: estate.connection.clock.originMs }
      : timeScale !== undefined
        ? { scale: timeScale }
        : 'real',
    queues: values['no-queues'] ? false : 'azurite-disk',
    env,
    ...(values['function-key'] ? { functionKey: values['function-key'] } : {}),
    ...(values.quiet ? { log: () => {} } : {}),
  });
  console.log(`milink local host listening on ${host.baseUrl}`);
  console.log(`function key: ${host.functionKey}`);
  console.log(`functions: ${host.functions.join(', ')}`);
  if (host.storageConnectionString) console.log(`storage: ${host.storageConnectionString}`);
  const stop = async (): Promise<void> => {
    await host.close();
    await estate?.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  console.error((err as Error).stack ?? String(err));
  process.exit(1);
});
