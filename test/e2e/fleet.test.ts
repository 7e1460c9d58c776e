/**
 * Issue 15, fleets: one request names many databases of one SQL Server for one instance. What the SQL Server and
 * the instance share is made once; each database is linked by its own run, bounded per SQL Server and instance;
 * a database that cannot be linked fails alone; a re-run converges and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EstateSpec } from '../../local/sim/estate/estate.js';
import { changesIn, createRequests, startBed, type Bed } from './harness.js';

const DATABASES = Array.from({ length: 24 }, (_, i) => `Db${String(i + 1).padStart(4, '0')}`);

function fleetRequest(databases: string[]) {
  return {
    sqlServer: {
      host: 'sql001.contoso.local',
      endpointAddress: '10.1.0.4',
      login: 'milink_admin',
      loginSecret: 'sql001-login',
      masterKeySecret: 'sql001-master-key',
      tls: { encrypt: false, trustServerCertificate: true },
    },
    managedInstance: {
      subscriptionId: '00000000-0000-0000-0000-000000000001',
      resourceGroup: 'rg-estate',
      name: 'mi-01',
    },
    databases,
    initialPrimary: 'SqlServer',
    certificateExpiry: '2027-11-30',
    backupPath: '/var/opt/mssql/backup/',
  };
}

describe('a fleet: 24 databases of one SQL Server linked to one instance in one request', () => {
  let bed: Bed;
  let fleet: any;
  beforeAll(async () => {
    const spec = { generate: { sqlServers: 1, instances: 1, links: DATABASES.length, linkState: 'none' } };
    bed = await startBed({
      spec: spec as unknown as EstateSpec,
      env: { MILINK_FLEET_PER_SERVER: '6', MILINK_FLEET_PER_INSTANCE: '6' },
    });
    // one more name that the SQL Server does not have: it fails alone
    const posted = await bed.api('POST', '/api/fleets', fleetRequest([...DATABASES, 'NoSuchDb']));
    expect(posted.status, posted.text).toBe(202);
    expect(posted.json.databases).toBe(DATABASES.length + 1);
    await bed.host.client.waitForCompletion(posted.json.instanceId, { timeoutMs: 300_000 });
    fleet = (await bed.api('GET', `/api/fleets/${posted.json.instanceId}`)).json;
  }, 300_000);
  afterAll(async () => {
    await bed?.close();
  });

  it('links every database; the one SQL Server does not have fails alone with its reason', () => {
    expect(fleet.runtimeStatus, JSON.stringify(fleet.pairs)).toBe('Completed');
    expect(fleet.pairs).toEqual([expect.objectContaining({ state: 'succeeded' })]);
    const byName = new Map(fleet.databases.map((d: any) => [d.database, d]));
    for (const db of DATABASES) expect((byName.get(db) as any)?.state, db).toBe('succeeded');
    const missing = byName.get('NoSuchDb') as any;
    expect(missing.state).toBe('failed');
    expect(missing.error.message).toMatch(/NoSuchDb/);
    expect(fleet.counts).toMatchObject({ succeeded: DATABASES.length, failed: 1, pending: 0, running: 0 });
    // each link healthy on the instance
    const links = bed.estate.links.all();
    expect(links).toHaveLength(DATABASES.length);
  });

  it('sends each shared object\u2019s CREATE once and each database\u2019s own once', () => {
    const journal = bed.estate.sqlServers.get('SQL001')!.journal;
    const creates = createRequests(journal);
    for (const shared of [
      'MASTER KEY',
      'CERTIFICATE [Cert_SQL001_endpoint]',
      'CERTIFICATE [MicrosoftPKI]',
      'CERTIFICATE [DigiCertPKI]',
    ])
      expect(creates.get(shared), shared).toBe(1);
    expect([...creates.keys()].filter((k) => k.startsWith('ENDPOINT')).map((k) => creates.get(k))).toEqual([
      1,
    ]);
    expect(
      [...creates.keys()].filter((k) => /^CERTIFICATE \[mi-01\./i.test(k)).map((k) => creates.get(k)),
    ).toEqual([1]);
    for (const db of DATABASES) {
      expect(creates.get(`AVAILABILITY GROUP [AG_${db}]`), db).toBe(1);
      expect(creates.get(`AVAILABILITY GROUP [DAG1_${db}]`), db).toBe(1);
    }
    const trustPuts = bed.estate.arm.journal.filter(
      (r) => r.method === 'PUT' && /serverTrustCertificates/.test(r.path),
    );
    expect(trustPuts).toHaveLength(1);
  });

  it('a re-run converges and changes nothing', async () => {
    const journal = bed.estate.sqlServers.get('SQL001')!.journal;
    const from = journal.length;
    const armFrom = bed.estate.arm.journal.length;
    const posted = await bed.api('POST', '/api/fleets', fleetRequest(DATABASES));
    expect(posted.status, posted.text).toBe(202);
    await bed.host.client.waitForCompletion(posted.json.instanceId, { timeoutMs: 300_000 });
    const again = (await bed.api('GET', `/api/fleets/${posted.json.instanceId}`)).json;
    expect(again.counts).toMatchObject({ succeeded: DATABASES.length, failed: 0 });
    expect(changesIn(journal.slice(from)).map((e) => e.text)).toEqual([]);
    expect(bed.estate.arm.journal.slice(armFrom).filter((r) => r.method !== 'GET')).toEqual([]);
  }, 300_000);

  it('refuses a fleet request that breaks a rule, naming the field, and runs nothing', async () => {
    const bad = await bed.api('POST', '/api/fleets', {
      ...fleetRequest(['Db0001', 'db0001']),
      names: { link: 'X' },
    });
    expect(bad.status).toBe(400);
    const targets = bad.json.error.details.map((d: { target: string }) => d.target);
    expect(targets).toEqual(expect.arrayContaining(['databases[1]', 'names.link']));
    const none = await bed.api('POST', '/api/fleets', { ...fleetRequest([]) });
    expect(none.status).toBe(400);
    expect(none.json.error.details[0].target).toBe('databases');
  });
});

describe('a fleet from a queue ticket', () => {
  let bed: Bed;
  beforeAll(async () => {
    const spec = { generate: { sqlServers: 1, instances: 1, links: 3, linkState: 'none' } };
    bed = await startBed({ spec: spec as unknown as EstateSpec, queues: 'azurite-memory' });
  }, 120_000);
  afterAll(async () => {
    await bed?.close();
  });

  it('a create ticket whose request names databases starts the fleet; the ticket id is in its status', async () => {
    const databases = ['Db0001', 'Db0002', 'Db0003'];
    await bed.host.queues.send('link-requests', {
      ticketId: 'CHG-7001',
      action: 'create',
      request: fleetRequest(databases),
    });
    await bed.host.idle();
    const line = bed.logs.find((l) => /\[ticket CHG-7001\] createFleet started: (fleet-[0-9a-f]+)/.test(l));
    expect(line, bed.logs.join('\n')).toBeDefined();
    const id = /(fleet-[0-9a-f]+)/.exec(line!)![1]!;
    await bed.host.client.waitForCompletion(id, { timeoutMs: 120_000 });
    const fleet = (await bed.api('GET', `/api/fleets/${id}`)).json;
    expect(fleet.ticketId).toBe('CHG-7001');
    expect(fleet.counts).toMatchObject({ succeeded: 3, failed: 0 });
    expect(await bed.host.queues.peek('link-requests-poison')).toEqual([]);
  }, 120_000);
});
