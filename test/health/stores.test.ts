/** The inventory (Table Storage) and the report store (Blob Storage) against Azurite, through the real SDKs. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InventoryStore, type InventoryRecord } from '../../src/inventory/store.js';
import { ReportStore, reportBlobName } from '../../src/health/report-store.js';
import { buildReport } from '../../src/health/report.js';
import { thresholds } from '../../src/health/thresholds.js';
import { startAzuriteStorage, type AzuriteStorage } from './azurite.js';
import { AT, healthyInput } from './fixtures.js';

let storage: AzuriteStorage;
beforeAll(async () => {
  storage = await startAzuriteStorage();
});
afterAll(async () => storage?.stop());

const request = {
  sqlServer: {
    host: 'sqlbox1.contoso.local',
    login: 'milink_admin',
    loginSecret: 'sqlbox1-login',
    masterKeySecret: 'sqlbox1-master-key',
  },
  managedInstance: {
    subscriptionId: '00000000-0000-0000-0000-000000000001',
    resourceGroup: 'rg-data',
    name: 'mi-prod',
  },
  database: 'SalesDb',
};
const record = (linkName: string, over: Partial<InventoryRecord> = {}): InventoryRecord => ({
  instance: 'mi-prod',
  linkName,
  sqlServer: 'sqlbox1.contoso.local',
  database: 'SalesDb',
  request,
  lastOperation: { kind: 'createLink', status: 'running', instanceId: 'link-mi-prod-abc', at: AT },
  state: 'creating',
  updatedAt: AT,
  ...over,
});

describe('inventory in Table Storage', () => {
  it('upserts, gets (whatever the case of the name), lists and removes links', async () => {
    const store = InventoryStore.fromConnectionString(storage.connectionString, 'inventorytest1', {
      allowInsecureConnection: true,
    });
    expect(await store.list()).toEqual([]);
    await store.upsert(record('DAG1_SalesDb'));
    await store.upsert(record('#odd/name?x', { sqlServer: 'sqlbox2', database: 'Hr' }));
    await store.upsert(record('DAG1_Orders', { instance: 'mi-dr', database: 'Orders' }));
    expect(await store.get('MI-PROD', 'dag1_salesdb')).toEqual(record('DAG1_SalesDb'));
    expect(await store.get('mi-prod', '#odd/name?x')).toMatchObject({
      linkName: '#odd/name?x',
      sqlServer: 'sqlbox2',
    });
    expect(await store.get('mi-prod', 'nope')).toBeNull();
    expect((await store.list()).map((r) => `${r.instance}/${r.linkName}`)).toEqual([
      'mi-dr/DAG1_Orders',
      'mi-prod/#odd/name?x',
      'mi-prod/DAG1_SalesDb',
    ]);
    expect((await store.list({ instance: 'mi-prod' })).length).toBe(2);
    expect((await store.list({ sqlServer: 'sqlbox2' })).map((r) => r.linkName)).toEqual(['#odd/name?x']);
    expect(await store.remove('mi-prod', '#odd/name?x')).toBe(true);
    expect(await store.remove('mi-prod', '#odd/name?x')).toBe(false);
    expect((await store.list()).length).toBe(2);
  });

  it('records an operation and the state it left', async () => {
    const store = InventoryStore.fromConnectionString(storage.connectionString, 'inventorytest2', {
      allowInsecureConnection: true,
    });
    await store.upsert(record('DAG1_SalesDb'));
    const later = '2026-12-01T02:30:00.000Z';
    await store.recordOperation(
      'mi-prod',
      'DAG1_SalesDb',
      { kind: 'createLink', status: 'succeeded', at: later },
      'linked',
    );
    expect(await store.get('mi-prod', 'DAG1_SalesDb')).toMatchObject({
      state: 'linked',
      updatedAt: later,
      lastOperation: { kind: 'createLink', status: 'succeeded' },
      request,
    });
    await expect(
      store.recordOperation(
        'mi-prod',
        'missing',
        { kind: 'dropLink', status: 'failed', at: later },
        'failed',
      ),
    ).rejects.toThrow(/not in the inventory/);
  });

  it('refuses a request that carries a secret value, before anything is stored', async () => {
    const store = InventoryStore.fromConnectionString(storage.connectionString, 'inventorytest3', {
      allowInsecureConnection: true,
    });
    const leaky = record('DAG1_Leak', {
      request: { ...request, sqlServer: { ...request.sqlServer, password: 'S3cr3t!' } },
    });
    await expect(store.upsert(leaky)).rejects.toThrow(
      /request\.sqlServer\.password looks like a secret value/,
    );
    expect(await store.get('mi-prod', 'DAG1_Leak')).toBeNull();
  });
});

describe('reports in Blob Storage', () => {
  const night = (n: number) => {
    const input = healthyInput();
    input.at = new Date(Date.parse(AT) + n * 86_400_000).toISOString();
    return buildReport(input, { thresholds: thresholds() });
  };

  it('stores one blob per night and reads the latest, one night, and the recent ones', async () => {
    const store = ReportStore.fromConnectionString(storage.connectionString, 'health-test1');
    expect(await store.latest()).toBeNull();
    for (const n of [2, 0, 1]) expect(await store.save(night(n))).toBe(`reports/2026-12-0${n + 1}.json`);
    expect(await store.dates()).toEqual(['2026-12-01', '2026-12-02', '2026-12-03']);
    expect((await store.latest())?.date).toBe('2026-12-03');
    expect(await store.byDate('2026-12-02')).toEqual(night(1));
    expect(await store.byDate('2026-11-30')).toBeNull();
    expect((await store.recent(2)).map((r) => r.date)).toEqual(['2026-12-02', '2026-12-03']);
    expect((await store.recent(5, '2026-12-03')).map((r) => r.date)).toEqual(['2026-12-01', '2026-12-02']);
    const props = await store.container.getBlobClient('reports/2026-12-01.json').getProperties();
    expect(props.contentType).toBe('application/json; charset=utf-8');
  });

  it('a second run of the same night replaces its report', async () => {
    const store = ReportStore.fromConnectionString(storage.connectionString, 'health-test2');
    await store.save(night(0));
    const again = { ...night(0), generatedAt: '2026-12-01T03:00:00.000Z' };
    await store.save(again);
    expect(await store.dates()).toEqual(['2026-12-01']);
    expect((await store.latest())?.generatedAt).toBe('2026-12-01T03:00:00.000Z');
  });

  it('refuses a date that is not YYYY-MM-DD (no path in a blob name)', () => {
    expect(() => reportBlobName('../secrets')).toThrow(RangeError);
    expect(() => reportBlobName('2026-13-45')).toThrow(RangeError);
    expect(() => reportBlobName('2026-02-30')).toThrow(RangeError);
    expect(reportBlobName('2026-12-01')).toBe('reports/2026-12-01.json');
  });
});
