/**
 * The runbook done by hand against the estate: raw T-SQL batches through mssql, raw ARM requests through
 * the SqlManagementClient pipeline, passwords from Key Vault. Both initial primaries come up connected and
 * healthy; a missing trust step or a wrong port fails the way the service reports it, in ARM and in the
 * DMVs; seeding progress and lag move with the (virtual) clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../local/sim/clock.js';
import { startEstate, type RunningEstate } from '../../../local/sim/estate/estate.js';
import type { EstateSpec } from '../../../local/sim/estate/spec.js';
import { LinkErrorCodes } from '../../../local/sim/estate/truth.js';
import { ByHand } from './by-hand.js';

const SUB = '00000000-0000-0000-0000-000000000001';
const MI = `/subscriptions/${SUB}/resourceGroups/rg-data/providers/Microsoft.Sql/managedInstances/mi-prod`;

const spec: EstateSpec = {
  sqlServers: [
    {
      serverName: 'SQLBOX1',
      host: 'sqlbox1.contoso.local',
      endpointAddress: '10.0.0.4',
      version: 2022,
      cu: 13,
      logins: [{ name: 'milink_admin', password: 'Pw-box1!', serverRoles: ['sysadmin'] }],
      databases: [{ name: 'SalesDb', recoveryModel: 'SIMPLE', sizeMb: 200 }],
    },
    {
      serverName: 'SQLBOX2',
      host: 'sqlbox2.contoso.local',
      endpointAddress: '10.0.0.5',
      version: 2022,
      cu: 13,
      logins: [{ name: 'milink_admin', password: 'Pw-box2!', serverRoles: ['sysadmin'] }],
    },
  ],
  managedInstances: [
    { subscriptionId: SUB, resourceGroup: 'rg-data', name: 'mi-prod', databases: ['OrdersDb'] },
  ],
  keyVault: {
    secrets: { 'sqlbox1-login': 'Pw-box1!', 'sqlbox2-login': 'Pw-box2!', 'master-key': 'Mk-Secret#1' },
  },
};

let estate: RunningEstate;
let clock: VirtualClock;
let h: ByHand;
let fqdn = '';
const raw = (method: string, path: string, body?: unknown) => h.raw(method, path, body);
const run = (server: string, batch: string) => h.run(server, batch);
const finish = (url: string) => h.finish(url);

/** The runbook's trust and endpoint steps on one SQL Server (certificate, upload, instance certificate, roots, endpoint). */
async function establishTrust(serverName: string, opts: { uploadToInstance: boolean }): Promise<void> {
  await h.masterKey(serverName);
  const cert = await h.sqlCertificate(serverName);
  if (opts.uploadToInstance) expect(await h.uploadToInstance(cert)).toBe('Succeeded');
  await h.instanceCertificate(serverName);
  await h.roots(serverName);
  await h.validateInstanceCertificate(serverName);
  await h.endpoint(serverName, 5022, cert.name);
}

beforeAll(async () => {
  clock = new VirtualClock();
  estate = await startEstate(spec, { clock, retryAfterSeconds: 0 });
  h = new ByHand(estate, clock);
  fqdn = h.fqdn;
});

afterAll(async () => {
  await h?.close();
  await estate?.close();
});

describe('the runbook by hand, SQL Server as initial primary', () => {
  it('fails without the upload to the instance (41973), then with a wrong port, then connects and becomes healthy', async () => {
    await run('SQLBOX1', `ALTER DATABASE [SalesDb] SET RECOVERY FULL`);
    await run('SQLBOX1', `BACKUP DATABASE [SalesDb] TO DISK = N'C:\\Backup\\SalesDb.bak'`);
    await establishTrust('SQLBOX1', { uploadToInstance: false });
    const server = await run('SQLBOX1', 'SELECT @@SERVERNAME AS SQLServerName');
    expect(server.recordset[0].SQLServerName).toBe('SQLBOX1');
    await run(
      'SQLBOX1',
      `CREATE AVAILABILITY GROUP [AG_SalesDb]
WITH (CLUSTER_TYPE = NONE)
    FOR database [SalesDb]
    REPLICA ON
        N'SQLBOX1' WITH
            (
            ENDPOINT_URL = 'TCP://10.0.0.4:5022',
            AVAILABILITY_MODE = SYNCHRONOUS_COMMIT,
            FAILOVER_MODE = MANUAL,
            SEEDING_MODE = AUTOMATIC
            );`,
    );
    await run(
      'SQLBOX1',
      `CREATE AVAILABILITY GROUP [DAG1_SalesDb]
WITH (DISTRIBUTED)
    AVAILABILITY GROUP ON
    N'AG_SalesDb' WITH
    (
      LISTENER_URL = 'TCP://10.0.0.4:5022',
      AVAILABILITY_MODE = ASYNCHRONOUS_COMMIT,
      FAILOVER_MODE = MANUAL,
      SEEDING_MODE = AUTOMATIC,
      SESSION_TIMEOUT = 20
    ),
    N'AG_SalesDb_MI' WITH
    (
      LISTENER_URL = 'tcp://${fqdn}:5022;Server=[mi-prod]',
      AVAILABILITY_MODE = ASYNCHRONOUS_COMMIT,
      FAILOVER_MODE = MANUAL,
      SEEDING_MODE = AUTOMATIC
    );`,
    );
    const body = (port: number) => ({
      properties: {
        instanceLinkRole: 'Secondary',
        partnerAvailabilityGroupName: 'AG_SalesDb',
        instanceAvailabilityGroupName: 'AG_SalesDb_MI',
        partnerEndpoint: `TCP://10.0.0.4:${port}`,
        failoverMode: 'Manual',
        seedingMode: 'Automatic',
        databases: [{ databaseName: 'SalesDb' }],
      },
    });
    const replicaStates = `SELECT r.replica_server_name AS [Replica], r.endpoint_url AS [Endpoint],
    rs.connected_state_desc AS [Connected state], rs.last_connect_error_description AS [Last connection error],
    rs.last_connect_error_number AS [Last connection error No], rs.last_connect_error_timestamp AS [Last error timestamp]
FROM sys.dm_hadr_availability_replica_states rs JOIN sys.availability_replicas r ON rs.replica_id = r.replica_id`;
    const miReplica = async () =>
      (await run('SQLBOX1', replicaStates)).recordset.find(
        (r: { Replica: string }) => r.Replica === 'AG_SalesDb_MI',
      );

    // 1. The SQL Server certificate was never uploaded to the instance.
    const first = await raw('PUT', `${MI}/distributedAvailabilityGroups/DAG1_SalesDb`, body(5022));
    expect(first.status).toBe(201);
    const failed = await finish(first.headers['azure-asyncoperation'] ?? '');
    expect(failed.status).toBe('Failed');
    expect(failed.error?.code).toBe(LinkErrorCodes.certNotOnInstance);
    expect(await miReplica()).toMatchObject({
      'Connected state': 'DISCONNECTED',
      'Last connection error No': 41973,
    });

    // 2. Upload it, but name a wrong port.
    const pk = await run('SQLBOX1', `SELECT CERTENCODED(CERT_ID(N'Cert_SQLBOX1_endpoint')) AS k`);
    const upload = await raw('PUT', `${MI}/serverTrustCertificates/Cert_SQLBOX1_endpoint`, {
      properties: { publicBlob: (pk.recordset[0].k as Buffer).toString('hex') },
    });
    expect((await finish(upload.headers['azure-asyncoperation'] ?? '')).status).toBe('Succeeded');
    const second = await raw('PUT', `${MI}/distributedAvailabilityGroups/DAG1_SalesDb`, body(5023));
    const wrongPort = await finish(second.headers['azure-asyncoperation'] ?? '');
    expect(wrongPort.error?.code).toBe(LinkErrorCodes.connectivity);

    // 3. Right port: the link is created, seeds, catches up and connects.
    const third = await raw('PUT', `${MI}/distributedAvailabilityGroups/DAG1_SalesDb`, body(5022));
    expect(third.status).toBe(201);
    clock.advance(31_000);
    expect((await raw('GET', third.headers['azure-asyncoperation'] ?? '')).body.status).toBe('Succeeded');
    clock.advance(4_000);
    const seedingStats = await run(
      'SQLBOX1',
      `SELECT s.current_state, ps.transferred_size_bytes, ps.database_size_bytes, ps.remote_machine_name
FROM sys.dm_hadr_physical_seeding_stats ps JOIN sys.dm_hadr_automatic_seeding s ON s.operation_id = ps.local_physical_seeding_id`,
    );
    expect(seedingStats.recordset[0]).toMatchObject({ current_state: 'SEEDING', remote_machine_name: fqdn });
    const transferred = Number(seedingStats.recordset[0]?.transferred_size_bytes);
    expect(transferred).toBeGreaterThan(0);
    expect(transferred).toBeLessThan(Number(seedingStats.recordset[0]?.database_size_bytes));
    const arming = await raw('GET', `${MI}/distributedAvailabilityGroups/DAG1_SalesDb`);
    expect(arming.body.properties.databases[0].replicaState).toBe('Seeding');

    clock.advance(7_000);
    const lagQuery = `SELECT is_local, synchronization_health_desc, secondary_lag_seconds FROM sys.dm_hadr_database_replica_states`;
    const catchup = (await run('SQLBOX1', lagQuery)).recordset.find(
      (r: { is_local: boolean }) => !r.is_local,
    );
    expect(Number(catchup?.secondary_lag_seconds)).toBeGreaterThan(1);

    clock.advance(10_000);
    expect(await miReplica()).toMatchObject({ 'Connected state': 'CONNECTED' });
    const healthy = (await run('SQLBOX1', lagQuery)).recordset.find(
      (r: { is_local: boolean }) => !r.is_local,
    );
    expect(healthy).toMatchObject({ synchronization_health_desc: 'HEALTHY' });
    expect(Number(healthy?.secondary_lag_seconds)).toBeLessThanOrEqual(1);
    const link = await raw('GET', `${MI}/distributedAvailabilityGroups/DAG1_SalesDb`);
    expect(link.body.properties.databases[0]).toMatchObject({
      replicaState: 'Connected',
      synchronizationHealth: 'HEALTHY',
      connectedState: 'CONNECTED',
    });
    const dbs = await raw('GET', `${MI}/databases/SalesDb`);
    expect(dbs.body.properties.status).toBe('Online');
  });
});

describe('failing over and dropping by hand (continues the link above)', () => {
  it('switches to synchronous commit, fails over with T-SQL to the instance, then drops the link on both sides', async () => {
    const patch = await raw('PATCH', `${MI}/distributedAvailabilityGroups/DAG1_SalesDb`, {
      properties: { replicationMode: 'Sync' },
    });
    expect(patch.status).toBe(202);
    expect((await finish(patch.headers['azure-asyncoperation'] ?? '')).status).toBe('Succeeded');
    await run(
      'SQLBOX1',
      `ALTER AVAILABILITY GROUP [DAG1_SalesDb] MODIFY AVAILABILITY GROUP ON 'AG_SalesDb' WITH (AVAILABILITY_MODE = SYNCHRONOUS_COMMIT), 'AG_SalesDb_MI' WITH (AVAILABILITY_MODE = SYNCHRONOUS_COMMIT)`,
    );
    const rows = (
      await run(
        'SQLBOX1',
        `SELECT drs.is_local, drs.synchronization_state_desc, drs.last_hardened_lsn FROM sys.dm_hadr_database_replica_states drs
JOIN sys.availability_groups ag ON ag.group_id = drs.group_id WHERE ag.name = N'DAG1_SalesDb'`,
      )
    ).recordset as Array<{
      is_local: boolean;
      synchronization_state_desc: string;
      last_hardened_lsn: unknown;
    }>;
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => !r.is_local)?.synchronization_state_desc).toBe('SYNCHRONIZED');
    expect(String(rows[0]?.last_hardened_lsn)).toBe(String(rows[1]?.last_hardened_lsn));
    await run('SQLBOX1', `ALTER AVAILABILITY GROUP [DAG1_SalesDb] FAILOVER`);
    const link = await raw('GET', `${MI}/distributedAvailabilityGroups/DAG1_SalesDb`);
    // "Fail over link" (Microsoft Learn): after a planned failover the link replicates asynchronously again.
    expect(link.body.properties).toMatchObject({
      instanceLinkRole: 'Primary',
      partnerLinkRole: 'Secondary',
      replicationMode: 'Async',
    });
    const roles = await run(
      'SQLBOX1',
      `SELECT r.replica_server_name, rs.role_desc FROM sys.dm_hadr_availability_replica_states rs JOIN sys.availability_replicas r ON rs.replica_id = r.replica_id
JOIN sys.availability_groups ag ON ag.group_id = r.group_id WHERE ag.is_distributed = 1 AND ag.name = N'DAG1_SalesDb'`,
    );
    expect(
      Object.fromEntries(
        roles.recordset.map((r: { replica_server_name: string; role_desc: string }) => [
          r.replica_server_name,
          r.role_desc,
        ]),
      ),
    ).toEqual({
      AG_SalesDb: 'SECONDARY',
      AG_SalesDb_MI: 'PRIMARY',
    });

    const del = await raw('DELETE', `${MI}/distributedAvailabilityGroups/DAG1_SalesDb`);
    expect(del.status).toBe(202);
    expect((await finish(del.headers['azure-asyncoperation'] ?? '')).status).toBe('Succeeded');
    await run('SQLBOX1', `DROP AVAILABILITY GROUP [DAG1_SalesDb]`);
    expect((await raw('GET', `${MI}/distributedAvailabilityGroups/DAG1_SalesDb`)).status).toBe(404);
    const left = await run('SQLBOX1', `SELECT name FROM sys.availability_groups`);
    expect(left.recordset.map((r: { name: string }) => r.name)).toEqual(['AG_SalesDb']);
    expect((await raw('GET', `${MI}/databases/SalesDb`)).body.properties.status).toBe('Online');
  });
});

describe('the runbook by hand, the managed instance as initial primary', () => {
  it('grants CREATE ANY DATABASE, creates the DAG with the database in the listener URL, and connects', async () => {
    await establishTrust('SQLBOX2', { uploadToInstance: true });
    await run(
      'SQLBOX2',
      `CREATE AVAILABILITY GROUP [AG_OrdersDb]
WITH (CLUSTER_TYPE = NONE)
FOR
REPLICA ON N'SQLBOX2'
WITH (
    ENDPOINT_URL = N'TCP://10.0.0.5:5022',
    FAILOVER_MODE = MANUAL,
    AVAILABILITY_MODE = SYNCHRONOUS_COMMIT,
    SEEDING_MODE = AUTOMATIC);`,
    );
    await run('SQLBOX2', `ALTER AVAILABILITY GROUP [AG_OrdersDb] GRANT CREATE ANY DATABASE;`);
    await run(
      'SQLBOX2',
      `CREATE AVAILABILITY GROUP [DAG1_OrdersDb]
WITH (DISTRIBUTED)
    AVAILABILITY GROUP ON
    N'AG_OrdersDb' WITH
    (
      LISTENER_URL = 'TCP://10.0.0.5:5022',
      AVAILABILITY_MODE = ASYNCHRONOUS_COMMIT,
      FAILOVER_MODE = MANUAL,
      SEEDING_MODE = AUTOMATIC,
      SESSION_TIMEOUT = 20
    ),
    N'AG_OrdersDb_MI' WITH
    (
      LISTENER_URL = 'tcp://${fqdn}:5022;Server=[mi-prod];Database=[OrdersDb]',
      AVAILABILITY_MODE = ASYNCHRONOUS_COMMIT,
      FAILOVER_MODE = MANUAL,
      SEEDING_MODE = AUTOMATIC
    );`,
    );
    const put = await raw('PUT', `${MI}/distributedAvailabilityGroups/DAG1_OrdersDb`, {
      properties: {
        instanceLinkRole: 'Primary',
        partnerAvailabilityGroupName: 'AG_OrdersDb',
        instanceAvailabilityGroupName: 'AG_OrdersDb_MI',
        partnerEndpoint: 'TCP://10.0.0.5:5022',
        failoverMode: 'Manual',
        seedingMode: 'Automatic',
        databases: [{ databaseName: 'OrdersDb' }],
      },
    });
    expect(put.status).toBe(201);
    clock.advance(31_000);
    expect((await raw('GET', put.headers['azure-asyncoperation'] ?? '')).body.status).toBe('Succeeded');
    const restoring = await run(
      'SQLBOX2',
      `SELECT name, state_desc FROM sys.databases WHERE name = N'OrdersDb'`,
    );
    expect(restoring.recordset[0]).toMatchObject({ name: 'OrdersDb', state_desc: 'RESTORING' });
    clock.advance(60_000);
    const online = await run(
      'SQLBOX2',
      `SELECT name, state_desc FROM sys.databases WHERE name = N'OrdersDb'`,
    );
    expect(online.recordset[0]?.state_desc).toBe('ONLINE');
    const link = await raw('GET', `${MI}/distributedAvailabilityGroups/DAG1_OrdersDb`);
    expect(link.body.properties).toMatchObject({ instanceLinkRole: 'Primary', partnerLinkRole: 'Secondary' });
    expect(link.body.properties.databases[0]).toMatchObject({
      replicaState: 'Connected',
      synchronizationHealth: 'HEALTHY',
    });
    const states = await run(
      'SQLBOX2',
      `SELECT ag.name, rs.role_desc, rs.connected_state_desc, rs.synchronization_health_desc
FROM sys.availability_groups ag
JOIN sys.availability_replicas r ON r.group_id = ag.group_id
JOIN sys.dm_hadr_availability_replica_states rs ON rs.replica_id = r.replica_id
WHERE ag.is_distributed = 1`,
    );
    expect(states.recordset.map((r: { role_desc: string }) => r.role_desc).sort()).toEqual([
      'PRIMARY',
      'SECONDARY',
    ]);
    expect(
      states.recordset.every((r: { connected_state_desc: string }) => r.connected_state_desc === 'CONNECTED'),
    ).toBe(true);
  });
});
