import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  changesIn,
  createRequests,
  demoRequest,
  demoSpec,
  journalOf,
  startBed,
  type Bed,
} from './harness.js';

/**
 * Issue 16, item 3: a link is one link whatever the letter case it is asked for in. SQL Server (default
 * collation) and ARM compare names case-insensitively, so a link created for `casedb` (SQL Server holds the
 * database as `CaseDb`) and asked for again as `CaseDb` or `CASEDB` is the same link: the run converges to it
 * and changes nothing.
 */

const HELD = 'CaseDb';

/** The request's spellings: as SQL Server holds it, and every other case of it. */
const spellings = [HELD.toLowerCase(), HELD, HELD.toUpperCase()];

describe('a link asked for again in another letter case converges to it', () => {
  let bed: Bed;
  let id: string;
  beforeAll(async () => {
    const spec = demoSpec();
    spec.sqlServers[0]!.databases = [{ name: HELD, recoveryModel: 'FULL', fullBackup: true, sizeMb: 50 }];
    bed = await startBed({ spec });
  });
  afterAll(async () => {
    await bed?.close();
  });

  it(`created as ${spellings[0]}: healthy, every object created once`, async () => {
    const posted = await bed.api('POST', '/api/links', demoRequest({ database: spellings[0] }));
    expect(posted.status, posted.text).toBe(202);
    id = posted.json.instanceId;
    const status = await bed.finish(id);
    expect(status.runtimeStatus, JSON.stringify(status, null, 2)).toBe('Completed');
    expect(status.output.health.healthy).toBe(true);
    for (const [object, count] of createRequests(journalOf(bed, 'SQLBOX1'))) expect(count, object).toBe(1);
  });

  /** The same link asked for by database and, in the last two, by its objects' names in other cases. */
  const asks: Array<{ label: string; overrides: Record<string, unknown> }> = [
    ...spellings.map((database) => ({ label: database, overrides: { database } })),
    {
      label: `${HELD.toUpperCase()} with its names given in lower case`,
      overrides: {
        database: HELD.toUpperCase(),
        names: {
          availabilityGroup: `ag_${HELD.toLowerCase()}`,
          instanceAvailabilityGroup: `ag_${HELD.toLowerCase()}_mi`,
          link: `dag1_${HELD.toLowerCase()}`,
          certificate: 'cert_sqlbox1_endpoint',
        },
      },
    },
    {
      label: `${HELD} with its names given in upper case`,
      overrides: {
        database: HELD,
        names: {
          availabilityGroup: `AG_${HELD.toUpperCase()}`,
          instanceAvailabilityGroup: `AG_${HELD.toUpperCase()}_MI`,
          link: `DAG1_${HELD.toUpperCase()}`,
          certificate: 'CERT_SQLBOX1_ENDPOINT',
        },
      },
    },
  ];

  for (const { label, overrides } of asks) {
    it(`asked for again as ${label}: the same orchestration, Completed, no SQL change, no ARM write`, async () => {
      // a later request, as a person would send it
      bed.host.advance(3_600_000);
      await bed.host.idle();
      const journal = journalOf(bed, 'SQLBOX1');
      const from = journal.length;
      const armFrom = bed.estate.arm.journal.length;
      const posted = await bed.api('POST', '/api/links', demoRequest(overrides));
      expect(posted.status, posted.text).toBe(202);
      expect(posted.json.instanceId).toBe(id);
      const status = await bed.finish(id);
      expect(status.runtimeStatus, JSON.stringify(status, null, 2)).toBe('Completed');
      expect(status.handedOverTo).toBeUndefined();
      expect(status.output.health.healthy).toBe(true);
      const again = journal.slice(from);
      expect(again.length).toBeGreaterThan(0);
      expect(changesIn(again).map((e) => e.text)).toEqual([]);
      expect(bed.estate.arm.journal.slice(armFrom).filter((r) => r.method !== 'GET')).toEqual([]);
      for (const report of status.output.reports as Array<{ step: string; changed: string[] }>)
        expect(report.changed, report.step).toEqual([]);
    });
  }

  it('SQL Server and the instance hold one link for the database', async () => {
    const dags = bed.estate.sqlServers
      .get('SQLBOX1')!
      .state.availabilityGroups.filter((g) => g.isDistributed);
    expect(dags).toHaveLength(1);
    const mi = bed.estate.instances.all().find((m) => m.name === 'mi-prod')!;
    expect(bed.estate.links.list(mi)).toHaveLength(1);
  });
});

describe('on a case-sensitive SQL Server the database name is compared as SQL Server compares it', () => {
  let bed: Bed;
  beforeAll(async () => {
    const spec = demoSpec();
    const collation = 'SQL_Latin1_General_CP1_CS_AS';
    spec.sqlServers[0]!.collation = collation;
    spec.managedInstances[0]!.collation = collation;
    spec.sqlServers[0]!.databases = [{ name: HELD, recoveryModel: 'FULL', fullBackup: true, sizeMb: 50 }];
    bed = await startBed({ spec });
  });
  afterAll(async () => {
    await bed?.close();
  });

  it(`${HELD} in another case is no database there: preflight stops, nothing changed`, async () => {
    for (const database of spellings.filter((s) => s !== HELD)) {
      const posted = await bed.api('POST', '/api/links', demoRequest({ database }));
      expect(posted.status, posted.text).toBe(202);
      const status = await bed.finish(posted.json.instanceId);
      expect(status.runtimeStatus).toBe('Failed');
      expect(status.error.step).toBe('preflight');
      expect(status.failures.map((f: { message: string }) => f.message)).toContain(
        `database ${database} does not exist on SQL Server`,
      );
    }
    expect(changesIn(journalOf(bed, 'SQLBOX1'))).toEqual([]);
    expect(bed.estate.arm.journal.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it(`${HELD} as SQL Server holds it: healthy, then asked again, nothing changed`, async () => {
    const first = await bed.api('POST', '/api/links', demoRequest({ database: HELD }));
    expect(first.status, first.text).toBe(202);
    expect((await bed.finish(first.json.instanceId)).runtimeStatus).toBe('Completed');
    bed.host.advance(3_600_000);
    await bed.host.idle();
    const from = journalOf(bed, 'SQLBOX1').length;
    const again = await bed.api('POST', '/api/links', demoRequest({ database: HELD }));
    expect(again.status, again.text).toBe(202);
    expect((await bed.finish(again.json.instanceId)).runtimeStatus).toBe('Completed');
    expect(changesIn(journalOf(bed, 'SQLBOX1').slice(from))).toEqual([]);
  });
});
