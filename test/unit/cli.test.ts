import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, type CliIo } from '../../src/cli/main.js';
import { repoRoot } from '../helpers/runbook.js';

/**
 * The operator CLI against a fake API: what it sends (URL, key header, body), what it prints, and the exit code a
 * script sees for each answer.
 */
const examplePath = join(repoRoot, 'examples/link-request.json');
const KEY = 'k3y-never-printed';
const ID = 'link-mi-prod-0123456789ab';

interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: unknown;
}

type Reply = { status: number; body?: unknown } | Error;

function fakeApi(replies: Reply[] | ((sent: Sent) => Reply)) {
  const sent: Sent[] = [];
  const queue = Array.isArray(replies) ? [...replies] : undefined;
  const fetch = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const s: Sent = {
      method: init.method ?? 'GET',
      url,
      headers: Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>)),
      ...(init.body !== undefined ? { body: JSON.parse(String(init.body)) } : {}),
    };
    sent.push(s);
    const reply = queue ? queue.shift() : (replies as (s: Sent) => Reply)(s);
    if (!reply) throw new Error(`unexpected call ${s.method} ${url}`);
    if (reply instanceof Error) throw reply;
    return new Response(reply.body === undefined ? '' : JSON.stringify(reply.body), {
      status: reply.status,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { fetch, sent };
}

function io(
  fetch: CliIo['fetch'],
  env: Record<string, string> = { MILINK_URL: 'https://func-milink.example/api/', MILINK_KEY: KEY },
) {
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIo & { stdout: () => string; stderr: () => string } = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    now: () => new Date('2026-11-30T00:00:00Z'),
    env,
    ...(fetch ? { fetch } : {}),
    sleep: async () => undefined,
    stdout: () => out.join('\n'),
    stderr: () => err.join('\n'),
  };
  return cli;
}

const steps = (states: string[]) =>
  ['read-managed-instance', 'prepare-database', 'wait-for-link'].map((id, i) => ({
    id,
    title: `title of ${id}`,
    state: states[i] ?? 'pending',
  }));

const status = (over: Record<string, unknown>) => ({
  instanceId: ID,
  name: 'createLink',
  operation: 'createLink',
  runtimeStatus: 'Running',
  createdTime: '2026-11-30T00:00:00.000Z',
  lastUpdatedTime: '2026-11-30T00:01:00.000Z',
  link: 'DAG1_SalesDb',
  managedInstance: 'mi-prod',
  database: 'SalesDb',
  output: null,
  ...over,
});

const healthy = {
  outcome: 'Succeeded',
  operation: 'createLink',
  link: 'DAG1_SalesDb',
  managedInstance: 'mi-prod',
  database: 'SalesDb',
  health: {
    replicaState: 'Catchup',
    connectedState: 'CONNECTED',
    synchronizationHealth: 'HEALTHY',
    sqlServerConnectedState: 'CONNECTED',
  },
  reports: [],
};

describe('milink create', () => {
  it('posts the request with the az flags applied and the key in a header; prints the id', async () => {
    const api = fakeApi([
      {
        status: 202,
        body: {
          instanceId: ID,
          operation: 'createLink',
          statusUrl: `https://func-milink.example/api/links/${ID}`,
        },
      },
    ]);
    const cli = io(api.fetch);
    const code = await main(
      [
        'create',
        examplePath,
        '--mi',
        'mi-dr',
        '-n',
        'DAG2_SalesDb',
        '--partner-endpoint',
        'TCP://10.1.2.3:5023',
        '--instance-link-role',
        'Secondary',
      ],
      cli,
    );
    expect(code, cli.stderr()).toBe(0);
    expect(api.sent).toHaveLength(1);
    const [post] = api.sent;
    expect(post).toMatchObject({ method: 'POST', url: 'https://func-milink.example/api/links' });
    expect(post!.headers['x-functions-key']).toBe(KEY);
    expect(post!.body).toMatchObject({
      managedInstance: { name: 'mi-dr' },
      names: { link: 'DAG2_SalesDb' },
      sqlServer: { endpointAddress: '10.1.2.3', endpointPort: 5023 },
      initialPrimary: 'SqlServer',
    });
    expect(cli.stdout()).toContain(`createLink started: ${ID}`);
    expect(cli.stdout() + cli.stderr()).not.toContain(KEY);
  });

  it('exits 4 when another operation runs on the link, 2 when the API refuses the request', async () => {
    const busy = io(
      fakeApi([
        {
          status: 409,
          body: {
            error: { code: 'LinkOperationInProgress', message: `createLink … is Running: ${ID}`, target: ID },
          },
        },
      ]).fetch,
    );
    expect(await main(['create', examplePath], busy)).toBe(4);
    expect(busy.stderr()).toContain(ID);
    const bad = io(
      fakeApi([
        {
          status: 400,
          body: {
            error: {
              code: 'InvalidLinkRequest',
              message: '…',
              details: [
                { code: 'InvalidValue', target: 'database', message: 'database cannot be a system database' },
              ],
            },
          },
        },
      ]).fetch,
    );
    expect(await main(['create', examplePath, '--databases', 'master'], bad)).toBe(2);
    expect(bad.stderr()).toContain('database: database cannot be a system database');
  });

  it('--watch follows the run it started to its end', async () => {
    const api = fakeApi([
      { status: 202, body: { instanceId: ID, operation: 'createLink', statusUrl: 'https://x/api/links/x' } },
      { status: 200, body: status({ steps: steps(['current']) }) },
      {
        status: 200,
        body: status({
          runtimeStatus: 'Completed',
          phase: 'succeeded',
          steps: steps(['done', 'done', 'done']),
          output: healthy,
        }),
      },
    ]);
    const cli = io(api.fetch);
    expect(await main(['create', examplePath, '--watch', '--interval', '0'], cli)).toBe(0);
    expect(cli.stdout()).toContain('link DAG1_SalesDb (SalesDb -> mi-prod) is healthy');
  });
});

describe('milink status', () => {
  it('exit code by state: 4 running, 0 completed, 1 failed (with the advice), 3 unknown', async () => {
    const running = io(
      fakeApi([
        {
          status: 200,
          body: status({
            phase: 'waiting',
            current: 'wait-for-link',
            steps: steps(['done', 'done', 'current']),
            progress: {
              replicaState: 'Seeding',
              seedingProgress: '40%',
              connectedState: 'CONNECTED',
              synchronizationHealth: 'NOT_HEALTHY',
              sqlServerConnectedState: 'CONNECTED',
            },
          }),
        },
      ]).fetch,
    );
    expect(await main(['status', ID], running)).toBe(4);
    expect(running.stdout()).toContain(
      'createLink link-mi-prod-0123456789ab: Running (waiting), at wait-for-link',
    );
    expect(running.stdout()).toContain(
      'link: replica Seeding 40%, CONNECTED, NOT_HEALTHY; SQL Server sees CONNECTED',
    );

    const done = io(
      fakeApi([{ status: 200, body: status({ runtimeStatus: 'Completed', output: healthy }) }]).fetch,
    );
    expect(await main(['status', ID], done)).toBe(0);

    const failed = io(
      fakeApi([
        {
          status: 200,
          body: status({
            runtimeStatus: 'Failed',
            phase: 'failed',
            error: {
              step: 'prepare-database',
              target: 'sqlserver',
              code: 'StatementTimeout',
              message: 'the statement did not finish',
              advice: 're-run',
            },
          }),
        },
      ]).fetch,
    );
    expect(await main(['status', ID], failed)).toBe(1);
    expect(failed.stdout()).toContain('failed at prepare-database on sqlserver: StatementTimeout');
    expect(failed.stdout()).toContain('what to do: re-run');

    const unknown = io(
      fakeApi([{ status: 404, body: { error: { code: 'NotFound', message: `no operation ${ID}` } } }]).fetch,
    );
    expect(await main(['status', ID], unknown)).toBe(3);
    expect(unknown.stderr()).toContain('NotFound');
  });

  it('--json prints the API answer as it is', async () => {
    const body = status({});
    const cli = io(fakeApi([{ status: 200, body }]).fetch);
    await main(['status', ID, '--json'], cli);
    expect(JSON.parse(cli.stdout())).toEqual(body);
  });
});

describe('milink watch', () => {
  it('prints each step once as it changes, the progress as it moves, then the outcome', async () => {
    const seeding = (p: string) => ({
      replicaState: 'Seeding',
      seedingProgress: p,
      connectedState: 'CONNECTED',
      synchronizationHealth: 'NOT_HEALTHY',
      sqlServerConnectedState: 'CONNECTED',
    });
    const api = fakeApi([
      { status: 200, body: status({ steps: steps(['current']) }) },
      { status: 200, body: status({ steps: steps(['done', 'current']) }) },
      { status: 200, body: status({ steps: steps(['done', 'done', 'current']), progress: seeding('10%') }) },
      { status: 200, body: status({ steps: steps(['done', 'done', 'current']), progress: seeding('10%') }) },
      { status: 200, body: status({ steps: steps(['done', 'done', 'current']), progress: seeding('90%') }) },
      {
        status: 200,
        body: status({ runtimeStatus: 'Completed', steps: steps(['done', 'done', 'done']), output: healthy }),
      },
    ]);
    const cli = io(api.fetch);
    expect(await main(['watch', ID, '--interval', '0'], cli)).toBe(0);
    const lines = cli.stdout().split('\n');
    expect(lines.filter((l) => l.includes('✔ prepare-database'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('… wait-for-link'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('Seeding 10%'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('Seeding 90%'))).toHaveLength(1);
    expect(lines.indexOf(lines.find((l) => l.includes('Seeding 90%'))!)).toBeLessThan(
      lines.indexOf('link DAG1_SalesDb (SalesDb -> mi-prod) is healthy'),
    );
    expect(api.sent.every((s) => s.url === `https://func-milink.example/api/links/${ID}`)).toBe(true);
  });

  it('exits 1 when the run fails or is cancelled, 4 when the timeout passes first', async () => {
    const cancelled = io(
      fakeApi([
        {
          status: 200,
          body: status({
            runtimeStatus: 'Terminated',
            phase: 'cancelled',
            output: 'cancelled by an operator: freeze',
          }),
        },
      ]).fetch,
    );
    expect(await main(['watch', ID], cancelled)).toBe(1);
    expect(cancelled.stdout()).toContain('the link was not created (Terminated)');
    expect(cancelled.stdout()).toContain('cancelled by an operator: freeze');
    const slow = io(fakeApi(() => ({ status: 200, body: status({}) })).fetch);
    slow.sleep = () => new Promise((r) => setTimeout(r, 5));
    expect(await main(['watch', ID, '--interval', '0', '--timeout', '0.02'], slow)).toBe(4);
  });
});

describe('milink list', () => {
  it('passes the filters as the API names them and prints a table', async () => {
    const api = fakeApi([
      {
        status: 200,
        body: {
          value: [status({ ticketId: 'CHG-1', phase: 'waiting', current: 'wait-for-link' })],
          count: 1,
        },
      },
    ]);
    const cli = io(api.fetch);
    expect(await main(['list', '--ticket', 'CHG-1', '--mi', 'mi-prod', '--state', 'running'], cli)).toBe(0);
    const url = new URL(api.sent[0]!.url);
    expect(url.pathname).toBe('/api/links');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      ticket: 'CHG-1',
      instance: 'mi-prod',
      state: 'running',
    });
    const [header, row] = cli.stdout().split('\n');
    expect(header).toMatch(
      /^ID\s+OPERATION\s+STATE\s+PHASE\s+AT\s+LINK\s+MANAGED INSTANCE\s+DATABASE\s+TICKET\s+CREATED$/,
    );
    expect(row).toMatch(
      new RegExp(
        `^${ID}\\s+createLink\\s+Running\\s+waiting\\s+wait-for-link\\s+DAG1_SalesDb\\s+mi-prod\\s+SalesDb\\s+CHG-1\\s+2026-11-30T00:00:00Z$`,
      ),
    );
  });

  it('exits 3 when no run has the ticket; an empty list without one is fine', async () => {
    const none = io(fakeApi([{ status: 200, body: { value: [], count: 0 } }]).fetch);
    expect(await main(['list', '--ticket', 'CHG-404'], none)).toBe(3);
    const empty = io(fakeApi([{ status: 200, body: { value: [], count: 0 } }]).fetch);
    expect(await main(['list'], empty)).toBe(0);
    expect(empty.stdout()).toBe('no operations');
  });
});

describe('milink cancel', () => {
  it('posts the reason; 0 when asked, 4 when not running, 3 when unknown', async () => {
    const api = fakeApi([
      {
        status: 202,
        body: {
          instanceId: ID,
          terminated: [ID],
          reason: 'cancelled by an operator: freeze',
          statusUrl: 'https://x/api/links/x',
        },
      },
    ]);
    const cli = io(api.fetch);
    expect(await main(['cancel', ID, '--reason', 'freeze'], cli)).toBe(0);
    expect(api.sent[0]).toMatchObject({
      method: 'POST',
      url: `https://func-milink.example/api/operations/${ID}/cancel`,
      body: { reason: 'freeze' },
    });
    const idle = io(
      fakeApi([{ status: 409, body: { error: { code: 'OperationNotRunning', message: 'Completed' } } }])
        .fetch,
    );
    expect(await main(['cancel', ID], idle)).toBe(4);
    const unknown = io(
      fakeApi([{ status: 404, body: { error: { code: 'NotFound', message: 'no operation' } } }]).fetch,
    );
    expect(await main(['cancel', ID], unknown)).toBe(3);
  });
});

describe('milink plan', () => {
  it('--live asks the API for what is still needed', async () => {
    const api = fakeApi([
      {
        status: 200,
        body: {
          live: true,
          instanceId: 'p',
          steps: [{ id: 'create-link', title: 'Create the link', target: 'azure' }],
          done: ['master-key'],
          warnings: [],
          failures: [],
          blocked: [],
        },
      },
    ]);
    const cli = io(api.fetch);
    expect(await main(['plan', examplePath, '--live'], cli)).toBe(0);
    expect(api.sent[0]).toMatchObject({
      method: 'POST',
      url: 'https://func-milink.example/api/links/plan',
      body: { live: true },
    });
    expect((api.sent[0]!.body as { request: { database: string } }).request.database).toBe('SalesDb');
    expect(cli.stdout()).toContain('1 step(s) still needed');
  });

  it('offline needs no API', async () => {
    const cli = io(undefined, {});
    expect(await main(['plan', examplePath], cli)).toBe(0);
    expect(cli.stdout()).toContain('CREATE AVAILABILITY GROUP [DAG1_SalesDb]');
  });
});

describe('exit codes for what goes wrong around the operation', () => {
  it('5 when the API cannot be reached or fails, 2 when it refuses the key', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    const down = io(fakeApi([refused]).fetch);
    expect(await main(['status', ID], down)).toBe(5);
    expect(down.stderr()).toContain('cannot reach https://func-milink.example/api: ECONNREFUSED');
    const failing = io(
      fakeApi([{ status: 500, body: { error: { code: 'InternalError', message: 'see the logs' } } }]).fetch,
    );
    expect(await main(['list'], failing)).toBe(5);
    const key = io(fakeApi([{ status: 401 }]).fetch);
    expect(await main(['list'], key)).toBe(2);
    expect(key.stderr()).toContain('--key or MILINK_KEY');
    expect(key.stderr()).not.toContain(KEY);
  });

  it('2 for usage: no URL, unknown option, bad flag value, missing argument, unknown command', async () => {
    const nothing = fakeApi(() => new Error('no call expected'));
    expect(await main(['status', ID], io(nothing.fetch, {}))).toBe(2);
    expect(await main(['list', '--colour', 'blue'], io(nothing.fetch))).toBe(2);
    expect(await main(['create', examplePath, '--partner-endpoint', '10.0.0.4'], io(nothing.fetch))).toBe(2);
    expect(await main(['create', examplePath, '--instance-link-role', 'Both'], io(nothing.fetch))).toBe(2);
    expect(await main(['cancel'], io(nothing.fetch))).toBe(2);
    expect(await main(['frobnicate'], io(nothing.fetch))).toBe(2);
    expect(await main(['watch', ID, '--interval', 'soon'], io(nothing.fetch))).toBe(2);
    expect(nothing.sent).toHaveLength(0);
  });

  it('--url and --key override the environment; the URL may be given without /api', async () => {
    const api = fakeApi([{ status: 200, body: { value: [], count: 0 } }]);
    await main(['list', '--url', 'http://localhost:7071', '--key', 'other'], io(api.fetch));
    expect(api.sent[0]!.url).toBe('http://localhost:7071/api/links');
    expect(api.sent[0]!.headers['x-functions-key']).toBe('other');
  });
});

describe('operations on an existing link and fleets', () => {
  it('drop posts the request and its options to the drop route and prints the run', async () => {
    const api = fakeApi([
      {
        status: 202,
        body: { instanceId: ID, operation: 'dropLink', statusUrl: `https://x/api/links/${ID}` },
      },
    ]);
    const cli = io(api.fetch);
    expect(await main(['drop', examplePath, '--options', '{"dropAvailabilityGroup":true}'], cli)).toBe(0);
    expect(api.sent[0]).toMatchObject({ method: 'POST', body: { options: { dropAvailabilityGroup: true } } });
    expect(api.sent[0]!.url).toMatch(/\/api\/links\/drop$/);
    expect((api.sent[0]!.body as { request: { database: string } }).request.database).toBeDefined();
    expect(cli.stdout()).toContain(`dropLink started: ${ID}`);
  });

  it('a failover refused because another operation runs on the link exits 4', async () => {
    const api = fakeApi([
      {
        status: 409,
        body: { error: { code: 'LinkOperationInProgress', message: 'createLink runs', target: ID } },
      },
    ]);
    expect(
      await main(['failover', examplePath, '--options', '{"workloadStopped":true}'], io(api.fetch)),
    ).toBe(4);
    expect(api.sent[0]!.url).toMatch(/\/api\/links\/failover$/);
  });

  it('plan --operation drop prints the drop script offline; an unknown operation is a usage error', async () => {
    const cli = io(undefined);
    expect(await main(['plan', examplePath, '--operation', 'drop'], cli)).toBe(0);
    expect(cli.stdout()).toMatch(/milink plan: dropLink/);
    expect(cli.stdout()).toMatch(/DROP AVAILABILITY GROUP \[DAG1_SalesDb\]/);
    expect(await main(['plan', examplePath, '--operation', 'explode'], io(undefined))).toBe(2);
  });

  it('create with a request naming databases starts a fleet, and status follows a fleet id to its route', async () => {
    const api = fakeApi([
      {
        status: 202,
        body: {
          instanceId: 'fleet-0123456789abcdef',
          statusUrl: 'https://x/api/fleets/fleet-0123456789abcdef',
        },
      },
      { status: 200, body: { instanceId: 'fleet-0123456789abcdef', runtimeStatus: 'Running', steps: [] } },
    ]);
    const { readFileSync, writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const request = JSON.parse(readFileSync(examplePath, 'utf8'));
    delete request.database;
    delete request.names;
    const file = join(mkdtempSync(join(tmpdir(), 'milink-cli-')), 'fleet.json');
    writeFileSync(file, JSON.stringify({ ...request, databases: ['SalesDb', 'OrdersDb'] }));
    expect(await main(['create', file], io(api.fetch))).toBe(0);
    expect(api.sent[0]!.url).toMatch(/\/api\/fleets$/);
    expect(await main(['status', 'fleet-0123456789abcdef'], io(api.fetch))).toBe(4);
    expect(api.sent[1]!.url).toMatch(/\/api\/fleets\/fleet-0123456789abcdef$/);
  });
});
