/**
 * The link's truth and the link's life, with SQL Server states built directly (no TDS): ARM requests go
 * through the SqlManagementClient pipeline; SQL Server's side is read from the same objects its DMVs
 * are computed from.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../local/sim/clock.js';
import { newMiDatabase, type ManagedInstanceSim } from '../../../local/sim/azure/instances.js';
import { createServerCertificate, createServerState } from '../../../local/sim/sqlserver/state.js';
import { findDag, LinkErrorCodes, type SqlServerEntry } from '../../../local/sim/estate/truth.js';
import { miPath, RG, startAzureHarness, SUB, type AzureHarness } from '../azure/harness.js';
import { applyRunbookToState, linkBody, type RunbookNames, type RunbookStep } from './fixtures.js';

const names: RunbookNames = {
  database: 'SalesDb',
  ag: 'AG_SalesDb',
  instanceAg: 'AG_SalesDb_MI',
  dag: 'DAG1_SalesDb',
  port: 5022,
};

let h: AzureHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function setup(
  opts: { instancePrimary?: boolean; version?: 2019 | 2022; cu?: number; fullBackup?: boolean } = {},
) {
  const clock = new VirtualClock();
  const state = createServerState(
    {
      serverName: 'SQLBOX1',
      version: opts.version ?? 2022,
      cu: opts.cu ?? 13,
      logins: [{ name: 'milink_admin', password: 'x', serverRoles: ['sysadmin'] }],
      databases: opts.instancePrimary
        ? []
        : [{ name: 'SalesDb', recoveryModel: 'FULL', fullBackup: opts.fullBackup ?? true, sizeMb: 200 }],
    },
    clock,
  );
  const entry: SqlServerEntry = {
    serverName: 'SQLBOX1',
    host: 'sqlbox1.contoso.local',
    endpointAddress: '10.0.0.4',
    state,
  };
  h = await startAzureHarness({
    clock,
    servers: [entry],
    instances: [
      {
        subscriptionId: SUB,
        resourceGroup: RG,
        name: 'mi-prod',
        databases: opts.instancePrimary ? ['SalesDb'] : [],
      },
    ],
  });
  const mi = h.instances.get(SUB, RG, 'mi-prod') as ManagedInstanceSim;
  return { h, clock, state, entry, mi };
}

const dagPath = (name = names.dag) => `${miPath()}/distributedAvailabilityGroups/${name}`;

describe('link with SQL Server as initial primary', () => {
  it('creates over ~30 s, then seeds with progress, catches up and connects, in ARM and in the DMVs', async () => {
    const { h, clock, state, entry, mi } = await setup();
    applyRunbookToState(entry, mi, names, clock.now());
    const put = await h.raw('PUT', dagPath(), linkBody(names, entry));
    expect(put.status).toBe(201);
    expect(put.body).toMatchObject({
      name: names.dag,
      type: 'Microsoft.Sql/managedInstances/distributedAvailabilityGroups',
    });
    const asyncUrl = put.headers['azure-asyncoperation'] ?? '';
    expect(asyncUrl).toMatch(
      /\/providers\/Microsoft\.Sql\/locations\/westeurope\/distributedAvailabilityGroupsAzureAsyncOperation\/[0-9a-f-]{36}\?api-version=2025-01-01$/,
    );
    expect(put.headers['location']).toContain('distributedAvailabilityGroupsOperationResults/');

    clock.advance(29_000);
    expect((await h.raw('GET', asyncUrl)).body.status).toBe('InProgress');
    const dag = findDag(state, names.dag);
    expect(dag?.replicas[1]?.connectedState).toBe('DISCONNECTED');

    clock.advance(2_000);
    const done = await h.raw('GET', asyncUrl);
    expect(done.body).toMatchObject({ status: 'Succeeded' });
    const seeding = await h.raw('GET', dagPath());
    const db0 = seeding.body.properties.databases[0];
    expect(db0).toMatchObject({
      databaseName: 'SalesDb',
      replicaState: 'Seeding',
      connectedState: 'CONNECTED',
    });
    expect(seeding.body.properties).toMatchObject({
      instanceLinkRole: 'Secondary',
      partnerLinkRole: 'Primary',
      replicationMode: 'Async',
    });
    expect(db0.partnerAuthCertValidity.certificateName).toBe('Cert_SQLBOX1_endpoint');
    expect(mi.databases.get('salesdb')?.status).toBe('Restoring');

    clock.advance(4_000);
    const mid = await h.raw('GET', dagPath());
    const progress = Number(String(mid.body.properties.databases[0].seedingProgress).replace('%', ''));
    expect(progress).toBeGreaterThan(0);
    expect(progress).toBeLessThan(100);
    const seedRow = state.seedings.find((s) => s.databaseName === 'SalesDb');
    expect(seedRow).toMatchObject({
      currentState: 'SEEDING',
      roleDesc: 'Source',
      remoteMachineName: mi.fqdn,
    });
    expect(seedRow?.transferredSizeBytes).toBeGreaterThan(0);
    expect(seedRow?.transferredSizeBytes).toBeLessThan(seedRow?.databaseSizeBytes ?? 0);
    expect(dag?.replicas[1]).toMatchObject({ connectedState: 'CONNECTED', role: 'SECONDARY' });
    // The REST spec's own example (DistributedAvailabilityGroupsListByInstance, api-version 2025-01-01)
    // lists a link in replicaState "Seeding" (seedingProgress "80%") and one in "Catchup", both with
    // synchronizationHealth "HEALTHY" and connectedState "CONNECTED". SQL Server's DMVs say the same.
    expect(mid.body.properties.databases[0].synchronizationHealth).toBe('HEALTHY');
    expect(dag?.replicas.map((r) => r.synchronizationHealth)).toEqual(['HEALTHY', 'HEALTHY']);
    expect(state.databaseReplicaStates.find((r) => !r.isLocal)).toMatchObject({
      synchronizationHealth: 'HEALTHY',
      synchronizationState: 'NOT SYNCHRONIZING',
    });

    clock.advance(7_000); // 200 MB at 20 MB/s: seeding done after 10 s
    const catchup = await h.raw('GET', dagPath());
    expect(catchup.body.properties.databases[0].replicaState).toBe('Catchup');
    expect(catchup.body.properties.databases[0].synchronizationHealth).toBe('HEALTHY');
    expect(state.databaseReplicaStates.find((r) => !r.isLocal)).toMatchObject({
      synchronizationHealth: 'HEALTHY',
      synchronizationState: 'SYNCHRONIZING',
    });
    const lagDuring = state.databaseReplicaStates.find((r) => !r.isLocal)?.secondaryLagSeconds ?? 0;
    expect(lagDuring).toBeGreaterThan(1);
    expect(seedRow?.currentState).toBe('COMPLETED');
    expect(mi.databases.get('salesdb')?.status).toBe('Online');

    clock.advance(6_000);
    const connected = await h.raw('GET', dagPath());
    expect(connected.body.properties.databases[0]).toMatchObject({
      replicaState: 'Connected',
      synchronizationHealth: 'HEALTHY',
      connectedState: 'CONNECTED',
    });
    expect(connected.body.properties.databases[0].lastHardenedLsn).toMatch(/^\d+$/);
    const remoteRow = state.databaseReplicaStates.find((r) => !r.isLocal);
    expect(remoteRow).toMatchObject({
      synchronizationHealth: 'HEALTHY',
      synchronizationState: 'SYNCHRONIZING',
    });
    expect(remoteRow?.secondaryLagSeconds).toBeLessThanOrEqual(1);
    expect(dag?.replicas.map((r) => r.synchronizationHealth)).toEqual(['HEALTHY', 'HEALTHY']);

    const list = await h.raw('GET', `${miPath()}/distributedAvailabilityGroups`);
    expect(list.body.value).toHaveLength(1);
  });

  const cases: Array<
    [string, RunbookStep | null, Record<string, unknown>, Partial<RunbookNames>, string, number | null]
  > = [
    [
      'the SQL Server certificate not trusted by the instance',
      'trustOnInstance',
      {},
      {},
      LinkErrorCodes.certNotOnInstance,
      41973,
    ],
    [
      'the instance certificate not imported into SQL Server',
      'instanceCertificateOnSql',
      {},
      {},
      LinkErrorCodes.certNotOnSqlServer,
      41974,
    ],
    ['the Azure roots missing on SQL Server', 'roots', {}, {}, LinkErrorCodes.certNotOnSqlServer, 41974],
    ['no mirroring endpoint', 'endpoint', {}, {}, LinkErrorCodes.connectivity, 41986],
    [
      'a wrong port in partnerEndpoint',
      null,
      { partnerEndpoint: 'TCP://10.0.0.4:5023' },
      {},
      LinkErrorCodes.connectivity,
      41986,
    ],
    [
      'no distributed availability group',
      'distributedAvailabilityGroup',
      {},
      {},
      LinkErrorCodes.connectivity,
      null,
    ],
    [
      'a wrong SQL Server AG name in the PUT',
      null,
      { partnerAvailabilityGroupName: 'AG_Other' },
      {},
      LinkErrorCodes.connectivity,
      41976,
    ],
    [
      'a wrong instance AG name in the PUT',
      null,
      { instanceAvailabilityGroupName: 'AG_Other_MI' },
      {},
      LinkErrorCodes.connectivity,
      41986,
    ],
    [
      'a wrong LISTENER_URL for the instance',
      null,
      {},
      { instanceListenerUrl: 'tcp://mi-prod.wrong.database.windows.net:5022;Server=[mi-prod]' },
      LinkErrorCodes.connectivity,
      41986,
    ],
  ];
  it.each(cases)(
    'fails with the documented error when %s',
    async (_what, skip, override, nameOverride, code, sqlNumber) => {
      const { h, clock, state, entry, mi } = await setup();
      applyRunbookToState(
        entry,
        mi,
        { ...names, ...nameOverride, ...(skip ? { skip: [skip] } : {}) },
        clock.now(),
      );
      const put = await h.raw('PUT', dagPath(), linkBody(names, entry, override));
      expect(put.status).toBe(201);
      clock.advance(31_000);
      const op = await h.raw('GET', put.headers['azure-asyncoperation'] ?? '');
      expect(op.body.status).toBe('Failed');
      expect(op.body.error.code).toBe(code);
      const link = await h.raw('GET', dagPath());
      // "Troubleshoot issues with the link" (Microsoft Learn): these all fail while initializing the link —
      // Link state LinkInitError, with 41962/41973/41974/41976/41986/47521 — not while creating it.
      expect(link.body.properties.databases[0]).toMatchObject({
        replicaState: 'LinkInitError',
        connectedState: 'DISCONNECTED',
      });
      expect(link.body.properties.databases[0].mostRecentLinkError).toContain(code);
      if (sqlNumber !== null)
        expect(link.body.properties.databases[0].mostRecentLinkError).toContain(`Error ${sqlNumber}`);
      const remote = findDag(state, names.dag)?.replicas.find((r) => !r.isLocal);
      if (sqlNumber === null) {
        expect(remote?.lastConnectError).toBeUndefined();
      } else {
        expect(remote?.connectedState).toBe('DISCONNECTED');
        expect(remote?.lastConnectError?.number).toBe(sqlNumber);
      }
    },
  );

  it('refuses a database without a full backup (1475) and one already on the instance', async () => {
    const { h, clock, state, entry, mi } = await setup({ fullBackup: false });
    applyRunbookToState(entry, mi, names, clock.now());
    const put = await h.raw('PUT', dagPath(), linkBody(names, entry));
    clock.advance(31_000);
    const op = await h.raw('GET', put.headers['azure-asyncoperation'] ?? '');
    expect(op.body.error.code).toBe(LinkErrorCodes.backupChain);
    expect(findDag(state, names.dag)?.replicas[1]?.lastConnectError?.number).toBe(1475);
    // The two sides talked; the database could not be set up: "Errors creating a link (Link state:
    // LinkCreationError)" in "Troubleshoot issues with the link".
    expect((await h.raw('GET', dagPath())).body.properties.databases[0].replicaState).toBe(
      'LinkCreationError',
    );
    mi.databases.set('otherdb', newMiDatabase('OtherDb', mi.collation, clock.now(), 'Online'));
    const taken = await h.raw(
      'PUT',
      dagPath('DAG1_OtherDb'),
      linkBody({ ...names, database: 'OtherDb', instanceAg: 'AG_OtherDb_MI' }, entry),
    );
    expect(taken.status).toBe(400);
    expect(taken.body.error.code).toBe('ManagedInstanceLinkDatabaseAlreadyExists');
  });

  it('answers the old 2021 schema body with a clear 400, and a second PUT with other properties with 409', async () => {
    const { h, clock, entry, mi } = await setup();
    applyRunbookToState(entry, mi, names, clock.now());
    const old = await h.raw('PUT', dagPath(), {
      properties: {
        targetDatabase: 'SalesDb',
        sourceEndpoint: 'TCP://10.0.0.4:5022',
        primaryAvailabilityGroupName: 'AG_SalesDb',
        secondaryAvailabilityGroupName: 'AG_SalesDb_MI',
      },
    });
    expect(old.status).toBe(400);
    expect(old.body.error.message).toContain('targetDatabase');
    expect(
      (
        await h.raw(
          'PUT',
          `${miPath()}/distributedAvailabilityGroups/DAG-with-hyphen`,
          linkBody(names, entry),
        )
      ).status,
    ).toBe(400);
    expect((await h.raw('PUT', dagPath(), linkBody(names, entry))).status).toBe(201);
    expect((await h.raw('PUT', dagPath(), linkBody(names, entry))).status).toBe(200);
    const other = await h.raw(
      'PUT',
      dagPath(),
      linkBody(names, entry, { partnerAvailabilityGroupName: 'AG_X' }),
    );
    expect(other.status).toBe(409);
    const sameMiAg = await h.raw('PUT', dagPath('DAG2_SalesDb'), linkBody(names, entry));
    expect(sameMiAg.body.error.code).toBe('CloudLifterChimeraMIAgNameIsAlreadyUsed');
  });

  it('disconnects when trust is removed and reconnects when it is restored', async () => {
    const { h, clock, state, entry, mi } = await setup();
    applyRunbookToState(entry, mi, names, clock.now());
    await h.raw('PUT', dagPath(), linkBody(names, entry));
    clock.advance(60_000);
    expect((await h.raw('GET', dagPath())).body.properties.databases[0].replicaState).toBe('Connected');
    await h.client.serverTrustCertificates.beginDeleteAndWait(RG, 'mi-prod', 'Cert_SQLBOX1_endpoint', {
      updateIntervalInMs: 1,
    });
    clock.advance(1_000);
    const down = await h.raw('GET', dagPath());
    expect(down.body.properties.databases[0]).toMatchObject({
      connectedState: 'DISCONNECTED',
      synchronizationHealth: 'NOT_HEALTHY',
    });
    expect(findDag(state, names.dag)?.replicas[1]?.lastConnectError?.number).toBe(41973);
    const der = state.certificates.find((c) => c.name === 'Cert_SQLBOX1_endpoint')?.der ?? Buffer.alloc(0);
    await h.client.serverTrustCertificates.beginCreateOrUpdateAndWait(
      RG,
      'mi-prod',
      'Cert_SQLBOX1_endpoint',
      { publicBlob: `0x${der.toString('hex')}` },
      { updateIntervalInMs: 1 },
    );
    clock.advance(1_000);
    const up = await h.raw('GET', dagPath());
    expect(up.body.properties.databases[0]).toMatchObject({
      connectedState: 'CONNECTED',
      synchronizationHealth: 'HEALTHY',
    });
    expect(up.body.properties.databases[0].mostRecentLinkError).toContain(LinkErrorCodes.certNotOnInstance);
  });

  it('restarts seeding after a network interruption (the endpoint stopped and started)', async () => {
    const { h, clock, state, entry, mi } = await setup();
    applyRunbookToState(entry, mi, names, clock.now());
    await h.raw('PUT', dagPath(), linkBody(names, entry));
    clock.advance(36_000);
    const before = await h.raw('GET', dagPath());
    expect(before.body.properties.databases[0].seedingProgress).not.toBe('0%');
    if (state.endpoint) state.endpoint.state = 'STOPPED';
    clock.advance(1_000);
    const down = await h.raw('GET', dagPath());
    expect(down.body.properties.databases[0]).toMatchObject({
      replicaState: 'Seeding',
      connectedState: 'DISCONNECTED',
    });
    if (state.endpoint) state.endpoint.state = 'STARTED';
    clock.advance(1_000);
    const again = await h.raw('GET', dagPath());
    expect(again.body.properties.databases[0]).toMatchObject({
      replicaState: 'Seeding',
      seedingProgress: '0%',
      connectedState: 'CONNECTED',
    });
    expect(state.seedings.map((r) => r.currentState)).toEqual(['FAILED', 'SEEDING']);
    clock.advance(20_000);
    expect((await h.raw('GET', dagPath())).body.properties.databases[0].replicaState).toBe('Connected');
  });

  it('cancels the creation when the link is deleted before it is created', async () => {
    const { h, clock, entry, mi } = await setup();
    applyRunbookToState(entry, mi, names, clock.now());
    const put = await h.raw('PUT', dagPath(), linkBody(names, entry));
    clock.advance(10_000);
    const del = await h.raw('DELETE', dagPath());
    expect(del.status).toBe(202);
    clock.advance(6_000);
    const op = await h.raw('GET', put.headers['azure-asyncoperation'] ?? '');
    expect(op.body.status).toBe('Canceled');
    expect((await h.raw('GET', dagPath())).status).toBe(404);
    expect(mi.databases.has('salesdb')).toBe(false);
  });

  it('keeps the link through a certificate rotation, and loses it when the endpoint certificate expires', async () => {
    const { h, clock, state, entry, mi } = await setup();
    applyRunbookToState(entry, mi, names, clock.now());
    await h.raw('PUT', dagPath(), linkBody(names, entry));
    clock.advance(60_000);
    const now = clock.now();
    const fresh = createServerCertificate(
      state,
      'Cert_SQLBOX1_endpoint_2027',
      'Certificate for rotation',
      now,
      new Date(now.getTime() + 30 * 86_400_000),
    );
    const up = await h.raw('PUT', `${miPath()}/serverTrustCertificates/Cert_SQLBOX1_endpoint_2027`, {
      properties: { publicBlob: `0x${fresh.der.toString('hex')}` },
    });
    expect(up.status).toBe(202);
    if (state.endpoint) state.endpoint.certificateName = fresh.name;
    await h.client.serverTrustCertificates.beginDeleteAndWait(RG, 'mi-prod', 'Cert_SQLBOX1_endpoint', {
      updateIntervalInMs: 1,
    });
    clock.advance(1_000);
    const rotated = await h.raw('GET', dagPath());
    expect(rotated.body.properties.databases[0]).toMatchObject({
      connectedState: 'CONNECTED',
      partnerAuthCertValidity: {
        certificateName: 'Cert_SQLBOX1_endpoint_2027',
        expiryDate: fresh.expiryDate.toISOString(),
      },
    });
    clock.advance(31 * 86_400_000);
    const expired = await h.raw('GET', dagPath());
    expect(expired.body.properties.databases[0].connectedState).toBe('DISCONNECTED');
    expect(expired.body.properties.databases[0].mostRecentLinkError).toContain('expired');
    expect(findDag(state, names.dag)?.replicas[1]?.lastConnectError?.number).toBe(41973);
  });

  it('forced failover to the instance splits the brain until SQL Server steps down; delete drops the partner', async () => {
    const { h, clock, state, entry, mi } = await setup();
    applyRunbookToState(entry, mi, names, clock.now());
    await h.raw('PUT', dagPath(), linkBody(names, entry));
    clock.advance(60_000);
    const planned = await h.raw('POST', `${dagPath()}/failover`, { failoverType: 'Planned' });
    expect(planned.status).toBe(400);
    expect(planned.body.error.code).toBe('InvalidDistributedAvailabilityGroupFailoverInstanceRole');
    const forced = await h.raw('POST', `${dagPath()}/failover`, { failoverType: 'ForcedAllowDataLoss' });
    expect(forced.status).toBe(202);
    clock.advance(11_000);
    const result = await h.raw('GET', forced.headers['location'] ?? '');
    expect(result.status).toBe(200);
    expect(result.body.properties.instanceLinkRole).toBe('Primary');
    const dag = findDag(state, names.dag);
    expect(dag?.replicas.map((r) => r.role)).toEqual(['PRIMARY', 'PRIMARY']);
    expect(dag?.replicas[1]?.connectedState).toBe('DISCONNECTED');
    h.links.sqlDagCommand(state, 'SET_ROLE_SECONDARY', names.dag);
    expect(dag?.replicas.map((r) => r.role)).toEqual(['SECONDARY', 'PRIMARY']);
    expect(dag?.replicas[1]?.connectedState).toBe('CONNECTED');
    const after = await h.raw('GET', dagPath());
    expect(after.body.properties).toMatchObject({
      instanceLinkRole: 'Primary',
      partnerLinkRole: 'Secondary',
    });
    const sameRole = await h.raw('POST', `${dagPath()}/setRole`, {
      instanceRole: 'Primary',
      roleChangeType: 'Forced',
    });
    expect(sameRole.body.error.code).toBe(
      'DistributedAvailabilityGroupSetRoleInstanceAlreadyInRequestedRole',
    );

    const del = await h.raw('DELETE', dagPath());
    expect(del.status).toBe(202);
    expect((await h.raw('GET', dagPath())).status).toBe(200);
    clock.advance(6_000);
    expect((await h.raw('GET', del.headers['location'] ?? '')).status).toBe(204);
    expect((await h.raw('GET', dagPath())).status).toBe(404);
    expect(dag?.replicas[1]?.connectedState).toBe('DISCONNECTED');
    expect(mi.databases.get('salesdb')?.status).toBe('Online');
  });
});

describe('versions and instance state', () => {
  it('links SQL Server 2019 one-way only (failoverMode None), and refuses a stopped instance', async () => {
    const { h, clock, entry, mi } = await setup({ version: 2019, cu: 20 });
    applyRunbookToState(entry, mi, names, clock.now());
    const twoWay = await h.raw('PUT', dagPath(), linkBody(names, entry, { failoverMode: 'Manual' }));
    clock.advance(31_000);
    const failed = await h.raw('GET', twoWay.headers['azure-asyncoperation'] ?? '');
    expect(failed.body.error.code).toBe(LinkErrorCodes.unsupportedVersion);
    const oneWay = await h.raw('PUT', dagPath(), linkBody(names, entry, { failoverMode: 'None' }));
    expect(oneWay.status).toBe(201);
    clock.advance(31_000);
    expect((await h.raw('GET', oneWay.headers['azure-asyncoperation'] ?? '')).body.status).toBe('Succeeded');
    mi.state = 'Stopped';
    const stopped = await h.raw(
      'PUT',
      dagPath('DAG2_SalesDb'),
      linkBody({ ...names, instanceAg: 'AG2_MI' }, entry),
    );
    expect(stopped.status).toBe(409);
    expect(stopped.body.error.code).toBe('ManagedInstanceNotReady');
  });
});

describe('link with the managed instance as initial primary', () => {
  const miNames: RunbookNames = { ...names, instancePrimary: true };

  it('seeds the database into SQL Server (RESTORING, then a secondary) and connects', async () => {
    const { h, clock, state, entry, mi } = await setup({ instancePrimary: true });
    applyRunbookToState(entry, mi, miNames, clock.now());
    const put = await h.raw('PUT', dagPath(), linkBody(miNames, entry));
    expect(put.status).toBe(201);
    clock.advance(31_000);
    expect((await h.raw('GET', put.headers['azure-asyncoperation'] ?? '')).body.status).toBe('Succeeded');
    const db = state.databases.find((d) => d.name === 'SalesDb');
    expect(db?.state).toBe('RESTORING');
    expect(state.availabilityGroups.find((g) => g.name === names.ag)?.databases).toEqual(['SalesDb']);
    expect(state.seedings[0]?.roleDesc).toBe('Destination');
    clock.advance(60_000);
    const link = await h.raw('GET', dagPath());
    expect(db?.state).toBe('ONLINE');
    expect(link.body.properties).toMatchObject({ instanceLinkRole: 'Primary', partnerLinkRole: 'Secondary' });
    expect(link.body.properties.databases[0]).toMatchObject({
      replicaState: 'Connected',
      synchronizationHealth: 'HEALTHY',
    });
    const local = state.databaseReplicaStates.filter((r) => r.isLocal);
    expect(local).toHaveLength(1);
    expect(local[0]).toMatchObject({ isPrimaryReplica: false, synchronizationHealth: 'HEALTHY' });
    // Planned failover back to SQL Server from the instance (the primary).
    const fo = await h.raw('POST', `${dagPath()}/failover`, { failoverType: 'Planned' });
    expect(fo.status).toBe(202);
    clock.advance(11_000);
    expect((await h.raw('GET', fo.headers['azure-asyncoperation'] ?? '')).body.status).toBe('Succeeded');
    expect(findDag(state, names.dag)?.replicas.map((r) => r.role)).toEqual(['PRIMARY', 'SECONDARY']);
  });

  it('fails without GRANT CREATE ANY DATABASE, and refuses a database missing on the instance', async () => {
    const { h, clock, entry, mi } = await setup({ instancePrimary: true });
    applyRunbookToState(entry, mi, { ...miNames, skip: ['grantCreateAnyDatabase'] }, clock.now());
    const put = await h.raw('PUT', dagPath(), linkBody(miNames, entry));
    clock.advance(31_000);
    const op = await h.raw('GET', put.headers['azure-asyncoperation'] ?? '');
    expect(op.body.error.code).toBe(LinkErrorCodes.connectivity);
    expect(op.body.error.message).toContain('GRANT CREATE ANY DATABASE');
    const missing = await h.raw(
      'PUT',
      dagPath('DAG2_Other'),
      linkBody({ ...miNames, database: 'Other', instanceAg: 'AG_Other_MI' }, entry),
    );
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe(LinkErrorCodes.sourceDbNotFound);
  });

  it('needs SQL Server 2022 CU10 for the instance as initial primary', async () => {
    const { h, clock, entry, mi } = await setup({ instancePrimary: true, cu: 9 });
    applyRunbookToState(entry, mi, miNames, clock.now());
    const put = await h.raw('PUT', dagPath(), linkBody(miNames, entry));
    clock.advance(31_000);
    const op = await h.raw('GET', put.headers['azure-asyncoperation'] ?? '');
    expect(op.body.error.code).toBe(LinkErrorCodes.unsupportedVersion);
  });
});
