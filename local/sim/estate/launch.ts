/**
 * The estate as its own process.
 *
 *   npx tsx local/sim/estate/launch.ts --estate <file> --connection <out.json> [--time-scale <n>]
 *
 * starts the estate described by the JSON file on a real clock (optionally running n times faster),
 * writes the connection file when every listener is up, and exits cleanly on SIGTERM / SIGINT (removing
 * the connection file). Started by `launchEstate` it is tied to its parent (it exits when the parent's
 * IPC channel closes) unless `detached` is asked for, in which case it outlives the parent.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RealClock } from '../clock.js';
import { startEstate, type EstateConnection } from './estate.js';
import { parseEstateSpec } from './spec.js';
import { isGeneratedSpec } from './generate.js';

export interface LaunchOptions {
  estateFile: string;
  connectionFile: string;
  /** Simulated time runs this many times faster than the wall clock (default 1). */
  timeScale?: number;
  /** Keep the estate running when the parent process dies (default false: tied to the parent). */
  detached?: boolean;
  /** How long to wait for the connection file, ms (default 30 000). */
  timeoutMs?: number;
}

export interface LaunchedEstate {
  connection: EstateConnection;
  pid: number;
  stop(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));

function nodeBinary(): string {
  const local = resolve(here, '../../../node_modules/.bin/node');
  return existsSync(local) ? local : process.execPath;
}

/** Reads a connection file written by the launcher. */
export async function readConnectionFile(file: string): Promise<EstateConnection> {
  return JSON.parse(await readFile(file, 'utf8')) as EstateConnection;
}

/** Whether a process runs (a zombie waiting to be reaped counts as gone). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** Spawns the launcher and resolves once the estate has written its connection file. */
export async function launchEstate(opts: LaunchOptions): Promise<LaunchedEstate> {
  const connectionFile = resolve(opts.connectionFile);
  await rm(connectionFile, { force: true });
  const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const args = [
    '--import',
    loader,
    fileURLToPath(import.meta.url),
    '--estate',
    resolve(opts.estateFile),
    '--connection',
    connectionFile,
    ...(opts.timeScale !== undefined ? ['--time-scale', String(opts.timeScale)] : []),
  ];
  const child = spawn(nodeBinary(), args, {
    detached: opts.detached ?? false,
    stdio: opts.detached ? 'ignore' : ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('the estate process could not be started');
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let exited: number | null | undefined;
  const exitPromise = new Promise<void>((res) => {
    child.once('exit', (code) => {
      exited = code;
      res();
    });
  });
  if (opts.detached) child.unref();
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let connection: EstateConnection | undefined;
  while (!connection) {
    if (exited !== undefined)
      throw new Error(`the estate process exited (code ${exited}) before it was ready: ${stderr.trim()}`);
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`the estate did not write ${connectionFile} in time: ${stderr.trim()}`);
    }
    if (existsSync(connectionFile)) {
      try {
        connection = await readConnectionFile(connectionFile);
      } catch {
        // written atomically, so this is a foreign partial file; keep waiting
      }
    }
    if (!connection) await new Promise((r) => setTimeout(r, 50));
  }
  if (opts.detached) {
    // No handle on a detached child's stdio or IPC: let it live on its own.
    child.stderr?.destroy();
    if (child.connected) child.disconnect();
  } else {
    // Tied through the IPC channel, but without keeping this process's event loop alive.
    child.unref();
    child.channel?.unref();
    (child.stderr as (typeof child.stderr & { unref?: () => void }) | null)?.unref?.();
  }
  return {
    connection,
    pid,
    stop: async () => {
      if (exited !== undefined || !isAlive(pid)) return;
      process.kill(pid, 'SIGTERM');
      if (!opts.detached) {
        child.ref();
        await exitPromise;
        return;
      }
      const until = Date.now() + 10_000;
      while (isAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    },
  };
}

function argValue(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function main(argv: string[]): Promise<void> {
  const estateFile = argValue(argv, '--estate');
  const connectionFile = argValue(argv, '--connection');
  const scaleText = argValue(argv, '--time-scale');
  if (!estateFile || !connectionFile) {
    process.stderr.write('usage: launch.ts --estate <file> --connection <out.json> [--time-scale <n>]\n');
    process.exit(2);
  }
  const timeScale = scaleText === undefined ? 1 : Number(scaleText);
  if (!Number.isFinite(timeScale) || timeScale <= 0) {
    process.stderr.write(`--time-scale must be a positive number, not '${scaleText ?? ''}'\n`);
    process.exit(2);
  }
  const described: unknown = JSON.parse(await readFile(estateFile, 'utf8'));
  // a generated estate ({ "generate": { … } }) is expanded and checked by startEstate
  const spec = isGeneratedSpec(described) ? described : parseEstateSpec(described);
  const clock = new RealClock(timeScale);
  const estate = await startEstate(spec, { clock });
  const tmp = `${connectionFile}.${process.pid}.tmp`;
  // The clock's origin lets another process (the local host) tell the same simulated time.
  const connection = { ...estate.connection, clock: { originMs: clock.originMs, scale: clock.scale } };
  await writeFile(tmp, JSON.stringify(connection, null, 2));
  await rename(tmp, connectionFile);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await estate.close();
    await rm(connectionFile, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  // Tied to the parent: its IPC channel closes when it exits or dies.
  if (process.send) process.on('disconnect', () => void stop());
}

const invokedDirectly =
  process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
