/**
 * The CLI's client of milink's HTTP API (deployed or local): the function key in a header, answers parsed, and every
 * way a call can go wrong turned into an exit code a script can use.
 */

/** Exit codes of `milink` (documented in docs/operations.md). */
export const EXIT = {
  ok: 0,
  /** The operation failed or was cancelled. */
  failed: 1,
  /** Bad usage or a request that breaks a rule (the API's 400), a key the API refuses. */
  usage: 2,
  /** No such operation (404), or nothing matched a list filter that names one run (--ticket). */
  notFound: 3,
  /** The operation is still running, or another one runs on the link (409). */
  inProgress: 4,
  /** The API could not be reached, or answered with a server error. */
  unreachable: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface ApiTarget {
  /** The app's base URL, with or without `/api`. */
  url: string;
  /** The function key (never printed). */
  key?: string;
}

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

/** A call that did not give what the command needed, with the exit code it stands for. */
export class ApiProblem extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'ApiProblem';
  }
}

/** `https://app.example` or `https://app.example/api/` → `https://app.example/api`. */
export function apiBase(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ApiProblem(
      `--url ${url} is not a URL (e.g. https://func-milink.azurewebsites.net)`,
      EXIT.usage,
    );
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new ApiProblem(`--url must be http(s): ${url}`, EXIT.usage);
  const path = parsed.pathname.replace(/\/+$/, '').replace(/\/api$/, '');
  return `${parsed.origin}${path}/api`;
}

/** What an error answer says, in one line: `Code: message (target: message; …)`. */
export function describeError(body: unknown): string {
  const error = (
    body as {
      error?: { code?: string; message?: string; details?: Array<{ target: string; message: string }> };
    }
  )?.error;
  if (!error) return typeof body === 'string' ? body : JSON.stringify(body);
  const details = (error.details ?? []).map((d) => `${d.target || '(request)'}: ${d.message}`);
  return `${error.code ?? 'Error'}: ${details.length > 0 ? details.join('; ') : (error.message ?? '')}`;
}

export class ApiClient {
  readonly base: string;
  constructor(
    target: ApiTarget,
    private readonly fetchImpl: Fetch = fetch,
    private readonly key = target.key,
  ) {
    this.base = apiBase(target.url);
  }

  /** One call; answers 2xx, 400, 404 and 409 come back, the rest become ApiProblems. */
  async call(method: string, path: string, body?: unknown): Promise<Answer> {
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.base}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(this.key ? { 'x-functions-key': this.key } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new ApiProblem(
        `cannot reach ${this.base}: ${cause?.code ?? cause?.message ?? (e as Error).message}`,
        EXIT.unreachable,
      );
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      /* not JSON: kept as text */
    }
    if (response.status === 401 || response.status === 403)
      throw new ApiProblem(
        `${this.base} refused the key (HTTP ${response.status}): give the function key with --key or MILINK_KEY`,
        EXIT.usage,
      );
    if (response.status >= 500)
      throw new ApiProblem(
        `${method} ${path} failed on the server (HTTP ${response.status}): ${describeError(parsed)}`,
        EXIT.unreachable,
        parsed,
      );
    if (![200, 202, 400, 404, 409].includes(response.status))
      throw new ApiProblem(`${method} ${path}: unexpected HTTP ${response.status}`, EXIT.unreachable, parsed);
    return { status: response.status, body: parsed, headers: response.headers };
  }

  /** Like call, but 400/404/409 become ApiProblems with their exit codes. */
  async expect(method: string, path: string, body?: unknown): Promise<Answer> {
    const answer = await this.call(method, path, body);
    if (answer.status === 400) throw new ApiProblem(describeError(answer.body), EXIT.usage, answer.body);
    if (answer.status === 404) throw new ApiProblem(describeError(answer.body), EXIT.notFound, answer.body);
    if (answer.status === 409) throw new ApiProblem(describeError(answer.body), EXIT.inProgress, answer.body);
    return answer;
  }

  create(request: unknown): Promise<Answer> {
    // a request naming databases (or a batch of pairs) is a fleet
    const fleet =
      request !== null && typeof request === 'object' && ('databases' in request || 'batch' in request);
    return this.expect('POST', fleet ? '/fleets' : '/links', request);
  }

  /** An operation on an existing link: drop, failover, migrate, resolve-split-brain. */
  lifecycle(action: string, request: unknown, options: unknown): Promise<Answer> {
    return this.expect('POST', `/links/${encodeURIComponent(action)}`, {
      request,
      ...(options !== undefined ? { options } : {}),
    });
  }

  /** An operation on a SQL Server's certificates: rotate (rotateCertificate) or refresh (refreshInstanceCertificates). */
  certificates(route: 'rotate' | 'refresh', request: unknown, options: unknown): Promise<Answer> {
    return this.expect('POST', `/certificates/${route}`, {
      request,
      ...(options !== undefined ? { options } : {}),
    });
  }

  lifecyclePlan(action: string, request: unknown, options: unknown, live: boolean): Promise<Answer> {
    return this.expect('POST', `/links/${encodeURIComponent(action)}/plan`, {
      request,
      ...(options !== undefined ? { options } : {}),
      ...(live ? { live: true } : {}),
    });
  }

  status(instanceId: string): Promise<Answer> {
    const route = instanceId.startsWith('fleet-') ? 'fleets' : 'links';
    return this.expect('GET', `/${route}/${encodeURIComponent(instanceId)}`);
  }

  list(filter: Record<string, string | undefined>): Promise<Answer> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(filter)) if (v !== undefined) query.set(k, v);
    const qs = query.toString();
    return this.expect('GET', `/links${qs ? `?${qs}` : ''}`);
  }

  cancel(instanceId: string, reason?: string): Promise<Answer> {
    return this.expect(
      'POST',
      `/operations/${encodeURIComponent(instanceId)}/cancel`,
      reason ? { reason } : undefined,
    );
  }

  plan(request: unknown, live: boolean): Promise<Answer> {
    return this.expect('POST', '/links/plan', { request, ...(live ? { live: true } : {}) });
  }
}
