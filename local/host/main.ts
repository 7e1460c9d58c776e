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
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startLocalHost } from './host.js';

interface LaunchedEstate {
  connection: { arm: { endpoint: string }; keyVault: { url: string } };
  pid: number;
  stop(): Promise<void>;
}
type LaunchEstate = (opts: {
  estateFile: string;
  connectionFile: string;
  timeScale?: number;
}) => Promise<LaunchedEstate>;

const here = dirname(fileURLToPath(import.meta.url));

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
    estate = await mod.launchEstate({
      estateFile: resolve(values.estate),
      connectionFile,
      ...(timeScale !== undefined ? { timeScale } : {}),
    });
    env.MILINK_ARM_ENDPOINT = estate.connection.arm.endpoint;
    env.MILINK_KEYVAULT_URL = estate.connection.keyVault.url;
    env.MILINK_LOCAL_CONNECTION_FILE = connectionFile;
    console.log(`simulated estate running (pid ${estate.pid}); connection file ${connectionFile}`);
  }
  const host = await startLocalHost({
    ...(values.entry ? { entry: resolve(values.entry) } : {}),
    stateDir,
    port: Number(values.port),
    clock: timeScale !== undefined ? { scale: timeScale } : 'real',
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
