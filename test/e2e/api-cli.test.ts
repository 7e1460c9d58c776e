import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/runbook.js';
import { demoRequest, startBed, type Bed } from './harness.js';

/**
 * The operator CLI as a second terminal runs it: `bin/milink.mjs` in its own process against the local host's API
 * (URL and key from the environment), while the link is created.
 */
interface Run {
  code: Promise<number>;
  stdout: () => string;
  stderr: () => string;
}

function milink(bed: Bed, args: string[]): Run {
  let out = '';
  let err = '';
  const child = spawn(process.execPath, [join(repoRoot, 'bin/milink.mjs'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, MILINK_URL: bed.host.baseUrl, MILINK_KEY: bed.host.functionKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return {
    code: new Promise((resolve) => child.on('close', (c) => resolve(c ?? -1))),
    stdout: () => out,
    stderr: () => err,
  };
}

async function until(what: string, test: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('milink CLI against the local host', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await startBed({ queues: 'azurite-memory' });
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('milink watch follows a link creation to the end', async () => {
    bed.host.setAutoAdvance(false); // the run waits at its first durable timer until the watcher is there
    const posted = await bed.api('POST', '/api/links', demoRequest());
    expect(posted.status, posted.text).toBe(202);
    const id = posted.json.instanceId as string;
    await bed.host.idle();

    const watch = milink(bed, ['watch', id, '--interval', '0.2']);
    await until('the watcher to show the wait', () => watch.stdout().includes('wait-for-link'));
    expect(watch.stdout()).toContain('✔ prepare-database');
    bed.host.setAutoAdvance(true);
    expect(await watch.code, watch.stderr()).toBe(0);

    const out = watch.stdout();
    expect(out).toContain(`milink watch: ${id}`);
    for (const step of [
      'read-managed-instance',
      'master-key',
      'create-link',
      'wait-for-link',
      'first-log-backup',
    ])
      expect(out.split('\n').filter((l) => l.includes(`✔ ${step} `))).toHaveLength(1);
    expect(out).toMatch(/link: (replica|the instance is creating)/);
    expect(out).toContain('link DAG1_SalesDb (SalesDb -> mi-prod) is healthy');
    expect(out + watch.stderr()).not.toContain(bed.host.functionKey);

    const status = milink(bed, ['status', id]);
    expect(await status.code).toBe(0);
    expect(status.stdout()).toContain(`createLink ${id}: Completed (succeeded)`);
  });

  it('milink list --ticket finds the run a queue ticket started; an unknown ticket exits 3', async () => {
    await bed.host.queues.send('link-requests', {
      ticketId: 'CHG-9001',
      action: 'create',
      request: demoRequest(),
    });
    await bed.host.idle();
    const found = milink(bed, ['list', '--ticket', 'CHG-9001']);
    expect(await found.code, found.stderr()).toBe(0);
    const rows = found.stdout().trim().split('\n');
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatch(
      /^link-mi-prod-[0-9a-f]{12}\s+createLink\s+Completed\s+succeeded\s+DAG1_SalesDb\s+mi-prod\s+SalesDb\s+CHG-9001\s/,
    );

    const json = milink(bed, ['list', '--ticket', 'CHG-9001', '--json']);
    expect(await json.code).toBe(0);
    expect(JSON.parse(json.stdout())).toEqual([expect.objectContaining({ ticketId: 'CHG-9001' })]);

    const missing = milink(bed, ['list', '--ticket', 'CHG-0000']);
    expect(await missing.code).toBe(3);
    expect(missing.stderr()).toContain('no operation for ticket CHG-0000');
  });

  it('exits 5 when the API is not there', async () => {
    const down = milink(bed, ['list', '--url', 'http://127.0.0.1:9']);
    expect(await down.code).toBe(5);
    expect(down.stderr()).toContain('cannot reach http://127.0.0.1:9/api');
  });
});
