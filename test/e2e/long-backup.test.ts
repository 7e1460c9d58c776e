import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoRequest, demoSpec, journalOf, queryServer, startBed, type Bed } from './harness.js';

/**
 * Long statements: a BACKUP has no client-side limit (it lasts as long as the database is big), and a statement that
 * changes state and times out is not tried again. The batches' limit is set to 2 real seconds here so that a limit
 * the backup was still under would show: the estate holds the backup for longer than that in real time, and its
 * ten simulated minutes pass only when the test moves the clock.
 */
const LIMIT_SECONDS = 2;

function backups(bed: Bed, kind: 'DATABASE' | 'LOG'): number {
  return journalOf(bed, 'SQLBOX1').filter((e) => new RegExp(`\\bBACKUP\\s+${kind}\\b`, 'i').test(e.text))
    .length;
}

async function until(what: string, test: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a full backup that lasts ten simulated minutes', () => {
  let bed: Bed;
  beforeAll(async () => {
    const spec = demoSpec();
    spec.sqlServers[0]!.databases = [
      { name: 'SalesDb', recoveryModel: 'FULL', fullBackup: false, sizeMb: 200 },
    ];
    spec.timing = { backupSeconds: 600 };
    bed = await startBed({ spec, env: { MILINK_SQL_REQUEST_TIMEOUT_SECONDS: String(LIMIT_SECONDS) } });
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('is taken once, waited for past the batch limit, and the link is created', async () => {
    const posted = await bed.api('POST', '/api/links', demoRequest());
    expect(posted.status, posted.text).toBe(202);
    const id = posted.json.instanceId as string;
    await until('the BACKUP DATABASE to start', () => backups(bed, 'DATABASE') === 1);
    const started = bed.clock.now().getTime();
    // longer than the batch limit, in real time: a client-side limit would cancel the backup now
    await new Promise((r) => setTimeout(r, (LIMIT_SECONDS + 1.5) * 1000));
    const during = await bed.api('GET', `/api/links/${id}`);
    expect(during.json.current).toBe('prepare-database');
    bed.host.advance(10 * 60_000);

    const status = await bed.finish(id);
    expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures, null, 2)).toBe('Completed');
    expect(backups(bed, 'DATABASE')).toBe(1);
    const prepare = status.output.reports.find((r: { step: string }) => r.step === 'prepare-database');
    expect(prepare.changed).toEqual([expect.stringMatching(/^full backup to /)]);
    // msdb shows one full backup that took the ten minutes
    const rows = await queryServer(
      bed,
      'SQLBOX1',
      "SELECT backup_start_date, backup_finish_date FROM msdb.dbo.backupset WHERE database_name = N'SalesDb' AND type = N'D'",
    );
    expect(rows).toHaveLength(1);
    const startDate = new Date(rows[0]!.backup_start_date).getTime();
    expect(startDate).toBe(started);
    expect(new Date(rows[0]!.backup_finish_date).getTime() - startDate).toBe(600_000);
  });
});

describe('a statement that changes state and times out is not tried again', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await startBed({ env: { MILINK_SQL_REQUEST_TIMEOUT_SECONDS: String(LIMIT_SECONDS) } });
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('fails the step with StatementTimeout after one try; a re-run converges', async () => {
    // SQL Server answers CREATE CERTIFICATE only after the batch limit (once): the driver cancels it
    bed.estate.sqlServers.get('SQLBOX1')!.faults.slowOnText.push({
      pattern: 'CREATE CERTIFICATE',
      ms: (LIMIT_SECONDS + 1) * 1000,
      remaining: 1,
    });
    const posted = await bed.api('POST', '/api/links', demoRequest());
    const failed = await bed.finish(posted.json.instanceId as string);
    expect(failed.runtimeStatus).toBe('Failed');
    expect(failed.error).toMatchObject({
      step: 'sqlserver-certificate',
      target: 'sqlserver',
      code: 'StatementTimeout',
    });
    expect(failed.error.message).toContain(`within ${LIMIT_SECONDS} s`);
    const creates = () =>
      journalOf(bed, 'SQLBOX1').filter((e) =>
        /\bCREATE\s+CERTIFICATE\s+\[?Cert_SQLBOX1_endpoint\b/i.test(e.text),
      ).length;
    expect(creates()).toBe(1);

    const again = await bed.api('POST', '/api/links', demoRequest());
    expect(again.status, again.text).toBe(202);
    const done = await bed.finish(again.json.instanceId as string);
    expect(done.runtimeStatus, JSON.stringify(done.error, null, 2)).toBe('Completed');
    expect(creates()).toBe(2);
  });
});
