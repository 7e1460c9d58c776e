import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLLS_PER_GENERATION } from '../../src/link/status.js';
import { demoRequest, demoSpec, startBed, type Bed } from './harness.js';

describe('createLink end to end (SQL Server 2022, SQL Server as initial primary)', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await startBed();
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('POST /api/links brings the link to connected and healthy', async () => {
    const posted = await bed.api('POST', '/api/links', demoRequest());
    expect(posted.status, `${posted.text}\n${bed.logs.join('\n')}`).toBe(202);
    const id = posted.json.instanceId as string;
    expect(id).toMatch(/^link-mi-prod-[0-9a-f]{12}$/);
    const status = await bed.finish(id);
    expect(status.runtimeStatus, JSON.stringify(status, null, 2)).toBe('Completed');
    expect(status.phase).toBe('succeeded');
    expect(status.steps.every((s: { state: string }) => s.state === 'done')).toBe(true);
    expect(status.output.health.healthy).toBe(true);
  });
});

describe('a long wait continues as new generations of the same orchestration', () => {
  let bed: Bed;
  beforeAll(async () => {
    // A slow service: the link takes two simulated hours to be created, and a large database seeds slowly.
    const spec = demoSpec();
    spec.timing = { creationSeconds: 7200, seedingMBps: 1 };
    bed = await startBed({ spec, env: { MILINK_LINK_DEADLINE_HOURS: '6' } });
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('keeps each generation to a few polls and ends healthy with every report', async () => {
    const posted = await bed.api('POST', '/api/links', demoRequest());
    expect(posted.status, posted.text).toBe(202);
    const id = posted.json.instanceId as string;
    const status = await bed.finish(id, 120_000);
    expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
    expect(status.output.health.healthy).toBe(true);
    // the reports of the steps done before the wait survive the generations
    expect(status.output.reports.map((r: { step: string }) => r.step)).toEqual(
      expect.arrayContaining(['prepare-database', 'master-key', 'create-link', 'first-log-backup']),
    );
    const full = await bed.host.client.getStatus(id, { showHistory: true });
    const history = (full?.history ?? []) as Array<{ EventType: number; Name?: string; Input?: string }>;
    const polls = history.filter(
      (e) =>
        e.EventType === 4 && e.Name === 'runStep' && JSON.parse(e.Input ?? '{}').step === 'wait-for-link',
    ).length;
    // the last generation started in the wait: no step activity, at most one generation's polls
    expect(history.some((e) => e.EventType === 4 && e.Name === 'preflight')).toBe(false);
    expect(polls).toBeGreaterThan(0);
    expect(polls).toBeLessThanOrEqual(POLLS_PER_GENERATION);
    expect(bed.logs.join('\n')).not.toMatch(/Non-deterministic/);
  });
});
