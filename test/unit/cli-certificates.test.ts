/**
 * Issue 17: the operator CLI's certificate verbs against a fake API — what they send and print, and the exit code a
 * script sees (4 while another certificate operation runs on the SQL Server).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, type CliIo } from '../../src/cli/main.js';
import { repoRoot } from '../helpers/runbook.js';

const examplePath = join(repoRoot, 'examples/link-request.json');
const ID = 'cert-sqlbox1-contoso-local-0123456789ab';

function fakeApi(replies: Array<{ status: number; body: unknown }>) {
  const sent: Array<{ method: string; url: string; body?: unknown }> = [];
  const fetch = async (url: string, init: RequestInit = {}): Promise<Response> => {
    sent.push({
      method: init.method ?? 'GET',
      url,
      ...(init.body !== undefined ? { body: JSON.parse(String(init.body)) } : {}),
    });
    const reply = replies.shift();
    if (!reply) throw new Error(`unexpected call ${url}`);
    return new Response(JSON.stringify(reply.body), {
      status: reply.status,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { fetch, sent };
}

function io(fetch: CliIo['fetch']) {
  const out: string[] = [];
  return {
    out: (t: string) => out.push(t),
    err: () => undefined,
    now: () => new Date('2026-11-30T00:00:00Z'),
    env: { MILINK_URL: 'https://func-milink.example/api/', MILINK_KEY: 'k' },
    ...(fetch ? { fetch } : {}),
    sleep: async () => undefined,
    stdout: () => out.join('\n'),
  };
}

describe('milink rotate-certificate and refresh-certificates', () => {
  it('rotate-certificate posts the request and its options to /api/certificates/rotate', async () => {
    const api = fakeApi([
      {
        status: 202,
        body: { instanceId: ID, operation: 'rotateCertificate', statusUrl: `https://x/api/links/${ID}` },
      },
    ]);
    const cli = io(api.fetch);
    expect(await main(['rotate-certificate', examplePath, '--options', '{"expiry":"2028-06-30"}'], cli)).toBe(
      0,
    );
    expect(api.sent[0]).toMatchObject({ method: 'POST', body: { options: { expiry: '2028-06-30' } } });
    expect(api.sent[0]!.url).toBe('https://func-milink.example/api/certificates/rotate');
    expect(cli.stdout()).toContain(`rotateCertificate started: ${ID}`);
  });

  it('refresh-certificates posts to /api/certificates/refresh; a 409 (one already runs) exits 4', async () => {
    const api = fakeApi([
      {
        status: 409,
        body: { error: { code: 'ServerOperationInProgress', message: 'rotateCertificate runs', target: ID } },
      },
    ]);
    expect(await main(['refresh-certificates', examplePath], io(api.fetch))).toBe(4);
    expect(api.sent[0]!.url).toBe('https://func-milink.example/api/certificates/refresh');
  });
});
