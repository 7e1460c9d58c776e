import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { armLink, demoRequest, startBed, until, type Bed } from './harness.js';

/** Issue 13: the queue's lifecycle actions — a drop ticket runs dropLink with its options; a bad one is poisoned. */
describe('queue link-requests: lifecycle tickets', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await startBed({ queues: 'azurite-memory' });
    const created = await bed.api('POST', '/api/links', demoRequest());
    expect((await bed.finish(created.json.instanceId)).runtimeStatus).toBe('Completed');
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('a ticket with invalid options goes to link-requests-poison naming the option; nothing runs', async () => {
    const runs = bed.host.stats.episodes;
    await bed.host.queues.send('link-requests', {
      ticketId: 'CHG-7001',
      action: 'failover',
      request: demoRequest(),
      options: { to: 'ManagedInstance' },
    });
    await bed.host.idle();
    const poisoned = ((await bed.host.queues.receiveAll('link-requests-poison')) as unknown[]).map((p) =>
      typeof p === 'string' ? JSON.parse(p) : p,
    );
    expect(poisoned).toHaveLength(1);
    expect(poisoned[0].reason.details).toEqual([
      expect.objectContaining({ target: 'options.workloadStopped', code: 'InvalidValue' }),
    ]);
    expect(bed.host.stats.episodes).toBe(runs);
  });

  it('a drop ticket runs dropLink with its options; the ticket is in its status', async () => {
    await bed.host.queues.send('link-requests', {
      ticketId: 'CHG-7002',
      action: 'drop',
      request: demoRequest(),
      options: { dropAvailabilityGroup: true },
    });
    await bed.host.idle();
    const line = await until(
      async () =>
        bed.logs.find((l) => /\[ticket CHG-7002\] dropLink started: (link-mi-prod-[0-9a-f]{12})/.test(l)),
      'the drop ticket to start',
    );
    const id = /(link-mi-prod-[0-9a-f]{12})/.exec(line)![1]!;
    const status = await bed.finish(id);
    expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
    expect(status.operation).toBe('dropLink');
    expect(status.ticketId).toBe('CHG-7002');
    expect(status.steps.map((s: { id: string }) => s.id)).toContain('drop-availability-group');
    expect(armLink(bed, 'mi-prod', 'DAG1_SalesDb')).toBeUndefined();
    expect(await bed.host.queues.peek('link-requests-poison')).toEqual([]);
  });
});
