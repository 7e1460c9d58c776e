/**
 * Azurite's blob and table services for the store tests, in memory, each in its own child process on a
 * free port (the table service needs the port up front: it reports the one it was given).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const ACCOUNT = 'devstoreaccount1';
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteStorage {
  connectionString: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function service(kind: 'blob' | 'table', cwd: string): Promise<{ child: ChildProcess; port: number }> {
  const require = createRequire(import.meta.url);
  const script = join(dirname(require.resolve('azurite/package.json')), 'dist', 'src', kind, 'main.js');
  const port = kind === 'table' ? await freePort() : 0;
  const args = [`--${kind}Host`, '127.0.0.1', `--${kind}Port`, String(port), '--inMemoryPersistence'];
  args.push('--disableTelemetry', '--skipApiVersionCheck', '--loose');
  const child = spawn(process.execPath, [script, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const listening = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /successfully (?:listens on https?:\/\/|started on )[^:\s]+:(\d+)/.exec(out);
      if (m?.[1]) resolve(Number(m[1]));
    });
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`azurite ${kind} exited (${code}): ${out}`)));
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return { child, port: listening };
}

export async function startAzuriteStorage(): Promise<AzuriteStorage> {
  const cwd = mkdtempSync(join(tmpdir(), 'milink-azurite-'));
  const blob = await service('blob', cwd);
  const table = await service('table', cwd);
  const stop = (c: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
      setTimeout(() => c.kill('SIGKILL'), 3000).unref();
    });
  return {
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${KEY};` +
      `BlobEndpoint=http://127.0.0.1:${blob.port}/${ACCOUNT};TableEndpoint=http://127.0.0.1:${table.port}/${ACCOUNT};`,
    stop: async () => {
      await Promise.all([stop(blob.child), stop(table.child)]);
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}
