import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARM_ADVICE } from '../../src/azure/errors.js';
import { armLink, changesIn, demoRequest, journalOf, startBed, type Bed } from './harness.js';

/**
 * Issue 13, injected faults: the service's 409 refusing a planned failover ends in a failed status naming the step,
 * the code and the advice (and a re-run converges); throttling, 5xx and dropped SQL connections end in success.
 */
const request = () => demoRequest({ failoverMode: 'Manual' });
const target = { server: 'SQLBOX1', database: 'SalesDb' };

async function run(bed: Bed, path: string, options: Record<string, unknown>) {
  const posted = await bed.api('POST', path, { request: request(), options });
  expect(posted.status, posted.text).toBe(202);
  return bed.finish(posted.json.instanceId, 120_000);
}

describe('lifecycle operations under injected faults', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await startBed();
    const created = await bed.api('POST', '/api/links', request());
    expect((await bed.finish(created.json.instanceId)).runtimeStatus).toBe('Completed');
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('a dropped SQL connection on the switch to synchronous commit is retried: the failover succeeds, 0 lost', async () => {
    bed.estate.control.startWorkload(target, { transactionsPerSecond: 20 });
    bed.clock.advance(20_000);
    bed.estate.control.stopWorkload(target);
    const server = bed.estate.sqlServers.get('SQLBOX1')!;
    server.faults.dropOnText.push({ pattern: 'SYNCHRONOUS_COMMIT', remaining: 1 });
    const status = await run(bed, '/api/links/failover', {
      to: 'ManagedInstance',
      workloadStopped: true,
      lsnStableSeconds: 15,
    });
    expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
    expect(server.faults.dropOnText[0]?.remaining ?? 0).toBe(0);
    expect(journalOf(bed, 'SQLBOX1').some((e) => e.dropped && /SYNCHRONOUS_COMMIT/.test(e.text))).toBe(true);
    expect(bed.estate.control.workload(target).promotions.map((p) => p.lost)).toEqual([0]);
  });

  it("the service's 409 (secondaries not synchronizing) fails the failback at fail-over with the code and advice; a re-run converges", async () => {
    const code = 'DistributedAvailabilityGroupFailoverSecondariesNotSynchronizing';
    bed.estate.armFaults.fail(1, 409, { method: 'POST', path: '/failover', code });
    const failed = await run(bed, '/api/links/failover', {
      to: 'SqlServer',
      workloadStopped: true,
      lsnStableSeconds: 15,
    });
    expect(failed.runtimeStatus).toBe('Failed');
    expect(failed.error).toMatchObject({
      step: 'fail-over',
      target: 'azure',
      code,
      advice: ARM_ADVICE[code],
    });
    expect(failed.steps.find((s: { id: string }) => s.id === 'fail-over').state).toBe('failed');
    expect(armLink(bed, 'mi-prod', 'DAG1_SalesDb').properties.instanceLinkRole).toBe('Primary');

    const again = await run(bed, '/api/links/failover', {
      to: 'SqlServer',
      workloadStopped: true,
      lsnStableSeconds: 15,
    });
    expect(again.runtimeStatus, JSON.stringify(again.error ?? again.failures)).toBe('Completed');
    expect(armLink(bed, 'mi-prod', 'DAG1_SalesDb').properties.instanceLinkRole).toBe('Secondary');
    expect(bed.estate.control.workload(target).promotions.map((p) => p.lost)).toEqual([0, 0]);
  });

  it('throttling (429) and a 503 on the link DELETE end in a dropped link', async () => {
    bed.estate.armFaults.throttle(2, 0, { method: 'DELETE', path: '/distributedAvailabilityGroups/' });
    bed.estate.armFaults.fail(1, 503, { method: 'DELETE', path: '/distributedAvailabilityGroups/' });
    const injected = bed.estate.armFaults.injected.length;
    const from = bed.estate.arm.journal.length;
    const status = await run(bed, '/api/links/drop', {});
    expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
    expect(armLink(bed, 'mi-prod', 'DAG1_SalesDb')).toBeUndefined();
    const deletes = bed.estate.arm.journal.slice(from).filter((r) => r.method === 'DELETE');
    expect(deletes.map((r) => r.status)).toEqual([202]);
    expect(bed.estate.armFaults.injected.slice(injected).map((f) => `${f.kind} ${f.method}`)).toEqual([
      'throttle DELETE',
      'throttle DELETE',
      'error DELETE',
    ]);
    expect(
      changesIn(journalOf(bed, 'SQLBOX1')).some((e) =>
        /DROP AVAILABILITY GROUP \[DAG1_SalesDb\]/.test(e.text),
      ),
    ).toBe(true);
  });
});
