/**
 * Seeded random faults for the SQL Server stand-in (soak tests): a share of the requests (batches and RPCs) a
 * server receives after login has its connection closed without a reply, before the request runs, the way a
 * network failure or a failover drops a session. The n-th request meets the same fate in every run with the
 * same seed. Built on the server's `dropOnText` faults, so nothing else about the server changes.
 */
import { seededRandom } from '../azure/faults.js';
import type { SqlFaults, TextFault } from './server.js';

/** A pattern that "matches" a request when the seeded draw says so. */
class Draw extends RegExp {
  constructor(private readonly hit: () => boolean) {
    super('(?:)');
  }
  override test(): boolean {
    return this.hit();
  }
}

export interface RandomSqlFaults {
  /** Requests drawn so far and how many of them were dropped. */
  readonly counts: { requests: number; dropped: number };
  stop(): void;
}

export function randomSqlFaults(faults: SqlFaults, opts: { seed: number; rate: number }): RandomSqlFaults {
  const next = seededRandom(opts.seed);
  const counts = { requests: 0, dropped: 0 };
  const fault: TextFault = {
    pattern: new Draw(() => {
      counts.requests += 1;
      const hit = next() < opts.rate;
      if (hit) counts.dropped += 1;
      return hit;
    }),
  };
  faults.dropOnText.push(fault);
  return {
    counts,
    stop: () => {
      const at = faults.dropOnText.indexOf(fault);
      if (at >= 0) faults.dropOnText.splice(at, 1);
    },
  };
}
