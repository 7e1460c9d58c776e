/**
 * Issue 16, item 6: retries that are safe when links are made at once. A connection dropped under one link's
 * step is retried without disturbing another link's step running at the same moment on the same SQL Server
 * (they share one connection pool); and the chain validation's remedy (drop and re-import the instance
 * certificate every link of the server uses) runs only on the error that calls for it (15299), never on a
 * dropped connection or a timeout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { JournalEntry } from '../../local/sim/sqlserver/server.js';
import { demoRequest, demoSpec, journalOf, startBed, type Bed } from './harness.js';

/** A fault pattern decided by a function of the request's text (the stand-in calls `test` on it). */
class When extends RegExp {
  constructor(private readonly decide: (text: string) => boolean) {
    super('(?:)');
  }
  override test(text: string): boolean {
    return this.decide(text);
  }
}

const createAg = (db: string) => `CREATE AVAILABILITY GROUP [AG_${db}]`;

function sent(journal: JournalEntry[], text: string): JournalEntry[] {
  return journal.filter((e) => e.text.includes(text));
}

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

describe('two links at once on one SQL Server, a connection dropped under one of them', () => {
  it("the other link's statement in flight on the same pool finishes untouched; both links healthy", async () => {
    const spec = demoSpec();
    spec.sqlServers[0]!.databases = [
      { name: 'SalesDb', recoveryModel: 'FULL', fullBackup: true, sizeMb: 50 },
      { name: 'OrdersDb', recoveryModel: 'FULL', fullBackup: true, sizeMb: 50 },
    ];
    bed = await startBed({ spec });
    const faults = bed.estate.sqlServers.get('SQLBOX1')!.faults;
    const SLOW_MS = 2000;
    const databases = ['SalesDb', 'OrdersDb'];
    let slow: { db: string; from: number; to: number } | undefined;
    let dropped: { db: string; at: number } | undefined;
    // whichever link sends its CREATE AVAILABILITY GROUP first, that statement takes two seconds; the other
    // link's, sent meanwhile, has its connection dropped (once)
    faults.dropOnText.push({
      pattern: new When((t) => {
        const db = databases.find((d) => t.includes(createAg(d)));
        if (!db || !slow || slow.db === db || Date.now() >= slow.to) return false;
        dropped = { db, at: Date.now() };
        return true;
      }),
      remaining: 1,
    });
    faults.slowOnText.push({
      pattern: new When((t) => {
        const db = databases.find((d) => t.includes(createAg(d)));
        if (!db) return false;
        slow = { db, from: Date.now(), to: Date.now() + SLOW_MS };
        return true;
      }),
      ms: SLOW_MS,
      remaining: 1,
    });

    const posted = await Promise.all(
      databases.map((database) => bed!.api('POST', '/api/links', demoRequest({ database }))),
    );
    for (const p of posted) expect(p.status, p.text).toBe(202);
    const [sales, orders] = await Promise.all(posted.map((p) => bed!.finish(p.json.instanceId)));
    for (const status of [sales, orders]) {
      expect(status.runtimeStatus, JSON.stringify(status, null, 2)).toBe('Completed');
      expect(status.output.health.healthy).toBe(true);
    }

    // the premise: one link's connection dropped while the other's statement was in flight
    expect(slow, 'the slow statement ran').toBeDefined();
    expect(dropped, 'the drop happened while it ran').toBeDefined();
    expect(dropped!.at).toBeLessThan(slow!.to);

    const journal = journalOf(bed, 'SQLBOX1');
    // the dropped statement: sent again on a new connection, ran
    expect(sent(journal, createAg(dropped!.db)).map((e) => Boolean(e.dropped))).toEqual([true, false]);
    // the one in flight: sent once, answered without error: its connection was not closed under it
    const inFlight = sent(journal, createAg(slow!.db));
    expect(inFlight).toHaveLength(1);
    expect(inFlight[0]!.dropped).toBeFalsy();
    expect(inFlight[0]!.errorNumbers).toEqual([]);
    // neither link's step had to be tried again by the orchestration
    expect(bed.logs.filter((l) => /transient failure, try/.test(l))).toEqual([]);
  });
});

describe("validate-instance-certificate's remedy runs only on a failed chain (15299)", () => {
  const VALIDATE = 'sp_validate_certificate_ca_chain';

  /** The instance certificate's DROP and CREATE statements sent to SQL Server. */
  function certificateChanges(b: Bed, fqdn: string) {
    const journal = journalOf(b, 'SQLBOX1');
    return {
      drops: journal.filter((e) => new RegExp(`DROP\\s+CERTIFICATE\\s+\\[${fqdn}\\]`, 'i').test(e.text)),
      creates: journal.filter((e) => new RegExp(`CREATE\\s+CERTIFICATE\\s+\\[${fqdn}\\]`, 'i').test(e.text)),
    };
  }

  async function run(b: Bed) {
    const posted = await b.api('POST', '/api/links', demoRequest());
    expect(posted.status, posted.text).toBe(202);
    const status = await b.finish(posted.json.instanceId);
    const fqdn = b.estate.instances.all().find((m) => m.name === 'mi-prod')!.fqdn;
    return { status, ...certificateChanges(b, fqdn) };
  }

  it('a connection dropped on every try of the validation: the step fails on the connection, nothing dropped', async () => {
    bed = await startBed();
    bed.estate.sqlServers.get('SQLBOX1')!.faults.dropOnText.push({ pattern: VALIDATE });
    const { status, drops, creates } = await run(bed);
    expect(status.runtimeStatus).toBe('Failed');
    expect(status.error.step).toBe('validate-instance-certificate');
    expect(status.error.code).not.toBe('15299');
    expect(sent(journalOf(bed, 'SQLBOX1'), VALIDATE).every((e) => e.dropped)).toBe(true);
    expect(drops).toEqual([]);
    expect(creates).toHaveLength(1);
  });

  it('a validation that outlasts the request timeout: the step fails on the timeout, nothing dropped; a re-run is healthy', async () => {
    bed = await startBed({ env: { MILINK_SQL_REQUEST_TIMEOUT_SECONDS: '1' } });
    bed.estate.sqlServers
      .get('SQLBOX1')!
      .faults.slowOnText.push({ pattern: VALIDATE, ms: 1500, remaining: 1 });
    const first = await run(bed);
    expect(first.status.runtimeStatus).toBe('Failed');
    expect(first.status.error.step).toBe('validate-instance-certificate');
    expect(first.status.error.code).toBe('StatementTimeout');
    expect(first.drops).toEqual([]);
    const again = await run(bed);
    expect(again.status.runtimeStatus, JSON.stringify(again.status, null, 2)).toBe('Completed');
    expect(again.drops).toEqual([]);
    expect(again.creates).toHaveLength(1);
  });

  it('the chain fails to validate (15299) once: the remedy drops and re-imports the certificate, healthy', async () => {
    bed = await startBed();
    bed.estate.sqlServers
      .get('SQLBOX1')!
      .faults.errorOnText.push({ pattern: VALIDATE, number: 15299, remaining: 1 });
    const { status, drops, creates } = await run(bed);
    expect(status.runtimeStatus, JSON.stringify(status, null, 2)).toBe('Completed');
    expect(drops).toHaveLength(1);
    expect(creates).toHaveLength(2);
    const report = (status.output.reports as Array<{ step: string; changed: string[] }>).find(
      (r) => r.step === 'validate-instance-certificate',
    );
    expect(report?.changed.join(' ')).toMatch(/re-imported/);
  });
});
