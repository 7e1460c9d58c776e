import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contract, type Contract } from './api-contract.js';
import { demoRequest, startBed, type Bed } from './harness.js';

/**
 * The HTTP API as operators use it, on the local host: 202 with milink's own status URL and Retry-After (no system-key
 * URLs), 404 for unknown ids, the list with its filters, cancellation, and the OpenAPI document — valid OpenAPI 3.1,
 * and every answer here matching it.
 */
describe('the HTTP API', () => {
  let bed: Bed;
  let api: Contract;
  const raw = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${bed.host.baseUrl}${path}`, {
      method,
      headers: { 'x-functions-key': bed.host.functionKey, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      text,
      json: text ? JSON.parse(text) : undefined,
    };
  };
  /** Calls the API and checks the answer against the document (`route` as the document writes the path). */
  const call = async (method: string, path: string, route: string, body?: unknown) => {
    const answer = await raw(method, path, body);
    api.check(method, route, answer.status, answer.json);
    return answer;
  };

  beforeAll(async () => {
    bed = await startBed({ queues: 'azurite-memory' });
    const served = await raw('GET', '/api/openapi.json');
    expect(served.status).toBe(200);
    api = contract(served.json);
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('serves a valid OpenAPI 3.1 document with every route', async () => {
    const { json: document } = await raw('GET', '/api/openapi.json');
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.valid, JSON.stringify(result.errors, null, 2)).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(Object.keys(document.paths).sort()).toEqual(
      expect.arrayContaining([
        '/fleets',
        '/fleets/{instanceId}',
        '/links',
        '/links/drop',
        '/links/drop/plan',
        '/links/failover',
        '/links/migrate',
        '/links/plan',
        '/links/resolve-split-brain',
        '/links/{instanceId}',
        '/openapi.json',
        '/operations/{instanceId}/cancel',
      ]),
    );
    // the request schema is the one the triggers validate with: its required fields and rules are there
    expect(document.components.schemas.LinkRequest.required).toEqual(
      expect.arrayContaining([
        'sqlServer',
        'managedInstance',
        'database',
        'initialPrimary',
        'certificateExpiry',
      ]),
    );
  });

  it('answers unknown and malformed ids with 404 and 400, everywhere', async () => {
    const unknown = 'link-mi-prod-000000000000';
    const got = await call('GET', `/api/links/${unknown}`, '/links/{instanceId}');
    expect(got.status).toBe(404);
    expect(got.json.error).toMatchObject({ code: 'NotFound', target: unknown });
    const cancel = await call('POST', `/api/operations/${unknown}/cancel`, '/operations/{instanceId}/cancel');
    expect(cancel.status).toBe(404);
    const bad = await call('GET', '/api/links/not_an_id', '/links/{instanceId}');
    expect(bad.status).toBe(400);
    expect(bad.json.error.details[0].target).toBe('instanceId');
    const badCancel = await call('POST', '/api/operations/x%20y/cancel', '/operations/{instanceId}/cancel');
    expect(badCancel.status).toBe(400);
  });

  it('refuses a bad request and bad filters with 400 naming the field; nothing starts', async () => {
    const posted = await call('POST', '/api/links', '/links', demoRequest({ database: 'master' }));
    expect(posted.status).toBe(400);
    expect(posted.json.error.details.map((d: { target: string }) => d.target)).toContain('database');
    const filter = await call('GET', '/api/links?state=sleeping&colour=blue', '/links');
    expect(filter.status).toBe(400);
    expect(filter.json.error.details.map((d: { target: string }) => d.target).sort()).toEqual([
      'colour',
      'state',
    ]);
    expect((await call('GET', '/api/links', '/links')).json).toEqual({ value: [], count: 0 });
  });

  it('starts, lists, shows and cancels an operation; no system key in any answer', async () => {
    bed.host.setAutoAdvance(false); // the run stays at its first durable timer (the wait for the link)
    const posted = await call('POST', '/api/links', '/links', demoRequest());
    expect(posted.status, posted.text).toBe(202);
    const id = posted.json.instanceId as string;
    expect(posted.headers.get('location')).toBe(`${bed.host.baseUrl}/api/links/${id}`);
    expect(posted.json.statusUrl).toBe(`${bed.host.baseUrl}/api/links/${id}`);
    expect(Number(posted.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(posted.json).not.toHaveProperty('management');
    expect(posted.text).not.toContain(bed.host.functionKey);
    expect(posted.text).not.toMatch(/runtime\/webhooks|code=/);
    await bed.host.idle();

    const again = await call('POST', '/api/links', '/links', demoRequest());
    expect(again.status).toBe(409);
    expect(again.json.error.target).toBe(id);

    const status = await call('GET', `/api/links/${id}`, '/links/{instanceId}');
    expect(status.json).toMatchObject({ instanceId: id, runtimeStatus: 'Running', current: 'wait-for-link' });
    expect(status.text).not.toContain(bed.host.functionKey);

    const running = await call('GET', '/api/links?state=running&instance=MI-PROD', '/links');
    expect(running.json.value.map((s: { instanceId: string }) => s.instanceId)).toEqual([id]);
    expect(running.json.value[0]).toMatchObject({
      operation: 'createLink',
      link: 'DAG1_SalesDb',
      phase: 'waiting',
    });
    const elsewhere = await call('GET', '/api/links?instance=mi-other', '/links');
    expect(elsewhere.json.count).toBe(0);
    const done = await call('GET', '/api/links?state=Completed,Failed', '/links');
    expect(done.json.count).toBe(0);

    const cancelled = await call('POST', `/api/operations/${id}/cancel`, '/operations/{instanceId}/cancel', {
      reason: 'change freeze',
    });
    expect(cancelled.status, cancelled.text).toBe(202);
    expect(cancelled.json).toMatchObject({
      terminated: [id],
      reason: 'cancelled by an operator: change freeze',
    });
    expect(cancelled.headers.get('location')).toBe(`${bed.host.baseUrl}/api/links/${id}`);
    const after = await call('GET', `/api/links/${id}`, '/links/{instanceId}');
    expect(after.json).toMatchObject({ runtimeStatus: 'Terminated', phase: 'cancelled' });
    expect(after.json.output).toContain('change freeze');
    const twice = await call('POST', `/api/operations/${id}/cancel`, '/operations/{instanceId}/cancel');
    expect(twice.status).toBe(409);
    expect(twice.json.error.code).toBe('OperationNotRunning');
    const badReason = await call('POST', `/api/operations/${id}/cancel`, '/operations/{instanceId}/cancel', {
      reason: 'x',
      force: true,
    });
    expect(badReason.status).toBe(400);
    const terminated = await call('GET', '/api/links?state=terminated', '/links');
    expect(terminated.json.value.map((s: { instanceId: string }) => s.instanceId)).toEqual([id]);

    // a re-run converges from where the cancelled run stopped, and finishes
    bed.host.setAutoAdvance(true);
    const rerun = await call('POST', '/api/links', '/links', demoRequest());
    expect(rerun.status).toBe(202);
    const final = await bed.finish(id);
    api.check('GET', '/links/{instanceId}', 200, final);
    expect(final.runtimeStatus, JSON.stringify(final.error)).toBe('Completed');
    expect(final.phase).toBe('succeeded');
  });

  it('finds the run a queue ticket started', async () => {
    const request = demoRequest();
    await bed.host.queues.send('link-requests', { ticketId: 'CHG-7001', action: 'create', request });
    await bed.host.idle();
    const found = await call('GET', '/api/links?ticket=CHG-7001', '/links');
    expect(found.json.count, JSON.stringify(found.json)).toBe(1);
    expect(found.json.value[0]).toMatchObject({ ticketId: 'CHG-7001', runtimeStatus: 'Completed' });
    const none = await call('GET', '/api/links?ticket=CHG-0000', '/links');
    expect(none.json.count).toBe(0);
  });

  it('plans, offline and live, matching the document', async () => {
    const offline = await call('POST', '/api/links/plan', '/links/plan', { request: demoRequest() });
    expect(offline.status).toBe(200);
    expect(offline.json.script).toContain('BACKUP');
    const live = await call('POST', '/api/links/plan', '/links/plan', { request: demoRequest(), live: true });
    expect(live.status, live.text).toBe(200);
    expect(live.json.live).toBe(true);
    // the link exists now: nothing is left to do
    expect(live.json.steps).toEqual([]);
  });

  it('the check refuses an answer the document does not describe', () => {
    expect(() => api.check('GET', '/links/{instanceId}', 200, { instanceId: 'x' })).toThrow(/does not match/);
    expect(() =>
      api.check('GET', '/links', 200, { value: [], count: 0, nextLink: 'https://example.invalid' }),
    ).toThrow(/does not match/);
    expect(() => api.check('GET', '/links', 404, {})).toThrow(/no JSON answer/);
  });

  it('checked every route of the document against a real answer', () => {
    const routes = new Set([...api.checked].map((k) => k.split(' ').slice(0, 2).join(' ')));
    expect([...routes].sort()).toEqual([
      'GET /links',
      'GET /links/{instanceId}',
      'POST /links',
      'POST /links/plan',
      'POST /operations/{instanceId}/cancel',
    ]);
  });
});
