/**
 * HTTP: the app's routes (under /api, with function keys) and the Durable extension's HTTP API, both the
 * webhook URLs that `createCheckStatusResponse` hands out (/runtime/webhooks/durabletask/...) and the RPC
 * base URL that durable-functions 3.x's DurableClient calls (/durabletask/...).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpRequest, HttpResponse, invocationContextFor, type InvocationContext } from './sdk.js';
import type { Registration } from './capture.js';
import { DuplicateInstanceError, type Engine, type Status } from './engine.js';

export interface DurableClientBinding {
  taskHubName: string;
  creationUrls: Record<string, string>;
  managementUrls: Record<string, string>;
  baseUrl: string;
  requiredQueryStringParameters: string;
  rpcBaseUrl: string;
  httpBaseUrl: string;
}

export function durableClientBinding(baseUrl: string, hub: string, key: string): DurableClientBinding {
  const wh = `${baseUrl}/runtime/webhooks/durabletask`;
  const qs = `taskHub=${hub}&connection=Storage&code=${key}`;
  return {
    taskHubName: hub,
    creationUrls: {
      createNewInstancePostUri: `${wh}/orchestrators/{functionName}[/{instanceId}]?code=${key}`,
      createAndWaitOnNewInstancePostUri: `${wh}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&code=${key}`,
    },
    managementUrls: {
      id: 'INSTANCEID',
      statusQueryGetUri: `${wh}/instances/INSTANCEID?${qs}`,
      sendEventPostUri: `${wh}/instances/INSTANCEID/raiseEvent/{eventName}?${qs}`,
      terminatePostUri: `${wh}/instances/INSTANCEID/terminate?reason={text}&${qs}`,
      rewindPostUri: `${wh}/instances/INSTANCEID/rewind?reason={text}&${qs}`,
      purgeHistoryDeleteUri: `${wh}/instances/INSTANCEID?${qs}`,
      restartPostUri: `${wh}/instances/INSTANCEID/restart?${qs}`,
      suspendPostUri: `${wh}/instances/INSTANCEID/suspend?reason={text}&${qs}`,
      resumePostUri: `${wh}/instances/INSTANCEID/resume?reason={text}&${qs}`,
    },
    baseUrl: wh,
    requiredQueryStringParameters: `code=${key}`,
    rpcBaseUrl: `${baseUrl}/durabletask/`,
    httpBaseUrl: wh,
  };
}

/** Sets the durable client binding on a context for every durableClient extra input. */
export function bindDurableClient(
  reg: Registration,
  context: InvocationContext,
  binding: DurableClientBinding,
): void {
  for (const input of reg.extraInputs) {
    if (input.type === 'durableClient' || input.type === 'orchestrationClient')
      context.extraInputs.set(input.name, binding);
  }
}

interface Route {
  reg: Registration;
  methods: string[] | undefined;
  segments: string[];
}

function compileRoute(reg: Registration): Route {
  const route = typeof reg.trigger.route === 'string' ? reg.trigger.route : reg.name;
  const methods = Array.isArray(reg.trigger.methods)
    ? (reg.trigger.methods as string[]).map((m) => m.toUpperCase())
    : undefined;
  return { reg, methods, segments: route.replace(/^\/+|\/+$/g, '').split('/') };
}

function matchRoute(route: Route, parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < route.segments.length; i++) {
    const seg = route.segments[i]!;
    const part = parts[i];
    const m = /^\{(\*)?([A-Za-z0-9_]+)(?::[^}?]+)?(\?)?\}$/.exec(seg);
    if (m) {
      const [, star, name, optional] = m;
      if (star) {
        params[name!] = parts.slice(i).join('/');
        return params;
      }
      if (part === undefined || part === '') {
        if (optional) continue;
        return undefined;
      }
      params[name!] = decodeURIComponent(part);
    } else if (part === undefined || part.toLowerCase() !== seg.toLowerCase()) {
      return undefined;
    }
  }
  return parts.length <= route.segments.length ? params : undefined;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(
  res: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): void {
  if (body === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers }).end(text);
}

export interface HttpContext {
  engine: Engine;
  registrations: Registration[];
  functionKey: string;
  hubName: string;
  baseUrl: () => string;
  log: (line: string) => void;
}

function statusJson(s: Status): Record<string, unknown> {
  const { history, ...rest } = s;
  return history ? { ...rest, historyEvents: history } : rest;
}

export function createRequestHandler(ctx: HttpContext): (req: IncomingMessage, res: ServerResponse) => void {
  const routes = ctx.registrations.filter((r) => r.kind === 'http').map(compileRoute);
  return (req, res) => {
    void ctx.engine
      .track(() => handle(req, res))
      .catch((err: unknown) => {
        ctx.log(`http error: ${(err as Error).stack ?? String(err)}`);
        if (!res.headersSent)
          send(res, 500, { error: { code: 'InternalError', message: (err as Error).message } });
      });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', ctx.baseUrl());
    const path = url.pathname;
    if (path.startsWith('/runtime/webhooks/durabletask/')) {
      const code = url.searchParams.get('code') ?? req.headers['x-functions-key'];
      if (code !== ctx.functionKey) return send(res, 401);
      return durableApi(req, res, url, path.slice('/runtime/webhooks/durabletask/'.length));
    }
    if (path.startsWith('/durabletask/'))
      return durableApi(req, res, url, path.slice('/durabletask/'.length));
    if (path === '/admin/host/status') return send(res, 200, { state: 'Running' });
    if (!path.startsWith('/api/') && path !== '/api') return send(res, 404);
    const parts = path
      .slice('/api/'.length)
      .split('/')
      .filter((p, i, all) => p !== '' || i < all.length - 1);
    const method = (req.method ?? 'GET').toUpperCase();
    let matched: { route: Route; params: Record<string, string> } | undefined;
    let methodMismatch = false;
    for (const route of routes) {
      const params = matchRoute(route, parts);
      if (!params) continue;
      if (route.methods && !route.methods.includes(method)) {
        methodMismatch = true;
        continue;
      }
      matched = { route, params };
      break;
    }
    if (!matched) return send(res, methodMismatch ? 405 : 404);
    const reg = matched.route.reg;
    const authLevel = String(reg.trigger.authLevel ?? 'function').toLowerCase();
    if (authLevel !== 'anonymous') {
      const code = req.headers['x-functions-key'] ?? url.searchParams.get('code');
      if (code !== ctx.functionKey) return send(res, 401);
    }
    const body = await readBody(req);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const request = new HttpRequest({
      method,
      url: url.href,
      headers,
      query,
      params: matched.params,
      ...(body.length > 0 ? { body: { bytes: new Uint8Array(body) } } : {}),
    });
    const context = invocationContextFor(reg, reg.name, (line) => ctx.log(line));
    bindDurableClient(reg, context, durableClientBinding(ctx.baseUrl(), ctx.hubName, ctx.functionKey));
    const result = await reg.handler(request, context);
    if (result === undefined || result === null) return send(res, 204);
    const response = result instanceof HttpResponse ? result : new HttpResponse(result as never);
    const outHeaders: Record<string, string> = {};
    response.headers.forEach((v, k) => (outHeaders[k] = v));
    const bytes = Buffer.from(await response.arrayBuffer());
    res.writeHead(response.status ?? 200, outHeaders).end(bytes);
  }

  /**
   * The instances query as the extension answers it: `runtimeStatus` (comma-separated, any case), `createdTimeFrom`
   * and `createdTimeTo` (ISO times, inclusive) filter; `instanceIdPrefix` too. Everything fits one page here.
   */
  function listed(query: URLSearchParams): Status[] {
    const states = query
      .get('runtimeStatus')
      ?.split(',')
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== '');
    const from = query.get('createdTimeFrom');
    const to = query.get('createdTimeTo');
    const prefix = query.get('instanceIdPrefix');
    return ctx.engine
      .listStatuses()
      .filter(
        (s) =>
          (!states?.length || states.includes(s.runtimeStatus.toLowerCase())) &&
          (!from || Date.parse(s.createdTime) >= Date.parse(from)) &&
          (!to || Date.parse(s.createdTime) <= Date.parse(to)) &&
          (!prefix || s.instanceId.startsWith(prefix)),
      );
  }

  async function durableApi(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    rest: string,
  ): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const parts = rest.split('/').map(decodeURIComponent);
    const binding = durableClientBinding(ctx.baseUrl(), ctx.hubName, ctx.functionKey);
    const payload = (id: string): Record<string, string> => {
      const p: Record<string, string> = {};
      for (const [k, v] of Object.entries(binding.managementUrls)) p[k] = v.replaceAll('INSTANCEID', id);
      return p;
    };
    if (parts[0] === 'orchestrators' && parts[1] && method === 'POST') {
      const body = (await readBody(req)).toString('utf8');
      const input = body.trim() === '' ? undefined : (JSON.parse(body) as unknown);
      try {
        const id = ctx.engine.startNew(parts[1], parts[2] || undefined, input);
        const p = payload(id);
        return send(res, 202, p, { Location: p.statusQueryGetUri! });
      } catch (err) {
        if (err instanceof DuplicateInstanceError) return send(res, 409, { message: err.message });
        return send(res, 400, { message: (err as Error).message });
      }
    }
    if (parts[0] !== 'instances') return send(res, 404);
    const id = parts[1];
    if (!id) {
      if (method === 'GET') return send(res, 200, listed(url.searchParams).map(statusJson));
      return send(res, 404);
    }
    if (parts.length === 2 && method === 'GET') {
      const s = ctx.engine.getStatus(id, url.searchParams.get('showHistory') === 'true');
      if (!s) return send(res, 404);
      const running = s.runtimeStatus === 'Running' || s.runtimeStatus === 'Pending';
      const failedAs500 =
        s.runtimeStatus === 'Failed' && url.searchParams.get('returnInternalServerErrorOnFailure') === 'true';
      return send(
        res,
        running ? 202 : failedAs500 ? 500 : 200,
        statusJson(s),
        running ? { Location: url.href, 'Retry-After': '10' } : {},
      );
    }
    if (parts.length === 2 && method === 'DELETE') {
      const n = ctx.engine.purge(id);
      return n > 0 ? send(res, 200, { instancesDeleted: n }) : send(res, 404);
    }
    if (parts[2] === 'raiseEvent' && parts[3] && method === 'POST') {
      const body = (await readBody(req)).toString('utf8');
      const data = body.trim() === '' ? undefined : (JSON.parse(body) as unknown);
      const r = ctx.engine.raiseEvent(id, parts[3], data);
      return send(res, r === 'ok' ? 202 : r === 'gone' ? 410 : 404);
    }
    if (parts[2] === 'terminate' && method === 'POST') {
      const r = ctx.engine.terminate(id, url.searchParams.get('reason') ?? '');
      return send(res, r === 'ok' ? 202 : r === 'gone' ? 410 : 404);
    }
    return send(res, 404);
  }
}
