/**
 * The sweep's reads, counted by the stand-ins: one T-SQL round trip per SQL Server whatever its number of links,
 * one ARM list per managed instance with every nextLink page (ARM lists are pageable: DistributedAvailabilityGroups
 * "List by instance" in the REST specification), and a sweep where one SQL Server does not answer and one instance
 * answers 5xx completes and reports both (issue 14).
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bed } from './harness.js';
import { adopt, generatedLinks, nightlySweep, startHealthBed } from './health-bed.js';

// 4 servers, 2 instances, 20 links: 5 links per server, 10 per instance, ARM pages of 3 (4 pages per instance)
const links = generatedLinks(4, 2, 20);
const PAGE = 3;
let bed: Bed;

beforeAll(async () => {
  bed = await startHealthBed({ sqlServers: 4, instances: 2, links: 20 }, { armListPageSize: PAGE });
  await adopt(bed, links);
}, 120_000);
afterAll(async () => bed?.close());

const listPath = (mi: string) =>
  `/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-estate/providers/Microsoft.Sql/managedInstances/${mi}/distributedAvailabilityGroups`;

describe('the sweep reads each source once', () => {
  it('one round trip per SQL Server, one list (and its pages) per instance, no finding on healthy links', async () => {
    for (const s of bed.estate.sqlServers.values()) s.counters.reset();
    bed.estate.arm.journal.length = 0;
    const { output, report } = await nightlySweep(bed);
    for (const [name, s] of bed.estate.sqlServers) {
      expect(s.counters.batches, name).toBe(1);
      expect(s.counters.roundTrips, name).toBe(1);
    }
    for (const mi of ['mi-01', 'mi-02']) {
      const lists = bed.estate.arm.journal.filter((j) => j.method === 'GET' && j.path === listPath(mi));
      expect(lists, mi).toHaveLength(Math.ceil(10 / PAGE));
    }
    expect(output.servers.total).toBe(4);
    expect(report.summary).toMatchObject({ links: 20, managed: 20, unmanaged: 0, healthy: 20 });
    expect(report.findings).toEqual([]);
    expect(report.instances.map((i: any) => i.links)).toEqual([10, 10]);
    // the orchestration's history holds where each read was kept, not the reads; they are gone once reported
    const history = await bed.host.client.getStatus('milink-health-sweep', { showHistory: true });
    expect(JSON.stringify(history!.history).length).toBeLessThan(20_000);
    const container = BlobServiceClient.fromConnectionString(
      bed.host.storageConnectionString!,
    ).getContainerClient('milink-health');
    const left: string[] = [];
    for await (const b of container.listBlobsFlat()) left.push(b.name);
    expect(left).toEqual([`reports/${report.date}.json`]);
  });

  it('completes with one SQL Server down and one instance answering 503, and reports both', async () => {
    await bed.estate.sqlServers.get('SQL002')!.close();
    bed.estate.armFaults.fail(100, 503, { path: '/managedInstances/mi-02/' });
    const { output, report } = await nightlySweep(bed);
    expect(output.servers.unreachable).toEqual(['SQL002']);
    expect(output.instances.unreachable).toEqual(['mi-02']);
    const unreachable = report.findings.filter((f: any) => f.checkId.endsWith('-unreachable'));
    expect(unreachable.map((f: any) => [f.checkId, f.severity, f.target])).toEqual([
      ['instance-unreachable', 'critical', 'instance:mi-02'],
      ['sqlserver-unreachable', 'critical', 'sqlserver:SQL002'],
    ]);
    expect(report.servers.find((s: any) => s.sqlServer === 'SQL002')).toMatchObject({ reachable: false });
    expect(report.instances.find((i: any) => i.instance === 'mi-02')).toMatchObject({ reachable: false });
    // the links the other side still sees are reported, the rest of the estate is judged as usual
    expect(report.links).toHaveLength(20);
    const seen = report.links.filter((l: any) => l.instance === 'mi-01' && l.sqlServer !== 'SQL002');
    expect(seen.length).toBeGreaterThan(0);
    for (const l of seen) expect(l.state).toBe('healthy');
    expect(report.findings.filter((f: any) => !f.checkId.endsWith('-unreachable'))).toEqual([]);
  });
});
