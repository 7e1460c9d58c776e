/**
 * Issue 16, item 4, end to end: a SQL Server error that echoes a secret in any of the forms it can take — as
 * given, with `'` doubled inside `N'…'`, JSON-escaped, cut short, as hex (UTF-8 and UTF-16LE, as nvarchar bytes)
 * and as base64 — leaves no trace of it in any HTTP answer, status, orchestration history, log line or state
 * file. The canaries hold `'`, `"`, `\` and non-ASCII characters, and one is long. The login password is echoed
 * by the first query preflight sends, the master key password by the master-key step's batch.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { minimumPrefixLength } from '../../src/link/redact.js';
import { demoRequest, demoSpec, startBed, type Bed } from './harness.js';

const LOGIN_PASSWORD = `QzLoginCanary'"\\Ωж-3381`;
const MASTER_KEY_PASSWORD = `QzMasterKeyCanary'"\\Жü€-${'k7Vq2Lm9Xr4Tz8Pw'.repeat(6)}`;

/** The forms a fault echoes: each is the part of the message that encodes the secret. */
const FORMS: Record<string, (s: string) => string> = {
  'as given': (s) => s,
  "' doubled inside N'…'": (s) => `N'${s.replace(/'/g, "''")}'`,
  'JSON-escaped': (s) => JSON.stringify(s).slice(1, -1),
  'cut short': (s) => [...s].slice(0, Math.max(minimumPrefixLength([...s].length), 12)).join(''),
  'hex of UTF-8 (0x…)': (s) => `0x${Buffer.from(s, 'utf8').toString('hex').toUpperCase()}`,
  'hex of UTF-16LE (nvarchar)': (s) => Buffer.from(s, 'utf16le').toString('hex'),
  base64: (s) => Buffer.from(s, 'utf8').toString('base64'),
};

const SECRETS = [
  { name: 'login password', value: LOGIN_PASSWORD, statement: 'IS_SRVROLEMEMBER', step: 'preflight' },
  {
    name: 'master key password',
    value: MASTER_KEY_PASSWORD,
    statement: 'CREATE MASTER KEY',
    step: 'master-key',
  },
];

/** Windows of this many characters of an echoed form are evidence of it. */
const WINDOW = 10;

function windows(text: string): string[] {
  const out = new Set<string>();
  for (let i = 0; i + WINDOW <= text.length; i++) out.add(text.slice(i, i + WINDOW));
  return [...out];
}

/** What must not be found anywhere: windows of every echoed form and of the plain secrets. */
const evidence: Array<{ what: string; piece: string }> = [];
for (const secret of SECRETS) {
  for (const piece of windows(secret.value)) evidence.push({ what: `${secret.name} as given`, piece });
  for (const [form, encode] of Object.entries(FORMS))
    for (const piece of windows(encode(secret.value)))
      evidence.push({ what: `${secret.name} ${form}`, piece });
}

function leaks(where: string, text: string): string[] {
  const found = new Set<string>();
  for (const e of evidence) if (text.includes(e.piece)) found.add(`${where} holds ${e.what}`);
  return [...found];
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

let bed: Bed;
const answers: string[] = [];
const histories: Array<{ label: string; status: unknown }> = [];

beforeAll(async () => {
  const spec = demoSpec();
  spec.sqlServers[0]!.logins[0]!.password = LOGIN_PASSWORD;
  spec.keyVault.secrets['sqlbox1-login'] = LOGIN_PASSWORD;
  spec.keyVault.secrets['sqlbox1-master-key'] = MASTER_KEY_PASSWORD;
  bed = await startBed({ spec });
});
afterAll(async () => {
  await bed?.close();
});

async function api(method: string, path: string, body?: unknown) {
  const answer = await bed.api(method, path, body);
  answers.push(`${method} ${path} -> ${answer.status}\n${answer.text}`);
  return answer;
}

describe('a fault echoing a secret in any form leaves no trace of it', () => {
  for (const secret of SECRETS)
    for (const [form, encode] of Object.entries(FORMS))
      it(`${secret.name}, ${form}: the run fails at ${secret.step} with the echo masked`, async () => {
        const echoed = encode(secret.value);
        bed.estate.sqlServers.get('SQLBOX1')!.faults.errorOnText.push({
          pattern: secret.statement,
          number: 102,
          message: `Incorrect syntax near ${echoed}.`,
          remaining: 1,
        });
        const posted = await api('POST', '/api/links', demoRequest());
        expect(posted.status, posted.text).toBe(202);
        const id = posted.json.instanceId as string;
        await bed.host.client.waitForCompletion(id, { timeoutMs: 60_000 });
        histories.push({
          label: `${secret.name}, ${form}`,
          status: await bed.host.client.getStatus(id, { showHistory: true }),
        });
        const status = (await api('GET', `/api/links/${id}`)).json;
        const management = new URL(
          `${bed.host.baseUrl}/runtime/webhooks/durabletask/instances/${id}?code=${bed.host.functionKey}`,
        );
        for (const p of ['showHistory', 'showHistoryOutput', 'showInput'])
          management.searchParams.set(p, 'true');
        answers.push(await (await fetch(management)).text());

        expect(status.runtimeStatus).toBe('Failed');
        expect(status.error.step).toBe(secret.step);
        // the premise: the fault fired and its message reached the status, the secret masked in it
        const messages = JSON.stringify([status.error, status.failures ?? []]);
        expect(messages).toContain('Incorrect syntax near');
        expect(messages).toContain('***');
      });

  it('no answer, status, history, log line or state file holds any form of either secret', () => {
    expect(histories).toHaveLength(SECRETS.length * Object.keys(FORMS).length);
    const found: string[] = [];
    for (const { label, status } of histories) {
      expect((status as { history?: unknown[] }).history?.length ?? 0).toBeGreaterThan(2);
      found.push(...leaks(`history of the run (${label})`, JSON.stringify(status)));
    }
    answers.forEach((a, i) => found.push(...leaks(`HTTP answer ${i}`, a)));
    expect(bed.logs.length).toBeGreaterThan(10);
    bed.logs.forEach((line, i) => found.push(...leaks(`log line ${i}`, line)));
    const files = filesUnder(join(bed.dir, 'host'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) found.push(...leaks(f, readFileSync(f, 'utf8')));
    expect(found).toEqual([]);
  });

  it('the search finds what it looks for (a leak is reported)', () => {
    for (const secret of SECRETS)
      for (const encode of Object.values(FORMS))
        expect(leaks('a planted line', `error: ${encode(secret.value)}`)).not.toEqual([]);
  });
});
