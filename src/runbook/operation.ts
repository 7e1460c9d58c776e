import type { ArmRequest } from '../azure/arm-requests.js';
import type { PreflightCheck } from './preflight.js';
import type { Step } from './step.js';

/**
 * An operation is data: the checks that must pass before any change, then its steps in order. A step that starts a
 * long-running ARM operation is followed by the wait that looks at it between durable timers. One generic
 * orchestration runner runs any operation (src/orchestrators/runner.ts).
 */
export interface Operation {
  /** The orchestration's name (and the queue ticket's action). */
  name: string;
  /** What the operation does, for plans and status. */
  title: string;
  checks: PreflightCheck[];
  steps: Array<Step<any>>;
  /** What the plan leaves to run time, for its reader (createLink's notes when absent). */
  notes?(link: Parameters<Step['render']>[0]): string[];
  /**
   * What the operation's orchestration is named after: a link (the default; a run whose preflight resolves another
   * link name continues under that link's id), or something its caller names (a SQL Server and instance pair
   * prepared once for many links, a SQL Server whose certificate rotates).
   */
  identity?: 'link' | 'caller';
}

/** Every ARM request an operation's steps and checks can send, for a given rendering context. */
export function operationRequests(op: Operation, link: Parameters<Step['render']>[0]): ArmRequest[] {
  const out: ArmRequest[] = [];
  for (const step of op.steps) {
    out.push(...Object.values(step.render(link).arm ?? {}), ...Object.values(step.reads?.(link) ?? {}));
  }
  for (const check of op.checks) out.push(...Object.values(check.reads?.(link) ?? {}));
  return out;
}
