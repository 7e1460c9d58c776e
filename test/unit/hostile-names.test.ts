import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../src/link/errors.js';
import { createLink } from '../../src/runbook/operations/create-link.js';
import { buildPlan } from '../../src/runbook/plan.js';
import { parseLinkRequest } from '../../src/link/request.js';
import { quoteIdentifier, quoteLiteral, SqlQuotingError } from '../../src/sql/quote.js';
import { tokenize } from '../helpers/tsql-tokens.js';

const now = new Date('2026-11-22T00:00:00Z');
const request = (database: string, extra: Record<string, unknown> = {}) => ({
  sqlServer: {
    host: 'sqlbox1.contoso.local',
    serverName: 'SQLBOX1',
    endpointAddress: '10.0.0.4',
    login: 'milink_admin',
    loginSecret: 'sqlbox1-login',
    masterKeySecret: 'sqlbox1-master-key',
  },
  managedInstance: {
    subscriptionId: '00000000-0000-0000-0000-000000000001',
    resourceGroup: 'rg-data',
    name: 'mi-prod',
    fqdn: 'mi-prod.1a2b3c4d5e6f.database.windows.net',
  },
  database,
  initialPrimary: 'SqlServer',
  certificateExpiry: '2027-11-30',
  backupPath: 'D:\\Backup\\',
  ...extra,
});

const hostile = [
  'Sales]Db',
  "Sales'Db",
  'Sales--Db',
  'Sales;Db',
  'Sales/*Db',
  "]]'';--/*",
  'Ventes_données_日本語',
  'Sales Db\u00a0with spaces',
  "x'); DROP DATABASE master; --",
  'D'.repeat(128),
  `${']'.repeat(64)}${"'".repeat(64)}`,
];

/** Token kinds and, for names and literals, whether they carry the database name, for a whole plan. */
function shape(database: string, initialPrimary: string) {
  const plan = buildPlan(createLink, parseLinkRequest(request(database, { initialPrimary }), now));
  return plan.steps.flatMap((s) => (s.tsql ?? []).map((batch) => tokenize(batch)));
}

describe('hostile database names stay one identifier or one literal in every batch', () => {
  for (const initialPrimary of ['SqlServer', 'ManagedInstance']) {
    for (const name of hostile) {
      it(`${initialPrimary}: ${JSON.stringify(name.length > 40 ? `${name.slice(0, 20)}…(${name.length})` : name)}`, () => {
        const benign = shape('Benign', initialPrimary);
        const evil = shape(name, initialPrimary);
        expect(evil.length).toBe(benign.length);
        evil.forEach((tokens, b) => {
          const reference = benign[b]!;
          expect(tokens.map((t) => t.kind)).toEqual(reference.map((t) => t.kind));
          tokens.forEach((t, i) => {
            const r = reference[i]!;
            if (r.kind === 'word' || r.kind === 'symbol' || r.kind === 'number')
              expect(t.value).toBe(r.value);
            // Where the benign plan names the database exactly, the hostile plan names it exactly too.
            if ((r.kind === 'identifier' || r.kind === 'string') && r.value === 'Benign')
              expect(t.value).toBe(name);
          });
        });
      });
    }
  }

  it('a name over 128 characters is rejected with a clear error', () => {
    expect(() => parseLinkRequest(request('D'.repeat(129)), now)).toThrowError(
      /database is at most 128 characters/,
    );
  });

  it('system databases are rejected', () => {
    for (const db of ['master', 'MSDB', 'model', 'TempDB']) {
      try {
        parseLinkRequest(request(db), now);
        expect.unreachable(`${db} accepted`);
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidRequestError);
        expect((e as InvalidRequestError).details[0]).toMatchObject({ target: 'database' });
        expect((e as InvalidRequestError).details[0]!.message).toMatch(/system database/);
      }
    }
  });

  it('derived names from hostile database names follow their rules', () => {
    const plan = buildPlan(createLink, parseLinkRequest(request("x'); DROP--"), now));
    expect(plan.names.link).toMatch(/^[#a-zA-Z_][\w@#$]*$/);
    expect(plan.names.availabilityGroup).toMatch(/^[#A-Za-z_][\w@#$-]*$/);
    expect(plan.names.link.length).toBeLessThanOrEqual(128);
    expect(plan.notes.join('\n')).toContain(`names.link = ${plan.names.link}`);
    const long = buildPlan(createLink, parseLinkRequest(request('L'.repeat(128)), now));
    expect(long.names.link.length).toBe(128);
    expect(long.names.instanceAvailabilityGroup.length).toBe(128);
    expect(long.names.instanceAvailabilityGroup).not.toBe(long.names.availabilityGroup);
  });
});

describe('quoting module', () => {
  it("doubles ] in identifiers and ' in literals", () => {
    expect(quoteIdentifier('a]b')).toBe('[a]]b]');
    expect(quoteLiteral("it's")).toBe("N'it''s'");
  });
  it('checks lengths', () => {
    expect(() => quoteIdentifier('x'.repeat(129))).toThrow(SqlQuotingError);
    expect(quoteIdentifier('x'.repeat(128))).toHaveLength(130);
    expect(() => quoteIdentifier('')).toThrow(SqlQuotingError);
    expect(() => quoteLiteral('x'.repeat(11), 10)).toThrow(SqlQuotingError);
  });
});
