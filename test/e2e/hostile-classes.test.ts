/**
 * Issue 16, item 1, end to end: each class of hostile input the request schema refuses — strings that are not
 * well-formed UTF-16 in any field, control characters in any field that names something, hosts and endpoint
 * addresses that are neither RFC 1123 names nor IPv4/IPv6 literals — is answered 400 naming the field over
 * HTTP, and poisoned with the reason from the queue; and nothing ran: no orchestration, no activity, no
 * connection to SQL Server, no ARM or Key Vault request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoRequest, startBed, type Bed } from './harness.js';

/** A complete request: every optional string field filled, so every field can carry a sample. */
function fullRequest(): any {
  const r = demoRequest();
  r.sqlServer.serverName = 'SQLBOX1';
  r.managedInstance.fqdn = 'mi-prod.1a2b3c4d5e6f.database.windows.net';
  r.names = {
    availabilityGroup: 'AG_SalesDb',
    instanceAvailabilityGroup: 'AG_SalesDb_MI',
    link: 'DAG1_SalesDb',
    certificate: 'Cert_SQLBOX1_endpoint',
  };
  return r;
}

/** Paths of every string in the request. */
function stringPaths(value: unknown, path: string[] = []): string[][] {
  if (typeof value === 'string') return [path];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => stringPaths(v, [...path, k]));
}

function withValue(path: string[], change: (v: string) => string): any {
  const r = fullRequest();
  const parent = path.slice(0, -1).reduce((o, k) => o[k], r);
  parent[path.at(-1)!] = change(parent[path.at(-1)!]);
  return r;
}

interface Sample {
  what: string;
  field: string;
  body: any;
}

const ALL = stringPaths(fullRequest());
const NOT_NAMES = new Set(['certificateExpiry', 'initialPrimary']);
const SAMPLES: Record<string, Sample[]> = {
  'not well-formed UTF-16': ALL.map((p) => ({
    what: 'a lone surrogate',
    field: p.join('.'),
    body: withValue(p, (v) => `${v}\uD800`),
  })),
  'control characters in a name': ALL.filter((p) => !NOT_NAMES.has(p.join('.'))).flatMap((p) =>
    ['\u0000', '\n', '\u0085'].map((c) => ({
      what: `U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
      field: p.join('.'),
      body: withValue(p, (v) => `${v.slice(0, 2)}${c}${v.slice(2)}`),
    })),
  ),
  'neither an RFC 1123 name nor an IP literal': ['host', 'endpointAddress'].flatMap((f) =>
    ['999.999.999.999', '10.0.0.256', '010.0.0.4', 'sqlbox1.123', 'fe80::1%eth0', '1::2::3'].map((bad) => ({
      what: bad,
      field: `sqlServer.${f}`,
      body: withValue(['sqlServer', f], () => bad),
    })),
  ),
};

let bed: Bed;
let marks: { sql: number; connections: number; arm: number; vault: number };

function nothingRan(): void {
  const sql = bed.estate.sqlServers.get('SQLBOX1')!;
  expect(sql.journal.length).toBe(marks.sql);
  expect(sql.counters.connections).toBe(marks.connections);
  expect(bed.estate.arm.journal.length).toBe(marks.arm);
  expect(bed.estate.keyVault.journal.length).toBe(marks.vault);
  expect(bed.host.stats.episodes).toBe(0);
  expect(bed.host.stats.activityRuns).toBe(0);
}

beforeAll(async () => {
  bed = await startBed({ queues: 'azurite-memory' });
  const sql = bed.estate.sqlServers.get('SQLBOX1')!;
  marks = {
    sql: sql.journal.length,
    connections: sql.counters.connections,
    arm: bed.estate.arm.journal.length,
    vault: bed.estate.keyVault.journal.length,
  };
});
afterAll(async () => {
  await bed?.close();
});

describe('hostile classes over HTTP', () => {
  for (const [cls, samples] of Object.entries(SAMPLES))
    it(`${cls}: ${samples.length} requests, each 400 naming the field; nothing ran`, async () => {
      expect(samples.length).toBeGreaterThan(0);
      for (const s of samples) {
        const answer = await bed.api('POST', '/api/links', s.body);
        expect(answer.status, `${s.field} ${s.what}: ${answer.text}`).toBe(400);
        expect(answer.json.error.code).toBe('InvalidLinkRequest');
        const detail = (answer.json.error.details as Array<{ target: string; message: string }>).find(
          (d) => d.target === s.field,
        );
        expect(detail, `${s.field} ${s.what}: ${answer.text}`).toBeDefined();
        expect(detail!.message).toContain(s.field);
      }
      nothingRan();
    });
});

describe('hostile classes from the queue', () => {
  it('a sample of each class goes to link-requests-poison at once with the reason; nothing ran', async () => {
    const sent: Array<Sample & { ticketId: string }> = [];
    for (const [cls, samples] of Object.entries(SAMPLES))
      // every third sample of the class: each field appears, each class several times
      samples
        .filter((_, i) => i % 3 === 0)
        .forEach((s, i) => sent.push({ ...s, ticketId: `HOSTILE-${cls.length}-${i}-${sent.length}` }));
    for (const s of sent)
      await bed.host.queues.send('link-requests', {
        ticketId: s.ticketId,
        action: 'create',
        request: s.body,
      });
    await bed.host.idle();
    const poisoned = ((await bed.host.queues.receiveAll('link-requests-poison')) as any[]).map((p) =>
      typeof p === 'string' ? JSON.parse(p) : p,
    );
    expect(poisoned).toHaveLength(sent.length);
    for (const s of sent) {
      const p = poisoned.find((x) => String(x.message).includes(`"${s.ticketId}"`));
      expect(p, s.ticketId).toBeDefined();
      expect(p.dequeueCount).toBe(1);
      expect(p.reason.code).toBe('InvalidLinkRequest');
      expect(
        (p.reason.details as Array<{ target: string }>).map((d) => d.target),
        `${s.field} ${s.what}`,
      ).toContain(s.field);
    }
    expect(await bed.host.queues.peek('link-requests')).toEqual([]);
    nothingRan();
  });
});
