/** What milink's preflight and health checks read, parameterised queries, and DMVs that follow the estate. */
import sql from 'mssql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlError, type DistributedAgCommand } from '../../../local/sim/sqlserver/index.js';
import { errorOf, standIn, type StandIn } from './helpers.js';

describe('preflight reads', () => {
  let s: StandIn;
  beforeAll(async () => {
    s = await standIn({
      serverName: 'PRE01',
      version: 2019,
      cu: 20,
      edition: 'Developer Edition (64-bit)',
      traceFlags: [1800, 9567],
      databases: [
        { name: 'Plain', fullBackup: true },
        { name: 'Streams', filestream: true, fullBackup: true },
        { name: 'InMem', memoryOptimized: true },
        { name: 'TwoLogs', logFiles: 2 },
      ],
    });
  });
  afterAll(() => s?.close());

  it('answers SERVERPROPERTY, @@SERVERNAME, @@VERSION and IS_SRVROLEMEMBER', async () => {
    const r = await s.pool.request().query(`SELECT
      CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS v,
      SERVERPROPERTY('ProductLevel') AS lvl, SERVERPROPERTY('ProductUpdateLevel') AS upd,
      SERVERPROPERTY('IsHadrEnabled') AS hadr, SERVERPROPERTY('Collation') AS coll,
      SERVERPROPERTY('Edition') AS ed, SERVERPROPERTY('EngineEdition') AS eng, SERVERPROPERTY('ServerName') AS sn,
      @@SERVERNAME AS at, IS_SRVROLEMEMBER('sysadmin') AS sa, LEFT(@@VERSION, 31) AS ver`);
    expect(r.recordset).toEqual([
      {
        v: '15.0.4312.2',
        lvl: 'RTM',
        upd: 'CU20',
        hadr: 1,
        coll: 'SQL_Latin1_General_CP1_CI_AS',
        ed: 'Developer Edition (64-bit)',
        eng: 3,
        sn: 'PRE01',
        at: 'PRE01',
        sa: 1,
        ver: 'Microsoft SQL Server 2019 (RTM-',
      },
    ]);
  });

  it('DBCC TRACESTATUS lists the requested flags', async () => {
    const r = await s.batch('DBCC TRACESTATUS(1800, 9567, 12381) WITH NO_INFOMSGS');
    expect(r.recordsets[0]).toEqual([
      { TraceFlag: 1800, Status: 1, Global: 1, Session: 0 },
      { TraceFlag: 9567, Status: 1, Global: 1, Session: 0 },
      { TraceFlag: 12381, Status: 0, Global: 0, Session: 0 },
    ]);
    expect(r.messages).toEqual([]);
    const logspace = await s.batch('DBCC SQLPERF(LOGSPACE)');
    expect(
      logspace.recordsets[0]!.find((r) => r['Database Name'] === 'Plain')!['Log Space Used (%)'],
    ).toBeCloseTo(12, 0);
    const all = await s.batch('DBCC TRACESTATUS(-1)');
    expect(all.recordsets[0]!.map((x) => x.TraceFlag)).toEqual([1800, 9567]);
    expect(all.messages.map((m) => m.number)).toEqual([2528]);
  });

  it('binds sp_executesql parameters in WHERE clauses', async () => {
    const q = (db: string) =>
      s.pool
        .request()
        .input('db', sql.NVarChar(128), db)
        .query(
          "SELECT d.name, d.recovery_model_desc, DB_ID(@db) AS id, (SELECT COUNT(*) FROM msdb.dbo.backupset b WHERE b.database_name = @db AND b.type = 'D' AND b.is_copy_only = 0) AS fulls FROM sys.databases d WHERE d.name = @db",
        );
    expect((await q('Plain')).recordset).toEqual([
      { name: 'Plain', recovery_model_desc: 'FULL', id: 5, fulls: 1 },
    ]);
    expect((await q('InMem')).recordset).toEqual([
      { name: 'InMem', recovery_model_desc: 'FULL', id: 7, fulls: 0 },
    ]);
    expect((await q("x' OR '1'='1")).recordset).toEqual([]);
    const typed = await s.pool
      .request()
      .input('n', sql.Int, 5)
      .input('big', sql.BigInt, 2)
      .input('flag', sql.Bit, true)
      .input('when', sql.DateTime2, new Date('2030-01-01T00:00:00Z'))
      .query("SELECT @n + @big AS total, @flag AS flag, @when AS w, QUOTENAME(N'a]b') AS q");
    expect(typed.recordset).toEqual([
      { total: '7', flag: true, w: new Date('2030-01-01T00:00:00Z'), q: '[a]]b]' },
    ]);
  });

  it('database files, filegroups and log space, per database (USE)', async () => {
    const files = async (db: string) =>
      (
        await s.batch(
          `USE [${db}]; SELECT type_desc, COUNT(*) AS n FROM sys.database_files WHERE type_desc = 'LOG' OR type_desc = 'FILESTREAM' ORDER BY type_desc`,
        )
      ).recordsets[0];
    expect(await files('Plain')).toEqual([{ type_desc: 'LOG', n: 1 }]);
    const fg = await s.batch(
      "USE [Streams]; SELECT name, type, type_desc FROM sys.filegroups WHERE type <> 'FG'",
    );
    expect(fg.recordsets[0]).toEqual([
      { name: 'FileStreamGroup', type: 'FD', type_desc: 'FILESTREAM_DATA_FILEGROUP' },
    ]);
    const mo = await s.batch("USE [InMem]; SELECT COUNT(*) AS n FROM sys.filegroups WHERE type = 'FX'");
    expect(mo.recordsets[0]).toEqual([{ n: 1 }]);
    const logs = await s.batch('USE [TwoLogs]; SELECT COUNT(*) AS n FROM sys.database_files WHERE type = 1');
    expect(logs.recordsets[0]).toEqual([{ n: 2 }]);
    const space = await s.batch(
      'USE [Plain]; SELECT DB_NAME() AS db, used_log_space_in_percent AS pct FROM sys.dm_db_log_space_usage',
    );
    expect(space.recordsets[0]![0]!.db).toBe('Plain');
    expect(space.recordsets[0]![0]!.pct).toBeCloseTo(12, 0);
    await s.batch('USE master');
  });

  it('server principals, TOP / ORDER BY / LIKE / IS NULL / CONVERT', async () => {
    const p = await s.batch(
      "SELECT TOP 2 name, type_desc FROM sys.server_principals WHERE type = 'S' OR name LIKE 'sys%' ORDER BY principal_id DESC",
    );
    expect(p.recordsets[0]).toEqual([
      { name: 'sysadmin', type_desc: 'SERVER_ROLE' },
      { name: 'sa', type_desc: 'SQL_LOGIN' },
    ]);
    const c = await s.batch(
      "SELECT CONVERT(varchar(max), 0x0A0B, 1) AS hex, CONVERT(varchar(10), CAST('2025-03-30' AS datetime), 120) AS d, CAST('12' AS int) + 1 AS n, CASE WHEN NULL IS NULL THEN 'yes' ELSE 'no' END AS c, COALESCE(NULL, N'x') AS co",
    );
    expect(c.recordsets[0]).toEqual([{ hex: '0x0A0B', d: '2025-03-30', n: 13, c: 'yes', co: 'x' }]);
    const g = await s.batch(
      'SELECT recovery_model_desc AS m, COUNT(*) AS n FROM sys.databases GROUP BY recovery_model_desc HAVING COUNT(*) > 1 ORDER BY n DESC',
    );
    expect(g.recordsets[0]).toEqual([
      { m: 'FULL', n: 5 },
      { m: 'SIMPLE', n: 3 },
    ]);
  });
});

describe('DMVs follow the estate; DAG commands reach the estate', () => {
  let s: StandIn;
  const seen: Array<{ kind: DistributedAgCommand['kind']; modes?: DistributedAgCommand['modes'] }> = [];
  let veto: SqlError | null = null;
  let before = 0;
  let changes = 0;
  beforeAll(async () => {
    s = await standIn(
      { serverName: 'LINK01', databases: [{ name: 'Sales', fullBackup: true }] },
      {
        hooks: {
          beforeStatement: () => {
            before++;
          },
          onChange: () => {
            changes++;
          },
          onDistributedAgCommand: (cmd) => {
            if (veto) throw veto;
            seen.push({ kind: cmd.kind, modes: cmd.modes });
          },
        },
      },
    );
    await s.batch(`CREATE MASTER KEY ENCRYPTION BY PASSWORD = 'Str0ng!Passw0rd'
CREATE AVAILABILITY GROUP [AG_Sales] WITH (CLUSTER_TYPE = NONE) FOR DATABASE [Sales] REPLICA ON N'LINK01' WITH (ENDPOINT_URL = 'TCP://10.0.0.5:5022', AVAILABILITY_MODE = SYNCHRONOUS_COMMIT, FAILOVER_MODE = MANUAL, SEEDING_MODE = AUTOMATIC)
CREATE AVAILABILITY GROUP [DAG_Sales] WITH (DISTRIBUTED) AVAILABILITY GROUP ON N'AG_Sales' WITH (LISTENER_URL = 'TCP://10.0.0.5:5022', AVAILABILITY_MODE = ASYNCHRONOUS_COMMIT, FAILOVER_MODE = MANUAL, SEEDING_MODE = AUTOMATIC), N'AG_Sales_MI' WITH (LISTENER_URL = 'tcp://mi.x.database.windows.net:5022;Server=[mi]', AVAILABILITY_MODE = ASYNCHRONOUS_COMMIT, FAILOVER_MODE = MANUAL, SEEDING_MODE = AUTOMATIC)`);
  });
  afterAll(() => s?.close());

  const health = () =>
    s.batch(`SELECT ag.name, rs.role_desc, rs.connected_state_desc, rs.synchronization_health_desc, rs.last_connect_error_number
FROM sys.availability_groups ag JOIN sys.dm_hadr_availability_replica_states rs ON rs.group_id = ag.group_id
WHERE ag.is_distributed = 1 AND rs.is_local = 0`);

  it('reads what the estate wrote, at query time', async () => {
    expect((await health()).recordsets[0]).toEqual([
      {
        name: 'DAG_Sales',
        role_desc: 'SECONDARY',
        connected_state_desc: 'DISCONNECTED',
        synchronization_health_desc: 'NOT_HEALTHY',
        last_connect_error_number: null,
      },
    ]);
    const dag = s.server.state.availabilityGroups.find((g) => g.isDistributed)!;
    const remote = dag.replicas.find((r) => !r.isLocal)!;
    remote.connectedState = 'CONNECTED';
    remote.synchronizationHealth = 'HEALTHY';
    s.server.state.databaseReplicaStates.push({
      groupId: dag.groupId,
      replicaId: remote.replicaId,
      databaseName: 'Sales',
      isLocal: false,
      isPrimaryReplica: false,
      synchronizationState: 'SYNCHRONIZING',
      synchronizationHealth: 'HEALTHY',
      lastHardenedLsn: 34000000012300001n,
      lastCommitLsn: null,
      lastCommitTime: s.clock.now(),
      logSendQueueSizeKb: 120,
      redoQueueSizeKb: 4,
      secondaryLagSeconds: 3,
    });
    s.server.state.seedings.push({
      operationId: '11111111-2222-3333-4444-555555555555',
      groupId: dag.groupId,
      databaseName: 'Sales',
      localPhysicalSeedingId: '11111111-2222-3333-4444-555555555555',
      remoteMachineName: 'mi',
      roleDesc: 'Source',
      startTime: s.clock.now(),
      completionTime: null,
      currentState: 'SEEDING',
      failureStateDesc: null,
      errorCode: 0,
      transferredSizeBytes: 1048576,
      databaseSizeBytes: 4194304,
      transferRateBytesPerSecond: 65536,
      estimateTimeComplete: null,
    });
    expect((await health()).recordsets[0]![0]).toMatchObject({
      connected_state_desc: 'CONNECTED',
      synchronization_health_desc: 'HEALTHY',
    });
    const lag = await s.batch(
      'SELECT secondary_lag_seconds AS lag, log_send_queue_size AS q, CAST(last_hardened_lsn AS varchar(30)) AS lsn, synchronization_state_desc AS st FROM sys.dm_hadr_database_replica_states WHERE is_local = 0',
    );
    expect(lag.recordsets[0]).toEqual([
      { lag: '3', q: '120', lsn: '34000000012300001', st: 'SYNCHRONIZING' },
    ]);
    const seeding = await s.batch(
      'SELECT s.local_database_name AS db, s.transferred_size_bytes AS sent, a.current_state AS state FROM sys.dm_hadr_physical_seeding_stats s JOIN sys.dm_hadr_automatic_seeding a ON a.operation_id = s.local_physical_seeding_id',
    );
    expect(seeding.recordsets[0]).toEqual([{ db: 'Sales', sent: '1048576', state: 'SEEDING' }]);
    expect(before).toBeGreaterThan(0);
    // one catalog change per DDL statement of the setup batch (master key, AG, DAG)
    expect(changes).toBe(3);
    const groups = await s.batch(
      'SELECT ag.name, gs.primary_replica, gs.synchronization_health_desc AS h FROM sys.dm_hadr_availability_group_states gs JOIN sys.availability_groups ag ON ag.group_id = gs.group_id ORDER BY ag.name',
    );
    expect(groups.recordsets[0]).toEqual([
      { name: 'AG_Sales', primary_replica: 'LINK01', h: 'HEALTHY' },
      { name: 'DAG_Sales', primary_replica: 'AG_Sales', h: 'HEALTHY' },
    ]);
    const dbs = await s.batch('SELECT database_name FROM sys.availability_databases_cluster');
    expect(dbs.recordsets[0]).toEqual([{ database_name: 'Sales' }]);
  });

  it('MODIFY … AVAILABILITY_MODE, FAILOVER, SET (ROLE = SECONDARY), FORCE_FAILOVER reach the hook', async () => {
    expect((await errorOf(s.batch('ALTER AVAILABILITY GROUP [DAG_Sales] FAILOVER'))).number).toBe(41142);
    await s.batch(
      "ALTER AVAILABILITY GROUP [DAG_Sales] MODIFY AVAILABILITY GROUP ON 'AG_Sales' WITH (AVAILABILITY_MODE = SYNCHRONOUS_COMMIT), 'AG_Sales_MI' WITH (AVAILABILITY_MODE = SYNCHRONOUS_COMMIT)",
    );
    await s.batch('ALTER AVAILABILITY GROUP [DAG_Sales] FAILOVER');
    const roles = await s.batch(
      "SELECT r.replica_server_name AS ag, rs.role_desc AS role FROM sys.availability_replicas r JOIN sys.dm_hadr_availability_replica_states rs ON rs.replica_id = r.replica_id JOIN sys.availability_groups g ON g.group_id = r.group_id WHERE g.name = 'DAG_Sales' ORDER BY r.replica_server_name",
    );
    expect(roles.recordsets[0]).toEqual([
      { ag: 'AG_Sales', role: 'SECONDARY' },
      { ag: 'AG_Sales_MI', role: 'PRIMARY' },
    ]);
    await s.batch('ALTER AVAILABILITY GROUP [DAG_Sales] FORCE_FAILOVER_ALLOW_DATA_LOSS');
    await s.batch('ALTER AVAILABILITY GROUP [DAG_Sales] SET (ROLE = SECONDARY)');
    expect(seen.map((x) => x.kind)).toEqual([
      'MODIFY_AVAILABILITY_MODE',
      'FAILOVER',
      'FORCE_FAILOVER_ALLOW_DATA_LOSS',
      'SET_ROLE_SECONDARY',
    ]);
    expect(seen[0]!.modes).toEqual([
      { memberAg: 'AG_Sales', availabilityMode: 'SYNCHRONOUS_COMMIT' },
      { memberAg: 'AG_Sales_MI', availabilityMode: 'SYNCHRONOUS_COMMIT' },
    ]);
    expect(
      (await errorOf(s.batch('ALTER AVAILABILITY GROUP [AG_Sales] FORCE_FAILOVER_ALLOW_DATA_LOSS'))).number,
    ).toBe(47104);
  });

  it('planned DAG failover needs SQL Server 2022 CU13+', async () => {
    const old = await standIn({
      serverName: 'OLD2019',
      version: 2019,
      databases: [{ name: 'Sales', fullBackup: true }],
    });
    try {
      await old.batch(`CREATE AVAILABILITY GROUP [AG_Sales] WITH (CLUSTER_TYPE = NONE) FOR DATABASE [Sales] REPLICA ON N'OLD2019' WITH (ENDPOINT_URL = 'TCP://h:5022', AVAILABILITY_MODE = SYNCHRONOUS_COMMIT, FAILOVER_MODE = MANUAL)
CREATE AVAILABILITY GROUP [DAG_Sales] WITH (DISTRIBUTED) AVAILABILITY GROUP ON N'AG_Sales' WITH (LISTENER_URL = 'TCP://h:5022', AVAILABILITY_MODE = SYNCHRONOUS_COMMIT, FAILOVER_MODE = MANUAL), N'AG_MI' WITH (LISTENER_URL = 'tcp://mi:5022', AVAILABILITY_MODE = SYNCHRONOUS_COMMIT, FAILOVER_MODE = MANUAL)`);
      const err = await errorOf(old.batch('ALTER AVAILABILITY GROUP [DAG_Sales] FAILOVER'));
      expect(err.number).toBe(41142);
      expect(err.message).toContain('2022 CU13');
    } finally {
      await old.close();
    }
  });

  it('an error thrown by the estate fails the statement and leaves the state as it was', async () => {
    veto = new SqlError(41986, 'The connection to the remote replica failed.');
    const err = await errorOf(s.batch('DROP AVAILABILITY GROUP [DAG_Sales]'));
    expect(err).toMatchObject({ number: 41986, message: 'The connection to the remote replica failed.' });
    expect(s.server.state.availabilityGroups.map((g) => g.name)).toContain('DAG_Sales');
    veto = null;
    await s.batch('DROP AVAILABILITY GROUP [DAG_Sales]');
    expect(s.server.state.databaseReplicaStates.every((r) => r.groupId !== 'DAG_Sales')).toBe(true);
    expect(s.server.state.seedings).toEqual([]);
  });
});

describe('sp_validate_certificate_ca_chain', () => {
  it('fails until a trusted root is registered for the subject, and for an untrusted issuer', async () => {
    const { makeCertificate } = await import('../../../local/sim/sqlserver/index.js');
    const s = await standIn({ serverName: 'VAL01' }, { start: '2026-01-10T00:00:00Z' });
    try {
      const now = new Date('2026-01-10T00:00:00Z');
      const mk = (issuer: string) =>
        '0x' +
        makeCertificate({
          subject: 'CN=mi1.abc.database.windows.net',
          issuer,
          notBefore: now,
          notAfter: new Date(now.getTime() + 86_400_000 * 30),
        }).der.toString('hex');
      await s.batch(
        `CREATE CERTIFICATE [mi1.abc.database.windows.net] FROM BINARY = ${mk('CN=Microsoft Azure RSA TLS Issuing CA 08, O=Microsoft Corporation, C=US')}`,
      );
      await s.batch(`CREATE CERTIFICATE [rogue] FROM BINARY = ${mk('CN=Evil CA, O=Evil, C=US')}`);
      const id = async (n: string) =>
        (await s.batch(`SELECT CERT_ID(N'${n}') AS id`)).recordsets[0]![0]!.id as number;
      const e1 = await errorOf(
        s.batch(`EXEC sp_validate_certificate_ca_chain ${await id('mi1.abc.database.windows.net')}`),
      );
      expect(e1.number).toBe(15299);
      // a root registered for another domain does not help
      const digicert = (await import('./runbook-blocks.js')).rootCertificateBlock('DigiCertPKI');
      await s.script(digicert.replace("N'*.database.windows.net'", "N'*.example.com'"));
      expect(
        (
          await errorOf(
            s.batch(`EXEC sp_validate_certificate_ca_chain ${await id('mi1.abc.database.windows.net')}`),
          )
        ).number,
      ).toBe(15299);
      await s.batch(
        `DECLARE @id int = CERT_ID('DigiCertPKI'); EXEC sp_certificate_add_issuer @id, N'*.database.windows.net'`,
      );
      await s.batch(`EXEC sp_validate_certificate_ca_chain ${await id('mi1.abc.database.windows.net')}`);
      expect(
        (await errorOf(s.batch(`EXEC sp_validate_certificate_ca_chain ${await id('rogue')}`))).number,
      ).toBe(15299);
      // expired
      s.clock.advance(86_400_000 * 31);
      expect(
        (
          await errorOf(
            s.batch(`EXEC sp_validate_certificate_ca_chain ${await id('mi1.abc.database.windows.net')}`),
          )
        ).number,
      ).toBe(15299);
    } finally {
      await s.close();
    }
  });
});

describe('RPC forms and long statements', () => {
  let s: StandIn;
  beforeAll(async () => {
    s = await standIn({ serverName: 'RPC01' });
  });
  afterAll(() => s?.close());

  it('runs a runbook block longer than 4000 characters through request.query() (PLP)', async () => {
    const { rootCertificateBlock } = await import('./runbook-blocks.js');
    // a long comment line takes the statement over 4000 characters: tedious then sends it as nvarchar(max)
    const ms = `-- ${'='.repeat(4000)}\n` + rootCertificateBlock('MicrosoftPKI');
    expect(ms.length).toBeGreaterThan(4000);
    const req = s.pool.request();
    const printed: string[] = [];
    req.on('info', (m: { message: string }) => printed.push(m.message));
    await req.query(ms.replace(/\nGO\s*$/, ''));
    // milink's rendering starts with USE [master], which also reports the database context
    expect(printed.filter((m) => !m.startsWith('Changed database context'))).toEqual([
      'Creating MicrosoftPKI certificate.',
    ]);
    const r = await s.pool
      .request()
      .input('n', sql.NVarChar, 'MicrosoftPKI')
      .query('SELECT certificate_id AS id, key_length AS bits FROM sys.certificates WHERE name = @n');
    expect(r.recordset[0]!.bits).toBe(4096);
  });

  it('calls procedures by name over RPC (request.execute)', async () => {
    const id = (await s.pool.request().query("SELECT CERT_ID('MicrosoftPKI') AS id")).recordset[0]!
      .id as number;
    await s.pool
      .request()
      .input('certificate_id', sql.Int, id)
      .input('issuer_name', sql.NVarChar, '*.example.net')
      .execute('sp_certificate_add_issuer');
    expect(s.server.state.certificates.find((c) => c.name === 'MicrosoftPKI')!.issuerRegistrations).toEqual([
      '*.database.windows.net',
      '*.example.net',
    ]);
    expect((await errorOf(s.pool.request().execute('sp_nothing_here'))).number).toBe(2812);
    const calls = s.server.journal.filter((j) => j.text.startsWith('EXEC sp_certificate_add_issuer'));
    expect(calls.map((j) => j.text)).toEqual([
      `EXEC sp_certificate_add_issuer @certificate_id = ${id}, @issuer_name = N'*.example.net'`,
    ]);
    expect(calls[0]!.params).toEqual([
      { name: '@certificate_id', value: id, output: false },
      { name: '@issuer_name', value: '*.example.net', output: false },
    ]);
  });

  it('USE inside sp_executesql (every request.query) lasts only until it ends; in a batch it stays', async () => {
    const inside = await s.pool.request().query('USE msdb; SELECT DB_NAME() AS db');
    expect(inside.recordset).toEqual([{ db: 'msdb' }]);
    expect((await s.pool.request().query('SELECT DB_NAME() AS db')).recordset).toEqual([{ db: 'master' }]);
    await s.batch('USE msdb');
    expect((await s.pool.request().query('SELECT DB_NAME() AS db')).recordset).toEqual([{ db: 'msdb' }]);
    await s.batch('USE master');
  });

  it('returns output parameters and binds the types tedious sends', async () => {
    const r = await s.pool
      .request()
      .input('name', sql.VarChar(50), 'MicrosoftPKI')
      .input('g', sql.UniqueIdentifier, '6f9619ff-8b86-d011-b42d-00c04fc964ff')
      .input('amount', sql.Decimal(10, 2), 12.5)
      .input('day', sql.Date, new Date('2025-03-30T00:00:00Z'))
      .input('when', sql.DateTimeOffset, new Date('2025-03-30T10:00:00Z'))
      .input('f', sql.Float, 1.25)
      .output('id', sql.Int)
      .output('subject', sql.NVarChar(4000))
      .query(
        'SELECT @id = certificate_id, @subject = subject FROM sys.certificates WHERE name = @name; SELECT @g AS g, @amount AS amount, CONVERT(varchar(10), @day, 120) AS day, @when AS w, @f * 2 AS f',
      );
    expect(r.output.id).toBe(
      s.server.state.certificates.find((c) => c.name === 'MicrosoftPKI')!.certificateId,
    );
    expect(r.output.subject).toBe(
      'CN=Microsoft RSA Root Certificate Authority 2017, O=Microsoft Corporation, C=US',
    );
    expect(r.recordset).toEqual([
      {
        g: '6F9619FF-8B86-D011-B42D-00C04FC964FF',
        amount: 12.5,
        day: '2025-03-30',
        w: new Date('2025-03-30T10:00:00Z'),
        f: 2.5,
      },
    ]);
  });

  it('handles hostile names: brackets, quotes and unicode in identifiers and literals', async () => {
    await s.batch(
      "CREATE MASTER KEY ENCRYPTION BY PASSWORD = 'Str0ng!Passw0rd'\nCREATE CERTIFICATE [we]]ird 'cert' ☃] WITH SUBJECT = N'it''s ☃'",
    );
    const r = await s.pool
      .request()
      .input('n', sql.NVarChar, "we]ird 'cert' ☃")
      .query('SELECT name, subject, QUOTENAME(name) AS q FROM sys.certificates WHERE name = @n');
    expect(r.recordset).toEqual([{ name: "we]ird 'cert' ☃", subject: "it's ☃", q: "[we]]ird 'cert' ☃]" }]);
    expect(
      (await errorOf(s.batch(`CREATE CERTIFICATE [${'x'.repeat(129)}] WITH SUBJECT = 'x'`))).number,
    ).toBe(103);
    expect((await s.pool.request().query(`SELECT QUOTENAME(N'${'y'.repeat(129)}') AS q`)).recordset).toEqual([
      { q: null },
    ]);
  });

  it('a variable declared in a branch not taken exists (NULL), as in T-SQL', async () => {
    const r = await s.batch(
      'IF 1 = 0\nBEGIN\n  DECLARE @x int = 5\nEND\nSELECT @x AS x, ISNULL(@x, -1) AS y',
    );
    expect(r.recordsets[0]).toEqual([{ x: null, y: -1 }]);
  });
});
