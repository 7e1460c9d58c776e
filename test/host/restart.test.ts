/**
 * Durable state survives SIGKILL: the host runs as a child process (the `local/host/main.ts` command), is
 * killed while an instance is between activities, and a new host on the same state directory resumes the
 * instance from its history without re-running completed activities.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '..', '..');
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'milink-restart-'));
const recordFile = join(dir, 'runs.log');
const stateDir = join(dir, 'state');

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function startHost(env: Record<string, string>): Promise<{ child: ChildProcess; baseUrl: string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      tsx,
      join(repo, 'local/host/main.ts'),
      '--entry',
      join(repo, 'test/host/apps/restart-app.ts'),
      '--state-dir',
      stateDir,
      '--port',
      '0',
      '--no-queues',
      '--quiet',
    ],
    { env: { ...process.env, RECORD_FILE: recordFile, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  const baseUrl = await new Promise<string>((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m?.[1]) ok(m[1]);
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => fail(new Error(`host exited (${code}): ${out}`)));
  });
  return { child, baseUrl };
}

function records(): string[] {
  return existsSync(recordFile) ? readFileSync(recordFile, 'utf8').trim().split('\n') : [];
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('a host killed with SIGKILL', () => {
  it('resumes running instances after restart and re-runs only the interrupted activity', async () => {
    const first = await startHost({});
    const res = await fetch(`${first.baseUrl}/durabletask/orchestrators/ThreeSteps/crash-1`, {
      method: 'POST',
      body: '',
    });
    expect(res.status).toBe(202);
    // the third activity has started: the first two completed and their results were recorded
    await until('the third activity to start', () => (records().includes('start third') ? true : undefined));
    const exited = new Promise((r) => first.child.once('exit', r));
    first.child.kill('SIGKILL');
    await exited;
    expect(records()).toEqual(['start first', 'done first', 'start second', 'done second', 'start third']);

    const second = await startHost({ RELEASE_THIRD: '1' });
    const status = await until('the instance to complete', async () => {
      const r = await fetch(`${second.baseUrl}/durabletask/instances/crash-1?showHistory=true`);
      const body = (await r.json()) as { runtimeStatus: string; output: unknown; historyEvents: unknown[] };
      return body.runtimeStatus === 'Completed' ? body : undefined;
    });
    expect(status.output).toEqual(['first ok', 'second ok', 'third ok']);
    expect(records()).toEqual([
      'start first',
      'done first',
      'start second',
      'done second',
      'start third',
      'start third',
      'done third',
    ]);
    const exited2 = new Promise((r) => second.child.once('exit', r));
    second.child.kill('SIGTERM');
    await exited2;
  });
});
