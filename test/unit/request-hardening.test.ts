/**
 * Issue 16, item 1: the request schema refuses, naming field and rule, whole classes of hostile input. The cases
 * are generated: the string fields come from walking the schema itself, so a field added later is covered by
 * every class it belongs to without touching this file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { InvalidRequestError, type ErrorDetail } from '../../src/link/errors.js';
import { linkRequestSchema, parseLinkRequest } from '../../src/link/request.js';
import { repoRoot } from '../helpers/runbook.js';

const now = new Date('2026-11-22T00:00:00Z');
const example = JSON.parse(readFileSync(join(repoRoot, 'examples/link-request.json'), 'utf8'));

interface StringField {
  path: string[];
  kind: 'string' | 'enum';
}

/** Every string-valued field of the schema (through optional and default wrappers), with its path. */
function stringFields(schema: z.core.$ZodType, path: string[] = []): StringField[] {
  const def = schema._zod.def as unknown as {
    type: string;
    innerType?: z.core.$ZodType;
    shape?: Record<string, z.core.$ZodType>;
  };
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'nullable':
      return stringFields(def.innerType!, path);
    case 'object':
      return Object.entries(def.shape!).flatMap(([key, s]) => stringFields(s, [...path, key]));
    case 'string':
      return [{ path, kind: 'string' }];
    case 'enum':
      return [{ path, kind: 'enum' }];
    default:
      return [];
  }
}

const FIELDS = stringFields(linkRequestSchema);
const name = (f: StringField) => f.path.join('.');
/** Fields that name something: every free string but the date. */
const NAMING = FIELDS.filter((f) => f.kind === 'string' && name(f) !== 'certificateExpiry');
const HOSTS = ['sqlServer.host', 'sqlServer.endpointAddress'];

function getAt(obj: any, path: string[]): any {
  return path.reduce((o, k) => o[k], obj);
}
function withValue(path: string[], value: unknown): any {
  const r = structuredClone(example);
  const parent = getAt(r, path.slice(0, -1));
  parent[path.at(-1)!] = value;
  return r;
}
function details(input: unknown): ErrorDetail[] | undefined {
  try {
    parseLinkRequest(input, now);
    return undefined;
  } catch (e) {
    if (e instanceof InvalidRequestError) return e.details;
    throw e;
  }
}
function refusedNaming(input: unknown, target: string): ErrorDetail[] {
  const found = details(input);
  expect(found, `accepted: ${target}`).toBeDefined();
  const mine = found!.filter((d) => d.target === target);
  expect(mine, JSON.stringify(found)).not.toHaveLength(0);
  for (const d of mine) expect(d.message).toContain(target);
  return mine;
}

describe('the schema walk', () => {
  it('finds every string field the example fills, and the example passes', () => {
    expect(parseLinkRequest(example, now)).toBeDefined();
    // A walk that found nothing would make every class below vacuous.
    expect(FIELDS.length).toBeGreaterThanOrEqual(17);
    for (const f of FIELDS) expect(typeof getAt(example, f.path), name(f)).toBe('string');
    expect(NAMING.map(name)).toEqual(expect.arrayContaining([...HOSTS, 'sqlServer.login', 'database']));
  });
});

// ------------------------------------------------------------------ class 1: text that is not UTF-16

/** Ways a string stops being well-formed UTF-16, applied to a field's valid value. */
const SURROGATE_BREAKS: Array<[string, (v: string) => string]> = [
  ['a lone high surrogate at the end', (v) => `${v}\uD83D`],
  ['a lone low surrogate at the start', (v) => `\uDE00${v}`],
  ['a reversed pair in the middle', (v) => `${v.slice(0, 1)}\uDE00\uD83D${v.slice(1)}`],
  ['a high surrogate followed by a letter', (v) => `\uD800x${v}`],
];

describe('strings that are not well-formed UTF-16 are refused in every string field', () => {
  for (const field of FIELDS)
    for (const [how, breakIt] of SURROGATE_BREAKS)
      it(`${name(field)}: ${how}`, () => {
        const bad = breakIt(getAt(example, field.path));
        const mine = refusedNaming(withValue(field.path, bad), name(field));
        expect(mine.map((d) => d.code)).toEqual(['InvalidUnicode']);
        expect(mine[0]!.message).toMatch(/well-formed Unicode/);
      });

  it('also in a field the schema does not know, next to other problems', () => {
    const r = structuredClone(example);
    r.sqlServer.extra = 'x\uDC00';
    r.sqlServer.port = 0;
    const found = details(r)!;
    expect(found.find((d) => d.target === 'sqlServer.extra')?.code).toBe('InvalidUnicode');
    expect(found.find((d) => d.target === 'sqlServer.port')?.message).toMatch(/between 1 and 65535/);
  });

  it('keeps well-formed pairs: characters outside the BMP are text', () => {
    for (const path of [['database'], ['sqlServer', 'login'], ['sqlServer', 'serverName'], ['backupPath']])
      expect(details(withValue(path, `Sales\u{1F600}\u{20BB7}`)), path.join('.')).toBeUndefined();
  });
});

// ------------------------------------------------------------------ class 2: control characters in names

/** Every control character (Unicode Cc): C0, DEL, C1. */
const CONTROLS = [
  ...Array.from({ length: 0x20 }, (_, i) => i),
  ...Array.from({ length: 0x21 }, (_, i) => 0x7f + i),
].map((c) => String.fromCharCode(c));

describe('control characters are refused in every field that names something', () => {
  it('covers the 65 Cc characters', () => expect(CONTROLS).toHaveLength(65));
  for (const field of NAMING)
    it(`${name(field)}: each of the 65 control characters, at the start, middle and end`, () => {
      const value: string = getAt(example, field.path);
      for (const c of CONTROLS) {
        const code = `U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
        for (const bad of [`${c}${value}`, `${value.slice(0, 1)}${c}${value.slice(1)}`, `${value}${c}`]) {
          const mine = refusedNaming(withValue(field.path, bad), name(field));
          expect(
            mine.some((d) => /control characters/.test(d.message)),
            `${name(field)} with ${code}: ${JSON.stringify(mine)}`,
          ).toBe(true);
        }
      }
    });
});

describe('database keeps every other character SQL Server allows in a delimited name', () => {
  const printable = Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i));
  const beyond = ['é', 'ß', '日', '\u0301', '\u00a0', '\u200b', '\ufeff', '\u2028', '\u{1F600}', '\uFFFD'];
  for (const c of [...printable, ...beyond])
    it(`database with ${JSON.stringify(c)} inside`, () => {
      expect(details(withValue(['database'], `Sales${c}Db`))).toBeUndefined();
    });
});

// ------------------------------------------------------------------ class 3: hosts and addresses

const label63 = 'a'.repeat(63);
const BAD_HOSTS: Array<[string, string]> = [
  ...[256, 300, 999, 1000].map((n): [string, string] => [`an octet of ${n}`, `10.0.0.${n}`]),
  ['every octet over 255', '999.999.999.999'],
  ['a leading zero', '10.0.0.010'],
  ['three parts', '10.0.4'],
  ['five parts', '10.0.0.4.5'],
  ['an empty part', '10..0.4'],
  ['a negative part', '10.0.0.-4'],
  ['a numeric top label', 'sqlbox1.123'],
  ['a label of 64 characters', `${'a'.repeat(64)}.contoso.local`],
  ['254 characters in all', `${label63}.${label63}.${label63}.${'a'.repeat(62)}`],
  ['a leading hyphen', '-sqlbox.contoso.local'],
  ['a trailing hyphen in a label', 'sqlbox-.contoso.local'],
  ['an underscore', 'sql_box.contoso.local'],
  ['a space', 'sql box'],
  ['a port', 'sqlbox1:1433'],
  ['a URL', 'tcp://sqlbox1'],
  ['an empty name', ''],
  ['a trailing dot pair', 'sqlbox..local'],
  ['an IPv6 zone', 'fe80::1%eth0'],
  ['two ::', '2001:db8::1::2'],
  ['a group of five digits', '2001:db8::12345'],
  ['an IPv6 in brackets', '[::1]'],
  ['a non-ASCII name', 'sqlbøx.contoso.local'],
];
const GOOD_HOSTS = [
  '10.0.0.4',
  '0.0.0.0',
  '255.255.255.255',
  '::1',
  'fe80::1',
  '2001:db8::8a2e:370:7334',
  '::ffff:10.0.0.4',
  'sqlbox1',
  '3com.contoso.local',
  `${label63}.${label63}.${label63}.${'a'.repeat(61)}`,
  'xn--sqlbx-gra.contoso.local',
];

describe('hosts that are neither RFC 1123 names nor IPv4/IPv6 literals are refused', () => {
  for (const host of HOSTS) {
    for (const [what, value] of BAD_HOSTS)
      it(`${host}: ${what} (${JSON.stringify(value).slice(0, 40)})`, () => {
        const mine = refusedNaming(withValue(host.split('.'), value), host);
        expect(mine.some((d) => /DNS name or an IPv4 or IPv6 address/.test(d.message))).toBe(true);
      });
    it(`${host}: accepts names and literals at the rules' edges`, () => {
      for (const value of GOOD_HOSTS)
        expect(details(withValue(host.split('.'), value)), value).toBeUndefined();
    });
  }

  it('managedInstance.fqdn follows the same name rule (an address is no FQDN)', () => {
    for (const [, value] of BAD_HOSTS.filter(([, v]) => !v.includes(':') && v !== ''))
      refusedNaming(withValue(['managedInstance', 'fqdn'], `mi-prod.${value}`), 'managedInstance.fqdn');
    expect(details(withValue(['managedInstance', 'fqdn'], 'mi-prod.10.0.0.4'))).toBeDefined();
  });
});
