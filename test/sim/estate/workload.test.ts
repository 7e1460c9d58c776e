/**
 * A write workload on linked databases, driven through the real drivers (T-SQL through mssql, ARM through
 * the SqlManagementClient pipeline): LSNs, queues and lag move on both sides, the log fills without log
 * backups, and failovers lose exactly the transactions the new primary had not hardened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../local/sim/clock.js';
import { startEstate, type RunningEstate } from '../../../local/sim/estate/estate.js';
import type { EstateSpec } from '../../../local/sim/estate/spec.js';
import type { WorkloadReport } from '../../../local/sim/estate/workload.js';
import { ByHand } from './by-hand.js';
import { establishTrust, LAG_QUERY, linkUp, MI_PATH, ROLE_QUERY, SUB } from './link-setup.js';

const spec: EstateSpec = {
  sqlServers: [
    {
      serverName: 'SQLBOX1',
      host: 'sqlbox1.contoso.local',
      endpointAddress: '10.0.0.4',
      version: 2022,
      cu: 13,
      logins: [{ name: 'milink_admin', password: 'Pw-box1!', serverRoles: ['sysadmin'] }],
      databases: [
        { name: 'SalesDb', fullBackup: true, sizeMb: 200 },
        { name: 'OrdersDb', fullBackup: true, sizeMb: 100 },
        { name: 'StockDb', fullBackup: true, sizeMb: 100 },
      ],
    },
  ],
  managedInstances: [{ subscriptionId: SUB, resourceGroup: 'rg-data', name: 'mi-prod' }],
  keyVault: { secrets: { 'sqlbox1-login': 'Pw-box1!', 'master-key': 'Mk-Secret#1' } },
};

let estate: RunningEstate;
let clock: VirtualClock;
let h: ByHand;

beforeAll(async () => {
  clock = new VirtualClock();
  estate = await startEstate(spec, { clock, retryAfterSeconds: 0 });
  h = new ByHand(estate, clock);
  await establishTrust(h, 'SQLBOX1');
});

afterAll(async () => {
  await h?.close();
  await estate?.close();
});

const side = (w: WorkloadReport, s: 'sqlServer' | 'managedInstance') => {
  const r = w.replicas.find((x) => x.side === s);
  if (!r) throw new Error(`no ${s} replica`);
  return r;
};

async function one(sql: string): Promise<Record<string, any>> {
  const rows = (await h.run('SQLBOX1', sql)).recordset;
  expect(rows).toHaveLength(1);
  return rows[0];
}

describe('a write workload on a linked database', () => {
  it('moves LSNs, queues and lag on both sides, fills the log without log backups and says why', async () => {
    const { dag, path } = await linkUp(h, 'SQLBOX1', '10.0.0.4', 'SalesDb');
    const target = { server: 'SQLBOX1', database: 'SalesDb' };
    estate.control.tuneReplication(target, { shipDelaySeconds: 1 });
    estate.control.startWorkload(target, { transactionsPerSecond: 100, logBytesPerTransaction: 4096 });
    clock.advance(10_000);

    let w = estate.control.workload(target);
    expect(side(w, 'sqlServer').transactions).toBe(1000);
    // Asynchronous commit: what was committed in the last second is not hardened on the instance yet.
    expect(side(w, 'managedInstance').transactions).toBe(900);

    // "Best practices for maintaining the link" / "Fail over link": the lag query, on SQL Server.
    const lag = await one(LAG_QUERY(dag));
    expect(lag.role_desc).toBe('PRIMARY');
    expect(lag.synchronization_state_desc).toBe('SYNCHRONIZING');
    expect(Number(lag.secondary_lag_seconds)).toBe(1);
    expect(Number(lag.log_send_queue_size)).toBe(400); // 100 transactions × 4 KB, in KB (DMV)
    // LSNs read as strings (numeric(25,0) does not fit a JS number): the instance's hardened LSN, as ARM
    // reports it, is the one SQL Server's DMV shows for the instance; SQL Server's end of log is ahead.
    const ends = await one(
      `SELECT CAST(drs.end_of_log_lsn AS varchar(40)) AS eol FROM sys.dm_hadr_database_replica_states drs
JOIN sys.availability_groups ag ON ag.group_id = drs.group_id WHERE ag.name = N'${dag}' AND drs.is_local = 1`,
    );
    const arm = (await h.raw('GET', path)).body.properties.databases[0];
    expect(arm.lastHardenedLsn).toBe(lag.last_hardened_lsn);
    expect(ends.eol).toBe(side(w, 'sqlServer').lsn);
    expect(BigInt(ends.eol)).toBeGreaterThan(BigInt(lag.last_hardened_lsn));
    expect(BigInt(ends.eol)).toBeGreaterThan(2n ** 53n);

    clock.advance(10_000);
    const later = await one(LAG_QUERY(dag));
    expect(BigInt(later.last_hardened_lsn)).toBeGreaterThan(BigInt(lag.last_hardened_lsn));
    w = estate.control.workload(target);
    expect(side(w, 'sqlServer').transactions).toBe(2000);
    expect(side(w, 'managedInstance').transactions).toBe(1900);

    // The log fills: no log backup since the full backup, so LOG_BACKUP holds it (sys.databases).
    const logUse = async () => {
      const perf = (await h.run('SQLBOX1', 'DBCC SQLPERF(LOGSPACE)')).recordset.find(
        (r: Record<string, unknown>) => r['Database Name'] === 'SalesDb',
      );
      const usage = await one(
        `USE [SalesDb]; SELECT used_log_space_in_percent FROM sys.dm_db_log_space_usage`,
      );
      expect(perf['Log Space Used (%)']).toBeCloseTo(usage.used_log_space_in_percent, 6);
      const wait = await one(`SELECT log_reuse_wait_desc FROM sys.databases WHERE name = N'SalesDb'`);
      return { percent: Number(perf['Log Space Used (%)']), wait: wait.log_reuse_wait_desc as string };
    };
    const early = await logUse();
    expect(early.wait).toBe('LOG_BACKUP');
    clock.advance(30_000);
    const fuller = await logUse();
    expect(fuller.percent).toBeGreaterThan(early.percent);
    clock.advance(200_000);
    // "Configure link with scripts": at 100 % the log stops the database (and so the replication).
    expect((await logUse()).percent).toBeCloseTo(100, 6);
    w = estate.control.workload(target);
    expect(w.blocked).toBe('LOG_FULL');
    const stalled = side(w, 'sqlServer').transactions;
    clock.advance(10_000);
    expect(side(estate.control.workload(target), 'sqlServer').transactions).toBe(stalled);

    // A log backup frees it and commits resume.
    await h.run('SQLBOX1', `BACKUP LOG [SalesDb] TO DISK = N'C:\\Backup\\SalesDb_1.trn'`);
    expect((await logUse()).percent).toBeLessThan(10);
    clock.advance(1_000);
    expect(side(estate.control.workload(target), 'sqlServer').transactions).toBeGreaterThan(stalled);

    // A disconnected secondary holds the log: AVAILABILITY_REPLICA, and a log backup cannot free it.
    estate.control.setTrouble({
      kind: 'disconnected',
      link: { instance: 'mi-prod', name: dag },
      errorNumber: 41986,
    });
    clock.advance(60_000);
    await h.run('SQLBOX1', `BACKUP LOG [SalesDb] TO DISK = N'C:\\Backup\\SalesDb_2.trn'`);
    const held = await logUse();
    expect(held.wait).toBe('AVAILABILITY_REPLICA');
    expect(held.percent).toBeGreaterThan(40);
    estate.control.clearTrouble('disconnected', { instance: 'mi-prod', name: dag });
    estate.control.stopWorkload(target);
    clock.advance(30_000);
    w = estate.control.workload(target);
    expect(side(w, 'managedInstance').transactions).toBe(side(w, 'sqlServer').transactions);
    await h.run('SQLBOX1', `BACKUP LOG [SalesDb] TO DISK = N'C:\\Backup\\SalesDb_3.trn'`);
    expect((await logUse()).percent).toBeLessThan(10);
  });
});

describe('failover under a write workload', () => {
  it('planned by hand in T-SQL (2022 CU13+): synchronous commit, equal LSNs, 0 lost; the instance then backs itself up', async () => {
    const { dag, path } = await linkUp(h, 'SQLBOX1', '10.0.0.4', 'OrdersDb');
    const target = { server: 'SQLBOX1', database: 'OrdersDb' };
    estate.control.startWorkload(target, { transactionsPerSecond: 50 });
    clock.advance(5_000);

    // Still asynchronous: SQL Server refuses the planned failover and nothing changes.
    await expect(h.run('SQLBOX1', `ALTER AVAILABILITY GROUP [${dag}] FAILOVER`)).rejects.toThrow();
    expect((await one(ROLE_QUERY(dag))).role_desc).toBe('PRIMARY');

    // "Fail over link": switch the DAG to synchronous commit, wait until the LSNs match, fail over.
    await h.run(
      'SQLBOX1',
      `ALTER AVAILABILITY GROUP [${dag}] MODIFY AVAILABILITY GROUP ON N'AG_OrdersDb' WITH (AVAILABILITY_MODE = SYNCHRONOUS_COMMIT), N'AG_OrdersDb_MI' WITH (AVAILABILITY_MODE = SYNCHRONOUS_COMMIT)`,
    );
    clock.advance(3_000);
    const lag = await one(LAG_QUERY(dag));
    expect(lag.synchronization_state_desc).toBe('SYNCHRONIZED');
    // Synchronous commit: a transaction commits only once the instance hardened it, workload still running.
    const synced = estate.control.workload(target);
    expect(synced.running).toBe(true);
    expect(side(synced, 'managedInstance').transactions).toBe(side(synced, 'sqlServer').transactions);
    expect(Number(lag.log_send_queue_size)).toBe(0);
    const eol = await one(
      `SELECT CAST(drs.end_of_log_lsn AS varchar(40)) AS eol FROM sys.dm_hadr_database_replica_states drs
JOIN sys.availability_groups ag ON ag.group_id = drs.group_id WHERE ag.name = N'${dag}' AND drs.is_local = 1`,
    );
    expect(lag.last_hardened_lsn).toBe(eol.eol);
    expect((await h.raw('GET', path)).body.properties.databases[0].lastHardenedLsn).toBe(eol.eol);

    await h.run('SQLBOX1', `ALTER AVAILABILITY GROUP [${dag}] FAILOVER`);
    let w = estate.control.workload(target);
    const promotion = w.promotions.at(-1);
    expect(promotion).toMatchObject({ promoted: 'managedInstance', lost: 0 });
    expect(promotion?.promotedHeld).toBe(promotion?.previousPrimaryCommitted);
    expect(promotion?.promotedHeld).toBeGreaterThan(0);
    expect((await one(ROLE_QUERY(dag))).role_desc).toBe('SECONDARY');
    const link = (await h.raw('GET', path)).body.properties;
    expect(link).toMatchObject({ instanceLinkRole: 'Primary', partnerLinkRole: 'Secondary' });
    // "Fail over link": after a planned failover the link is asynchronous again.
    const modes = (
      await h.run(
        'SQLBOX1',
        `SELECT r.availability_mode_desc FROM sys.availability_replicas r JOIN sys.availability_groups ag ON ag.group_id = r.group_id WHERE ag.name = N'${dag}'`,
      )
    ).recordset.map((r: { availability_mode_desc: string }) => r.availability_mode_desc);
    expect(modes).toEqual(['ASYNCHRONOUS_COMMIT', 'ASYNCHRONOUS_COMMIT']);

    // The application now writes to the instance; SQL Server follows as the secondary.
    const atFailover = promotion?.promotedHeld ?? 0;
    clock.advance(10_000);
    w = estate.control.workload(target);
    expect(side(w, 'managedInstance').transactions).toBe(atFailover + 500);
    expect(side(w, 'sqlServer').transactions).toBeGreaterThan(atFailover);
    expect(side(w, 'sqlServer').role).toBe('SECONDARY');

    // "Troubleshoot issues with the link": the instance's first full backup comes some time after it became
    // primary (its msdb.dbo.backupset type 'D'); dropping the link before then is what the article warns of.
    expect(estate.control.instanceBackups('mi-prod', 'OrdersDb')).toEqual([]);
    const managedDb = `${MI_PATH}/databases/OrdersDb`;
    expect((await h.raw('GET', managedDb)).body.properties.earliestRestorePoint).toBeUndefined();
    clock.advance(600_000);
    const backups = estate.control.instanceBackups('mi-prod', 'OrdersDb');
    expect(backups).toHaveLength(1);
    expect(backups[0]?.type).toBe('D');
    expect(new Date(backups[0]?.backup_finish_date ?? 0).getTime()).toBeGreaterThan(
      new Date(promotion?.at ?? 0).getTime(),
    );
    // The same moment over ARM: the managed database's earliest point-in-time restore point (REST spec).
    expect((await h.raw('GET', managedDb)).body.properties.earliestRestorePoint).toBe(
      backups[0]?.backup_finish_date,
    );
    estate.control.stopWorkload(target);
  });

  it('forced over ARM loses exactly the unhardened transactions; both sides are PRIMARY until SQL Server is demoted', async () => {
    const { dag, path } = await linkUp(h, 'SQLBOX1', '10.0.0.4', 'StockDb');
    const target = { server: 'SQLBOX1', database: 'StockDb' };
    const rate = 100;
    const shipDelaySeconds = 2;
    estate.control.tuneReplication(target, { shipDelaySeconds });
    estate.control.startWorkload(target, { transactionsPerSecond: rate });
    clock.advance(20_000);

    // "Fail over link" / the REST spec: a planned failover asked of the secondary instance is refused.
    const planned = await h.raw('POST', `${path}/failover`, { failoverType: 'Planned' });
    expect(planned.status).toBe(400);
    expect(planned.body.error.code).toBe('InvalidDistributedAvailabilityGroupFailoverInstanceRole');

    const forced = await h.raw('POST', `${path}/failover`, { failoverType: 'ForcedAllowDataLoss' });
    expect(forced.status).toBe(202);
    expect((await h.finish(forced.headers['azure-asyncoperation'] ?? '')).status).toBe('Succeeded');
    let w = estate.control.workload(target);
    const promotion = w.promotions.at(-1);
    expect(promotion?.promoted).toBe('managedInstance');
    // Under asynchronous commit the instance lacked what was committed in the last shipDelaySeconds.
    expect(promotion?.lost).toBe(rate * shipDelaySeconds);
    expect((promotion?.previousPrimaryCommitted ?? 0) - (promotion?.promotedHeld ?? 0)).toBe(promotion?.lost);

    // "Troubleshoot issues with the link": split brain — both sides report PRIMARY, and stay so.
    clock.advance(30_000);
    expect((await one(ROLE_QUERY(dag))).role_desc).toBe('PRIMARY');
    expect((await h.raw('GET', path)).body.properties.instanceLinkRole).toBe('Primary');
    w = estate.control.workload(target);
    expect(side(w, 'sqlServer').role).toBe('PRIMARY');
    expect(side(w, 'managedInstance').role).toBe('PRIMARY');
    // The application writes to the instance now; SQL Server keeps what it alone committed.
    expect(side(w, 'sqlServer').transactions).toBe(promotion?.previousPrimaryCommitted);

    // Demote the original primary: it rejoins as the secondary, gives up its divergent transactions and catches up.
    await h.run('SQLBOX1', `ALTER AVAILABILITY GROUP [${dag}] SET (ROLE = SECONDARY)`);
    expect((await one(ROLE_QUERY(dag))).role_desc).toBe('SECONDARY');
    estate.control.stopWorkload(target);
    clock.advance(10_000);
    w = estate.control.workload(target);
    expect(side(w, 'sqlServer').transactions).toBe(side(w, 'managedInstance').transactions);
    expect((await h.raw('GET', path)).body.properties.databases[0].connectedState).toBe('CONNECTED');
  });

  it('planned over ARM from the instance: refused while the queues are big (409), then 0 lost', async () => {
    const path = `${MI_PATH}/distributedAvailabilityGroups/DAG1_StockDb`;
    const target = { server: 'SQLBOX1', database: 'StockDb' };
    const link = { instance: 'mi-prod', name: 'DAG1_StockDb' };
    estate.control.startWorkload(target, { transactionsPerSecond: 100 });
    estate.control.setTrouble({ kind: 'lagHigh', link, secondaryTps: 10 });
    clock.advance(120_000);
    // "Troubleshoot issues with the link" / the REST spec: the service refuses a planned failover while
    // the secondary is far behind.
    const refused = await h.raw('POST', `${path}/failover`, { failoverType: 'Planned' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('DistributedAvailabilityGroupFailoverLogSendQueueSizeTooBig');

    estate.control.clearTrouble('lagHigh', link);
    clock.advance(30_000);
    const planned = await h.raw('POST', `${path}/failover`, { failoverType: 'Planned' });
    expect(planned.status).toBe(202);
    expect((await h.finish(planned.headers['azure-asyncoperation'] ?? '')).status).toBe('Succeeded');
    const w = estate.control.workload(target);
    expect(w.promotions.at(-1)).toMatchObject({ promoted: 'sqlServer', lost: 0 });
    const body = (await h.raw('GET', path)).body.properties;
    expect(body).toMatchObject({ instanceLinkRole: 'Secondary', partnerLinkRole: 'Primary' });
    expect((await one(ROLE_QUERY('DAG1_StockDb'))).role_desc).toBe('PRIMARY');
    estate.control.stopWorkload(target);
  });

  it('follows the update policy: with Always-up-to-date the instance as primary does not replicate to SQL Server 2022', async () => {
    const path = `${MI_PATH}/distributedAvailabilityGroups/DAG1_StockDb`;
    const mi = estate.instances.all()[0];
    if (!mi) throw new Error('no instance');
    mi.databaseFormat = 'AlwaysUpToDate';
    try {
      const forced = await h.raw('POST', `${path}/failover`, { failoverType: 'ForcedAllowDataLoss' });
      expect((await h.finish(forced.headers['azure-asyncoperation'] ?? '')).status).toBe('Succeeded');
      await h.run('SQLBOX1', `ALTER AVAILABILITY GROUP [DAG1_StockDb] SET (ROLE = SECONDARY)`);
      clock.advance(10_000);
      // "Update policy": after a failover to an Always-up-to-date instance there is no replication and no failback.
      const db = (await h.raw('GET', path)).body.properties.databases[0];
      expect(db.connectedState).toBe('DISCONNECTED');
      expect(db.mostRecentLinkError).toMatch(/update policy/i);
      const back = await h.raw('POST', `${path}/failover`, { failoverType: 'Planned' });
      expect(back.status).toBeGreaterThanOrEqual(400);
    } finally {
      mi.databaseFormat = 'SQLServer2022';
    }
  });

  it('forced back to SQL Server in T-SQL under load loses exactly the unhardened; the instance is demoted with setRole', async () => {
    const path = `${MI_PATH}/distributedAvailabilityGroups/DAG1_StockDb`;
    const target = { server: 'SQLBOX1', database: 'StockDb' };
    clock.advance(5_000);
    expect((await h.raw('GET', path)).body.properties).toMatchObject({
      instanceLinkRole: 'Primary',
      partnerLinkRole: 'Secondary',
    });
    expect((await h.raw('GET', path)).body.properties.databases[0].connectedState).toBe('CONNECTED');
    const rate = 40;
    const shipDelaySeconds = 3;
    estate.control.tuneReplication(target, { shipDelaySeconds });
    estate.control.startWorkload(target, { transactionsPerSecond: rate });
    clock.advance(20_000);
    expect(estate.control.workload(target).writer).toBe('managedInstance');

    // "Fail over link": from the instance to SQL Server 2022 CU13+, FORCE_FAILOVER_ALLOW_DATA_LOSS on SQL Server.
    await h.run('SQLBOX1', `ALTER AVAILABILITY GROUP [DAG1_StockDb] FORCE_FAILOVER_ALLOW_DATA_LOSS`);
    const w = estate.control.workload(target);
    const promotion = w.promotions.at(-1);
    expect(promotion?.promoted).toBe('sqlServer');
    expect(promotion?.lost).toBe(rate * shipDelaySeconds);
    expect(side(w, 'sqlServer').transactions).toBe(promotion?.promotedHeld);
    expect((await one(ROLE_QUERY('DAG1_StockDb'))).role_desc).toBe('PRIMARY');
    expect((await h.raw('GET', path)).body.properties.instanceLinkRole).toBe('Primary');

    // Demote the instance (setRole Secondary, the REST spec's role change); refusals are 409s.
    const again = await h.raw('POST', `${path}/setRole`, {
      instanceRole: 'Primary',
      roleChangeType: 'Forced',
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('DistributedAvailabilityGroupSetRoleInstanceAlreadyInRequestedRole');
    const demote = await h.raw('POST', `${path}/setRole`, {
      instanceRole: 'Secondary',
      roleChangeType: 'Forced',
    });
    expect(demote.status).toBe(202);
    expect((await h.finish(demote.headers['azure-asyncoperation'] ?? '')).status).toBe('Succeeded');
    estate.control.stopWorkload(target);
    clock.advance(10_000);
    const after = estate.control.workload(target);
    expect(side(after, 'managedInstance').role).toBe('SECONDARY');
    expect(side(after, 'managedInstance').transactions).toBe(side(after, 'sqlServer').transactions);
  });
});
