import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { armLink, demoRequest, demoSpec, queryServer, startBed, type Bed } from './harness.js';

/**
 * Issue 13, drop with shared objects: the AG goes only when no other DAG uses it; the instance's certificate on
 * SQL Server and the instance's trust of SQL Server's go only when no other link of that SQL Server / instance
 * pair needs them. Three links: SalesDb → mi-prod (DAG1_SalesDb), SalesDb → mi-dr (DAG2_SalesDb, same AG),
 * OrdersDb → mi-prod (DAG1_OrdersDb, same pair).
 */
const SUB = '00000000-0000-0000-0000-000000000001';
const instance = (name: string) => ({ subscriptionId: SUB, resourceGroup: 'rg-data', name });
const options = { dropAvailabilityGroup: true, dropCertificates: true };

async function run(bed: Bed, method: string, path: string, body: unknown) {
  const posted = await bed.api(method, path, body);
  expect(posted.status, posted.text).toBe(202);
  const status = await bed.finish(posted.json.instanceId);
  expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
  return status;
}

const groups = async (bed: Bed) =>
  (await queryServer(bed, 'SQLBOX1', 'SELECT name FROM sys.availability_groups ORDER BY name')).map(
    (r) => r.name,
  );
const certificates = async (bed: Bed) =>
  (
    await queryServer(
      bed,
      'SQLBOX1',
      "SELECT name FROM sys.certificates WHERE name LIKE 'mi-%' ORDER BY name",
    )
  ).map((r) => String(r.name).split('.')[0]);
const trusts = (bed: Bed, mi: string) =>
  bed.estate.instances.all().find((m) => m.name === mi)!.serverTrustCertificates.size;

describe('dropLink keeps what other links still use', () => {
  let bed: Bed;
  beforeAll(async () => {
    const spec = demoSpec();
    spec.managedInstances.push({ ...spec.managedInstances[0]!, name: 'mi-dr' });
    spec.sqlServers[0]!.databases!.push({
      name: 'OrdersDb',
      recoveryModel: 'FULL',
      fullBackup: true,
      sizeMb: 50,
    });
    bed = await startBed({ spec });
    await run(bed, 'POST', '/api/links', demoRequest());
    await run(bed, 'POST', '/api/links', demoRequest({ managedInstance: instance('mi-dr') }));
    await run(bed, 'POST', '/api/links', demoRequest({ database: 'OrdersDb' }));
    expect(await groups(bed)).toEqual([
      'AG_OrdersDb',
      'AG_SalesDb',
      'DAG1_OrdersDb',
      'DAG1_SalesDb',
      'DAG2_SalesDb',
    ]);
  });
  afterAll(async () => {
    await bed?.close();
  });

  it("SalesDb → mi-prod: the DAG goes; the AG (DAG2_SalesDb) and the pair's certificates (DAG1_OrdersDb) stay", async () => {
    const status = await run(bed, 'POST', '/api/links/drop', { request: demoRequest(), options });
    expect(armLink(bed, 'mi-prod', 'DAG1_SalesDb')).toBeUndefined();
    expect(await groups(bed)).toEqual(['AG_OrdersDb', 'AG_SalesDb', 'DAG1_OrdersDb', 'DAG2_SalesDb']);
    expect(await certificates(bed)).toEqual(['mi-dr', 'mi-prod']);
    expect(trusts(bed, 'mi-prod')).toBe(1);
    const found = (id: string) => status.output.reports.find((r: { step: string }) => r.step === id).found;
    expect(found('drop-availability-group')).toEqual([expect.stringContaining('DAG2_SalesDb')]);
    expect(found('drop-instance-certificate')).toEqual([expect.stringContaining('DAG1_OrdersDb')]);
    expect(found('untrust-sqlserver-certificate')).toEqual([expect.stringContaining('DAG1_OrdersDb')]);
  });

  it("SalesDb → mi-dr (found as DAG2_SalesDb): now the AG and mi-dr's certificates go", async () => {
    const status = await run(bed, 'POST', '/api/links/drop', {
      request: demoRequest({ managedInstance: instance('mi-dr') }),
      options,
    });
    expect(status.link).toBe('DAG2_SalesDb');
    expect(armLink(bed, 'mi-dr', 'DAG2_SalesDb')).toBeUndefined();
    expect(await groups(bed)).toEqual(['AG_OrdersDb', 'DAG1_OrdersDb']);
    expect(await certificates(bed)).toEqual(['mi-prod']);
    expect(trusts(bed, 'mi-dr')).toBe(0);
    expect(trusts(bed, 'mi-prod')).toBe(1);
  });

  it('OrdersDb → mi-prod, the last link: everything of the pair goes', async () => {
    await run(bed, 'POST', '/api/links/drop', { request: demoRequest({ database: 'OrdersDb' }), options });
    expect(await groups(bed)).toEqual([]);
    expect(await certificates(bed)).toEqual([]);
    expect(trusts(bed, 'mi-prod')).toBe(0);
  });
});
