/**
 * Scale: an estate of 100 SQL Servers, 10 managed instances and 1,000 links, described in one line, starts
 * in seconds with every link seeded and synchronized; a nightly health sweep reads one server's whole state
 * (the first table of the health-check card: roles, connections, health, lag, queues, suspension,
 * seeding, log use, log_reuse_wait_desc, last log backup, trace flags, certificates) in ONE batch — one
 * TDS round trip, counted by the stand-in — and gets one result set per question.
 */
import sql from 'mssql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../local/sim/clock.js';
import { startEstate, type RunningEstate } from '../../../local/sim/estate/estate.js';
import { expandGeneratedSpec } from '../../../local/sim/estate/generate.js';

/** One batch, one round trip: everything the health card reads on SQL Server, for every DAG on the server. */
export const HEALTH_BATCH = `
SET NOCOUNT ON;
-- role of each side (split brain = PRIMARY on both)
SELECT ag.name AS dag, rs.role_desc
FROM sys.availability_groups ag
JOIN sys.dm_hadr_availability_replica_states rs ON ag.group_id = rs.group_id
WHERE ag.is_distributed = 1 AND rs.is_local = 1;
-- connection of the instance's replica
SELECT ag.name AS dag, r.replica_server_name, rs.connected_state_desc, rs.last_connect_error_number,
       rs.last_connect_error_description, rs.last_connect_error_timestamp
FROM sys.dm_hadr_availability_replica_states rs
JOIN sys.availability_replicas r ON rs.replica_id = r.replica_id
JOIN sys.availability_groups ag ON ag.group_id = r.group_id
WHERE ag.is_distributed = 1 AND rs.is_local = 0;
-- link health on the primary
SELECT ag.name AS dag, rs.synchronization_health_desc
FROM sys.availability_groups ag
JOIN sys.dm_hadr_availability_replica_states rs ON ag.group_id = rs.group_id
WHERE rs.is_local = 0 AND rs.role = 2 AND ag.is_distributed = 1;
-- lag, queues, rates, suspension, state, commit times (database replica states)
SELECT ag.name AS dag, ars1.role_desc, ars2.connected_state_desc, ars2.synchronization_health_desc,
       drs.synchronization_state_desc, drs.secondary_lag_seconds, drs.log_send_queue_size, drs.redo_queue_size,
       drs.log_send_rate, drs.redo_rate, drs.is_suspended, drs.suspend_reason_desc, drs.last_hardened_lsn,
       drs.last_commit_time
FROM sys.availability_groups ag
JOIN sys.dm_hadr_availability_replica_states ars1 ON ag.group_id = ars1.group_id
JOIN sys.dm_hadr_availability_replica_states ars2 ON ag.group_id = ars2.group_id
JOIN sys.dm_hadr_database_replica_states drs ON ars2.replica_id = drs.replica_id
WHERE ag.is_distributed = 1 AND ars1.is_local = 1 AND ars2.is_local = 0;
-- seeding
SELECT s.local_database_name, a.current_state, s.transferred_size_bytes, s.database_size_bytes,
       s.estimate_time_complete_utc, a.number_of_attempts
FROM sys.dm_hadr_physical_seeding_stats s
JOIN sys.dm_hadr_automatic_seeding a ON s.local_physical_seeding_id = a.operation_id;
-- log use, and what holds the log
DBCC SQLPERF(LOGSPACE);
SELECT name, recovery_model_desc, log_reuse_wait_desc FROM sys.databases WHERE database_id > 4;
-- which replica holds log truncation (AVAILABILITY_REPLICA)
SELECT ag.name AS dag, r.replica_server_name, cs.database_name, cs.is_failover_ready, cs.is_database_joined,
       cs.truncation_lsn
FROM sys.dm_hadr_database_replica_cluster_states cs
JOIN sys.availability_replicas r ON cs.replica_id = r.replica_id
JOIN sys.availability_groups ag ON ag.group_id = r.group_id
WHERE ag.is_distributed = 1 AND r.replica_server_name LIKE N'%[_]MI';
-- last log backup per database
SELECT database_name, MAX(backup_finish_date) AS last_log_backup
FROM msdb.dbo.backupset WHERE type = 'L' GROUP BY database_name;
-- trace flags
DBCC TRACESTATUS(1800, 9567, 12381);
-- the endpoint certificate's expiry
SELECT name, expiry_date FROM master.sys.certificates WHERE pvt_key_encryption_type = 'MK';
`;

describe('a generated estate of 100 SQL Servers, 10 instances and 1,000 links', () => {
  let estate: RunningEstate;
  let startMs = 0;
  beforeAll(async () => {
    const t0 = performance.now();
    estate = await startEstate(
      { generate: { sqlServers: 100, instances: 10, links: 1000 } },
      { clock: new VirtualClock('2026-03-02T02:00:00Z') },
    );
    startMs = performance.now() - t0;
  }, 60_000);
  afterAll(() => estate?.close());

  it('is described in one line and starts in under 10 s with every link synchronized', () => {
    console.log(`generated estate: started in ${Math.round(startMs)} ms`);
    expect(startMs).toBeLessThan(10_000);
    expect(estate.sqlServers.size).toBe(100);
    expect(estate.instances.all()).toHaveLength(10);
    const links = estate.links.all();
    expect(links).toHaveLength(1000);
    expect(links.every((l) => l.phase === 'Synchronized' && !l.disconnectedSince)).toBe(true);
    // server s → instance s mod 10: 100 links per instance, the documented limit per instance
    const perInstance = new Map<string, number>();
    for (const l of links) perInstance.set(l.mi.name, (perInstance.get(l.mi.name) ?? 0) + 1);
    expect([...perInstance.values()]).toEqual(new Array(10).fill(100));
  });

  it("answers ARM with each instance's links connected and healthy", async () => {
    const mi = estate.instances.all()[0]!;
    const body = estate.links.list(mi) as Array<{
      properties: { databases: Array<Record<string, unknown>> };
    }>;
    expect(body).toHaveLength(100);
    for (const l of body)
      expect(l.properties.databases[0]).toMatchObject({
        replicaState: 'Connected',
        connectedState: 'CONNECTED',
        synchronizationHealth: 'HEALTHY',
      });
  });

  it("reads one server's whole health in one batch: one TDS round trip, one result set per question", async () => {
    const running = estate.sqlServers.get('SQL001')!;
    const conn = estate.connection.sqlServers.find((s) => s.serverName === 'SQL001')!;
    const password = expandGeneratedSpec({ generate: { sqlServers: 100, instances: 10, links: 1000 } }).spec
      .keyVault.secrets['sql001-login'];
    const pool = await new sql.ConnectionPool({
      server: conn.address,
      port: conn.port,
      user: 'milink_admin',
      password,
      database: 'master',
      options: { encrypt: false, trustServerCertificate: true },
      pool: { max: 1, min: 0 },
      // mssql's default validation runs SELECT 1 (an RPC round trip) before every request it hands out;
      // the socket check costs none, so the counter sees only the requests themselves
      validateConnection: 'socket',
    } as sql.config).connect();
    try {
      // the pool's connection is opened (LOGIN7, then tedious's initial SET batch) before we count
      await pool.request().batch('SELECT 1 AS warm');
      running.counters.reset();
      const result = await pool.request().batch(HEALTH_BATCH);
      expect({ ...running.counters }).toMatchObject({ roundTrips: 1, batches: 1, rpcs: 0 });
      expect(running.counters.batches).toBe(1);
      const sets = result.recordsets as unknown as Array<Array<Record<string, unknown>>>;
      expect(sets).toHaveLength(11);
      expect(running.counters.resultSets).toBe(11);
      const [roles, connections, health, lag, seeding, logspace, reuse, holders, logBackups, flags, certs] =
        sets;
      // SQL001 holds links 1, 101, 201, … : ten DAGs
      expect(roles).toHaveLength(10);
      expect(roles!.every((r) => r['role_desc'] === 'PRIMARY')).toBe(true);
      expect(connections!.every((r) => r['connected_state_desc'] === 'CONNECTED')).toBe(true);
      expect(health!.map((r) => r['synchronization_health_desc'])).toEqual(new Array(10).fill('HEALTHY'));
      expect(lag).toHaveLength(10);
      for (const r of lag!) {
        expect(r['synchronization_state_desc']).toBe('SYNCHRONIZING');
        expect(r['is_suspended']).toBe(false);
        expect(Number(r['secondary_lag_seconds'])).toBeLessThanOrEqual(1);
        expect(r['last_hardened_lsn']).not.toBeNull();
        // a caught-up, idle link: empty queues drained at 0 KB/s (NULL would mean "not connected")
        expect({ send: r['log_send_rate'], redo: r['redo_rate'] }).toEqual({ send: '0', redo: '0' });
      }
      expect(seeding!.every((r) => r['current_state'] === 'COMPLETED')).toBe(true);
      expect(logspace!.length).toBeGreaterThanOrEqual(14); // 4 system + 10 user databases
      expect(reuse).toHaveLength(10);
      expect(holders).toHaveLength(10);
      for (const h of holders!) {
        expect(h['is_database_joined']).toBe(true);
        expect(h['truncation_lsn']).not.toBeNull();
      }
      expect(logBackups).toHaveLength(10);
      expect(flags!.find((f) => f['TraceFlag'] === 12381)?.['Status']).toBe(0);
      expect(certs!.map((c) => c['name'])).toEqual(['Cert_SQL001_endpoint']);
      // the estate's other 99 servers saw nothing
      const others = [...estate.sqlServers.values()].filter((s) => s !== running);
      expect(others.every((s) => s.counters.roundTrips === 0)).toBe(true);

      // the same questions asked one query at a time cost one round trip each (request.query = RPC)
      running.counters.reset();
      for (const q of ['SELECT 1 AS a', 'SELECT 2 AS b', 'SELECT 3 AS c']) await pool.request().query(q);
      expect(running.counters).toMatchObject({ roundTrips: 3, rpcs: 3, batches: 0 });
    } finally {
      await pool.close();
    }
  });
});
