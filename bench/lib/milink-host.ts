import { join } from 'node:path';
import { startLocalHost, type LocalHost } from '../../local/host/host.js';
import { milinkSettingsFor, type EstateAddresses } from '../../local/host/milink-settings.js';
import type { VirtualClock } from '../../local/sim/clock.js';

/**
 * milink's app on the local host over a simulated estate, with production settings (no test shortcuts): what the
 * benchmarks measure. `env` adds settings (the deadline, a fleet's concurrency); logs are dropped.
 */
export function milinkHostOn(
  estate: { connection: EstateAddresses; advance(): void },
  clock: VirtualClock,
  dir: string,
  env: Record<string, string> = {},
): Promise<LocalHost> {
  return startLocalHost({
    stateDir: join(dir, 'host'),
    clock,
    queues: false,
    env: { ...milinkSettingsFor(estate.connection, dir), MILINK_LINK_DEADLINE_HOURS: '48', ...env },
    log: () => {},
    onClockAdvance: () => estate.advance(),
  });
}
