/** Fault injection (latency, dropped connections, chosen errors), cancellation, and the journal. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, errorOf, standIn, type StandIn } from './helpers.js';

describe('faults and journal', () => {
  let s: StandIn;
  beforeAll(async () => {
    s = await standIn({ serverName: 'FAULTY', databases: [{ name: 'd1', fullBackup: true }] });
  });
  afterAll(() => s?.close());

  it('adds latency to every request', async () => {
    s.server.faults.latencyMs = 150;
    const t0 = Date.now();
    await s.pool.request().query('SELECT 1 AS one');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    s.server.faults.latencyMs = 0;
  });

  it('a request that times out is cancelled (attention) and the connection stays usable', async () => {
    const quick = await connect(s.server, undefined, undefined, 300);
    try {
      s.server.faults.slowOnText.push({ pattern: 'SELECT 2', ms: 3000, remaining: 1 });
      const t0 = Date.now();
      const err = await errorOf(quick.request().batch('SELECT 2 AS two'));
      expect(err.message).toMatch(/Timeout/i);
      expect(Date.now() - t0).toBeLessThan(2500);
      s.server.faults.latencyMs = 0;
      const r = await quick.request().batch('SELECT 3 AS three');
      expect(r.recordset).toEqual([{ three: 3 }]);
    } finally {
      s.server.faults.latencyMs = 0;
      await quick.close();
    }
  });

  it('drops the next N connections', async () => {
    s.server.faults.dropNextConnections = 1;
    await errorOf(connect(s.server));
    expect(s.server.faults.dropNextConnections).toBe(0);
    const ok = await connect(s.server);
    await ok.close();
  });

  it('drops the connection for a request whose text matches', async () => {
    const other = await connect(s.server);
    s.server.faults.dropOnText.push({ pattern: /sys\.availability_groups/i, remaining: 1 });
    const err = await errorOf(other.request().query('SELECT name FROM sys.availability_groups'));
    expect(err.message).toMatch(/closed|lost|reset|hang up|ECONN|Connection/i);
    await other.close().catch(() => undefined);
    const dropped = s.server.journal.filter((j) => j.dropped);
    expect(dropped.map((j) => j.text)).toEqual(['SELECT name FROM sys.availability_groups']);
  });

  it('raises a chosen error, with SQL Server message, on matching statements only, N times', async () => {
    s.server.faults.errorOnText.push({ pattern: 'BACKUP LOG', number: 1205, remaining: 1 });
    const batch = "SELECT 1 AS before\nBACKUP LOG [d1] TO DISK = N'd1.trn'";
    const err = await errorOf(s.batch(batch));
    expect(err.number).toBe(1205);
    expect(err.message).toContain('was deadlocked on lock resources');
    const ok = await s.batch(batch);
    expect(ok.recordsets[0]).toEqual([{ before: 1 }]);
    const logs = await s.batch(
      "SELECT COUNT(*) AS n FROM msdb.dbo.backupset WHERE database_name = 'd1' AND type = 'L'",
    );
    expect(logs.recordsets[0]).toEqual([{ n: 1 }]);
    s.server.faults.errorOnText.push({
      pattern: /^PRINT/,
      number: 50000,
      message: 'custom failure',
      severity: 16,
    });
    const custom = await errorOf(s.batch("PRINT 'x'"));
    expect(custom).toMatchObject({ number: 50000, message: 'custom failure' });
    s.server.faults.errorOnText.length = 0;
  });

  it('journals every batch and RPC with login, text and error number', async () => {
    const mark = s.server.journal.length;
    await s.pool.request().batch('SELECT 10 AS ten');
    await errorOf(s.pool.request().query('SELECT * FROM sys.nothing'));
    const entries = s.server.journal.slice(mark).filter((e) => e.text !== 'SELECT 1;');
    expect(entries.map((e) => [e.kind, e.login, e.text, e.errorNumber])).toEqual([
      ['batch', 'sa', 'SELECT 10 AS ten', undefined],
      ['rpc', 'sa', 'SELECT * FROM sys.nothing', 208],
    ]);
    expect(entries[0]!.time.toISOString()).toBe(s.clock.now().toISOString());
  });
});
