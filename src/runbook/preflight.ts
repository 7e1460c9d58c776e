import type { ArmRequest } from '../azure/arm-requests.js';
import type { LinkResource } from '../azure/link-resource.js';
import type { PreflightProblem } from '../link/status.js';
import type * as catalog from '../sql/catalog.js';
import type { LinkContext } from './context.js';
import type { EstateFacts, StepIo } from './step.js';
import type { InstanceObservation } from './steps/read-managed-instance.js';

/**
 * Preflight: a list of named checks run before any change, every failure reported together. Checks only read.
 * What several checks need is read once through the io's memoised readers; a reader that fails is reported once
 * (under its own check id) and the checks that need it are skipped.
 */
export interface PreflightIo extends StepIo {
  /** Facts checks establish for the steps (FQDN, @@SERVERNAME, chosen names, the endpoint). */
  facts: EstateFacts;
  /** The rendering context for the facts known so far. */
  readonly link: LinkContext;
  instance(): Promise<InstanceObservation | undefined>;
  instanceLinks(): Promise<LinkResource[] | undefined>;
  server(): Promise<catalog.ServerInfo | undefined>;
  database(): Promise<catalog.DatabaseInfo | undefined>;
  groups(): Promise<catalog.AvailabilityGroupInfo[]>;
  fail(
    check: string,
    target: PreflightProblem['target'],
    message: string,
    advice: string,
    code?: string,
  ): void;
  warn(check: string, target: PreflightProblem['target'], message: string, advice: string): void;
}

export interface PreflightCheck {
  id: string;
  /** ARM requests the check sends, by name (for the operation's least-privilege role). */
  reads?(link: LinkContext): Record<string, ArmRequest>;
  run(io: PreflightIo): Promise<void>;
}

export interface PreflightResult {
  facts: EstateFacts;
  failures: PreflightProblem[];
  warnings: PreflightProblem[];
}

export function defineCheck(check: PreflightCheck): PreflightCheck {
  return check;
}
