/** SQL Server's errors for what is wrong, unsupported or repeated — as `mssql` reports them. */
import sql from 'mssql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createServerState,
  startSqlServer,
  type RunningSqlServer,
} from '../../../local/sim/sqlserver/index.js';
import { VirtualClock } from '../../../local/sim/clock.js';
import { connect, errorOf, SA, standIn, type StandIn } from './helpers.js';

describe('errors', () => {
  let s: StandIn;
  beforeAll(async () => {
    s = await standIn({
      serverName: 'ERRSRV',
      logins: [SA, { name: 'reader', password: 'Reader-Passw0rd!' }],
      databases: [
        { name: 'simpledb', recoveryModel: 'SIMPLE' },
        { name: 'nobackup' },
        { name: 'copyonly', copyOnlyBackupOnly: true },
        { name: 'ready', fullBackup: true },
      ],
    });
  });
  afterAll(() => s?.close());

  it('unsupported statements and objects fail with 102 / 208, never silently', async () => {
    expect((await errorOf(s.batch('CREATE TABLE t (a int)'))).number).toBe(102);
    expect((await errorOf(s.batch('INSERT INTO t VALUES (1)'))).number).toBe(102);
    expect((await errorOf(s.batch('UPDATE t SET a = 1'))).number).toBe(102);
    const e208 = await errorOf(s.batch('SELECT * FROM sys.objects'));
    expect(e208).toMatchObject({ number: 208, message: "Invalid object name 'sys.objects'." });
    expect((await errorOf(s.batch('SELECT name FROM sys.databases WHERE nonsense = 1'))).number).toBe(207);
    expect((await errorOf(s.batch('SELECT FROM sys.databases'))).number).toBe(156);
    expect((await errorOf(s.batch("SELECT OBJECT_ID(N'x')"))).number).toBe(195);
    expect((await errorOf(s.batch('EXEC sp_does_not_exist'))).number).toBe(2812);
    expect((await errorOf(s.batch('sp_get_endpoint_certificate 4'))).number).toBe(2812);
    expect((await errorOf(s.batch('SELECT @undeclared'))).number).toBe(137);
    expect((await errorOf(s.batch("SELECT 'unclosed"))).number).toBe(105);
  });

  it('a syntax error anywhere means nothing in the batch ran', async () => {
    expect(
      (await errorOf(s.batch("CREATE MASTER KEY ENCRYPTION BY PASSWORD = 'Str0ng!Passw0rd'\nSELEC 1")))
        .number,
    ).toBe(102);
    expect(s.server.state.masterKey).toBeNull();
  });

  it('a statement error ends the statement and the batch goes on', async () => {
    const err = await errorOf(
      s.batch("DROP CERTIFICATE [nope]\nCREATE MASTER KEY ENCRYPTION BY PASSWORD = 'Str0ng!Passw0rd'"),
    );
    expect(err).toMatchObject({
      number: 15151,
      message: "Cannot drop the certificate 'nope', because it does not exist or you do not have permission.",
    });
    expect(s.server.state.masterKey).not.toBeNull();
  });

  it('master key password policy (15118); certificate without master key is 15581 elsewhere', async () => {
    const other = await standIn({ serverName: 'NOKEY' });
    try {
      expect((await errorOf(other.batch("CREATE MASTER KEY ENCRYPTION BY PASSWORD = 'short'"))).number).toBe(
        15118,
      );
      expect((await errorOf(other.batch("CREATE CERTIFICATE c WITH SUBJECT = 'c'"))).number).toBe(15581);
      expect((await errorOf(other.batch('CREATE CERTIFICATE c FROM BINARY = 0x0102030405'))).number).toBe(
        15468,
      );
      expect((await errorOf(other.batch('USE [nosuchdb]'))).number).toBe(911);
    } finally {
      await other.close();
    }
  });

  it('backups: log backups need FULL recovery and a full backup (4208 / 4214, then 3013)', async () => {
    const simple = await errorOf(s.batch("BACKUP LOG [simpledb] TO DISK = N'x.trn'"));
    expect(simple.number).toBe(3013);
    expect(simple.preceding).toEqual([4208]);
    const nofull = await errorOf(s.batch("BACKUP LOG [nobackup] TO DISK = N'x.trn'"));
    expect(nofull).toMatchObject({ number: 3013, message: 'BACKUP LOG is terminating abnormally.' });
    expect(nofull.preceding).toEqual([4214]);
    await s.batch("BACKUP DATABASE [nobackup] TO DISK = N'C:\\b\\nobackup.bak' WITH COPY_ONLY, COMPRESSION");
    expect((await errorOf(s.batch("BACKUP LOG [nobackup] TO DISK = N'x.trn'"))).preceding).toEqual([4214]);
    const r = await s.batch(
      "BACKUP DATABASE [nobackup] TO DISK = N'C:\\b\\nobackup.bak'\nBACKUP LOG [nobackup] TO DISK = N'C:\\b\\nobackup.trn'",
    );
    expect(r.messages.filter((m) => m.number === 3014)).toHaveLength(2);
    const sets = await s.batch(
      "SELECT type, is_copy_only FROM msdb.dbo.backupset WHERE database_name = 'nobackup' ORDER BY backup_set_id",
    );
    expect(sets.recordsets[0]).toEqual([
      { type: 'D', is_copy_only: true },
      { type: 'D', is_copy_only: false },
      { type: 'L', is_copy_only: false },
    ]);
    expect((await errorOf(s.batch("BACKUP DATABASE [nosuch] TO DISK = N'x'"))).number).toBe(911);
  });

  it('adding a database to an AG needs FULL recovery (1465) and a full backup that is not COPY_ONLY (1475)', async () => {
    const ag = (db: string, name: string): string =>
      `CREATE AVAILABILITY GROUP [${name}] WITH (CLUSTER_TYPE = NONE) FOR DATABASE [${db}] REPLICA ON N'ERRSRV' WITH (ENDPOINT_URL = 'TCP://h:5022', AVAILABILITY_MODE = SYNCHRONOUS_COMMIT, FAILOVER_MODE = MANUAL, SEEDING_MODE = AUTOMATIC)`;
    expect((await errorOf(s.batch(ag('simpledb', 'AG1')))).number).toBe(1465);
    expect((await errorOf(s.batch(ag('copyonly', 'AG2')))).number).toBe(1475);
    expect((await errorOf(s.batch(ag('master', 'AG3')))).number).toBe(35284);
    expect((await errorOf(s.batch(ag('nosuch', 'AG4')))).number).toBe(911);
    await s.batch(ag('ready', 'AG_ready'));
    expect((await errorOf(s.batch(ag('ready', 'AG_ready')))).number).toBe(41042);
    expect((await errorOf(s.batch('ALTER DATABASE [ready] SET RECOVERY SIMPLE'))).number).toBe(1468);
    expect(s.server.state.availabilityGroups.map((g) => g.name)).toEqual(['AG_ready']);
  });

  it('logins: wrong password is 18456; non-sysadmin cannot change the catalog (15247)', async () => {
    const bad = await errorOf(connect(s.server, 'sa', 'wrong'));
    expect(bad.message).toContain("Login failed for user 'sa'.");
    const unknown = await errorOf(connect(s.server, 'nobody', 'x'));
    expect(unknown.message).toContain("Login failed for user 'nobody'.");
    const reader = await connect(s.server, 'reader', 'Reader-Passw0rd!');
    try {
      const r = await reader
        .request()
        .query("SELECT IS_SRVROLEMEMBER('sysadmin') AS sa, SUSER_SNAME() AS who");
      expect(r.recordset).toEqual([{ sa: 0, who: 'reader' }]);
      const err = await errorOf(reader.request().batch('DROP AVAILABILITY GROUP [AG_ready]'));
      expect(err.number).toBe(15247);
    } finally {
      await reader.close();
    }
  });
});

describe('HADR disabled', () => {
  let server: RunningSqlServer;
  let pool: sql.ConnectionPool;
  beforeAll(async () => {
    const clock = new VirtualClock();
    server = await startSqlServer({
      state: createServerState(
        {
          serverName: 'NOHADR',
          version: 2019,
          hadrEnabled: false,
          logins: [SA],
          databases: [{ name: 'd', fullBackup: true }],
        },
        clock,
      ),
      clock,
    });
    pool = await connect(server);
  });
  afterAll(async () => {
    await pool?.close();
    await server?.close();
  });

  it('refuses CREATE AVAILABILITY GROUP with 35221', async () => {
    const err = await errorOf(
      pool
        .request()
        .batch(
          "CREATE AVAILABILITY GROUP [AG_d] WITH (CLUSTER_TYPE = NONE) FOR DATABASE [d] REPLICA ON N'NOHADR' WITH (ENDPOINT_URL = 'TCP://h:5022', AVAILABILITY_MODE = SYNCHRONOUS_COMMIT, FAILOVER_MODE = MANUAL)",
        ),
    );
    expect(err.number).toBe(35221);
    const r = await pool.request().query("SELECT SERVERPROPERTY('IsHadrEnabled') AS hadr");
    expect(r.recordset).toEqual([{ hadr: 0 }]);
  });
});

describe('TRY … CATCH', () => {
  let s: StandIn;
  beforeAll(async () => {
    s = await standIn({ serverName: 'TRYSRV' });
  });
  afterAll(() => s?.close());

  it('catches statement errors and exposes ERROR_NUMBER() / ERROR_MESSAGE()', async () => {
    const r = await s.batch(`BEGIN TRY
  CREATE CERTIFICATE c1 WITH SUBJECT = 'c1'
  PRINT 'not reached'
END TRY
BEGIN CATCH
  SELECT ERROR_NUMBER() AS n, ERROR_MESSAGE() AS m
END CATCH`);
    expect(r.recordsets[0]).toEqual([
      {
        n: 15581,
        m: 'Please create a master key in the database or open the master key in the session before performing this operation.',
      },
    ]);
    expect(r.messages).toEqual([]);
  });

  it('THROW; rethrows to the client; errors in dynamic SQL are caught too', async () => {
    const err = await errorOf(
      s.batch(
        "BEGIN TRY\n EXEC sp_executesql N'SELECT * FROM sys.nothing'\nEND TRY\nBEGIN CATCH\n PRINT 'caught ' + CAST(ERROR_NUMBER() AS varchar(10));\n THROW;\nEND CATCH",
      ),
    );
    expect(err.number).toBe(208);
    const r = await s.batch(
      "BEGIN TRY\n EXEC sp_executesql N'SELECT * FROM sys.nothing'\nEND TRY\nBEGIN CATCH\n PRINT 'caught ' + CAST(ERROR_NUMBER() AS varchar(10))\nEND CATCH",
    );
    expect(r.messages.map((m) => m.message)).toEqual(['caught 208']);
    // a name-resolution error at the TRY's own level is not caught (SQL Server's rule)
    expect(
      (
        await errorOf(
          s.batch("BEGIN TRY\n SELECT * FROM sys.nothing\nEND TRY\nBEGIN CATCH\n PRINT 'no'\nEND CATCH"),
        )
      ).number,
    ).toBe(208);
    const thrown = await errorOf(s.batch("THROW 50001, N'custom', 3"));
    expect(thrown).toMatchObject({ number: 50001, message: 'custom' });
  });
});
