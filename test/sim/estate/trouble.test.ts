/**
 * Trouble on demand and time: each documented unhealthy state, put on a link through the estate's control
 * API over HTTPS (as a second process would), read back through the real drivers the way the documents
 * read it; certificates that expire as the clock passes their EXPIRY_DATE; seeding that restarts after a
 * disconnect; link creation cancelled after six days.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../local/sim/clock.js';
import { connectControl, type EstateControlApi, type Promised } from '../../../local/sim/estate/control.js';
import { startEstate, type RunningEstate } from '../../../local/sim/estate/estate.js';
import { launchEstate } from '../../../local/sim/estate/launch.js';
import type { EstateServerSpec, EstateSpec } from '../../../local/sim/estate/spec.js';
import { repoRoot } from '../../helpers/runbook.js';
import { ByHand } from './by-hand.js';
import {
  CONNECTION_QUERY,
  establishTrust,
  LAG_QUERY,
  linkUp,
  MI_PATH,
  ROLE_QUERY,
  SUB,
} from './link-setup.js';

const server = (n: number, databases: EstateServerSpec['databases']): EstateServerSpec => ({
  serverName: `SQLBOX${n}`,
  host: `sqlbox${n}.contoso.local`,
  endpointAddress: `10.0.0.${n + 3}`,
  version: 2022,
  cu: 13,
  logins: [{ name: 'milink_admin', password: `Pw-box${n}!`, serverRoles: ['sysadmin'] }],
  databases,
});

const spec: EstateSpec = {
  sqlServers: [
    server(2, [
      { name: 'Alpha', fullBackup: true, sizeMb: 1000 },
      { name: 'Bravo', fullBackup: true },
      { name: 'Charlie', fullBackup: true },
      { name: 'Delta', fullBackup: true, sizeMb: 4000 },
      { name: 'Echo', fullBackup: true, sizeMb: 4000 },
    ]),
    server(3, [{ name: 'Foxtrot', fullBackup: true }]),
    server(4, [
      { name: 'Golf', fullBackup: true },
      { name: 'Hotel', fullBackup: true },
    ]),
  ],
  managedInstances: [
    { subscriptionId: SUB, resourceGroup: 'rg-data', name: 'mi-prod' },
    { subscriptionId: SUB, resourceGroup: 'rg-data', name: 'mi-dr' },
  ],
  keyVault: {
    secrets: {
      'sqlbox2-login': 'Pw-box2!',
      'sqlbox3-login': 'Pw-box3!',
      'sqlbox4-login': 'Pw-box4!',
      'master-key': 'Mk-Secret#1',
    },
  },
};

let estate: RunningEstate;
let clock: VirtualClock;
let h: ByHand;
let control: Promised<EstateControlApi>;

beforeAll(async () => {
  clock = new VirtualClock();
  estate = await startEstate(spec, { clock, retryAfterSeconds: 0 });
  h = new ByHand(estate, clock);
  // Over HTTPS with the connection's token and CA, as `milink local` or a test in another process would.
  control = connectControl(estate.connection);
  await establishTrust(h, 'SQLBOX2');
});

afterAll(async () => {
  await h?.close();
  await estate?.close();
});

const ref = (name: string) => ({ instance: 'mi-prod', name });

async function rows(serverName: string, sql: string): Promise<Array<Record<string, any>>> {
  return (await h.run(serverName, sql)).recordset;
}

async function armDb(path: string): Promise<Record<string, any>> {
  return (await h.raw('GET', path)).body.properties.databases[0];
}

describe('trouble on demand, read as the documents read it', () => {
  it('disconnected with a chosen error number, on both sides, until cleared', async () => {
    const { dag, path } = await linkUp(h, 'SQLBOX2', '10.0.0.5', 'Alpha');
    await control.setTrouble({ kind: 'disconnected', link: ref(dag), errorNumber: 41976 });
    clock.advance(1_000);
    // "Configure link with scripts": the connection query on SQL Server; "Troubleshoot issues with the
    // link": 41976, the availability group is not responding.
    const [conn] = await rows('SQLBOX2', CONNECTION_QUERY(dag));
    expect(conn).toMatchObject({ connected_state_desc: 'DISCONNECTED', last_connect_error_number: 41976 });
    const db = await armDb(path);
    expect(db.connectedState).toBe('DISCONNECTED');
    expect(db.mostRecentLinkError).toContain('41976');
    expect((await control.troubles()).map((t) => t.kind)).toEqual(['disconnected']);

    await control.clearTrouble('disconnected', ref(dag));
    clock.advance(1_000);
    expect((await rows('SQLBOX2', CONNECTION_QUERY(dag)))[0]?.connected_state_desc).toBe('CONNECTED');
    expect((await armDb(path)).connectedState).toBe('CONNECTED');
  });

  it('lag high: the secondary falls behind; lag and the send queue grow on SQL Server and in ARM', async () => {
    const dag = 'DAG1_Alpha';
    const path = `${MI_PATH}/distributedAvailabilityGroups/${dag}`;
    await control.setTrouble({
      kind: 'lagHigh',
      link: ref(dag),
      transactionsPerSecond: 100,
      secondaryTps: 20,
    });
    clock.advance(60_000);
    // "Best practices for maintaining the link": the lag query; the send queue in KB (DMV reference).
    const [lag] = await rows('SQLBOX2', LAG_QUERY(dag));
    expect(Number(lag?.secondary_lag_seconds)).toBeGreaterThan(30);
    expect(Number(lag?.log_send_queue_size)).toBeGreaterThan(10_000);
    // The same lag as the instance reports it (Get-AzSqlInstanceLink … Databases, per the best practices).
    expect((await armDb(path)).instanceRedoReplicationLagSeconds).toBe(Number(lag?.secondary_lag_seconds));
    clock.advance(60_000);
    const [worse] = await rows('SQLBOX2', LAG_QUERY(dag));
    expect(Number(worse?.secondary_lag_seconds)).toBeGreaterThan(Number(lag?.secondary_lag_seconds));
    await control.clearTrouble('lagHigh', ref(dag));
    await control.stopWorkload({ server: 'SQLBOX2', database: 'Alpha' });
    clock.advance(30_000);
    const [caughtUp] = await rows('SQLBOX2', LAG_QUERY(dag));
    expect(Number(caughtUp?.secondary_lag_seconds)).toBe(0);
    expect(Number(caughtUp?.log_send_queue_size)).toBe(0);
  });

  it('log full: DBCC SQLPERF(LOGSPACE) at 100 %, log_reuse_wait_desc says LOG_BACKUP; a log backup frees it', async () => {
    const { dag } = await linkUp(h, 'SQLBOX2', '10.0.0.5', 'Bravo');
    await control.setTrouble({ kind: 'logFull', link: ref(dag) });
    // "Configure link with scripts" / "Best practices for maintaining the link": log use and log backups.
    const logspace = async () =>
      (await rows('SQLBOX2', 'DBCC SQLPERF(LOGSPACE)')).find((r) => r['Database Name'] === 'Bravo');
    expect((await logspace())?.['Log Space Used (%)']).toBeCloseTo(100, 6);
    const [wait] = await rows(
      'SQLBOX2',
      `SELECT log_reuse_wait_desc FROM sys.databases WHERE name = N'Bravo'`,
    );
    expect(wait?.log_reuse_wait_desc).toBe('LOG_BACKUP');
    await h.run('SQLBOX2', `BACKUP LOG [Bravo] TO DISK = N'C:\\Backup\\Bravo.trn'`);
    expect((await logspace())?.['Log Space Used (%)']).toBeLessThan(10);
  });

  it('trace flag 12381 left on with no seeding running', async () => {
    await control.setTrouble({ kind: 'traceFlag12381', link: ref('DAG1_Bravo') });
    // "Troubleshoot issues with the link": DBCC TRACESTATUS(12381) on, and nothing seeding.
    const [flag] = await rows('SQLBOX2', 'DBCC TRACESTATUS(12381)');
    expect(flag).toMatchObject({ TraceFlag: 12381, Status: 1 });
    const seeding = await rows(
      'SQLBOX2',
      `SELECT s.current_state FROM sys.dm_hadr_automatic_seeding s WHERE s.current_state = 'SEEDING'`,
    );
    expect(seeding).toEqual([]);
    await h.run('SQLBOX2', 'DBCC TRACEOFF(12381, -1)');
  });

  it('split brain: both sides PRIMARY until SQL Server steps down', async () => {
    const { dag, path } = await linkUp(h, 'SQLBOX2', '10.0.0.5', 'Charlie');
    await control.setTrouble({ kind: 'splitBrain', link: ref(dag) });
    clock.advance(5_000);
    // "Troubleshoot issues with the link": the role query returns PRIMARY on both sides.
    expect((await rows('SQLBOX2', ROLE_QUERY(dag)))[0]?.role_desc).toBe('PRIMARY');
    expect((await h.raw('GET', path)).body.properties.instanceLinkRole).toBe('Primary');
    expect((await armDb(path)).connectedState).toBe('DISCONNECTED');
    await h.run('SQLBOX2', `ALTER AVAILABILITY GROUP [${dag}] SET (ROLE = SECONDARY)`);
    clock.advance(5_000);
    expect((await rows('SQLBOX2', ROLE_QUERY(dag)))[0]?.role_desc).toBe('SECONDARY');
    expect((await armDb(path)).connectedState).toBe('CONNECTED');
  });

  it('seeding stuck makes no progress, and the service cancels the creation after six days', async () => {
    const dag = 'DAG1_Delta';
    await h.availabilityGroups('SQLBOX2', {
      database: 'Delta',
      ag: 'AG_Delta',
      instanceAg: 'AG_Delta_MI',
      dag,
      address: '10.0.0.5',
      port: 5022,
    });
    const path = `${MI_PATH}/distributedAvailabilityGroups/${dag}`;
    await h.raw('PUT', path, {
      properties: {
        instanceLinkRole: 'Secondary',
        partnerAvailabilityGroupName: 'AG_Delta',
        instanceAvailabilityGroupName: 'AG_Delta_MI',
        partnerEndpoint: 'TCP://10.0.0.5:5022',
        failoverMode: 'Manual',
        seedingMode: 'Automatic',
        databases: [{ databaseName: 'Delta' }],
      },
    });
    clock.advance(60_000);
    expect((await armDb(path)).replicaState).toBe('Seeding');
    await control.setTrouble({ kind: 'seedingStuck', link: ref(dag) });
    // "Troubleshoot issues with the link": the seeding DMVs.
    const seedingQuery = `SELECT s.current_state, ps.transferred_size_bytes, ps.database_size_bytes
FROM sys.dm_hadr_physical_seeding_stats ps JOIN sys.dm_hadr_automatic_seeding s ON s.operation_id = ps.local_physical_seeding_id
WHERE ps.local_database_name = N'Delta'`;
    const [before] = await rows('SQLBOX2', seedingQuery);
    const progress = (await armDb(path)).seedingProgress;
    clock.advance(3_600_000);
    const [after] = await rows('SQLBOX2', seedingQuery);
    expect(after?.current_state).toBe('SEEDING');
    expect(Number(after?.transferred_size_bytes)).toBe(Number(before?.transferred_size_bytes));
    expect(Number(after?.transferred_size_bytes)).toBeLessThan(Number(after?.database_size_bytes));
    expect((await armDb(path)).seedingProgress).toBe(progress);

    // "Troubleshoot issues with the link": link creation is cancelled after six days.
    clock.advance(6 * 86_400_000);
    const failed = await armDb(path);
    expect(failed.replicaState).toBe('LinkCreationError');
    expect(failed.mostRecentLinkError).toMatch(/6 days/);
    expect((await rows('SQLBOX2', seedingQuery))[0]?.current_state).toBe('FAILED');
    expect((await h.raw('GET', `${MI_PATH}/databases/Delta`)).status).toBe(404);
  });

  it('seeding restarts after a disconnect', async () => {
    const dag = 'DAG1_Echo';
    await h.availabilityGroups('SQLBOX2', {
      database: 'Echo',
      ag: 'AG_Echo',
      instanceAg: 'AG_Echo_MI',
      dag,
      address: '10.0.0.5',
      port: 5022,
    });
    const path = `${MI_PATH}/distributedAvailabilityGroups/${dag}`;
    await h.raw('PUT', path, {
      properties: {
        instanceLinkRole: 'Secondary',
        partnerAvailabilityGroupName: 'AG_Echo',
        instanceAvailabilityGroupName: 'AG_Echo_MI',
        partnerEndpoint: 'TCP://10.0.0.5:5022',
        failoverMode: 'Manual',
        seedingMode: 'Automatic',
        databases: [{ databaseName: 'Echo' }],
      },
    });
    clock.advance(60_000);
    await control.setTrouble({ kind: 'disconnected', link: ref(dag), errorNumber: 41986 });
    clock.advance(10_000);
    await control.clearTrouble('disconnected', ref(dag));
    clock.advance(10_000);
    // "Troubleshoot issues with the link": seeding restarts after any network interruption.
    const states = (
      await rows(
        'SQLBOX2',
        `SELECT current_state, start_time FROM sys.dm_hadr_automatic_seeding s JOIN sys.availability_groups ag ON ag.group_id = s.ag_id WHERE ag.name = N'${dag}' ORDER BY start_time`,
      )
    ).map((r) => r.current_state);
    expect(states).toEqual(['FAILED', 'SEEDING']);
    expect((await armDb(path)).seedingProgress).toMatch(/^\d+%$/);
  });

  it("instance certificate chain invalid: sp_validate_certificate_ca_chain fails and the link drops (41974) until the instance's certificate is imported again", async () => {
    await establishTrust(h, 'SQLBOX3');
    const { dag, path } = await linkUp(h, 'SQLBOX3', '10.0.0.6', 'Foxtrot');
    await control.setTrouble({ kind: 'chainInvalid', link: ref(dag) });
    clock.advance(1_000);
    const [cert] = await rows(
      'SQLBOX3',
      `SELECT certificate_id FROM sys.certificates WHERE issuer_name LIKE '%Microsoft Corporation%' AND name = N'${h.fqdn}'`,
    );
    // "Best practices for maintaining the link": validate the instance certificate's chain.
    await expect(
      h.run('SQLBOX3', `EXEC sp_validate_certificate_ca_chain ${Number(cert?.certificate_id)}`),
    ).rejects.toThrow();
    // "Troubleshoot issues with the link": 41974, the instance's certificate is not in SQL Server.
    expect((await rows('SQLBOX3', CONNECTION_QUERY(dag)))[0]?.last_connect_error_number).toBe(41974);
    expect((await armDb(path)).connectedState).toBe('DISCONNECTED');
    // The remedy ("Configure link with scripts"): drop it and import the instance's current certificate.
    await h.run('SQLBOX3', `DROP CERTIFICATE [${h.fqdn}]`);
    await h.instanceCertificate('SQLBOX3');
    await h.validateInstanceCertificate('SQLBOX3');
    clock.advance(1_000);
    expect((await armDb(path)).connectedState).toBe('CONNECTED');
  });

  it('certificate expiring, then expired: SQL Server and ARM show the date, then the link fails (41973)', async () => {
    const dag = 'DAG1_Foxtrot';
    const path = `${MI_PATH}/distributedAvailabilityGroups/${dag}`;
    const set = await control.setTrouble({ kind: 'certificateExpiring', link: ref(dag), days: 10 });
    // "Best practices for maintaining the link": the endpoint certificate's expiry, on SQL Server and in ARM.
    const [cert] = await rows(
      'SQLBOX3',
      `SELECT name, expiry_date FROM master.sys.certificates WHERE pvt_key_encryption_type = 'MK'`,
    );
    const expiry = new Date(cert?.expiry_date as Date).getTime();
    expect(expiry - clock.now().getTime()).toBeLessThanOrEqual(10 * 86_400_000);
    expect(expiry).toBeGreaterThan(clock.now().getTime());
    const validity = (await armDb(path)).partnerAuthCertValidity;
    expect(validity.certificateName).toBe(cert?.name);
    expect(new Date(validity.expiryDate).getTime()).toBe(expiry);
    expect(set.effect).toContain(cert?.name);

    await control.setTrouble({ kind: 'certificateExpired', link: ref(dag) });
    clock.advance(1_000);
    // "Troubleshoot issues with the link": if the certificate expires the link fails.
    expect((await rows('SQLBOX3', CONNECTION_QUERY(dag)))[0]).toMatchObject({
      connected_state_desc: 'DISCONNECTED',
      last_connect_error_number: 41973,
    });
    expect((await armDb(path)).connectedState).toBe('DISCONNECTED');
  });
});

describe('time', () => {
  it('a certificate created to expire in one simulated day breaks its links the day after, on both sides', async () => {
    // A second instance: this server's certificate is trusted there alone.
    const h = new ByHand(estate, clock, estate.connection.managedInstances[1]);
    const tomorrow = new Date(clock.now().getTime() + 86_400_000);
    const expiry = tomorrow.toISOString().slice(0, 19);
    await establishTrust(h, 'SQLBOX4', { name: 'Cert_SQLBOX4_endpoint', expiry });
    const golf = await linkUp(h, 'SQLBOX4', '10.0.0.7', 'Golf');
    const hotel = await linkUp(h, 'SQLBOX4', '10.0.0.7', 'Hotel');
    const [cert] = await rows(
      'SQLBOX4',
      `SELECT expiry_date FROM master.sys.certificates WHERE name = N'Cert_SQLBOX4_endpoint'`,
    );
    const expiresAt = new Date(cert?.expiry_date as Date).getTime();
    expect(expiresAt).toBe(new Date(`${expiry}Z`).getTime());

    clock.set(new Date(expiresAt - 60_000));
    for (const link of [golf, hotel]) {
      expect((await armDb(link.path)).connectedState).toBe('CONNECTED');
      expect((await rows('SQLBOX4', CONNECTION_QUERY(link.dag)))[0]?.connected_state_desc).toBe('CONNECTED');
    }

    clock.set(new Date(expiresAt + 86_400_000));
    // "Troubleshoot issues with the link" / "Best practices": an expired endpoint certificate fails the link;
    // 41973 is the error of a SQL Server certificate the instance cannot use.
    for (const link of [golf, hotel]) {
      const db = await armDb(link.path);
      expect(db.connectedState).toBe('DISCONNECTED');
      expect(db.mostRecentLinkError).toMatch(/41973/);
      expect(db.mostRecentLinkError).toMatch(/expired/);
      expect((await rows('SQLBOX4', CONNECTION_QUERY(link.dag)))[0]).toMatchObject({
        connected_state_desc: 'DISCONNECTED',
        last_connect_error_number: 41973,
      });
    }
    await h.close();
  });
});

describe('the control API of a launched estate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'milink-control-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is reachable from another process through the connection file', async () => {
    const launched = await launchEstate({
      estateFile: resolve(repoRoot, 'local/sim/estates/demo.json'),
      connectionFile: join(dir, 'estate.json'),
      timeScale: 100,
    });
    try {
      const remote = connectControl(launched.connection);
      expect(await remote.workloads()).toEqual([]);
      await expect(
        remote.setTrouble({ kind: 'splitBrain', link: { instance: 'mi-prod', name: 'DAG1_SalesDb' } }),
      ).rejects.toThrow(/no link/);
      const target = { server: 'SQLBOX1', database: 'SalesDb' };
      await remote.startWorkload(target, { transactionsPerSecond: 10 });
      await new Promise((r) => setTimeout(r, 300));
      const report = await remote.workload(target);
      expect(report.running).toBe(true);
      expect(report.replicas[0]?.transactions).toBeGreaterThan(0);
    } finally {
      await launched.stop();
    }
  });
});
