import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface HostJson {
  version?: string;
  functionTimeout?: string;
  extensionBundle?: { id?: string; version?: string };
  extensions?: {
    durableTask?: {
      hubName?: string;
      maxConcurrentActivityFunctions?: number;
      maxConcurrentOrchestratorFunctions?: number;
      storageProvider?: { partitionCount?: number; maxQueuePollingInterval?: string };
    };
    queues?: {
      maxDequeueCount?: number;
      batchSize?: number;
      messageEncoding?: string;
      visibilityTimeout?: string;
    };
  };
}

const host = JSON.parse(readFileSync(new URL('../../host.json', import.meta.url), 'utf8')) as HostJson;

function seconds(span: string | undefined): number {
  const m = /^(\d{2}):(\d{2}):(\d{2})$/.exec(span ?? '');
  if (!m) throw new Error(`not a hh:mm:ss time span: ${span}`);
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

describe('host.json fits Flex Consumption and the durable task hub', () => {
  it('uses extension bundle 4 (durable, queues with identity-based connections)', () => {
    expect(host.version).toBe('2.0');
    expect(host.extensionBundle).toEqual({
      id: 'Microsoft.Azure.Functions.ExtensionBundle',
      version: '[4.*, 5.0.0)',
    });
  });

  it('names a valid Azure Storage task hub', () => {
    // Azure Storage task hub names: 3–45 characters, letters and digits, starting with a letter.
    expect(host.extensions?.durableTask?.hubName).toMatch(/^[A-Za-z][A-Za-z0-9]{2,44}$/);
  });

  it('bounds concurrency per instance (SQL Server sessions and ARM calls are the scarce resource)', () => {
    const d = host.extensions!.durableTask!;
    expect(d.maxConcurrentActivityFunctions).toBeGreaterThanOrEqual(1);
    expect(d.maxConcurrentActivityFunctions).toBeLessThanOrEqual(16);
    expect(d.maxConcurrentOrchestratorFunctions).toBeGreaterThanOrEqual(1);
    expect(d.maxConcurrentOrchestratorFunctions).toBeLessThanOrEqual(16);
    expect(d.storageProvider?.partitionCount).toBeGreaterThanOrEqual(1);
    expect(d.storageProvider?.partitionCount).toBeLessThanOrEqual(16);
    expect(seconds(d.storageProvider?.maxQueuePollingInterval)).toBeLessThanOrEqual(30);
  });

  it('retries a failing ticket a few times, then the host moves it to link-requests-poison', () => {
    const q = host.extensions!.queues!;
    expect(Number.isInteger(q.maxDequeueCount)).toBe(true);
    expect(q.maxDequeueCount).toBeGreaterThanOrEqual(2);
    expect(q.maxDequeueCount).toBeLessThanOrEqual(10);
    // Tickets are plain JSON text (as `az storage message put` and the storage SDKs send them).
    expect(q.messageEncoding).toBe('none');
    expect(seconds(q.visibilityTimeout)).toBeGreaterThan(0);
  });

  it('gives every activity a bounded time that a long BACKUP fits and Flex Consumption honours', () => {
    // Flex Consumption has no maximum, but gives a running execution at most 60 minutes when it scales in: a bound
    // past that would not be kept. A full backup has no client-side limit, so this is its limit.
    const t = seconds(host.functionTimeout);
    expect(t).toBeGreaterThanOrEqual(30 * 60);
    expect(t).toBeLessThanOrEqual(60 * 60);
  });
});
