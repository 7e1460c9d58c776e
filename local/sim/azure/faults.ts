/**
 * Fault injection for the HTTPS stand-ins (ARM and Key Vault): latency, throttling (429 + Retry-After),
 * server errors (5xx) and dropped connections, each optionally limited to a method and a path pattern and
 * to a number of requests; or, at random from a seed, a share of all matching requests (soak tests).
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

/** A seeded generator of numbers in [0, 1) (mulberry32): the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Transient faults on a share of requests, drawn from a seeded generator. */
export interface RandomFaults extends FaultMatch {
  seed: number;
  /** The share of matching requests that meet a fault (0-1). */
  rate: number;
  /** The faults drawn from, each as likely (default: throttling, 500, 503 and a dropped connection). */
  kinds?: Array<'throttle' | 'error' | 'unavailable' | 'drop'>;
  /** Retry-After of a throttled answer (seconds, default 0). */
  retryAfterSeconds?: number;
}

export class FaultInjector {
  private rules: ActiveRule[] = [];
  private chance: { faults: RandomFaults; next: () => number } | undefined;
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

  /**
   * From now on, each matching request meets a fault with probability `rate` (throttling, a 5xx or a dropped
   * connection), drawn from a generator seeded with `seed`: the n-th matching request meets the same fault in
   * every run with that seed. Returns a function that stops it.
   */
  randomly(faults: RandomFaults): () => void {
    const chance = { faults, next: seededRandom(faults.seed) };
    this.chance = chance;
    return () => {
      if (this.chance === chance) this.chance = undefined;
    };
  }

  clear(): void {
    this.rules = [];
    this.chance = undefined;
  }

  /** The fault, if any, the seeded generator gives this request. */
  private drawn(method: string, path: string): FaultRule | undefined {
    const chance = this.chance;
    if (!chance || !matchesRequest(chance.faults, method, path)) return undefined;
    if (chance.next() >= chance.faults.rate) return undefined;
    const kinds = chance.faults.kinds ?? ['throttle', 'error', 'unavailable', 'drop'];
    const kind = kinds[Math.floor(chance.next() * kinds.length)]!;
    switch (kind) {
      case 'throttle':
        return { kind, retryAfterSeconds: chance.faults.retryAfterSeconds ?? 0 };
      case 'error':
        return { kind, status: 500 };
      case 'unavailable':
        return { kind: 'error', status: 503 };
      case 'drop':
        return { kind };
    }
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
    const drawn = this.drawn(method, path);
    const rules = [...this.rules, ...(drawn ? [{ rule: drawn, remaining: 1 }] : [])];
    for (const active of rules) {
      const { rule } = active;
      if (active.remaining <= 0) continue;
      if (!matchesRequest(rule, method, path)) continue;
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

function matchesRequest(match: FaultMatch, method: string, path: string): boolean {
  if (match.method && match.method.toUpperCase() !== method) return false;
  if (match.path === undefined) return true;
  return typeof match.path === 'string' ? path.includes(match.path) : match.path.test(path);
}
