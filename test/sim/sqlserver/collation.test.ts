/**
 * Collation on the SQL Server stand-in, through the real driver. Microsoft Learn, "Identifier Collation":
 * identifiers of instance-level objects (logins, database names) take the instance's default collation,
 * identifiers of objects within a database (tables, views, column names) the database's. "Collation and
 * Unicode support": _CS_ collations tell upper and lower case apart, _CI_ ones do not. A string literal
 * takes the current database's collation ("Collation Precedence"). A database name that does not resolve
 * fails with 911 ("MSSQLSERVER_911": Database '%.*ls' does not exist. Make sure that the name is entered
 * correctly); at login, with 4060.
 */
import sql from 'mssql';
import { afterEach, describe, expect, it } from 'vitest';
import { errorOf, SA, standIn, type StandIn } from './helpers.js';

const CS = 'SQL_Latin1_General_CP1_CS_AS';
const CI = 'SQL_Latin1_General_CP1_CI_AS';

let s: StandIn | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const equal = async (x: StandIn, a: string, b: string): Promise<number> =>
  (await x.batch(`SELECT CASE WHEN N'${a}' = N'${b}' THEN 1 ELSE 0 END AS eq`)).recordsets[0]![0]![
    'eq'
  ] as number;

describe('a case-sensitive instance', () => {
  it("compares strings case-sensitively: 'abc' = 'ABC' is false, LIKE and IN follow", async () => {
    s = await standIn({
      serverName: 'CS01',
      collation: CS,
      databases: [{ name: 'SalesDb', fullBackup: true }],
    });
    expect(await equal(s, 'abc', 'ABC')).toBe(0);
    expect(await equal(s, 'abc', 'abc  ')).toBe(1); // trailing spaces never count
    const r = await s.batch(
      `SELECT CASE WHEN N'SalesDb' LIKE N'sales%' THEN 1 ELSE 0 END AS l,
              CASE WHEN N'x' IN (N'X', N'Y') THEN 1 ELSE 0 END AS i,
              CHARINDEX(N'DB', N'SalesDb') AS c`,
    );
    expect(r.recordsets[0]![0]).toEqual({ l: 0, i: 0, c: 0 });
  });

  it('resolves database names only as created: [salesdb] is not SalesDb (911), DB_ID is NULL, WHERE finds nothing', async () => {
    s = await standIn({
      serverName: 'CS02',
      collation: CS,
      databases: [{ name: 'SalesDb', fullBackup: true }],
    });
    expect((await errorOf(s.batch('USE [salesdb]'))).number).toBe(911);
    const ok = await s.batch('USE [SalesDb]; SELECT DB_NAME() AS db');
    expect(ok.recordsets[0]![0]!['db']).toBe('SalesDb');
    await s.batch('USE [master]');
    const ids = await s.batch(`SELECT DB_ID(N'salesdb') AS lower_id, DB_ID(N'SalesDb') AS exact_id`);
    expect(ids.recordsets[0]![0]!['lower_id']).toBeNull();
    expect(ids.recordsets[0]![0]!['exact_id']).toBeGreaterThan(4);
    const where = await s.batch(`SELECT name FROM sys.databases WHERE name = N'salesdb'`);
    expect(where.recordsets[0]).toEqual([]);
    // the runbook's own "USE MASTER" (drop a link) is one of these on a case-sensitive instance
    expect((await errorOf(s.batch('USE MASTER'))).number).toBe(911);
  });

  it('resolves catalog view and column names only in their own case inside a case-sensitive database (208, 207)', async () => {
    s = await standIn({ serverName: 'CS03', collation: CS });
    expect((await errorOf(s.batch('SELECT name FROM SYS.DATABASES'))).number).toBe(208);
    expect((await errorOf(s.batch('SELECT NAME FROM sys.databases'))).number).toBe(207);
    const fine = await s.batch(`SELECT name FROM sys.databases WHERE name = N'master'`);
    expect(fine.recordsets[0]).toEqual([{ name: 'master' }]);
  });

  it('keeps variables apart by case: @Dag is not @dag (137), in batches and in sp_executesql parameters', async () => {
    s = await standIn({ serverName: 'CS06', collation: CS });
    expect((await errorOf(s.batch('DECLARE @Dag int = 1; SELECT @dag AS x'))).number).toBe(137);
    const both = await s.batch('DECLARE @Dag int = 1; DECLARE @dag int = 2; SELECT @Dag AS a, @dag AS b');
    expect(both.recordsets[0]).toEqual([{ a: 1, b: 2 }]);
    const exact = await s.pool.request().input('Name', sql.NVarChar, 'x').query('SELECT @Name AS v');
    expect(exact.recordset).toEqual([{ v: 'x' }]);
    expect(
      (await errorOf(s.pool.request().input('Name', sql.NVarChar, 'x').query('SELECT @name AS v'))).number,
    ).toBe(137);
  });

  it('groups, de-duplicates and orders by the collation', async () => {
    s = await standIn({
      serverName: 'CS04',
      collation: CS,
      databases: [
        { name: 'Orders', fullBackup: true },
        { name: 'orders', fullBackup: true },
      ],
    });
    const r = await s.batch(
      `SELECT DISTINCT LOWER(name) AS l, name FROM sys.databases WHERE database_id > 4 ORDER BY name`,
    );
    expect(r.recordsets[0]!.map((x) => x['name'])).toEqual(['orders', 'Orders']);
    const g = await s.batch(`SELECT COUNT(*) AS n FROM sys.databases WHERE database_id > 4 GROUP BY name`);
    expect(g.recordsets[0]).toHaveLength(2);
  });

  it('refuses a login whose default database is named in another case (4060), and keeps DDL names apart', async () => {
    s = await standIn({
      serverName: 'CS05',
      collation: CS,
      databases: [{ name: 'SalesDb', fullBackup: true }],
      endpoint: { name: 'database_mirroring_endpoint', port: 5022, certificateName: 'Cert_CS05_endpoint' },
    });
    const pool = (database: string) =>
      new sql.ConnectionPool({
        server: s!.server.host,
        port: s!.server.port,
        user: SA.name,
        password: SA.password,
        database,
        options: { encrypt: false, trustServerCertificate: true },
        connectionTimeout: 5000,
      });
    // 4060 then 18456; tedious surfaces the last one
    expect((await errorOf(pool('salesdb').connect())).message).toMatch(/Login failed/);
    const exact = await pool('SalesDb').connect();
    expect((await exact.request().query('SELECT DB_NAME() AS db')).recordset[0].db).toBe('SalesDb');
    await exact.close();
    expect((await errorOf(s.batch('DROP ENDPOINT [DATABASE_MIRRORING_ENDPOINT]'))).number).toBe(15151);
    await s.batch('DROP ENDPOINT [database_mirroring_endpoint]');
    expect(s.server.state.endpoint).toBeNull();
  });
});

describe('collations per database', () => {
  it('takes the literal comparison from the current database: a CI database on a CS instance and the reverse', async () => {
    s = await standIn({
      serverName: 'MIX01',
      collation: CS,
      databases: [{ name: 'CiDb', fullBackup: true, collation: CI }],
    });
    expect(await equal(s, 'abc', 'ABC')).toBe(0);
    await s.batch('USE [CiDb]');
    expect(await equal(s, 'abc', 'ABC')).toBe(1);
    expect((await errorOf(s.batch('USE [cidb]'))).number).toBe(911); // the name still follows the instance
    await s.close();

    s = await standIn({
      serverName: 'MIX02',
      collation: CI,
      databases: [{ name: 'CsDb', fullBackup: true, collation: CS }],
    });
    expect(await equal(s, 'abc', 'ABC')).toBe(1);
    await s.batch('USE [csdb]'); // instance-level name: case-insensitive here
    expect(await equal(s, 'abc', 'ABC')).toBe(0);
    const cols = await s.batch(
      `SELECT name, collation_name FROM sys.databases WHERE name IN (N'master', N'CsDb') ORDER BY name`,
    );
    expect(cols.recordsets[0]).toEqual([
      { name: 'CsDb', collation_name: CS },
      { name: 'master', collation_name: CI },
    ]);
  });

  it('on the default (CI) instance nothing changes: names and strings compare case-insensitively', async () => {
    s = await standIn({ serverName: 'CI01', databases: [{ name: 'SalesDb', fullBackup: true }] });
    expect(await equal(s, 'abc', 'ABC')).toBe(1);
    await s.batch('USE [salesdb]');
    const r = await s.batch("SELECT DB_NAME() AS db; SELECT NAME FROM SYS.DATABASES WHERE NAME = N'SALESDB'");
    expect(r.recordsets[0]![0]!['db']).toBe('SalesDb');
    expect(r.recordsets[1]).toEqual([{ name: 'SalesDb' }]);
    const v = await s.batch('DECLARE @Dag int = 1; SELECT @dag AS x');
    expect(v.recordsets[0]).toEqual([{ x: 1 }]);
  });
});
