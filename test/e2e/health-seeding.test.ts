/**
 * Seeding without progress ("Troubleshoot issues with the link": seeding restarts after any disconnect, restart or
 * failover, and link creation is cancelled after 6 days): milink creates a link for a large database, the estate
 * stops its seeding (trouble on demand) while createLink waits, the link is adopted, and the sweep sees it seeding
 * on night 1 (no finding: nothing to compare yet) and reports `seeding` critical on night 2, when the bytes
 * transferred have not moved since the previous night.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoRequest, demoSpec, startBed, until, type Bed } from './harness.js';
import { nightlySweep } from './health-bed.js';

const DAY = 24 * 3600_000;
let bed: Bed;
let instanceId: string;

beforeAll(async () => {
  const spec = demoSpec();
  // 300 GB: hours of seeding at the estate's 20 MB per simulated second
  spec.sqlServers[0]!.databases = spec.sqlServers[0]!.databases!.map((d) =>
    d.name === 'SalesDb' ? { ...d, sizeMb: 300_000 } : d,
  );
  bed = await startBed({ spec, queues: 'azurite-memory', env: { MILINK_LINK_DEADLINE_HOURS: '144' } });
  // the clock moves only when the test moves it: createLink runs to its wait, then time goes on in small steps
  // until the link is seeding, and the seeding is stopped there
  bed.host.setAutoAdvance(false);
  const posted = await bed.api('POST', '/api/links', demoRequest());
  expect(posted.status).toBe(202);
  instanceId = posted.json.instanceId;
  await until(async () => {
    await bed.host.idle();
    const s = (await bed.api('GET', `/api/links/${instanceId}`)).json;
    if (
      s.current === 'wait-for-link' &&
      s.progress?.replicaState === 'Seeding' &&
      s.progress.transferredMb > 0
    )
      return s;
    bed.host.advance(5_000);
    bed.estate.advance();
    return undefined;
  }, 'createLink waiting for the link to seed');
  bed.estate.control.setTrouble({
    kind: 'seedingStuck',
    link: { instance: 'mi-prod', name: 'DAG1_SalesDb' },
  });
  const adopted = await bed.api('POST', '/api/links/adopt', demoRequest());
  expect(adopted.status, adopted.text).toBe(200);
}, 120_000);
afterAll(async () => bed?.close());

describe('a link whose seeding stopped', () => {
  it('night 1: seeding, no finding yet', async () => {
    const { report } = await nightlySweep(bed);
    const link = report.links.find((l: any) => l.key === 'mi-prod/DAG1_SalesDb');
    expect(link).toMatchObject({ state: 'seeding', managed: true });
    expect(link.seeding.transferredBytes).toBeGreaterThan(0);
    expect(report.findings).toEqual([]);
    expect(await bed.host.queues.receiveAll('link-alerts')).toEqual([]);
  });

  it('night 2: no progress since the previous night is critical, with TS advice, and alerts once', async () => {
    bed.host.advance(DAY);
    bed.estate.advance();
    const { report } = await nightlySweep(bed);
    expect(report.findings.map((f: any) => [f.checkId, f.severity, f.link])).toEqual([
      ['seeding', 'critical', 'mi-prod/DAG1_SalesDb'],
    ]);
    expect(report.findings[0].advice).toMatch(/seeding restarts after any disconnect/);
    expect(report.findings[0].advice).toMatch(/cancelled after 6 days/);
    expect(await bed.host.queues.receiveAll('link-alerts')).toEqual([
      expect.objectContaining({ kind: 'new', checkId: 'seeding', severity: 'critical' }),
    ]);
    // createLink is still waiting: the sweep reads, it never touches a running operation
    expect((await bed.api('GET', `/api/links/${instanceId}`)).json.runtimeStatus).toBe('Running');
  });
});
