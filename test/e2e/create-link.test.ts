import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoRequest, startBed, type Bed } from './harness.js';

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
