import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EstateSpec } from '../../local/sim/estate/estate.js';
import { linkInstanceId } from '../../src/link/status.js';
import { repoRoot } from '../helpers/runbook.js';
import {
  armLink,
  changesIn,
  createRequests,
  dagReplicaStates,
  demoRequest,
  demoSpec,
  journalOf,
  queryServer,
  startBed,
  type Bed,
} from './harness.js';

/**
 * Issue 6, "Done when", first group: a link for both initial-primary variants, on SQL Server 2019 and 2022, with
 * an existing mirroring endpoint that needs altering, and as a second link of the same database to a second
 * instance (DAG2_<db>, the same AG). After each, the estate itself (SQL Server's DMVs through mssql, the
 * instance's link over ARM) must show the link connected and healthy, and nothing created twice.
 */

const SUB = '00000000-0000-0000-0000-000000000001';

function sql2019Spec(): EstateSpec {
  return JSON.parse(readFileSync(join(repoRoot, 'local/sim/estates/sql2019.json'), 'utf8')) as EstateSpec;
}

function sql2019Request(overrides: Record<string, unknown> = {}): any {
  const base = demoRequest();
  return {
    ...base,
    sqlServer: {
      ...base.sqlServer,
      host: 'sqlbox19.contoso.local',
      endpointAddress: '10.0.0.5',
      loginSecret: 'sqlbox19-login',
      masterKeySecret: 'sqlbox19-master-key',
    },
    ...overrides,
  };
}

function instance(name: string) {
  return { subscriptionId: SUB, resourceGroup: 'rg-data', name };
}

async function createLink(bed: Bed, request: unknown): Promise<{ id: string; status: any }> {
  const posted = await bed.api('POST', '/api/links', request);
  expect(posted.status, posted.text).toBe(202);
  const id = posted.json.instanceId as string;
  const status = await bed.finish(id);
  expect(status.runtimeStatus, `${JSON.stringify(status, null, 2)}\n${bed.logs.join('\n')}`).toBe(
    'Completed',
  );
  expect(status.phase).toBe('succeeded');
  expect(status.steps.filter((s: { state: string }) => s.state !== 'done')).toEqual([]);
  expect(status.output.health.healthy).toBe(true);
  return { id, status };
}

/** The link as the instance reports it over ARM: connected, healthy, seeding done. */
function expectArmLinkHealthy(
  bed: Bed,
  mi: string,
  link: string,
  want: { partnerAg: string; instanceAg: string; database: string; role: 'Primary' | 'Secondary' },
) {
  const body = armLink(bed, mi, link);
  expect(body, `link ${link} on ${mi}`).toBeDefined();
  expect(body.properties.partnerAvailabilityGroupName).toBe(want.partnerAg);
  expect(body.properties.instanceAvailabilityGroupName).toBe(want.instanceAg);
  expect(body.properties.instanceLinkRole).toBe(want.role);
  const dbs = body.properties.databases as Array<Record<string, unknown>>;
  expect(dbs).toHaveLength(1);
  expect(dbs[0]).toMatchObject({
    databaseName: want.database,
    replicaState: 'Connected',
    connectedState: 'CONNECTED',
    synchronizationHealth: 'HEALTHY',
  });
  expect(dbs[0]!.seedingProgress).toBeUndefined();
}

/** SQL Server's DMVs: the DAG's two replicas connected and healthy, the database replica healthy. */
async function expectSqlServerHealthy(
  bed: Bed,
  server: string,
  dag: string,
  want: { ag: string; instanceAg: string; fqdn: string; database: string; sqlRole: 'PRIMARY' | 'SECONDARY' },
) {
  const replicas = await dagReplicaStates(bed, server, dag);
  expect(replicas.map((r) => r.replica).sort()).toEqual([want.ag, want.instanceAg].sort());
  const local = replicas.find((r) => r.replica === want.ag)!;
  const remote = replicas.find((r) => r.replica === want.instanceAg)!;
  expect(local.role).toBe(want.sqlRole);
  // The runbook's listener URL names the instance after the address: TCP://<fqdn>:5022;Server=[<name>]…
  expect(remote.endpoint.toLowerCase().startsWith(`tcp://${want.fqdn}:5022;server=[`.toLowerCase())).toBe(
    true,
  );
  expect(remote.connected).toBe('CONNECTED');
  expect(local.connected).toBe('CONNECTED');
  for (const r of replicas) expect(r.health, `${r.replica} health`).toBe('HEALTHY');
  const dbStates = await queryServer(
    bed,
    server,
    `SELECT ag.name AS ag, drs.synchronization_health_desc AS health, drs.is_local AS isLocal
       FROM sys.dm_hadr_database_replica_states drs
       JOIN sys.databases d ON d.database_id = drs.database_id
       JOIN sys.availability_groups ag ON ag.group_id = drs.group_id
      WHERE d.name = N'${want.database}'`,
  );
  // The database's local replica in the DAG (the rows the docs' DAG monitoring query reads).
  const inDag = dbStates.filter((r) => r.ag === dag && r.isLocal);
  expect(inDag, JSON.stringify(dbStates)).toHaveLength(1);
  expect(inDag[0]!.health).toBe('HEALTHY');
  for (const r of dbStates) expect(r.health, JSON.stringify(r)).toBe('HEALTHY');
  // With SQL Server as primary, the database is in the AG milink created for it.
  if (want.sqlRole === 'PRIMARY') expect(dbStates.some((r) => r.ag === want.ag && r.isLocal)).toBe(true);
}

/** The endpoint after milink: one endpoint, the same name, certificate authentication and AES. */
async function readEndpoints(bed: Bed, server: string) {
  return queryServer(
    bed,
    server,
    `SELECT e.name, e.endpoint_id AS id, e.state_desc AS state, e.connection_auth_desc AS auth,
            c.name AS certificate, e.encryption_algorithm_desc AS algorithm, e.is_encryption_enabled AS encrypted,
            t.port
       FROM sys.database_mirroring_endpoints e
       JOIN sys.tcp_endpoints t ON t.endpoint_id = e.endpoint_id
       LEFT JOIN sys.certificates c ON c.certificate_id = e.certificate_id`,
  );
}

/** Each object the journal asked to create, at most once; and the catalog holds each name once. */
function expectNothingCreatedTwice(bed: Bed, server: string) {
  const asked = createRequests(journalOf(bed, server));
  const twice = [...asked].filter(([, n]) => n > 1);
  expect(twice, 'objects whose CREATE was sent more than once').toEqual([]);
  expectCatalogUnique(bed, server);
  return asked;
}

/** The catalog holds each certificate and AG name once; each instance trusts each public key once. */
function expectCatalogUnique(bed: Bed, server: string) {
  const state = bed.estate.sqlServers.get(server)!.state;
  const unique = (names: string[]) => names.length === new Set(names.map((n) => n.toLowerCase())).size;
  expect(unique(state.certificates.map((c) => c.name))).toBe(true);
  expect(unique(state.availabilityGroups.map((g) => g.name))).toBe(true);
  for (const mi of bed.estate.instances.all()) {
    const spkis = [...mi.serverTrustCertificates.values()].map((t) => t.spki.toString('hex'));
    expect(spkis.length, `${mi.name}: one trust per public key`).toBe(new Set(spkis).size);
  }
}

/** Re-posting the finished request an hour later: Completed again, and only reads reach SQL Server and ARM. */
async function expectRepostChangesNothing(bed: Bed, server: string, request: unknown) {
  bed.host.advance(3_600_000);
  await bed.host.idle();
  const journal = journalOf(bed, server);
  const from = journal.length;
  const armFrom = bed.estate.arm.journal.length;
  const { status } = await createLink(bed, request);
  expect(journal.length).toBeGreaterThan(from);
  expect(changesIn(journal.slice(from)).map((e) => e.text)).toEqual([]);
  expect(bed.estate.arm.journal.slice(armFrom).filter((r) => r.method !== 'GET')).toEqual([]);
  for (const report of status.output.reports as Array<{ step: string; changed: string[] }>)
    expect(report.changed, report.step).toEqual([]);
}

function fqdnOf(bed: Bed, mi: string): string {
  return bed.estate.instances.all().find((m) => m.name === mi)!.fqdn;
}

describe('SQL Server 2022, SQL Server as initial primary: an endpoint with Windows NEGOTIATE only, then a second link to a second instance', () => {
  let bed: Bed;
  beforeAll(async () => {
    const spec = demoSpec();
    spec.sqlServers[0]!.endpoint = { name: 'Hadr_endpoint', port: 5022, windowsAuth: 'NEGOTIATE' };
    spec.managedInstances.push({
      subscriptionId: SUB,
      resourceGroup: 'rg-data',
      name: 'mi-dr',
      updatePolicy: 'SQLServer2022',
    });
    spec.sqlServers[0]!.databases!.push({ name: 'LegacyDb', recoveryModel: 'FULL', fullBackup: true });
    bed = await startBed({ spec });
    // An AG that already uses the endpoint (Windows authentication), for a database of its own.
    await queryServer(
      bed,
      'SQLBOX1',
      `CREATE AVAILABILITY GROUP [AG_Legacy] WITH (CLUSTER_TYPE = NONE) FOR DATABASE [LegacyDb]
         REPLICA ON N'SQLBOX1' WITH (ENDPOINT_URL = N'TCP://10.0.0.4:5022', AVAILABILITY_MODE = SYNCHRONOUS_COMMIT,
         FAILOVER_MODE = MANUAL, SEEDING_MODE = AUTOMATIC);`,
    );
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('creates DAG1_SalesDb on mi-prod, altering the existing endpoint to certificate + AES', async () => {
    const before = await readEndpoints(bed, 'SQLBOX1');
    expect(before).toHaveLength(1);
    expect(before[0]).toMatchObject({ name: 'Hadr_endpoint', auth: 'NEGOTIATE', certificate: null });

    // The live plan shows the alteration it will run; the run sends exactly that batch.
    const live = await bed.api('POST', '/api/links/plan', { request: demoRequest(), live: true });
    expect(live.status, live.text).toBe(200);
    const endpointStep = (live.json.steps as Array<{ id: string; tsql?: string[] }>).find(
      (s) => s.id === 'mirroring-endpoint',
    );
    expect(endpointStep?.tsql).toHaveLength(1);
    expect(endpointStep!.tsql![0]).toMatch(/ALTER ENDPOINT \[Hadr_endpoint\]/);
    expect(endpointStep!.tsql![0]).toMatch(/WINDOWS NEGOTIATE CERTIFICATE \[Cert_SQLBOX1_endpoint\]/);

    const { status } = await createLink(bed, demoRequest());
    expect(status.link).toBe('DAG1_SalesDb');
    const ran = journalOf(bed, 'SQLBOX1').filter((e) => /\bALTER\s+ENDPOINT\b/i.test(e.text));
    expect(ran.map((e) => e.text)).toEqual(endpointStep!.tsql);

    const after = await readEndpoints(bed, 'SQLBOX1');
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({
      name: 'Hadr_endpoint',
      id: before[0]!.id,
      state: 'STARTED',
      certificate: 'Cert_SQLBOX1_endpoint',
      port: 5022,
      encrypted: true,
    });
    // Windows authentication kept for whatever used it, certificate added.
    expect(after[0]!.auth).toMatch(/NEGOTIATE.*CERTIFICATE|CERTIFICATE.*NEGOTIATE/);
    expect(after[0]!.algorithm).toMatch(/^AES/);

    expectArmLinkHealthy(bed, 'mi-prod', 'DAG1_SalesDb', {
      partnerAg: 'AG_SalesDb',
      instanceAg: 'AG_SalesDb_MI',
      database: 'SalesDb',
      role: 'Secondary',
    });
    await expectSqlServerHealthy(bed, 'SQLBOX1', 'DAG1_SalesDb', {
      ag: 'AG_SalesDb',
      instanceAg: 'AG_SalesDb_MI',
      fqdn: fqdnOf(bed, 'mi-prod'),
      database: 'SalesDb',
      sqlRole: 'PRIMARY',
    });
    const asked = expectNothingCreatedTwice(bed, 'SQLBOX1');
    expect(asked.get('AVAILABILITY GROUP [AG_SalesDb]')).toBe(1);
    expect(asked.get('AVAILABILITY GROUP [DAG1_SalesDb]')).toBe(1);
    expect(asked.has('ENDPOINT [database_mirroring_endpoint]')).toBe(false);
    const alters = journalOf(bed, 'SQLBOX1').filter((e) => /\bALTER\s+ENDPOINT\b/i.test(e.text));
    expect(alters).toHaveLength(1);
  });

  it('links the same database to mi-dr as DAG2_SalesDb, reusing AG_SalesDb and changing nothing shared', async () => {
    // Before: the live plan needs only what is per instance (trust both ways, the DAG, the link); the roots are
    // SQL Server's own and already there.
    const live = await bed.api('POST', '/api/links/plan', {
      request: demoRequest({ managedInstance: instance('mi-dr') }),
      live: true,
    });
    expect(live.status, live.text).toBe(200);
    expect((live.json.steps as Array<{ id: string }>).map((s) => s.id)).toEqual([
      'export-sqlserver-certificate',
      'trust-sqlserver-certificate',
      'export-instance-certificate',
      'import-instance-certificate',
      'validate-instance-certificate',
      'distributed-availability-group',
      'create-link',
      'wait-for-link',
      'verify-connection',
      'first-log-backup',
    ]);
    const dagStep = (live.json.steps as Array<{ id: string; tsql?: string[] }>).find(
      (s) => s.id === 'distributed-availability-group',
    );
    expect(dagStep?.tsql?.[0]).toMatch(/CREATE AVAILABILITY GROUP \[DAG2_SalesDb\]/);

    const journal = journalOf(bed, 'SQLBOX1');
    const from = journal.length;
    const { id, status } = await createLink(bed, demoRequest({ managedInstance: instance('mi-dr') }));
    expect(status.link).toBe('DAG2_SalesDb');
    // every operation on one link runs under that link's id: preflight chose DAG2_SalesDb, so the run went on
    // under its id, and the posted id answers with that run's status
    expect(status.instanceId).toBe(linkInstanceId('mi-dr', 'DAG2_SalesDb'));
    expect(status.handedOverFrom).toBe(id);

    const secondRun = changesIn(journal.slice(from)).map((e) => e.text);
    // Only what is per instance: its certificate on SQL Server, the chain check, the DAG, a log backup.
    expect(secondRun.some((t) => /CREATE\s+AVAILABILITY\s+GROUP\s+\[AG_SalesDb\]/i.test(t))).toBe(false);
    expect(secondRun.some((t) => /ALTER\s+ENDPOINT|CREATE\s+ENDPOINT/i.test(t))).toBe(false);
    expect(secondRun.some((t) => /CREATE\s+MASTER\s+KEY|\[Cert_SQLBOX1_endpoint\]/i.test(t))).toBe(false);
    expect(secondRun.some((t) => /CREATE\s+AVAILABILITY\s+GROUP\s+\[DAG2_SalesDb\]/i.test(t))).toBe(true);
    expect(secondRun.some((t) => t.includes(`CREATE CERTIFICATE [${fqdnOf(bed, 'mi-dr')}]`))).toBe(true);

    for (const [mi, dag] of [
      ['mi-prod', 'DAG1_SalesDb'],
      ['mi-dr', 'DAG2_SalesDb'],
    ] as const) {
      expectArmLinkHealthy(bed, mi, dag, {
        partnerAg: 'AG_SalesDb',
        instanceAg: 'AG_SalesDb_MI',
        database: 'SalesDb',
        role: 'Secondary',
      });
      await expectSqlServerHealthy(bed, 'SQLBOX1', dag, {
        ag: 'AG_SalesDb',
        instanceAg: 'AG_SalesDb_MI',
        fqdn: fqdnOf(bed, mi),
        database: 'SalesDb',
        sqlRole: 'PRIMARY',
      });
    }
    const state = bed.estate.sqlServers.get('SQLBOX1')!.state;
    expect(state.availabilityGroups.filter((g) => !g.isDistributed).map((g) => g.name)).toEqual([
      'AG_Legacy',
      'AG_SalesDb',
    ]);
    const asked = expectNothingCreatedTwice(bed, 'SQLBOX1');
    expect(asked.get('AVAILABILITY GROUP [DAG2_SalesDb]')).toBe(1);
    expect(asked.get('MASTER KEY')).toBe(1);
    // Each instance trusts SQL Server's certificate once.
    for (const mi of ['mi-prod', 'mi-dr'])
      expect(bed.estate.instances.all().find((m) => m.name === mi)!.serverTrustCertificates.size).toBe(1);
  });

  it('re-posting either link later changes nothing', async () => {
    await expectRepostChangesNothing(bed, 'SQLBOX1', demoRequest());
    await expectRepostChangesNothing(bed, 'SQLBOX1', demoRequest({ managedInstance: instance('mi-dr') }));
  });

  it('the AG that used the endpoint before is intact, and a link of its database reuses it', async () => {
    const legacy = await queryServer(
      bed,
      'SQLBOX1',
      `SELECT ag.name, r.replica_server_name AS replica, r.endpoint_url AS endpoint
         FROM sys.availability_groups ag JOIN sys.availability_replicas r ON r.group_id = ag.group_id
        WHERE ag.name = N'AG_Legacy'`,
    );
    expect(legacy).toEqual([{ name: 'AG_Legacy', replica: 'SQLBOX1', endpoint: 'TCP://10.0.0.4:5022' }]);
    const journal = journalOf(bed, 'SQLBOX1');
    const from = journal.length;
    const { status } = await createLink(bed, demoRequest({ database: 'LegacyDb' }));
    expect(status.link).toBe('DAG1_LegacyDb');
    expect(status.steps.find((s: { id: string }) => s.id === 'availability-group').title).toMatch(
      /AG_Legacy/,
    );
    expectArmLinkHealthy(bed, 'mi-prod', 'DAG1_LegacyDb', {
      partnerAg: 'AG_Legacy',
      instanceAg: 'AG_LegacyDb_MI',
      database: 'LegacyDb',
      role: 'Secondary',
    });
    await expectSqlServerHealthy(bed, 'SQLBOX1', 'DAG1_LegacyDb', {
      ag: 'AG_Legacy',
      instanceAg: 'AG_LegacyDb_MI',
      fqdn: fqdnOf(bed, 'mi-prod'),
      database: 'LegacyDb',
      sqlRole: 'PRIMARY',
    });
    const ran = changesIn(journal.slice(from)).map((e) => e.text);
    expect(ran.some((t) => /CREATE\s+AVAILABILITY\s+GROUP\s+\[AG_/i.test(t))).toBe(false);
    expect(ran.some((t) => /CREATE\s+AVAILABILITY\s+GROUP\s+\[DAG1_LegacyDb\]/i.test(t))).toBe(true);
    expectNothingCreatedTwice(bed, 'SQLBOX1');
  });
});

describe('SQL Server 2022, the instance as initial primary: an endpoint with its own certificate but RC4 only', () => {
  let bed: Bed;
  beforeAll(async () => {
    const spec = demoSpec();
    spec.sqlServers[0]!.endpoint = {
      name: 'Mirroring',
      port: 5022,
      certificateName: 'Hadr_cert',
      algorithms: ['RC4'],
      encryption: 'SUPPORTED',
    };
    spec.managedInstances[0]!.databases = ['InventoryDb'];
    bed = await startBed({ spec });
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('creates the link, seeding SQL Server from the instance, keeping the endpoint certificate', async () => {
    const live = await bed.api('POST', '/api/links/plan', {
      request: demoRequest({ database: 'InventoryDb', initialPrimary: 'ManagedInstance' }),
      live: true,
    });
    expect(live.status, live.text).toBe(200);
    expect(live.json.failures).toEqual([]);
    // The master key exists already (the endpoint's certificate needs one); everything else is to do.
    expect(live.json.done).toEqual(['read-managed-instance', 'master-key']);
    expect(live.json.steps.map((s: { id: string }) => s.id)).toContain('mirroring-endpoint');
    expect(live.json.steps.map((s: { id: string }) => s.id)).not.toContain('prepare-database');

    const { status } = await createLink(
      bed,
      demoRequest({ database: 'InventoryDb', initialPrimary: 'ManagedInstance' }),
    );
    expect(status.link).toBe('DAG1_InventoryDb');
    expect(status.steps.map((s: { id: string }) => s.id)).not.toContain('prepare-database');

    const after = await readEndpoints(bed, 'SQLBOX1');
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({
      name: 'Mirroring',
      state: 'STARTED',
      certificate: 'Hadr_cert',
      encrypted: true,
    });
    expect(after[0]!.algorithm).toMatch(/^AES/);
    // The instance trusts the certificate the endpoint authenticates with.
    const mi = bed.estate.instances.all().find((m) => m.name === 'mi-prod')!;
    const hadr = bed.estate.sqlServers
      .get('SQLBOX1')!
      .state.certificates.find((c) => c.name === 'Hadr_cert')!;
    expect([...mi.serverTrustCertificates.values()].some((t) => t.der.equals(hadr.der))).toBe(true);

    expectArmLinkHealthy(bed, 'mi-prod', 'DAG1_InventoryDb', {
      partnerAg: 'AG_InventoryDb',
      instanceAg: 'AG_InventoryDb_MI',
      database: 'InventoryDb',
      role: 'Primary',
    });
    await expectSqlServerHealthy(bed, 'SQLBOX1', 'DAG1_InventoryDb', {
      ag: 'AG_InventoryDb',
      instanceAg: 'AG_InventoryDb_MI',
      fqdn: fqdnOf(bed, 'mi-prod'),
      database: 'InventoryDb',
      sqlRole: 'SECONDARY',
    });
    // The database now exists on SQL Server, seeded from the instance.
    const dbs = await queryServer(
      bed,
      'SQLBOX1',
      "SELECT name FROM sys.databases WHERE name = N'InventoryDb'",
    );
    expect(dbs).toHaveLength(1);
    const asked = expectNothingCreatedTwice(bed, 'SQLBOX1');
    expect(asked.get('AVAILABILITY GROUP [AG_InventoryDb]')).toBe(1);
    expect(asked.get('AVAILABILITY GROUP [DAG1_InventoryDb]')).toBe(1);
    expect(journalOf(bed, 'SQLBOX1').filter((e) => /\bALTER\s+ENDPOINT\b/i.test(e.text))).toHaveLength(1);
  });

  it('re-posting it later changes nothing, and the live plan then has no steps', async () => {
    const request = demoRequest({ database: 'InventoryDb', initialPrimary: 'ManagedInstance' });
    await expectRepostChangesNothing(bed, 'SQLBOX1', request);
    const live = await bed.api('POST', '/api/links/plan', { request, live: true });
    expect(live.status, live.text).toBe(200);
    expect(live.json.steps).toEqual([]);
    expect(live.json.done).toContain('create-link');
  });
});

describe('SQL Server 2019: SQL Server as initial primary only, an endpoint with NTLM and RC4', () => {
  let bed: Bed;
  beforeAll(async () => {
    const spec = sql2019Spec();
    spec.sqlServers[0]!.endpoint = {
      name: 'Hadr_endpoint',
      port: 5022,
      windowsAuth: 'NTLM',
      algorithms: ['RC4'],
    };
    spec.managedInstances[0]!.databases = ['InventoryDb'];
    bed = await startBed({ spec });
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('refuses the instance as initial primary in preflight with a version failure, changing nothing', async () => {
    // The live plan says so first, with every step still listed.
    const live = await bed.api('POST', '/api/links/plan', {
      request: sql2019Request({ database: 'InventoryDb', initialPrimary: 'ManagedInstance' }),
      live: true,
    });
    expect(live.status, live.text).toBe(200);
    expect(live.json.failures.map((f: { check: string }) => f.check)).toEqual(['version']);
    expect(live.json.steps.map((st: { id: string }) => st.id)).toContain('create-link');

    const posted = await bed.api(
      'POST',
      '/api/links',
      sql2019Request({ database: 'InventoryDb', initialPrimary: 'ManagedInstance' }),
    );
    expect(posted.status, posted.text).toBe(202);
    const status = await bed.finish(posted.json.instanceId);
    expect(status.runtimeStatus).toBe('Failed');
    expect(status.phase).toBe('failed');
    expect(status.error.step).toBe('preflight');
    const version = (status.failures as Array<{ check: string; message: string; advice: string }>).filter(
      (f) => f.check === 'version',
    );
    expect(version, JSON.stringify(status.failures)).toHaveLength(1);
    expect(version[0]!.message).toMatch(/15\.0\.4312.*instance as initial primary/);
    expect(version[0]!.advice).toMatch(/2022 CU10/);
    expect(status.error.message).toMatch(/instance as initial primary/);
    expect(changesIn(journalOf(bed, 'SQLBOX19'))).toEqual([]);
    expect(bed.estate.links.all()).toEqual([]);
    expect(bed.estate.instances.all()[0]!.serverTrustCertificates.size).toBe(0);

    // A failed run does not block the link: posting again starts a new run, which fails the same way.
    const again = await bed.api(
      'POST',
      '/api/links',
      sql2019Request({ database: 'InventoryDb', initialPrimary: 'ManagedInstance' }),
    );
    expect(again.status, again.text).toBe(202);
    expect(again.json.instanceId).toBe(posted.json.instanceId);
    const second = await bed.finish(again.json.instanceId);
    expect(second.runtimeStatus).toBe('Failed');
    const id = posted.json.instanceId as string;
    expect(bed.logs.filter((l) => l.includes(`createLink started: ${id}`))).toHaveLength(2);
    expect(second.error.step).toBe('preflight');
    expect(changesIn(journalOf(bed, 'SQLBOX19'))).toEqual([]);
  });

  it('creates the link with SQL Server as initial primary, altering the endpoint', async () => {
    const { status } = await createLink(bed, sql2019Request());
    expect(status.link).toBe('DAG1_SalesDb');
    const after = await readEndpoints(bed, 'SQLBOX19');
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({
      name: 'Hadr_endpoint',
      state: 'STARTED',
      certificate: 'Cert_SQLBOX19_endpoint',
      encrypted: true,
    });
    expect(after[0]!.auth).toMatch(/NTLM.*CERTIFICATE|CERTIFICATE.*NTLM/);
    expect(after[0]!.algorithm).toMatch(/^AES/);
    expectArmLinkHealthy(bed, 'mi-prod', 'DAG1_SalesDb', {
      partnerAg: 'AG_SalesDb',
      instanceAg: 'AG_SalesDb_MI',
      database: 'SalesDb',
      role: 'Secondary',
    });
    await expectSqlServerHealthy(bed, 'SQLBOX19', 'DAG1_SalesDb', {
      ag: 'AG_SalesDb',
      instanceAg: 'AG_SalesDb_MI',
      fqdn: fqdnOf(bed, 'mi-prod'),
      database: 'SalesDb',
      sqlRole: 'PRIMARY',
    });
    const asked = expectNothingCreatedTwice(bed, 'SQLBOX19');
    expect(asked.get('AVAILABILITY GROUP [AG_SalesDb]')).toBe(1);
    expect(journalOf(bed, 'SQLBOX19').filter((e) => /\bALTER\s+ENDPOINT\b/i.test(e.text))).toHaveLength(1);
  });

  it('re-posting it later changes nothing', async () => {
    await expectRepostChangesNothing(bed, 'SQLBOX19', sql2019Request());
  });
});

describe('SQL Server 2022: links of one database to two instances posted at once', () => {
  let bed: Bed;
  beforeAll(async () => {
    const spec = demoSpec();
    spec.managedInstances.push({
      subscriptionId: SUB,
      resourceGroup: 'rg-data',
      name: 'mi-dr',
      updatePolicy: 'SQLServer2022',
    });
    bed = await startBed({ spec });
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('never points a link at the other instance: at most one re-post, then two healthy links, DAG1 and DAG2', async () => {
    const requests = [demoRequest(), demoRequest({ managedInstance: instance('mi-dr') })];
    const posted = await Promise.all(requests.map((r) => bed.api('POST', '/api/links', r)));
    for (const p of posted) expect(p.status, p.text).toBe(202);
    const first = await Promise.all(posted.map((p) => bed.finish(p.json.instanceId)));
    expect(first.some((s) => s.runtimeStatus === 'Completed')).toBe(true);
    for (const [i, s] of first.entries()) {
      if (s.runtimeStatus === 'Completed') continue;
      // Both chose DAG1_SalesDb; the one that did not make it stops at the DAG step, before touching ARM's link.
      expect(s.runtimeStatus, JSON.stringify(s, null, 2)).toBe('Failed');
      expect(s.error).toMatchObject({ step: 'distributed-availability-group', code: 'DagMismatch' });
      expect(s.error.advice).toMatch(/re-run/);
      const mi = requests[i].managedInstance.name as string;
      expect(bed.estate.links.all().filter((l) => l.mi.name === mi)).toEqual([]);
      await createLink(bed, requests[i]);
    }
    const byInstance = new Map(bed.estate.links.all().map((l) => [l.mi.name, l.name] as const));
    expect([...byInstance.values()].sort()).toEqual(['DAG1_SalesDb', 'DAG2_SalesDb']);
    for (const [mi, dag] of byInstance) {
      expectArmLinkHealthy(bed, mi, dag, {
        partnerAg: 'AG_SalesDb',
        instanceAg: 'AG_SalesDb_MI',
        database: 'SalesDb',
        role: 'Secondary',
      });
      await expectSqlServerHealthy(bed, 'SQLBOX1', dag, {
        ag: 'AG_SalesDb',
        instanceAg: 'AG_SalesDb_MI',
        fqdn: fqdnOf(bed, mi),
        database: 'SalesDb',
        sqlRole: 'PRIMARY',
      });
    }
    // Guarded CREATEs may have been sent by both runs at once; the catalog still holds everything once.
    expectCatalogUnique(bed, 'SQLBOX1');
  });
});
