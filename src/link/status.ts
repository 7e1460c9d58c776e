import { shortHash } from './names.js';

/**
 * One status model for every operation: what `GET /api/links/{id}` shows for a create, a drop, a failover or a
 * rotation alike. Published by the runner as the orchestration's custom status. Never a secret.
 */

/** A step that failed: where, what the server said, what to do. */
export interface StepFailure {
  step: string;
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

export interface OperationStatus {
  /** The operation (createLink, …). */
  operation: string;
  phase: 'preflight' | 'running' | 'waiting' | 'succeeded' | 'failed';
  /** The ticket that started it, and tickets that asked for it while it ran. */
  ticketId?: string;
  tickets?: string[];
  /** The link it works on (the resolved name once preflight chose it) and its instance. */
  link: string;
  managedInstance: string;
  database: string;
  steps: Array<{ id: string; title: string; state: StepState }>;
  current?: string;
  /** A wait's progress, as its step reports it (createLink: what the link shows while it seeds and catches up). */
  progress?: Record<string, unknown>;
  warnings?: PreflightProblem[];
  failures?: PreflightProblem[];
  error?: StepFailure;
  /**
   * Preflight resolved another link than the request named (DAG2_<db> for a further link): the operation goes on
   * under that link's id, so every operation on one link shares one id; this run waits for it.
   */
  handedOverTo?: string;
}

/** The runner looks at a wait this many times per generation before it continues as new (short histories). */
export const POLLS_PER_GENERATION = 10;

const MARKER = 'milink-step-failure:';

/** Activity errors carry their StepFailure as JSON after a marker, so the orchestrator can report it. */
export function encodeFailure(failure: StepFailure): string {
  return `${MARKER}${JSON.stringify(failure)}`;
}

export function decodeFailure(message: string | undefined, step: string): StepFailure {
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

/**
 * The orchestration instance id for a link: every operation on one link (create, drop, failover, rotation) has
 * this id, so they are serialised and a second one finds the first. Names compare case-insensitively.
 */
export function linkInstanceId(instanceName: string, linkName: string): string {
  return `link-${instanceName.toLowerCase()}-${shortHash(linkName.toLowerCase(), 12)}`;
}

/** The orchestration id of a SQL Server and instance pair prepared for its links (a fleet's shared steps). */
export function pairInstanceId(instanceName: string, sqlServer: string): string {
  return `pair-${instanceName.toLowerCase()}-${shortHash(sqlServer.toLowerCase(), 12)}`;
}
