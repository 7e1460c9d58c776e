import { join } from 'node:path';
import { loadApp, type Registration } from '../../local/host/capture.js';
import { repoRoot } from '../helpers/runbook.js';

/**
 * Test-side wrapping of every activity the app registers, so a test can stop the host at an exact point of an
 * operation: the gate sees each activity by the step it runs (runStep runs any runbook step) and decides whether it
 * runs, runs and then the host dies, or never runs.
 */
export type Gate = (name: string, run: () => Promise<unknown>) => Promise<unknown>;

export const passThrough: Gate = (_name, run) => run();

export interface ActivityGate {
  /** The gate every activity goes through now (passThrough between cuts). */
  current: Gate;
  /** Wraps the registered activities (in beforeAll). */
  install(): Promise<void>;
  /** Puts the original handlers back (in afterAll). */
  restore(): void;
}

export function activityGate(): ActivityGate {
  let wrapped: Array<{ reg: Registration; original: Registration['handler'] }> = [];
  const gate: ActivityGate = {
    current: passThrough,
    async install() {
      const regs = await loadApp(join(repoRoot, 'src/index.ts'));
      for (const reg of regs.filter((r) => r.kind === 'activity')) {
        const original = reg.handler;
        wrapped.push({ reg, original });
        reg.handler = (input, context) =>
          gate.current((input as { step?: string }).step ?? reg.name, () =>
            Promise.resolve(original(input, context)),
          );
      }
    },
    restore() {
      for (const { reg, original } of wrapped) reg.handler = original;
      wrapped = [];
    },
  };
  return gate;
}
