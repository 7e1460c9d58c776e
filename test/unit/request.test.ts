import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../src/link/errors.js';
import { parseLinkRequest } from '../../src/link/request.js';
import { repoRoot } from '../helpers/runbook.js';

const now = new Date('2026-11-22T00:00:00Z');
const example = JSON.parse(readFileSync(join(repoRoot, 'examples/link-request.json'), 'utf8'));

function clone(): any {
  return structuredClone(example);
}

function rejection(input: unknown) {
  try {
    parseLinkRequest(input, now);
  } catch (e) {
    if (e instanceof InvalidRequestError) return e;
    throw e;
  }
  throw new Error('the request was accepted');
}

describe('the link request', () => {
  it('accepts the example and applies defaults', () => {
    const r = parseLinkRequest(example, now);
    expect(r.sqlServer.port).toBe(1433);
    const minimal = clone();
    delete minimal.sqlServer.serverName;
    delete minimal.sqlServer.version;
    delete minimal.sqlServer.tls;
    delete minimal.sqlServer.port;
    delete minimal.sqlServer.endpointPort;
    delete minimal.managedInstance.fqdn;
    delete minimal.backupPath;
    delete minimal.names;
    delete minimal.failoverMode;
    const m = parseLinkRequest(minimal, now);
    expect(m.sqlServer.port).toBe(1433);
    expect(m.sqlServer.endpointPort).toBe(5022);
    expect(m.failoverMode).toBe('None');
  });

  const cases: Array<[string, (r: any) => void, string, RegExp]> = [
    ['unknown top-level field', (r) => (r.password = 'x'), 'password', /unknown field/],
    [
      'unknown nested field',
      (r) => (r.sqlServer.loginPassword = 'x'),
      'sqlServer.loginPassword',
      /unknown field/,
    ],
    ['wrong type', (r) => (r.sqlServer.port = '1433'), 'sqlServer.port', /must be a number/],
    [
      'port out of range',
      (r) => (r.sqlServer.endpointPort = 70000),
      'sqlServer.endpointPort',
      /between 1 and 65535/,
    ],
    ['port zero', (r) => (r.sqlServer.port = 0), 'sqlServer.port', /between 1 and 65535/],
    [
      'instance name with upper case',
      (r) => (r.managedInstance.name = 'MI-Prod'),
      'managedInstance.name',
      /\^\[a-z0-9\]/,
    ],
    [
      'instance name with double hyphen',
      (r) => (r.managedInstance.name = 'mi--prod'),
      'managedInstance.name',
      /a-z0-9/,
    ],
    ['link name with a hyphen', (r) => (r.names.link = 'DAG-1'), 'names.link', /no hyphens/],
    ['link name starting with a digit', (r) => (r.names.link = '1DAG'), 'names.link', /\^\[#a-zA-Z_\]/],
    [
      'certificate name with a backslash',
      (r) => (r.names.certificate = 'Cert_SQL\\INST'),
      'names.certificate',
      /no \\/,
    ],
    [
      'availability group name with a quote',
      (r) => (r.names.availabilityGroup = "AG'x"),
      'names.availabilityGroup',
      /letters, digits/,
    ],
    ['expiry in the past', (r) => (r.certificateExpiry = '2026-01-01'), 'certificateExpiry', /in the future/],
    ['expiry not a date', (r) => (r.certificateExpiry = '2027-02-30'), 'certificateExpiry', /calendar date/],
    [
      'expiry in another format',
      (r) => (r.certificateExpiry = '11/30/2027'),
      'certificateExpiry',
      /YYYY-MM-DD/,
    ],
    [
      'instance primary on SQL Server 2019',
      (r) => {
        r.initialPrimary = 'ManagedInstance';
        r.sqlServer.version = 2019;
      },
      'sqlServer.version',
      /2022 CU10/,
    ],
    [
      'two-way on SQL Server 2019',
      (r) => {
        r.failoverMode = 'Manual';
        r.sqlServer.version = 2019;
      },
      'failoverMode',
      /2022/,
    ],
    [
      'initial primary misspelt',
      (r) => (r.initialPrimary = 'sqlserver'),
      'initialPrimary',
      /"SqlServer" or "ManagedInstance"/,
    ],
    [
      'secret value instead of a name',
      (r) => (r.sqlServer.loginSecret = 'P@ssw0rd!'),
      'sqlServer.loginSecret',
      /secret name/,
    ],
    ['version not supported', (r) => (r.sqlServer.version = 2014), 'sqlServer.version', /one of 2016/],
    [
      'subscription not a GUID',
      (r) => (r.managedInstance.subscriptionId = 'abc'),
      'managedInstance.subscriptionId',
      /GUID/,
    ],
    [
      'fqdn of another instance',
      (r) => (r.managedInstance.fqdn = 'other.1a2b.database.windows.net'),
      'managedInstance.fqdn',
      /start with the instance name/,
    ],
    ['host with a space', (r) => (r.sqlServer.host = 'sql box'), 'sqlServer.host', /DNS name or an IPv4/],
    ['missing field', (r) => delete r.sqlServer.login, 'sqlServer.login', /required/],
    ['empty database', (r) => (r.database = ''), 'database', /empty/],
  ];

  for (const [what, change, target, message] of cases) {
    it(`rejects ${what}, naming ${target}`, () => {
      const r = clone();
      change(r);
      const e = rejection(r);
      const detail = e.details.find((d) => d.target === target);
      expect(detail, JSON.stringify(e.details)).toBeDefined();
      expect(detail!.message).toMatch(message);
      const body = e.toBody();
      expect(body.error.code).toBe('InvalidLinkRequest');
      expect(body.error.details!.length).toBeGreaterThan(0);
    });
  }

  it('rejects a body that is not an object', () => {
    expect(rejection([1, 2]).details[0]!.message).toMatch(/JSON object/);
    expect(rejection('x').details[0]!.message).toMatch(/JSON object/);
  });

  it('reports every problem at once', () => {
    const r = clone();
    r.sqlServer.port = -1;
    r.managedInstance.name = 'BAD';
    r.extra = true;
    const targets = rejection(r).details.map((d) => d.target);
    expect(targets).toEqual(expect.arrayContaining(['sqlServer.port', 'managedInstance.name', 'extra']));
  });
});
