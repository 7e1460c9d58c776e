import { afterEach, describe, expect, it } from 'vitest';
import { connect, standIn, type StandIn } from './helpers.js';

/**
 * A BACKUP DATABASE that lasts simulated time (the estate's `timing.backupSeconds`): the client hears of it, and
 * msdb records it, only once the clock has passed its end; a client that gives up (an attention) cancels it, as on
 * SQL Server, and no backup is recorded.
 */
const fullBackups = (s: StandIn) =>
  s.batch(
    "SELECT backup_start_date, backup_finish_date FROM msdb.dbo.backupset WHERE database_name = N'SalesDb' AND type = N'D'",
  );

describe('a long BACKUP DATABASE on the SQL Server stand-in', () => {
  let s: StandIn | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('answers once the clock passes its end; msdb shows it only then, with its length', async () => {
    s = await standIn({ serverName: 'SQLBOX1', databases: [{ name: 'SalesDb', recoveryModel: 'FULL' }] });
    s.server.state.backupSeconds = 600;
    const start = s.clock.now().getTime();
    let done = false;
    const backup = s.batch("BACKUP DATABASE [SalesDb] TO DISK = N'/b/SalesDb.bak'").then((r) => {
      done = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(done).toBe(false);
    // another session does not see a backup that has not finished
    const other = await connect(s.server);
    try {
      const rows = (
        await other
          .request()
          .query(
            "SELECT COUNT(*) AS n FROM msdb.dbo.backupset WHERE database_name = N'SalesDb' AND type = N'D'",
          )
      ).recordset;
      expect(rows[0].n).toBe(0);
    } finally {
      await other.close();
    }
    s.clock.advance(599_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    s.clock.advance(1_000);
    const result = await backup;
    expect(result.messages.map((m) => m.message).join('\n')).toMatch(
      /BACKUP DATABASE successfully processed \d+ pages in 600\.000 seconds/,
    );
    const [rows] = (await fullBackups(s)).recordsets;
    expect(rows).toHaveLength(1);
    expect(new Date(rows![0]!.backup_start_date as string).getTime()).toBe(start);
    expect(new Date(rows![0]!.backup_finish_date as string).getTime() - start).toBe(600_000);
  });

  it('is cancelled by a client timeout: nothing recorded, the session usable again', async () => {
    s = await standIn({ serverName: 'SQLBOX1', databases: [{ name: 'SalesDb', recoveryModel: 'FULL' }] });
    s.server.state.backupSeconds = 600;
    const short = await connect(s.server, undefined, undefined, 300);
    try {
      await expect(
        short.request().batch("BACKUP DATABASE [SalesDb] TO DISK = N'/b/SalesDb.bak'"),
      ).rejects.toMatchObject({
        code: 'ETIMEOUT',
      });
      s.clock.advance(600_000);
      await new Promise((r) => setTimeout(r, 50));
      expect((await fullBackups(s)).recordsets[0]).toHaveLength(0);
      expect((await short.request().query('SELECT 1 AS one')).recordset[0].one).toBe(1);
    } finally {
      await short.close();
    }
  });
});
