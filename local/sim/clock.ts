/**
 * Time for the simulated estate. Everything in local/sim reads time only through a Clock, so tests can
 * use a virtual clock (a 10-minute seeding takes no real time) and demos a scaled real clock.
 */
export interface Clock {
  now(): Date;
}

/**
 * Real time, optionally running `scale` times faster than the wall clock from `originMs` (default: the moment
 * it is made). Two processes given the same origin and scale tell the same simulated time.
 */
export class RealClock implements Clock {
  constructor(
    readonly scale = 1,
    readonly originMs = Date.now(),
  ) {}
  now(): Date {
    const elapsed = Date.now() - this.originMs;
    return new Date(this.originMs + elapsed * this.scale);
  }
}

/** A clock that moves only when told to. */
export class VirtualClock implements Clock {
  private current: number;
  constructor(start: Date | string = '2026-11-22T08:00:00Z') {
    this.current = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): Date {
    if (ms < 0) throw new Error('a virtual clock cannot go back');
    this.current += ms;
    return this.now();
  }
  set(to: Date | string): void {
    this.current = new Date(to).getTime();
  }
}
