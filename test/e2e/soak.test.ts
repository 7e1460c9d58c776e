import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultInjector } from '../../local/sim/azure/faults.js';
import type { EstateSpec } from '../../local/sim/estate/estate.js';
import { createFaults } from '../../local/sim/sqlserver/server.js';
import { randomSqlFaults, type RandomSqlFaults } from '../../local/sim/sqlserver/random-faults.js';
import { createRequests, demoRequest, journalOf, startBed, type Bed, type JournalEntry } from './harness.js';

/**
 * Issue 16's soak: forty links on one SQL Server, created eight at a time, while about one ARM and Key Vault
 * request in five meets a transient fault (throttling, a 500 or 503, a dropped connection) and one SQL request in
 * ten has its connection dropped before it runs, each drawn from a seeded generator (MILINK_SOAK_SEED replays a
 * run's fault sequence: the n-th request of each kind meets the same fault). Every link ends healthy and every
 * object is created once.
 */

const LINKS = 40;
const AT_ONCE = 8;
const SEED = Number(process.env.MILINK_SOAK_SEED ?? 1616);
const HTTP_FAULT_RATE = 0.2;
const SQL_FAULT_RATE = 0.1;
const SERVER = 'SQL001';

function soakSpec(): EstateSpec {
  return {
    generate: { sqlServers: 1, instances: 1, links: LINKS, linkState: 'none', databaseSizeMb: 64 },
  } as unknown as EstateSpec;
}

function requestFor(k: number) {
  const base = demoRequest();
  return {
    ...base,
    sqlServer: {
      ...base.sqlServer,
      host: `${SERVER.toLowerCase()}.contoso.local`,
      endpointAddress: '10.1.0.4',
      loginSecret: `${SERVER.toLowerCase()}-login`,
      masterKeySecret: `${SERVER.toLowerCase()}-master-key`,
    },
    managedInstance: { ...base.managedInstance, resourceGroup: 'rg-estate', name: 'mi-01' },
    database: `Db${String(k).padStart(4, '0')}`,
  };
}

/** The requests that ran on SQL Server: neither dropped nor failed by a fault. */
function ran(entries: JournalEntry[]): JournalEntry[] {
  return entries.filter((e) => !e.dropped && e.errorNumbers.length === 0);
}

describe(`soak: ${LINKS} links on one SQL Server, ${AT_ONCE} at a time, under seeded transient faults`, () => {
  let bed: Bed;
  const outcomes: Array<{ id: string; status: any }> = [];
  let elapsedMs = 0;
  let sqlFaults: RandomSqlFaults;
  beforeAll(async () => {
    bed = await startBed({ spec: soakSpec() });
    bed.estate.armFaults.randomly({ seed: SEED, rate: HTTP_FAULT_RATE });
    bed.estate.keyVaultFaults.randomly({ seed: SEED + 1, rate: HTTP_FAULT_RATE });
    sqlFaults = randomSqlFaults(bed.estate.sqlServers.get(SERVER)!.faults, {
      seed: SEED + 2,
      rate: SQL_FAULT_RATE,
    });
  });
  afterAll(async () => {
    await bed?.close();
  });

  it(`all ${LINKS} links end healthy`, { timeout: 180_000 }, async () => {
    const started = Date.now();
    let next = 1;
    const worker = async (): Promise<void> => {
      while (next <= LINKS) {
        const k = next++;
        const posted = await bed.api('POST', '/api/links', requestFor(k));
        expect(posted.status, posted.text).toBe(202);
        const status = await bed.finish(posted.json.instanceId, 120_000);
        outcomes.push({ id: posted.json.instanceId, status });
      }
    };
    await Promise.all(Array.from({ length: AT_ONCE }, worker));
    elapsedMs = Date.now() - started;
    const arm = bed.estate.armFaults.injected.length;
    const vault = bed.estate.keyVaultFaults.injected.length;
    console.log(
      `soak: ${LINKS} links in ${elapsedMs} ms (seed ${SEED}); faults: ARM ${arm} of ${arm + bed.estate.arm.journal.length} requests, Key Vault ${vault}, ` +
        `SQL ${sqlFaults.counts.dropped} of ${sqlFaults.counts.requests} requests`,
    );
    // the faults were there, at about the rates asked for
    expect(arm).toBeGreaterThan(LINKS);
    expect(vault).toBeGreaterThan(0);
    expect(sqlFaults.counts.dropped / sqlFaults.counts.requests).toBeGreaterThan(SQL_FAULT_RATE / 2);
    const failed = outcomes.filter((o) => o.status.runtimeStatus !== 'Completed');
    expect(failed.map((o) => `${o.id}: ${JSON.stringify(o.status.error ?? o.status.runtimeStatus)}`)).toEqual(
      [],
    );
    for (const o of outcomes) expect(o.status.output.health.healthy, o.id).toBe(true);
    expect(outcomes).toHaveLength(LINKS);
  });

  it('every object was created once', () => {
    const creates = createRequests(ran(journalOf(bed, SERVER)));
    expect([...creates].filter(([, count]) => count !== 1)).toEqual([]);
    // each link's AG and DAG, and the objects every link of the server shares
    const perLink = [...creates.keys()].filter((k) => k.startsWith('AVAILABILITY GROUP'));
    expect(perLink).toHaveLength(2 * LINKS);
    for (let k = 1; k <= LINKS; k++) {
      const db = requestFor(k).database;
      expect(perLink).toEqual(expect.arrayContaining([expect.stringContaining(`AG_${db}`)]));
      expect(perLink).toEqual(expect.arrayContaining([expect.stringContaining(`DAG1_${db}`)]));
    }
    console.log(`soak: shared objects ${[...creates.keys()].filter((k) => !perLink.includes(k)).join(', ')}`);
    expect(creates.has('MASTER KEY')).toBe(true);
    // on the instance: each link PUT once, the SQL Server certificate's trust PUT once for all 40
    const puts = new Map<string, number>();
    for (const r of bed.estate.arm.journal.filter((e) => e.method === 'PUT'))
      puts.set(r.path, (puts.get(r.path) ?? 0) + 1);
    expect([...puts].filter(([, count]) => count !== 1)).toEqual([]);
    const paths = [...puts.keys()];
    expect(paths.filter((p) => /\/distributedAvailabilityGroups\//i.test(p))).toHaveLength(LINKS);
    expect(paths.filter((p) => /\/serverTrustCertificates\//i.test(p))).toHaveLength(1);
  });

  it("milink's reports agree: one link made each shared object, every link made its own", () => {
    const madeBy = new Map<string, number>();
    for (const o of outcomes)
      for (const r of o.status.output.reports as Array<{ step: string; changed: string[] }>)
        if (r.changed.length > 0) madeBy.set(r.step, (madeBy.get(r.step) ?? 0) + 1);
    for (const step of [
      'master-key',
      'sqlserver-certificate',
      'mirroring-endpoint',
      'trust-sqlserver-certificate',
    ])
      expect(madeBy.get(step), step).toBe(1);
    for (const step of ['availability-group', 'distributed-availability-group', 'create-link'])
      expect(madeBy.get(step), step).toBe(LINKS);
  });
});

describe('the seeded faults replay by seed', () => {
  /** The faults a run of `count` requests meets (ARM/Key Vault stand-in's injector). */
  async function httpFaults(seed: number, count: number): Promise<string[]> {
    const faults = new FaultInjector();
    faults.randomly({ seed, rate: HTTP_FAULT_RATE });
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      let status = 200;
      const req = { method: 'GET', url: `/r/${i}`, socket: { destroy: () => (status = 0) } };
      const res = {
        writeHead: (s: number) => ((status = s), res),
        end: () => undefined,
      };
      await faults.apply(req as unknown as IncomingMessage, res as unknown as ServerResponse, () => ({}));
      out.push(String(status));
    }
    return out;
  }

  /** Which of `count` SQL requests are dropped. */
  function sqlDrops(seed: number, count: number): boolean[] {
    const faults = createFaults();
    randomSqlFaults(faults, { seed, rate: SQL_FAULT_RATE });
    const draw = faults.dropOnText[0]!.pattern as RegExp;
    return Array.from({ length: count }, () => draw.test('SELECT 1'));
  }

  it('the same seed gives the same faults; another seed others, at about the rate asked for', async () => {
    const a = await httpFaults(SEED, 500);
    expect(await httpFaults(SEED, 500)).toEqual(a);
    expect(await httpFaults(SEED + 7, 500)).not.toEqual(a);
    const share = a.filter((s) => s !== '200').length / a.length;
    expect(share).toBeGreaterThan(HTTP_FAULT_RATE * 0.6);
    expect(share).toBeLessThan(HTTP_FAULT_RATE * 1.4);
    // every kind occurs: throttled, 500, 503 and dropped (0)
    expect(new Set(a.filter((s) => s !== '200'))).toEqual(new Set(['429', '500', '503', '0']));
    const d = sqlDrops(SEED, 1000);
    expect(sqlDrops(SEED, 1000)).toEqual(d);
    expect(sqlDrops(SEED + 7, 1000)).not.toEqual(d);
    const dropped = d.filter(Boolean).length / d.length;
    expect(dropped).toBeGreaterThan(SQL_FAULT_RATE * 0.6);
    expect(dropped).toBeLessThan(SQL_FAULT_RATE * 1.4);
  });
});
