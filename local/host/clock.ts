/**
 * The host's time. Real (optionally scaled) time uses Node timers; a virtual clock (the same VirtualClock
 * the simulated estate reads) only moves when the host advances it to the next due durable timer, which it
 * does whenever nothing else is runnable — so a 10-minute wait takes no real time.
 */
import { RealClock, VirtualClock, type Clock } from '../sim/clock.js';

export type ClockOption = 'real' | { scale: number; originMs?: number } | VirtualClock;

export interface HostClock {
  readonly clock: Clock;
  readonly virtual: VirtualClock | undefined;
  now(): Date;
  /** Real milliseconds until `at` (0 if due); Infinity on a virtual clock. */
  realDelayUntil(at: Date): number;
}

export function makeClock(option: ClockOption | undefined): HostClock {
  if (option instanceof VirtualClock) {
    return {
      clock: option,
      virtual: option,
      now: () => option.now(),
      realDelayUntil: (at) => (at.getTime() <= option.now().getTime() ? 0 : Infinity),
    };
  }
  const scale = option && option !== 'real' ? option.scale : 1;
  if (!(scale > 0)) throw new Error(`clock scale must be > 0 (got ${scale})`);
  const real = new RealClock(scale, option && option !== 'real' ? option.originMs : undefined);
  return {
    clock: real,
    virtual: undefined,
    now: () => real.now(),
    realDelayUntil: (at) => Math.max(0, (at.getTime() - real.now().getTime()) / scale),
  };
}
