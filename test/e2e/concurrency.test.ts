import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRequests, demoRequest, journalOf, startBed, type Bed } from './harness.js';

/**
 * Issue 16, item 2: starting an operation is atomic. Many requests for one link at once, over HTTP and over the
 * queue, in identical and in case-varied forms, start exactly one orchestration; every other HTTP answer is a 409
 * naming it (never a 500), and every other ticket completes as "nothing started" on its first delivery.
 */

const COPIES = 50;

/** A small seeded generator (mulberry32), so a failing mix can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The text with each letter's case chosen at random; the first few copies are the plain lower and upper forms. */
function caseVariant(text: string, next: () => number, i: number): string {
  if (i % 3 === 1) return text.toLowerCase();
  if (i % 3 === 2) return text.toUpperCase();
  return [...text].map((c) => (next() < 0.5 ? c.toLowerCase() : c.toUpperCase())).join('');
}

/**
 * The same link asked for in other letter cases wherever SQL Server and ARM compare names case-insensitively:
 * the database, the SQL Server's host and server name, the resource group, and (for every other copy) the link's
 * own name given explicitly.
 */
function caseVariedRequests(count: number, seed: number): any[] {
  const next = random(seed);
  return Array.from({ length: count }, (_, i) => {
    const base = demoRequest();
    return {
      ...base,
      database: caseVariant('SalesDb', next, i),
      sqlServer: {
        ...base.sqlServer,
        host: caseVariant(base.sqlServer.host, next, i + 1),
        serverName: caseVariant('SQLBOX1', next, i + 2),
      },
      managedInstance: {
        ...base.managedInstance,
        resourceGroup: caseVariant(base.managedInstance.resourceGroup, next, i),
      },
      ...(i % 2 === 0 ? { names: { link: caseVariant('DAG1_SalesDb', next, i + 1) } } : {}),
    };
  });
}

/** Every orchestration the host knows (the Durable HTTP API's instance list). */
async function instances(bed: Bed): Promise<Array<{ instanceId: string; runtimeStatus: string }>> {
  const res = await fetch(
    `${bed.host.baseUrl}/runtime/webhooks/durabletask/instances?code=${bed.host.functionKey}`,
  );
  expect(res.status).toBe(200);
  return (await res.json()) as Array<{ instanceId: string; runtimeStatus: string }>;
}

/** The run built every object once: each CREATE was sent to SQL Server once. */
function expectBuiltOnce(bed: Bed): void {
  const creates = createRequests(journalOf(bed, 'SQLBOX1'));
  expect(creates.size).toBeGreaterThan(4);
  for (const [object, count] of creates) expect(count, object).toBe(1);
}

describe('concurrent POST /api/links for one link', () => {
  // each form on a fresh estate, so the one run it starts has a link to build and waits for it (held running)
  let bed: Bed;
  beforeEach(async () => {
    bed = await startBed();
  });
  afterEach(async () => {
    await bed?.close();
  });

  for (const form of ['identical', 'case-varied'] as const) {
    it(`${COPIES} ${form} requests at once: one 202, every other answer a 409 naming it, one orchestration`, async () => {
      // the run is held at its first durable timer, so every request meets it running
      bed.host.setAutoAdvance(false);
      const requests =
        form === 'identical'
          ? Array.from({ length: COPIES }, () => demoRequest())
          : caseVariedRequests(COPIES, 16);
      const answers = await Promise.all(requests.map((r) => bed.api('POST', '/api/links', r)));

      // anything but 202 and 409 is a failure, shown with its body
      expect(
        answers.filter((a) => a.status !== 202 && a.status !== 409).map((a) => `${a.status} ${a.text}`),
      ).toEqual([]);
      const started = answers.filter((a) => a.status === 202);
      expect(started.map((a) => a.text)).toHaveLength(1);
      const id = started[0]!.json.instanceId as string;
      for (const refused of answers.filter((a) => a.status === 409)) {
        expect(refused.json.error.code).toBe('LinkOperationInProgress');
        expect(refused.json.error.target).toBe(id);
        expect(refused.json.error.message).toContain(id);
      }
      expect((await instances(bed)).map((i) => i.instanceId)).toEqual([id]);

      bed.host.setAutoAdvance(true);
      await bed.host.idle();
      const status = await bed.finish(id);
      expect(status.runtimeStatus, JSON.stringify(status, null, 2)).toBe('Completed');
      expect(bed.logs.filter((l) => /POST \/api\/links failed|http error/.test(l))).toEqual([]);
      expectBuiltOnce(bed);
    });
  }
});

describe('concurrent tickets for one link on link-requests', () => {
  let bed: Bed;
  beforeEach(async () => {
    bed = await startBed({ queues: 'azurite-memory' });
  });
  afterEach(async () => {
    await bed?.close();
  });

  for (const form of ['identical', 'case-varied'] as const) {
    it(`${COPIES} ${form} tickets at once: one started, every other "nothing started" on its first delivery, none retried or poisoned`, async () => {
      bed.host.setAutoAdvance(false);
      const requests =
        form === 'identical'
          ? Array.from({ length: COPIES }, () => demoRequest())
          : caseVariedRequests(COPIES, 61);
      const tickets = requests.map((request, i) => ({
        ticketId: `CHG-${form}-${String(i).padStart(3, '0')}`,
        action: 'create',
        request,
      }));
      const from = bed.logs.length;
      await Promise.all(tickets.map((t) => bed.host.queues.send('link-requests', t)));
      await bed.host.idle();

      const lines = bed.logs.slice(from);
      // a handler that threw is logged by the host with the message's dequeue count, and retried later
      expect(lines.filter((l) => /\[linkRequests\] (failed|message .* moved)/.test(l))).toEqual([]);
      const outcome = (ticketId: string) =>
        lines.filter(
          (l) =>
            l.includes(`[ticket ${ticketId}] createLink started:`) ||
            l.includes(`[ticket ${ticketId}] createLink already`),
        );
      for (const t of tickets) expect(outcome(t.ticketId), t.ticketId).toHaveLength(1);
      const started = tickets.filter((t) =>
        lines.some((l) => l.includes(`[ticket ${t.ticketId}] createLink started:`)),
      );
      expect(started).toHaveLength(1);
      const id = /(link-mi-prod-[0-9a-f]{12})/.exec(outcome(started[0]!.ticketId)[0]!)![1]!;
      for (const t of tickets.filter((x) => x !== started[0]))
        expect(outcome(t.ticketId)[0]).toMatch(
          new RegExp(`already (Running|Pending): ${id}; nothing started`),
        );
      expect(await bed.host.queues.peek('link-requests')).toEqual([]);
      expect(await bed.host.queues.peek('link-requests-poison')).toEqual([]);
      expect((await instances(bed)).map((i) => i.instanceId)).toEqual([id]);

      bed.host.setAutoAdvance(true);
      await bed.host.idle();
      const status = await bed.finish(id);
      expect(status.runtimeStatus, JSON.stringify(status, null, 2)).toBe('Completed');
      expect(status.ticketId).toBe(started[0]!.ticketId);
      expectBuiltOnce(bed);
    });
  }
});
