/**
 * The inventory is kept by the operations themselves: a link created over HTTP and one created from a
 * link-requests ticket are each recorded after createLink succeeds (request with Key Vault secret names only, the
 * SQL Server as @@SERVERNAME names it), and the night's sweep finds both healthy with no finding. Without a storage
 * account the link is still made, and the status says it was not recorded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InventoryStore } from '../../src/inventory/store.js';
import { linkInstanceId } from '../../src/link/status.js';
import { demoRequest, startBed, type Bed } from './harness.js';
import { nightlySweep } from './health-bed.js';

let bed: Bed;
beforeAll(async () => {
  bed = await startBed({ queues: 'azurite-memory' });
}, 60_000);
afterAll(async () => bed?.close());

describe('the inventory kept by createLink', () => {
  it('records the links made over HTTP and from a ticket, and the sweep finds them healthy', async () => {
    const posted = await bed.api('POST', '/api/links', demoRequest());
    expect(posted.status).toBe(202);
    expect((await bed.finish(posted.json.instanceId, 120_000)).runtimeStatus).toBe('Completed');
    await bed.host.queues.send('link-requests', {
      ticketId: 'CHG-1001',
      action: 'create',
      request: demoRequest({ database: 'OrdersDb' }),
    });
    const ticketRun = linkInstanceId('mi-prod', 'DAG1_OrdersDb');
    const ticketStatus = await bed.finish(ticketRun, 120_000);
    expect(ticketStatus.runtimeStatus).toBe('Completed');
    expect(ticketStatus.warnings ?? []).not.toContainEqual(expect.objectContaining({ check: 'record' }));

    const store = InventoryStore.fromConnectionString(bed.host.storageConnectionString!, 'milinkinventory', {
      allowInsecureConnection: true,
    });
    const records = await store.list();
    expect(records.map((r) => [r.instance, r.linkName, r.sqlServer, r.database, r.state])).toEqual([
      ['mi-prod', 'DAG1_OrdersDb', 'SQLBOX1', 'OrdersDb', 'linked'],
      ['mi-prod', 'DAG1_SalesDb', 'SQLBOX1', 'SalesDb', 'linked'],
    ]);
    expect(records[0]!.lastOperation).toMatchObject({
      kind: 'createLink',
      status: 'succeeded',
      instanceId: ticketRun,
    });
    expect(records[1]!.lastOperation).toMatchObject({ instanceId: posted.json.instanceId });
    expect(records[1]!.request).toMatchObject({
      sqlServer: { loginSecret: 'sqlbox1-login', masterKeySecret: 'sqlbox1-master-key' },
    });
    const text = JSON.stringify(records);
    expect(text).not.toContain('Sim-Only-Passw0rd!1');
    expect(text).not.toContain('Sim-Only-MasterKey#2026');

    const { output, report } = await nightlySweep(bed);
    expect(output.servers).toEqual({ total: 1, unreachable: [] });
    expect(report.summary).toMatchObject({ links: 2, managed: 2, unmanaged: 0, healthy: 2 });
    expect(report.findings).toEqual([]);
  });
});

describe('without a storage account', () => {
  it('makes the link and says it was not recorded', async () => {
    // (the environment is the process's: the first bed's connection string would still be in it)
    const plain = await startBed({ env: { AzureWebJobsStorage: '' } });
    try {
      const posted = await plain.api('POST', '/api/links', demoRequest());
      const status = await plain.finish(posted.json.instanceId, 120_000);
      expect(status.runtimeStatus).toBe('Completed');
      expect(status.warnings).toContainEqual(
        expect.objectContaining({
          check: 'record',
          message: expect.stringMatching(/not recorded in milink's inventory: no storage account/),
          advice: expect.stringMatching(/POST \/api\/links\/adopt/),
        }),
      );
    } finally {
      await plain.close();
    }
  });
});
