/**
 * Queue and timer triggers: messages on Azurite (in memory, on a port chosen at start), the dequeue count,
 * the move to `<queue>-poison` after host.json's maxDequeueCount failures, queue output bindings, and a timer
 * fired on demand.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalHost, timeSpanMs, type LocalHost } from '../../local/host/host.js';
import { VirtualClock } from '../../local/sim/clock.js';
import { controls } from './apps/samples.js';

const here = import.meta.dirname;
let host: LocalHost;
let stateDir: string;

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'milink-queues-'));
  host = await startLocalHost({
    entry: resolve(here, 'apps', 'samples.ts'),
    hostJson: resolve(here, 'apps', 'host.json'),
    stateDir,
    clock: new VirtualClock(),
    queues: 'azurite-memory',
    queuePollMs: 50,
    log: () => {},
  });
});

afterAll(async () => {
  await host?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('queue trigger', () => {
  it('runs the handler with the decoded message and its durable client; idle() covers the trip', async () => {
    await host.queues.send('sample-requests', { name: 'Osaka' });
    await host.idle();
    const status = await host.client.getStatus('queued-Osaka');
    expect(status?.runtimeStatus).toBe('Completed');
    expect(status?.output).toBe('Hello, Osaka!');
  });

  it('stores messages base64-encoded when host.json says so', async () => {
    const q = new QueueClient(host.storageConnectionString!, 'encoding-check');
    await q.createIfNotExists();
    await host.queues.send('encoding-check', { a: 1 });
    const peeked = await q.peekMessages();
    expect(peeked.peekedMessageItems[0]!.messageText).toBe(Buffer.from('{"a":1}').toString('base64'));
    expect(await host.queues.receiveAll('encoding-check')).toEqual([{ a: 1 }]);
  });

  it('moves a message whose handler keeps failing to -poison after maxDequeueCount attempts', async () => {
    controls.queueFailures = 0;
    await host.queues.send('sample-requests', { kind: 'explode', id: 7 });
    const poisoned = await until('the poison message', async () => {
      const items = await host.queues.peek('sample-requests-poison');
      return items.find((m) => (m as { id?: number }).id === 7);
    });
    expect(poisoned).toEqual({ kind: 'explode', id: 7 });
    expect(controls.queueFailures).toBe(3); // host.json: maxDequeueCount 3
    expect(await host.queues.peek('sample-requests')).toEqual([]);
    await host.queues.receiveAll('sample-requests-poison');
  });

  it('writes queue output bindings set through context.extraOutputs', async () => {
    controls.queueFailures = 0;
    await host.queues.send('sample-requests', { kind: 'invalid', why: 'no name' });
    const rejected = await until('the rejected message', async () => {
      const items = await host.queues.receiveAll('sample-requests-poison');
      return items.length > 0 ? items : undefined;
    });
    expect(rejected).toEqual([{ rejected: { kind: 'invalid', why: 'no name' }, reason: 'invalid' }]);
    expect(controls.queueFailures).toBe(0);
  });
});

describe('timer trigger', () => {
  it('fires on demand with isPastDue false', async () => {
    await host.fireTimer('SampleNightly');
    const done = await host.client.waitForCompletion('nightly', { timeoutMs: 10_000 });
    expect(done.output).toBe('Hello, night!');
    await expect(host.fireTimer('NoSuchTimer')).rejects.toThrow(/no timer function named 'NoSuchTimer'/);
  });

  it('reads host.json TimeSpans', () => {
    expect(timeSpanMs('00:00:30')).toBe(30_000);
    expect(timeSpanMs('1.02:03:04.5')).toBe(((24 + 2) * 3600 + 3 * 60 + 4) * 1000 + 500);
    expect(() => timeSpanMs('soon')).toThrow();
  });
});

describe("the repository's host.json with a test override", () => {
  it('uses messageEncoding none and the maxDequeueCount override', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'milink-queues-repo-'));
    const repoHost = await startLocalHost({
      entry: resolve(here, 'apps', 'samples.ts'),
      stateDir: dir,
      clock: new VirtualClock(),
      queues: 'azurite-memory',
      maxDequeueCount: 2,
      queueVisibilityTimeoutMs: 0, // host.json hides a failed message for 30 s
      queuePollMs: 50,
      log: () => {},
    });
    try {
      const raw = new QueueClient(repoHost.storageConnectionString!, 'sample-requests');
      await raw.createIfNotExists();
      controls.queueFailures = 0;
      await raw.sendMessage(JSON.stringify({ kind: 'explode', id: 9 })); // plain JSON, as the repo's host.json says
      const poisoned = await until('the poison message', async () => {
        const items = await repoHost.queues.peek('sample-requests-poison');
        return items.length > 0 ? items : undefined;
      });
      expect(poisoned).toEqual([{ kind: 'explode', id: 9 }]);
      expect(controls.queueFailures).toBe(2);
    } finally {
      await repoHost.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
