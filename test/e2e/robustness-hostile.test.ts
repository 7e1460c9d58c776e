/**
 * Issue 6, "Done when": fifty malformed or hostile requests over HTTP — bad names, injection attempts in every
 * string field, wrong types, unknown fields, system databases — are each rejected with 400 naming the field and
 * the rule (ARM error shape), or accepted and run to completion with every name kept one identifier; the estate
 * shows no statement executed other than the intended ones.
 *
 * Accepted hostile database names (legal on SQL Server) run createLink end to end; every statement SQL Server
 * received during such a run has the token shape of the same statement in a benign run, and where the benign
 * run names the database the hostile run names it exactly, as one identifier or one literal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JournalEntry } from '../../local/sim/sqlserver/server.js';
import { tokenize, type Token } from '../helpers/tsql-tokens.js';
import { changesIn, demoRequest, demoSpec, startBed, type Bed } from './harness.js';

const HOSTILE_DATABASES = [
  'Sales]Db',
  "Sales'Db",
  'Sales--Db',
  'Sales;Db',
  'Sales/*Db',
  "]]'';--/*",
  "x'); DROP DATABASE master; --",
  'Ventes_données_日本語',
  'Sales Db with spaces',
  'Db$(MasterKeyPassword)',
  'D'.repeat(128),
];
const BENIGN = ['BenignDbA', 'BenignDbB'];
/** Free-text and name fields that take hostile but legal values (on databases of their own). */
const HOSTILE_PATH = "/var/opt/mssql/it's; --/*x*/ backup/";
const HOSTILE_NAMES = {
  link: '#DAG_$x@1',
  availabilityGroup: 'AG-x#$@',
  instanceAvailabilityGroup: '#AG_MI-$@',
};

let bed: Bed;
beforeAll(async () => {
  const spec = demoSpec();
  spec.sqlServers[0]!.databases!.push(
    ...[...BENIGN, ...HOSTILE_DATABASES, 'PathDb', 'NamesDb'].map((name) => ({
      name,
      recoveryModel: 'FULL' as const,
      fullBackup: true,
      sizeMb: 64,
    })),
  );
  bed = await startBed({ spec });
});
afterAll(async () => {
  await bed?.close();
});

const journal = () => bed.estate.sqlServers.get('SQLBOX1')!.journal;
const base = () => demoRequest();

// ---------------------------------------------------------------- rejected requests

interface Rejected {
  what: string;
  body: unknown;
  /** The field the answer must name ('' for the request itself). */
  target: string;
  /** The rule, as the answer's detail message words it. */
  rule: RegExp;
}

const withSql = (patch: Record<string, unknown>) => ({
  ...base(),
  sqlServer: { ...base().sqlServer, ...patch },
});
const withMi = (patch: Record<string, unknown>) => ({
  ...base(),
  managedInstance: { ...base().managedInstance, ...patch },
});
const withNames = (names: Record<string, unknown>) => ({ ...base(), names });
const without = (key: string) => {
  const r = base();
  delete r[key];
  return r;
};

const REJECTED: Rejected[] = [
  { what: 'a body that is not JSON', body: "{ 'sqlServer': nope", target: '', rule: /must be JSON/ },
  { what: 'a JSON array', body: '[]', target: '', rule: /JSON object/ },
  { what: 'JSON null', body: 'null', target: '', rule: /JSON object/ },
  { what: 'a JSON string', body: '"DROP DATABASE SalesDb"', target: '', rule: /JSON object/ },
  { what: 'no sqlServer', body: without('sqlServer'), target: 'sqlServer', rule: /required/ },
  { what: 'no database', body: without('database'), target: 'database', rule: /required/ },
  {
    what: 'an unknown field',
    body: { ...base(), script: 'DROP DATABASE SalesDb' },
    target: 'script',
    rule: /unknown field/,
  },
  {
    what: 'a password in the request',
    body: withSql({ password: 'hunter2' }),
    target: 'sqlServer.password',
    rule: /unknown field/,
  },
  {
    what: '__proto__ as a field',
    body: `{"__proto__":{"admin":true},${JSON.stringify(base()).slice(1)}`,
    target: '__proto__',
    rule: /unknown field/,
  },
  {
    what: 'sqlServer as a string',
    body: { ...base(), sqlServer: 'sqlbox1' },
    target: 'sqlServer',
    rule: /object|expected/i,
  },
  {
    what: 'T-SQL in sqlServer.host',
    body: withSql({ host: "sqlbox1'; DROP DATABASE SalesDb; --" }),
    target: 'sqlServer.host',
    rule: /DNS name or an IPv4/,
  },
  {
    what: 'a URL in sqlServer.host',
    body: withSql({ host: 'http://evil.example/x' }),
    target: 'sqlServer.host',
    rule: /DNS name or an IPv4/,
  },
  {
    what: 'sqlServer.port as a string',
    body: withSql({ port: '1433' }),
    target: 'sqlServer.port',
    rule: /must be a number/,
  },
  {
    what: 'sqlServer.port out of range',
    body: withSql({ port: 70000 }),
    target: 'sqlServer.port',
    rule: /between 1 and 65535/,
  },
  {
    what: 'sqlServer.port not whole',
    body: withSql({ port: 1433.5 }),
    target: 'sqlServer.port',
    rule: /whole number/,
  },
  {
    what: 'T-SQL in endpointAddress',
    body: withSql({ endpointAddress: '10.0.0.4;EXEC xp_cmdshell' }),
    target: 'sqlServer.endpointAddress',
    rule: /DNS name or an IPv4/,
  },
  {
    what: 'endpointPort negative',
    body: withSql({ endpointPort: -5022 }),
    target: 'sqlServer.endpointPort',
    rule: /between 1 and 65535/,
  },
  {
    what: 'endpointPort as an array',
    body: withSql({ endpointPort: [5022] }),
    target: 'sqlServer.endpointPort',
    rule: /must be a number/,
  },
  {
    what: 'login over 128 characters',
    body: withSql({ login: 'l'.repeat(129) }),
    target: 'sqlServer.login',
    rule: /at most 128/,
  },
  { what: 'login empty', body: withSql({ login: '' }), target: 'sqlServer.login', rule: /cannot be empty/ },
  {
    what: 'T-SQL in loginSecret',
    body: withSql({ loginSecret: "x'; DROP LOGIN sa; --" }),
    target: 'sqlServer.loginSecret',
    rule: /Key Vault secret name/,
  },
  {
    what: 'a path in masterKeySecret',
    body: withSql({ masterKeySecret: '../../secrets/other' }),
    target: 'sqlServer.masterKeySecret',
    rule: /Key Vault secret name/,
  },
  {
    what: 'serverName over 128 characters',
    body: withSql({ serverName: 'S'.repeat(129) }),
    target: 'sqlServer.serverName',
    rule: /at most 128/,
  },
  {
    what: 'an unsupported version',
    body: withSql({ version: 2018 }),
    target: 'sqlServer.version',
    rule: /one of 2016, 2017, 2019, 2022, 2025/,
  },
  {
    what: 'tls.encrypt as a string',
    body: withSql({ tls: { encrypt: 'yes' } }),
    target: 'sqlServer.tls.encrypt',
    rule: /true or false/,
  },
  {
    what: 'an unknown tls field',
    body: withSql({ tls: { encrypt: false, ciphers: 'NULL' } }),
    target: 'sqlServer.tls.ciphers',
    rule: /unknown field/,
  },
  {
    what: 'T-SQL in subscriptionId',
    body: withMi({ subscriptionId: "'; DROP TABLE x; --" }),
    target: 'managedInstance.subscriptionId',
    rule: /GUID/,
  },
  {
    what: 'a path in resourceGroup',
    body: withMi({ resourceGroup: 'rg/../../providers' }),
    target: 'managedInstance.resourceGroup',
    rule: /letters, digits/,
  },
  {
    what: 'an upper-case instance name',
    body: withMi({ name: 'MI_Prod' }),
    target: 'managedInstance.name',
    rule: /lower-case letters, digits, single hyphens/,
  },
  {
    what: 'a path in the instance name',
    body: withMi({ name: 'mi-prod/../mi-other' }),
    target: 'managedInstance.name',
    rule: /lower-case letters/,
  },
  {
    what: 'an fqdn of another host',
    body: withMi({ fqdn: 'evil.example.com' }),
    target: 'managedInstance.fqdn',
    rule: /start with the instance name/,
  },
  { what: 'database empty', body: { ...base(), database: '' }, target: 'database', rule: /cannot be empty/ },
  {
    what: 'database master',
    body: { ...base(), database: 'master' },
    target: 'database',
    rule: /system database/,
  },
  {
    what: 'database TempDB',
    body: { ...base(), database: 'TempDB' },
    target: 'database',
    rule: /system database/,
  },
  {
    what: 'database " msdb "',
    body: { ...base(), database: ' msdb ' },
    target: 'database',
    rule: /system database/,
  },
  {
    what: 'database model',
    body: { ...base(), database: 'MODEL' },
    target: 'database',
    rule: /system database/,
  },
  {
    what: 'database over 128 characters',
    body: { ...base(), database: 'D'.repeat(129) },
    target: 'database',
    rule: /at most 128/,
  },
  {
    what: 'database with a line break',
    body: { ...base(), database: 'Sales\nGO\nDROP DATABASE x' },
    target: 'database',
    rule: /control characters/,
  },
  {
    what: 'database as a number',
    body: { ...base(), database: 42 },
    target: 'database',
    rule: /must be a string/,
  },
  {
    what: 'database as an object',
    body: { ...base(), database: { $ne: '' } },
    target: 'database',
    rule: /must be a string/,
  },
  {
    what: 'initialPrimary unknown',
    body: { ...base(), initialPrimary: 'Both' },
    target: 'initialPrimary',
    rule: /"SqlServer" or "ManagedInstance"/,
  },
  {
    what: 'failoverMode unknown',
    body: { ...base(), failoverMode: 'Automatic' },
    target: 'failoverMode',
    rule: /"None".*"Manual"/,
  },
  {
    what: 'certificateExpiry not a date',
    body: { ...base(), certificateExpiry: "2027-11-30'; --" },
    target: 'certificateExpiry',
    rule: /YYYY-MM-DD/,
  },
  {
    what: 'certificateExpiry not a real day',
    body: { ...base(), certificateExpiry: '2027-02-30' },
    target: 'certificateExpiry',
    rule: /real calendar date/,
  },
  {
    what: 'certificateExpiry in the past',
    body: { ...base(), certificateExpiry: '2020-01-01' },
    target: 'certificateExpiry',
    rule: /in the future/,
  },
  {
    what: 'backupPath with a control character',
    body: { ...base(), backupPath: 'D:\\Backup\u0000' },
    target: 'backupPath',
    rule: /control characters/,
  },
  {
    what: 'backupPath over 200 characters',
    body: { ...base(), backupPath: `D:\\${'b'.repeat(200)}` },
    target: 'backupPath',
    rule: /at most 200/,
  },
  {
    what: 'a hyphen in names.link',
    body: withNames({ link: 'DAG-1' }),
    target: 'names.link',
    rule: /no hyphens/,
  },
  {
    what: 'T-SQL in names.link',
    body: withNames({ link: 'x]; DROP DATABASE SalesDb; --' }),
    target: 'names.link',
    rule: /must match/,
  },
  {
    what: 'a quote in names.availabilityGroup',
    body: withNames({ availabilityGroup: "AG'x" }),
    target: 'names.availabilityGroup',
    rule: /letters, digits, _ - @ # \$/,
  },
  {
    what: 'names.instanceAvailabilityGroup over 128',
    body: withNames({ instanceAvailabilityGroup: `A${'g'.repeat(128)}` }),
    target: 'names.instanceAvailabilityGroup',
    rule: /1-128 characters/,
  },
  {
    what: 'a backslash in names.certificate',
    body: withNames({ certificate: 'Cert\\x' }),
    target: 'names.certificate',
    rule: /no \\/,
  },
  {
    what: 'an unknown field in names',
    body: withNames({ endpoint: 'Hadr' }),
    target: 'names.endpoint',
    rule: /unknown field/,
  },
];

describe('hostile requests over HTTP', () => {
  it(`${REJECTED.length} malformed or hostile requests are rejected with 400 naming field and rule; nothing runs`, async () => {
    const sqlMark = journal().length;
    const armMark = bed.estate.arm.journal.length;
    const problems: string[] = [];
    for (const r of REJECTED) {
      const answer = await bed.api('POST', '/api/links', r.body);
      const details = (answer.json?.error?.details ?? []) as Array<{
        code: string;
        target: string;
        message: string;
      }>;
      if (answer.status !== 400) problems.push(`${r.what}: ${answer.status} ${answer.text}`);
      else if (
        answer.json.error.code !== 'InvalidLinkRequest' ||
        typeof answer.json.error.message !== 'string'
      )
        problems.push(`${r.what}: not the ARM error shape: ${answer.text}`);
      else if (!details.some((d) => d.target === r.target && r.rule.test(d.message) && d.code.length > 0))
        problems.push(
          `${r.what}: no detail for ${r.target || '(request)'} matching ${r.rule}: ${answer.text}`,
        );
    }
    expect(problems).toEqual([]);
    expect(journal().length).toBe(sqlMark);
    expect(bed.estate.arm.journal.length).toBe(armMark);
    expect(bed.host.stats.activityRuns).toBe(0);
  });

  it('injection in fields that are free text is accepted and stops in preflight with nothing executed', async () => {
    const cases = [
      { body: withSql({ login: "milink_admin'; DROP LOGIN sa; --" }), check: 'sqlserver-login' },
      { body: withSql({ serverName: "SQLBOX1'; SHUTDOWN; --" }), check: 'server-name' },
    ];
    for (const c of cases) {
      const mark = journal().length;
      const armMark = bed.estate.arm.journal.length;
      const posted = await bed.api('POST', '/api/links', c.body);
      expect(posted.status, posted.text).toBe(202);
      const status = await bed.finish(posted.json.instanceId as string);
      expect(status.runtimeStatus).toBe('Failed');
      expect(status.error.step).toBe('preflight');
      expect(status.failures.map((f: { check: string }) => f.check)).toContain(c.check);
      expect(changesIn(journal().slice(mark))).toEqual([]);
      expect(bed.estate.arm.journal.slice(armMark).filter((r) => r.method !== 'GET')).toEqual([]);
      expect(
        journal()
          .slice(mark)
          .some((e) => /SHUTDOWN|DROP LOGIN/i.test(e.text)),
      ).toBe(false);
    }
  });
});

// ---------------------------------------------------------------- accepted hostile names run end to end

/** The statements SQL Server received, without the driver's connection set-up and pool checks. */
function statements(entries: JournalEntry[]): JournalEntry[] {
  return entries.filter((e) => !/^\s*set ansi_nulls on/i.test(e.text) && e.text.trim() !== 'SELECT 1;');
}

async function createFor(
  database: string,
  extra: Record<string, unknown> = {},
): Promise<{ status: any; entries: JournalEntry[] }> {
  const mark = journal().length;
  const posted = await bed.api('POST', '/api/links', demoRequest({ database, ...extra }));
  expect(posted.status, posted.text).toBe(202);
  const status = await bed.finish(posted.json.instanceId as string);
  return { status, entries: statements(journal().slice(mark)) };
}

function compareShapes(
  reference: JournalEntry[],
  hostile: JournalEntry[],
  benign: string,
  name: string,
): string[] {
  const problems: string[] = [];
  if (hostile.length !== reference.length)
    return [
      `${hostile.length} statements instead of ${reference.length}:\n${hostile.map((e) => e.text).join('\n')}`,
    ];
  reference.forEach((ref, i) => {
    const got = hostile[i]!;
    const a: Token[] = tokenize(ref.text);
    const b: Token[] = tokenize(got.text);
    if (ref.kind !== got.kind || a.length !== b.length) {
      problems.push(`statement ${i}: shape differs:\n  ${ref.text}\n  ${got.text}`);
      return;
    }
    a.forEach((t, j) => {
      const u = b[j]!;
      if (t.kind !== u.kind)
        problems.push(`statement ${i} token ${j}: ${t.kind} became ${u.kind}: ${got.text}`);
      else if (['word', 'symbol', 'number', 'variable'].includes(t.kind) && t.value !== u.value)
        problems.push(`statement ${i} token ${j}: ${t.value} became ${u.value}: ${got.text}`);
      else if ((t.kind === 'identifier' || t.kind === 'string') && t.value === benign && u.value !== name)
        problems.push(`statement ${i} token ${j}: the database is ${JSON.stringify(u.value)}`);
    });
  });
  return problems;
}

describe('hostile database names that SQL Server allows', () => {
  let reference: JournalEntry[];

  it('benign runs: the first creates the server-wide objects, the second is the reference', async () => {
    const first = await createFor(BENIGN[0]!);
    expect(first.status.runtimeStatus, JSON.stringify(first.status)).toBe('Completed');
    const second = await createFor(BENIGN[1]!);
    expect(second.status.runtimeStatus, JSON.stringify(second.status)).toBe('Completed');
    expect(second.status.output.health.healthy).toBe(true);
    reference = second.entries;
    expect(changesIn(reference).length).toBeGreaterThanOrEqual(3); // AG, DAG, log backup
    // the reference names the database in several statements, so the comparison below has something to compare
    const naming = reference.filter((e) =>
      tokenize(e.text).some((t) => (t.kind === 'identifier' || t.kind === 'string') && t.value === BENIGN[1]),
    );
    expect(naming.length).toBeGreaterThanOrEqual(3);
  });

  for (const name of HOSTILE_DATABASES) {
    const label = name.length > 40 ? `${name.slice(0, 12)}…(${name.length} characters)` : name;
    it(`${JSON.stringify(label)}: linked, the name one identifier everywhere, no other statement`, async () => {
      expect(reference, 'the reference run must pass first').toBeDefined();
      const run = await createFor(name);
      expect(run.status.runtimeStatus, JSON.stringify(run.status)).toBe('Completed');
      expect(run.status.output.health.healthy).toBe(true);
      expect(run.status.output.database).toBe(name);
      expect(compareShapes(reference, run.entries, BENIGN[1]!, name)).toEqual([]);
      // the estate: the database is in the AG by its exact name, and the link carries it
      const state = bed.estate.sqlServers.get('SQLBOX1')!.state;
      expect(state.databases.map((d) => d.name)).toContain(name);
      // the system databases, the demo's own, and the ones added above
      const demo = demoSpec().sqlServers[0]!.databases!.length;
      expect(state.databases).toHaveLength(4 + demo + BENIGN.length + HOSTILE_DATABASES.length + 2);
      const ag = state.availabilityGroups.find((g) => !g.isDistributed && g.databases.includes(name));
      expect(ag?.databases).toEqual([name]);
      const mi = bed.estate.instances.all()[0]!;
      const link = bed.estate.links.get(mi, run.status.link) as {
        properties: { databases: Array<{ databaseName: string }> };
      };
      expect(link.properties.databases.map((d) => d.databaseName)).toEqual([name]);
    });
  }

  it('a backupPath with a quote, a comment and a semicolon stays one literal', async () => {
    expect(reference, 'the reference run must pass first').toBeDefined();
    const run = await createFor('PathDb', { backupPath: HOSTILE_PATH });
    expect(run.status.runtimeStatus, JSON.stringify(run.status)).toBe('Completed');
    expect(compareShapes(reference, run.entries, BENIGN[1]!, 'PathDb')).toEqual([]);
    const backup = run.entries.find((e) => /^BACKUP LOG/.test(e.text));
    const literals = tokenize(backup!.text).filter((t) => t.kind === 'string');
    expect(literals.map((t) => t.value)).toEqual([`${HOSTILE_PATH}milink_PathDb_log.trn`]);
  });

  it('explicit names with # $ @ - (legal) stay one identifier each', async () => {
    expect(reference, 'the reference run must pass first').toBeDefined();
    const run = await createFor('NamesDb', { names: HOSTILE_NAMES });
    expect(run.status.runtimeStatus, JSON.stringify(run.status)).toBe('Completed');
    expect(run.status.output.health.healthy).toBe(true);
    expect(run.status.link).toBe(HOSTILE_NAMES.link);
    expect(compareShapes(reference, run.entries, BENIGN[1]!, 'NamesDb')).toEqual([]);
    const names = run.entries.flatMap((e) =>
      tokenize(e.text)
        .filter((t) => t.kind === 'identifier' || t.kind === 'string')
        .map((t) => t.value),
    );
    for (const name of Object.values(HOSTILE_NAMES)) expect(names).toContain(name);
    const state = bed.estate.sqlServers.get('SQLBOX1')!.state;
    expect(
      state.availabilityGroups.find((g) => g.name === HOSTILE_NAMES.availabilityGroup)?.databases,
    ).toEqual(['NamesDb']);
    const dag = state.availabilityGroups.find((g) => g.name === HOSTILE_NAMES.link);
    expect(dag?.isDistributed).toBe(true);
    expect(dag?.replicas.map((r) => r.replicaServerName).sort()).toEqual(
      [HOSTILE_NAMES.availabilityGroup, HOSTILE_NAMES.instanceAvailabilityGroup].sort(),
    );
  });
});
