/**
 * Issue 16, item 5: the reviewable script stays one identifier or literal per name under SQLCMD's own
 * preprocessing. Each script is run through the documented SQLCMD variable rules (test/helpers/sqlcmd.ts) with
 * canary values for milink's variables, then tokenized; a hostile script must match a benign one token for token,
 * name the hostile value wherever the benign one names the benign value, and carry every canary exactly where
 * the benign script does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLinkRequest } from '../../src/link/request.js';
import { createLink } from '../../src/runbook/operations/create-link.js';
import { buildPlan, renderScript } from '../../src/runbook/plan.js';
import { variables } from '../../src/sql/statements.js';
import { DOLLAR_PAREN } from '../../src/sql/sqlcmd.js';
import { repoRoot } from '../helpers/runbook.js';
import { runSqlcmd, shellWords, SqlcmdError, type SqlcmdRun } from '../helpers/sqlcmd.js';
import { tokenize } from '../helpers/tsql-tokens.js';

const now = new Date('2026-11-22T00:00:00Z');
const example = JSON.parse(readFileSync(join(repoRoot, 'examples/link-request.json'), 'utf8'));

/** Canary values for every variable milink may use; hex ones are hex, as their kind demands. */
const CANARY: Record<string, string> = Object.fromEntries(
  Object.values(variables).map((v) => [
    v.name,
    v.kind === 'binary' ? `0xCA11AB1E${v.name.length.toString(16).padStart(2, '0')}` : `canary-${v.name}`,
  ]),
);

/** `$(` in every way a name can hold it: around each variable milink defines, and unbalanced. */
const NAMES_OF_VARIABLES = [...Object.values(variables).map((v) => v.name), DOLLAR_PAREN.name, 'Undefined'];
const HOSTILE_FORMS = [
  ...NAMES_OF_VARIABLES.flatMap((n) => [`$(${n})`, `Sales$(${n})Db`, `$($(${n}))`, `x$(${n}`]),
  '$(',
  'Sales$(Db',
  '$$((',
  'a$(b c)d',
  "$(MasterKeyPassword)'];--",
];

interface Variant {
  initialPrimary: 'SqlServer' | 'ManagedInstance';
  knownServer: boolean;
}
const VARIANTS: Variant[] = [
  { initialPrimary: 'SqlServer', knownServer: true },
  { initialPrimary: 'SqlServer', knownServer: false },
  { initialPrimary: 'ManagedInstance', knownServer: true },
];

/** The fields whose text reaches the script: where the benign value sits, the hostile one must. */
const FIELDS: Array<{ field: string; benign: string; set: (r: any, v: string) => void }> = [
  { field: 'database', benign: 'BenignDb', set: (r, v) => (r.database = v) },
  { field: 'sqlServer.serverName', benign: 'BenignSrv', set: (r, v) => (r.sqlServer.serverName = v) },
  { field: 'backupPath', benign: 'D:\\BenignPath\\', set: (r, v) => (r.backupPath = `D:\\${v}\\`) },
];

function script(variant: Variant, set: (r: any) => void): string {
  const r = structuredClone(example);
  r.initialPrimary = variant.initialPrimary;
  r.sqlServer.version = 2022;
  if (!variant.knownServer) {
    delete r.sqlServer.serverName;
    delete r.names.certificate;
  }
  set(r);
  return renderScript(buildPlan(createLink, parseLinkRequest(r, now)));
}

function run(text: string): SqlcmdRun {
  return runSqlcmd(text, CANARY);
}

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/** Every string inside an az rest command's URL and JSON body. */
function shellStrings(command: string): string[] {
  const words = shellWords(command);
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  const url = words[words.indexOf('--url') + 1]!;
  out.push(...new URL(url).pathname.split('/').map(decodeURIComponent));
  const body = words.indexOf('--body');
  if (body !== -1) walk(JSON.parse(words[body + 1]!));
  return out;
}

/**
 * The hostile run names `hostile` wherever the benign run names `benign`, and is otherwise the same, token for
 * token and string for string. Returns how many places named it (so a check that found none can fail).
 */
function sameExceptName(
  benignRun: SqlcmdRun,
  hostileRun: SqlcmdRun,
  benign: string,
  hostile: string,
): number {
  let named = 0;
  expect(hostileRun.batches.length).toBe(benignRun.batches.length);
  hostileRun.batches.forEach((batch, b) => {
    const reference = tokenize(benignRun.batches[b]!);
    const tokens = tokenize(batch);
    expect(tokens.map((t) => t.kind)).toEqual(reference.map((t) => t.kind));
    tokens.forEach((t, i) => {
      const r = reference[i]!;
      if (r.value === benign) {
        expect(t.value).toBe(hostile);
        named++;
      } else if (r.value.startsWith(benign) && benign.endsWith('\\')) {
        // a file in the backup folder
        expect(t.value).toBe(hostile + r.value.slice(benign.length));
        named++;
      } else if (!r.value.includes(benign)) expect(t.value).toBe(r.value);
      // else: a name derived from it (AG_…, DAG1_…, a backup file): made valid, checked by the canary counts
    });
    for (const [name, value] of Object.entries(CANARY))
      expect(count(batch, value), `${name} in batch ${b}`).toBe(count(benignRun.batches[b]!, value));
  });
  expect(hostileRun.shell.length).toBe(benignRun.shell.length);
  hostileRun.shell.forEach((command, c) => {
    const reference = shellStrings(benignRun.shell[c]!);
    const strings = shellStrings(command);
    expect(strings.length).toBe(reference.length);
    strings.forEach((s, i) => {
      const r = reference[i]!;
      if (r === benign) {
        expect(s).toBe(hostile);
        named++;
      } else if (!r.includes(benign)) expect(s).toBe(r);
    });
    for (const [name, value] of Object.entries(CANARY))
      expect(count(command, value), `${name} in !! ${c}`).toBe(count(benignRun.shell[c]!, value));
  });
  return named;
}

describe('a name holding $( under SQLCMD preprocessing', () => {
  it('hostile forms cover every variable milink defines', () => {
    expect(HOSTILE_FORMS.length).toBeGreaterThanOrEqual(4 * (Object.keys(variables).length + 2));
  });

  for (const variant of VARIANTS)
    for (const { field, benign, set } of FIELDS) {
      if (field === 'backupPath' && variant.initialPrimary !== 'SqlServer') continue;
      if (field === 'sqlServer.serverName' && !variant.knownServer) continue;
      describe(`${field}, ${variant.initialPrimary} primary, server name ${variant.knownServer ? 'given' : 'read at run time'}`, () => {
        const benignRun = run(script(variant, (r) => set(r, benign.replace(/^D:\\|\\$/g, ''))));
        for (const form of HOSTILE_FORMS)
          it(JSON.stringify(form), () => {
            const value = field === 'backupPath' ? `D:\\${form}\\` : form;
            const text = script(variant, (r) => set(r, form));
            expect(text).toContain(`:setvar ${DOLLAR_PAREN.name} "$("`);
            const hostileRun = run(text);
            const named = sameExceptName(benignRun, hostileRun, benign, value);
            expect(named).toBeGreaterThan(0);
          });
      });
    }

  it('a script without $( in any name is unchanged: no escape variable, no extra line', () => {
    const text = script(VARIANTS[0]!, () => {});
    expect(text).not.toContain(DOLLAR_PAREN.name);
    expect(run(text).batches.length).toBeGreaterThan(10);
  });

  it("milink's own references still take their values (the master key password, the public keys)", () => {
    const { batches, shell } = run(script(VARIANTS[1]!, (r) => (r.database = 'Sales$(MasterKeyPassword)Db')));
    const all = batches.join('\n');
    expect(all).toContain(`PASSWORD = N'${CANARY.MasterKeyPassword}'`);
    // only there: not in a comment of the header, which SQLCMD substitutes and sends with the first batch
    expect(count(all + shell.join('\n'), CANARY.MasterKeyPassword!)).toBe(1);
    expect(all).toContain(`FROM BINARY = ${CANARY.InstancePublicKey}`);
    expect(all).toContain(`CREATE CERTIFICATE [${CANARY.CertificateName}]`);
    expect(all).toContain('[Sales$(MasterKeyPassword)Db]');
    // the trust's URL names the certificate through the variable, and its body carries the public key
    const trust = shell.find((c) => c.includes('serverTrustCertificates'))!;
    expect(trust).toContain(`serverTrustCertificates/${CANARY.CertificateName}?`);
    expect(trust).toContain(CANARY.SqlServerPublicKey);
  });

  it('without the escape the same check fails: the password lands in the database name', () => {
    const text = script(VARIANTS[0]!, (r) => (r.database = 'Sales$(MasterKeyPassword)Db'));
    const unescaped = text
      .split('\n')
      .filter((l) => !l.startsWith(`:setvar ${DOLLAR_PAREN.name}`))
      .join('\n')
      .replaceAll(`$(${DOLLAR_PAREN.name})`, '$(');
    const { batches } = run(unescaped);
    expect(batches.join('\n')).toContain(`[Sales${CANARY.MasterKeyPassword}Db]`);
    expect(() =>
      run(script(VARIANTS[0]!, (r) => (r.database = 'Sales$(Db')).replace(/^:setvar.*$/m, '')),
    ).toThrow(SqlcmdError);
  });
});
