import { shortHash } from './names.js';
import type { StepId } from './plan.js';

/** What an activity reports: what it found already in place and what it changed. Never a secret. */
export interface StepReport {
  steps: StepId[];
  found: string[];
  changed: string[];
}

/** A step that failed: where, what the server said, what to do. */
export interface StepFailure {
  step: StepId | 'preflight';
  target: 'sqlserver' | 'azure' | 'keyvault' | 'milink';
  /** SQL Server error number or ARM error code. */
  code: string;
  message: string;
  advice: string;
}

export interface PreflightProblem {
  check: string;
  target: 'sqlserver' | 'azure' | 'keyvault';
  message: string;
  advice: string;
  code?: string;
}

export type StepState = 'pending' | 'current' | 'done' | 'skipped' | 'failed';

/** createLink's custom status: the plan's step ids with their state, seeding progress, the last error. */
export interface LinkStatus {
  phase: 'preflight' | 'running' | 'waiting' | 'succeeded' | 'failed';
  ticketId?: string;
  link: string;
  steps: Array<{ id: StepId; title: string; state: StepState }>;
  current?: StepId;
  seeding?: {
    replicaState?: string;
    seedingProgress?: string;
    connectedState?: string;
    synchronizationHealth?: string;
    sqlServerConnectedState?: string;
    transferredMb?: number;
    databaseMb?: number;
  };
  warnings?: PreflightProblem[];
  failures?: PreflightProblem[];
  error?: StepFailure;
}

/** createLink looks at the link this many times per generation before its wait continues as new (short histories). */
export const POLLS_PER_GENERATION = 10;

const MARKER = 'milink-step-failure:';

/** Activity errors carry their StepFailure as JSON after a marker, so the orchestrator can report it. */
export function encodeFailure(failure: StepFailure): string {
  return `${MARKER}${JSON.stringify(failure)}`;
}

export function decodeFailure(message: string | undefined, step: StepId | 'preflight'): StepFailure {
  const at = message?.indexOf(MARKER) ?? -1;
  if (message && at >= 0) {
    // encodeFailure's JSON is on one line; the task's error text may go on (Reason, then Details: the stack,
    // which repeats the message)
    const json = message.slice(at + MARKER.length).split('\n')[0]!;
    const end = json.lastIndexOf('}');
    try {
      return JSON.parse(json.slice(0, end + 1)) as StepFailure;
    } catch {
      /* fall through */
    }
  }
  return {
    step,
    target: 'milink',
    code: 'StepFailed',
    message: (message ?? 'the step failed').split('\n')[0]!.slice(0, 500),
    advice: 'see the logs for this step; re-run the request once the cause is fixed',
  };
}

/** The orchestration instance id for a link: a duplicate request finds the running orchestration. */
export function linkInstanceId(instanceName: string, linkName: string): string {
  return `link-${instanceName}-${shortHash(linkName.toLowerCase(), 12)}`;
}
