/**
 * Issue 16, item 7: `milink local` stopped with Ctrl-C while the link seeds, then started again with `--resume`
 * on the same state directory, follows the same orchestration to a healthy link. Both runs are the real command
 * (bin/milink.mjs) in its own process, on a scaled real clock shared with the estate it launched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/runbook.js';
import { demoSpec } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'milink-local-resume-'));
const stateDir = join(dir, 'state');

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function milinkLocal(args: string[]): Run {
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'bin/milink.mjs'), 'local', '--state-dir', stateDir, ...args],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

async function waitFor(run: Run, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  for (const until = Date.now() + timeoutMs; Date.now() < until;) {
    const m = pattern.exec(run.output());
    if (m) return m;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ${pattern} in:\n${run.output()}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const estatePid = (): number =>
  (JSON.parse(readFileSync(join(stateDir, 'local-run.json'), 'utf8')) as { estatePid: number }).estatePid;

let pid: number | undefined;
afterAll(async () => {
  if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

describe('milink local --resume', () => {
  it(
    'Ctrl-C while the link seeds, then --resume: the same orchestration finishes, the link healthy',
    { timeout: 120_000 },
    async () => {
      // 200 MB seeded at 0.5 MB per simulated second: 400 simulated seconds, about 8 s at x50
      const spec = demoSpec();
      spec.timing = { seedingMBps: 0.5 };
      const estateFile = join(dir, 'estate.json');
      writeFileSync(estateFile, JSON.stringify(spec));

      const first = milinkLocal(['--estate', estateFile, '--time-scale', '50']);
      const id = (await waitFor(first, /orchestration (link-mi-prod-[0-9a-f]{12})/, 60_000))[1]!;
      await waitFor(first, /replica Seeding (\d+)%/, 60_000);
      pid = estatePid();
      first.child.kill('SIGINT');
      expect(await first.exited, first.output()).toBe(130);
      expect(first.output()).toContain(`${id} is kept`);
      expect(first.output()).not.toMatch(/is healthy/);
      const before = Math.max(
        ...[...first.output().matchAll(/replica Seeding (\d+)%/g)].map((m) => Number(m[1])),
      );
      expect(before).toBeLessThan(100);
      // the estate outlives the stopped run; the host's state is on disk
      expect(alive(pid)).toBe(true);
      expect(existsSync(join(stateDir, 'host'))).toBe(true);

      const second = milinkLocal(['--resume']);
      expect(await second.exited, second.output()).toBe(0);
      const out = second.output();
      expect(out).toContain(`resuming ${id}`);
      expect(out).not.toMatch(/POST \/api\/links -> /);
      expect(out).toMatch(/link DAG1_SalesDb \(SalesDb -> mi-prod\) is healthy/);
      // seeding went on from where it was, not from the start
      const later = [...out.matchAll(/replica Seeding (\d+)%/g)].map((m) => Number(m[1]));
      expect(later.length).toBeGreaterThan(0);
      for (const p of later) expect(p).toBeGreaterThanOrEqual(before);
      // a finished run stops its estate and forgets it
      for (const until = Date.now() + 10_000; alive(pid) && Date.now() < until;)
        await new Promise((r) => setTimeout(r, 50));
      expect(alive(pid)).toBe(false);
      expect(existsSync(join(stateDir, 'local-run.json'))).toBe(false);
    },
  );

  it('--resume with nothing to resume says so and starts nothing', async () => {
    const run = milinkLocal(['--resume']);
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/nothing to resume/);
  });
});
