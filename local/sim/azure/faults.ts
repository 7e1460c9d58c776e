/**
 * Fault injection for the HTTPS stand-ins (ARM and Key Vault): latency, throttling (429 + Retry-After),
 * server errors (5xx) and dropped connections, each optionally limited to a method and a path pattern and
 * to a number of requests.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface FaultMatch {
  /** HTTP method, case-insensitive; any when absent. */
  method?: string;
  /** A substring of the path (without the query) or a regular expression tested against it. */
  path?: string | RegExp;
}

export type FaultRule = FaultMatch &
  (
    | { kind: 'latency'; ms: number }
    | { kind: 'throttle'; retryAfterSeconds: number }
    | { kind: 'error'; status: number; code?: string }
    | { kind: 'drop' }
  ) & {
    /** How many matching requests this rule affects; unlimited when absent. */
    times?: number;
  };

interface ActiveRule {
  rule: FaultRule;
  remaining: number;
}

export interface InjectedFault {
  kind: FaultRule['kind'];
  method: string;
  path: string;
}

export class FaultInjector {
  private rules: ActiveRule[] = [];
  /** Every fault injected so far, in order (tests read it). */
  readonly injected: InjectedFault[] = [];

  /** Adds a rule; returns a function that removes it. */
  add(rule: FaultRule): () => void {
    const active: ActiveRule = { rule, remaining: rule.times ?? Number.POSITIVE_INFINITY };
    this.rules.push(active);
    return () => {
      this.rules = this.rules.filter((r) => r !== active);
    };
  }

  /** Adds `ms` of latency to every matching request (or the next `times`). */
  latency(ms: number, match: FaultMatch & { times?: number } = {}): () => void {
    return this.add({ ...match, kind: 'latency', ms });
  }

  /** Answers the next `times` matching requests with 429 and Retry-After. */
  throttle(times: number, retryAfterSeconds = 1, match: FaultMatch = {}): () => void {
    return this.add({ ...match, kind: 'throttle', retryAfterSeconds, times });
  }

  /** Answers the next `times` matching requests with a server error (500 by default). */
  fail(times: number, status = 500, match: FaultMatch & { code?: string } = {}): () => void {
    return this.add({ ...match, kind: 'error', status, times });
  }

  /** Destroys the connection of the next `times` matching requests without an answer. */
  drop(times: number, match: FaultMatch = {}): () => void {
    return this.add({ ...match, kind: 'drop', times });
  }

  clear(): void {
    this.rules = [];
  }

  /**
   * Applies the matching rules to a request. Latency is waited for and the request goes on; any other fault
   * answers (or drops) the request, and `true` is returned so the caller stops.
   */
  async apply(
    req: IncomingMessage,
    res: ServerResponse,
    errorBody: (status: number, code: string) => object,
  ): Promise<boolean> {
    const method = (req.method ?? 'GET').toUpperCase();
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    for (const active of [...this.rules]) {
      const { rule } = active;
      if (active.remaining <= 0) continue;
      if (rule.method && rule.method.toUpperCase() !== method) continue;
      if (rule.path !== undefined) {
        const hit = typeof rule.path === 'string' ? path.includes(rule.path) : rule.path.test(path);
        if (!hit) continue;
      }
      active.remaining -= 1;
      if (active.remaining <= 0) this.rules = this.rules.filter((r) => r !== active);
      this.injected.push({ kind: rule.kind, method, path });
      switch (rule.kind) {
        case 'latency':
          await new Promise((resolve) => setTimeout(resolve, rule.ms));
          continue;
        case 'throttle': {
          const body = JSON.stringify(errorBody(429, 'TooManyRequests'));
          res.writeHead(429, {
            'Content-Type': 'application/json; charset=utf-8',
            'Retry-After': String(rule.retryAfterSeconds),
            'x-ms-ratelimit-remaining-subscription-reads': '0',
          });
          res.end(body);
          return true;
        }
        case 'error': {
          const code = rule.code ?? (rule.status === 503 ? 'ServiceUnavailable' : 'InternalServerError');
          res.writeHead(rule.status, { 'Content-Type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify(errorBody(rule.status, code)));
          return true;
        }
        case 'drop':
          req.socket.destroy();
          return true;
      }
    }
    return false;
  }
}
