/**
 * Issue 6, "Done when": canary secret values never appear in any history, status, log line, error or HTTP
 * answer. The estate's Key Vault holds a login password and a master key password made of marker strings (the SQL
 * login's password matches); runs that fail (a login failure, SQL errors in the master-key step, whose batch holds
 * the password — one of them echoing it, as SQL Server's syntax errors quote the text near the error) and a run
 * that succeeds, plus the live plan, are searched everywhere milink writes: orchestration histories (input,
 * output, custom status, every event), every HTTP answer, every log line, the host's state files.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoRequest, demoSpec, startBed, type Bed } from './harness.js';

/** Markers no code or data would hold by chance; the quote and the semicolon test the T-SQL literal path. */
const LOGIN_MARKER = 'QzCanaryLogin7731';
const MASTER_KEY_MARKER = 'QzCanaryMasterKey5519';
const LOGIN_PASSWORD = `${LOGIN_MARKER}!#Ω`;
const MASTER_KEY_PASSWORD = `${MASTER_KEY_MARKER}';--Ж`;
const MARKERS = [LOGIN_MARKER, MASTER_KEY_MARKER];

function spec() {
  const s = demoSpec();
  s.sqlServers[0]!.logins[0]!.password = LOGIN_PASSWORD;
  s.keyVault.secrets['sqlbox1-login'] = LOGIN_PASSWORD;
  s.keyVault.secrets['sqlbox1-master-key'] = MASTER_KEY_PASSWORD;
  return s;
}

let bed: Bed;
/** Every HTTP answer the tests received, as text. */
const answers: string[] = [];
const instanceIds = new Set<string>();
/** Each run's Durable status with its history, read as soon as it ended (a re-run replaces the history). */
const histories: Array<{ id: string; status: unknown }> = [];

beforeAll(async () => {
  bed = await startBed({ spec: spec(), queues: 'azurite-memory' });
});
afterAll(async () => {
  await bed?.close();
});

async function api(method: string, path: string, body?: unknown) {
  const answer = await bed.api(method, path, body);
  answers.push(`${method} ${path} -> ${answer.status}\n${answer.text}`);
  return answer;
}

/** A ticket on the queue link-requests; returns the instance id the trigger logged. */
async function ticket(ticketId: string): Promise<string> {
  await bed.host.queues.send('link-requests', { ticketId, action: 'create', request: demoRequest() });
  await bed.host.idle();
  const started = bed.logs.find((l) => l.includes(`[ticket ${ticketId}] createLink started: `));
  expect(started, bed.logs.join('\n')).toBeDefined();
  return /(link-mi-prod-[0-9a-f]{12})/.exec(started!)![1]!;
}

async function createLink(via: { ticketId: string } | 'http' = 'http'): Promise<any> {
  let id: string;
  if (via === 'http') {
    const posted = await api('POST', '/api/links', demoRequest());
    expect(posted.status, posted.text).toBe(202);
    id = posted.json.instanceId as string;
  } else id = await ticket(via.ticketId);
  instanceIds.add(id);
  await bed.host.client.waitForCompletion(id, { timeoutMs: 60_000 });
  histories.push({ id, status: await bed.host.client.getStatus(id, { showHistory: true }) });
  // the answers a user or a tool would read: milink's status, and the Durable extension's status with history (its
  // management API, which an administrator with the system key reads)
  const status = (await api('GET', `/api/links/${id}`)).json;
  for (const url of [
    `${bed.host.baseUrl}/runtime/webhooks/durabletask/instances/${id}?taskHub=milink&connection=Storage&code=${bed.host.functionKey}`,
  ]) {
    const u = new URL(url);
    u.searchParams.set('showHistory', 'true');
    u.searchParams.set('showHistoryOutput', 'true');
    u.searchParams.set('showInput', 'true');
    answers.push(await (await fetch(u)).text());
  }
  return status;
}

function leaks(where: string, text: string): string[] {
  const found: string[] = [];
  for (const marker of MARKERS)
    if (text.toLowerCase().includes(marker.toLowerCase())) found.push(`${where} holds ${marker}`);
  return found;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('canary secrets never leave the activities', () => {
  it('a login failure (SQL Server holds another password): failed in preflight', async () => {
    const login = bed.estate.sqlServers.get('SQLBOX1')!.state.logins[0]!;
    login.password = 'Another-Passw0rd!';
    try {
      const status = await createLink();
      expect(status.runtimeStatus).toBe('Failed');
      expect(status.failures.map((f: { code: string }) => f.code)).toContain('18456');
    } finally {
      login.password = LOGIN_PASSWORD;
    }
  });

  it('SQL error 15118 in the master-key step: failed there', async () => {
    const faults = bed.estate.sqlServers.get('SQLBOX1')!.faults;
    faults.errorOnText.push({ pattern: 'CREATE MASTER KEY', number: 15118, remaining: 1 });
    const status = await createLink();
    expect(status.runtimeStatus).toBe('Failed');
    expect(status.error.step).toBe('master-key');
    expect(status.error.code).toBe('15118');
  });

  it('a ticket on the queue whose master-key step meets a syntax error quoting the password: failed there, the quote scrubbed', async () => {
    const faults = bed.estate.sqlServers.get('SQLBOX1')!.faults;
    faults.errorOnText.push({
      pattern: 'CREATE MASTER KEY',
      number: 102,
      message: `Incorrect syntax near '${MASTER_KEY_PASSWORD}'.`,
      remaining: 1,
    });
    const status = await createLink({ ticketId: 'CHG-CANARY-1' });
    expect(status.ticketId).toBe('CHG-CANARY-1');
    expect(status.runtimeStatus).toBe('Failed');
    expect(status.error.step).toBe('master-key');
    expect(status.error.code).toBe('102');
    expect(status.error.message).toContain('Incorrect syntax near');
    expect(status.error.message).toContain('***');
  });

  it('a successful run, then the live plan', async () => {
    const status = await createLink();
    expect(status.runtimeStatus, JSON.stringify(status)).toBe('Completed');
    expect(status.output.health.healthy).toBe(true);
    const plan = await api('POST', '/api/links/plan', { request: demoRequest(), live: true });
    expect(plan.status, plan.text).toBe(200);
  });

  it('no history, input, output, custom status, error, log line, HTTP answer or state file holds a canary', async () => {
    const journal = bed.estate.sqlServers.get('SQLBOX1')!.journal;
    // the premise: the values did reach SQL Server (so the search below looks for something real)
    expect(journal.some((e) => e.text.includes(`${MASTER_KEY_MARKER}'';--Ж`))).toBe(true);
    expect(
      journal.filter((e) => /CREATE MASTER KEY/.test(e.text) && e.errorNumbers.length === 0),
    ).toHaveLength(1);
    expect(instanceIds.size).toBeGreaterThan(0);

    const found: string[] = [];
    expect(histories).toHaveLength(4);
    histories.forEach(({ id, status }, i) => {
      expect((status as { history?: unknown[] }).history?.length ?? 0).toBeGreaterThan(3);
      found.push(...leaks(`run ${i} (${id}): history, input, output, custom status`, JSON.stringify(status)));
    });
    // the live plan's own orchestration too
    const plans = answers.filter((a) => a.includes('"live":true'));
    expect(plans).toHaveLength(1);
    const planId = /"instanceId":"([^"]+)"/.exec(plans[0]!)?.[1];
    expect(planId).toBeTruthy();
    found.push(
      ...leaks(
        'the live plan',
        JSON.stringify(await bed.host.client.getStatus(planId!, { showHistory: true })),
      ),
    );
    answers.forEach((a, i) => found.push(...leaks(`HTTP answer ${i}`, a)));
    expect(bed.logs.length).toBeGreaterThan(10);
    bed.logs.forEach((line, i) => found.push(...leaks(`log line ${i}`, line)));
    const files = filesUnder(join(bed.dir, 'host'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files)
      found.push(...leaks(f, readFileSync(f, 'latin1')), ...leaks(f, readFileSync(f, 'utf8')));
    for (const queue of ['link-requests', 'link-requests-poison'])
      found.push(...leaks(`queue ${queue}`, JSON.stringify(await bed.host.queues.peek(queue))));
    expect(found).toEqual([]);
  });
});
