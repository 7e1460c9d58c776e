import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import type { PreflightResult } from '../activities/preflight.js';
import type { LinkObservation, StartLinkResult } from '../activities/link.js';
import { buildPlan, type EstateFacts, type StepId } from '../link/plan.js';
import type { LinkRequest } from '../link/request.js';
import {
  decodeFailure,
  POLLS_PER_GENERATION,
  type LinkStatus,
  type StepFailure,
  type StepReport,
} from '../link/status.js';
import { sqlAdvice } from '../sql/errors.js';

/**
 * createLink: preflight, then every runbook step once and in order, then waiting for the link with durable
 * timers and backoff until it is healthy or the deadline passes. Deterministic: no clock but the
 * orchestration's, no I/O, no secrets (activities read them).
 */
export interface CreateLinkInput {
  request: LinkRequest;
  ticketId?: string;
  options: { deadlineHours: number; pollIntervalSeconds: number };
  /** Set when a long wait continues as a new generation (continueAsNew), so the history stays short. */
  waiting?: WaitState;
}

/** What the wait for the link carries from one generation to the next. */
export interface WaitState {
  status: LinkStatus;
  facts: EstateFacts;
  reports: StepReport[];
  operationUrl?: string;
  deadline: string;
  interval: number;
  lastProgress: string;
}

export interface CreateLinkOutput {
  outcome: 'Succeeded';
  link: string;
  managedInstance: string;
  database: string;
  health: LinkObservation;
  reports: StepReport[];
  warnings: LinkStatus['warnings'];
}

const MAX_POLL_SECONDS = 300;

/** The step families in runbook order: activity name and the plan steps it covers. */
const FAMILIES: Array<{ activity: string; steps: StepId[] }> = [
  { activity: 'prepareDatabase', steps: ['prepare-database'] },
  { activity: 'ensureMasterKey', steps: ['master-key'] },
  { activity: 'ensureSqlServerCertificate', steps: ['sqlserver-certificate'] },
  {
    activity: 'trustSqlServerCertificate',
    steps: ['export-sqlserver-certificate', 'trust-sqlserver-certificate'],
  },
  {
    activity: 'trustInstanceCertificate',
    steps: [
      'export-instance-certificate',
      'import-instance-certificate',
      'import-root-certificates',
      'validate-instance-certificate',
    ],
  },
  { activity: 'ensureEndpoint', steps: ['mirroring-endpoint'] },
  { activity: 'ensureAvailabilityGroup', steps: ['availability-group'] },
  { activity: 'ensureDistributedAvailabilityGroup', steps: ['distributed-availability-group'] },
];

class StepFailedError extends Error {
  constructor(readonly failure: StepFailure) {
    super(
      `step ${failure.step} failed on ${failure.target}: ${failure.code}: ${failure.message} — ${failure.advice}`,
    );
    this.name = 'StepFailedError';
  }
}

export const createLinkOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput() as CreateLinkInput;
  const { request, ticketId } = input;
  const log = (message: string) => {
    if (!context.df.isReplaying)
      context.log(
        `${ticketId ? `[ticket ${ticketId}] ` : ''}createLink ${request.managedInstance.name}/${request.database}: ${message}`,
      );
  };
  const initial = buildPlan(request);
  const status: LinkStatus = input.waiting?.status ?? {
    phase: 'preflight',
    link: initial.names.link,
    steps: initial.steps.map((s) => ({ id: s.id, title: s.title, state: 'pending' })),
    ...(ticketId ? { ticketId } : {}),
  };
  const publish = () => context.df.setCustomStatus(status);
  const mark = (ids: StepId[], state: LinkStatus['steps'][number]['state']) => {
    for (const step of status.steps) if (ids.includes(step.id)) step.state = state;
    if (state === 'current') status.current = ids[0];
    publish();
  };
  const fail = (failure: StepFailure): never => {
    status.phase = 'failed';
    status.error = failure;
    delete status.current;
    if (failure.step !== 'preflight') mark([failure.step], 'failed');
    else mark(['read-managed-instance'], 'failed');
    log(`failed at ${failure.step}: ${failure.code}`);
    throw new StepFailedError(failure);
  };
  const call = function* (
    activity: string,
    steps: StepId[],
    extra: Record<string, unknown> = {},
  ): Generator<df.Task, unknown, unknown> {
    mark(steps, 'current');
    try {
      const result = yield context.df.callActivity(activity, {
        request,
        facts,
        ...(ticketId ? { ticketId } : {}),
        ...extra,
      });
      mark(steps, 'done');
      return result;
    } catch (e) {
      const failure = decodeFailure((e as Error).message, steps[0]!);
      // the activity works through its steps in order: those before the failed one are done, the rest not begun
      const at = steps.indexOf(failure.step as StepId);
      for (const step of status.steps)
        if (steps.includes(step.id)) step.state = at >= 0 && steps.indexOf(step.id) < at ? 'done' : 'pending';
      return fail(failure);
    }
  };

  let facts: EstateFacts = input.waiting?.facts ?? {};
  let reports: StepReport[] = input.waiting?.reports ?? [];
  let wait: Omit<WaitState, 'status' | 'facts' | 'reports'>;
  publish();
  if (input.waiting) {
    wait = input.waiting;
  } else {
    // ---- preflight: read everything first, report every failure together
    log('preflight');
    mark(['read-managed-instance'], 'current');
    let pre: PreflightResult;
    try {
      pre = (yield context.df.callActivity('preflight', {
        request,
        facts,
        ...(ticketId ? { ticketId } : {}),
      })) as PreflightResult;
    } catch (e) {
      return fail(decodeFailure((e as Error).message, 'preflight'));
    }
    if (pre.warnings.length > 0) status.warnings = pre.warnings;
    if (pre.failures.length > 0) {
      status.failures = pre.failures;
      const first = pre.failures[0]!;
      return fail({
        step: 'preflight',
        target: first.target,
        code: first.code ?? 'PreflightFailed',
        message: `${pre.failures.length} preflight check(s) failed: ${pre.failures.map((f) => f.message).join('; ')}`,
        advice: first.advice,
      });
    }
    facts = pre.facts;
    mark(['read-managed-instance'], 'done');
    const found = buildPlan(request, facts);
    status.link = found.names.link;
    for (const step of status.steps)
      step.title = found.steps.find((s) => s.id === step.id)?.title ?? step.title;
    const toDo = new Set(found.steps.map((s) => s.id));
    status.phase = 'running';

    // ---- the runbook's steps, once each, in order
    reports = [];
    for (const family of FAMILIES) {
      if (!family.steps.every((s) => toDo.has(s))) continue;
      log(family.steps.join(', '));
      reports.push((yield* call(family.activity, family.steps)) as StepReport);
    }
    const started = (yield* call('startLink', ['create-link'])) as StartLinkResult;
    reports.push(started);
    status.phase = 'waiting';
    wait = {
      ...(started.operationUrl ? { operationUrl: started.operationUrl } : {}),
      deadline: new Date(
        context.df.currentUtcDateTime.getTime() + input.options.deadlineHours * 3600_000,
      ).toISOString(),
      interval: input.options.pollIntervalSeconds,
      lastProgress: '',
    };
  }
  const plan = buildPlan(request, facts);
  const planned = new Set(plan.steps.map((s) => s.id));

  // ---- wait for the link: durable timers with backoff, until healthy or the deadline
  mark(['wait-for-link'], 'current');
  const deadline = new Date(wait.deadline);
  let interval = wait.interval;
  let lastProgress = wait.lastProgress;
  let observation: LinkObservation;
  for (let polls = 0; ; polls++) {
    if (polls === POLLS_PER_GENERATION) {
      // The wait goes on as a new generation of this orchestration: same id, a short history.
      const waiting: WaitState = { ...wait, status, facts, reports, interval, lastProgress };
      context.df.continueAsNew({ ...input, waiting });
      return undefined;
    }
    observation = (yield* call(
      'observeLink',
      ['wait-for-link'],
      wait.operationUrl ? { operationUrl: wait.operationUrl } : {},
    )) as LinkObservation;
    status.seeding = {
      ...(observation.replicaState ? { replicaState: observation.replicaState } : {}),
      ...(observation.seedingProgress ? { seedingProgress: observation.seedingProgress } : {}),
      ...(observation.connectedState ? { connectedState: observation.connectedState } : {}),
      ...(observation.synchronizationHealth
        ? { synchronizationHealth: observation.synchronizationHealth }
        : {}),
      ...(observation.sqlServerConnectedState
        ? { sqlServerConnectedState: observation.sqlServerConnectedState }
        : {}),
      ...(observation.seeding
        ? { transferredMb: observation.seeding.transferredMb, databaseMb: observation.seeding.databaseMb }
        : {}),
    };
    if (observation.healthy) break;
    mark(['wait-for-link'], 'current');
    const now = context.df.currentUtcDateTime;
    if (now.getTime() >= deadline.getTime()) {
      const sqlError = observation.sqlServerLastError;
      return fail({
        step: 'wait-for-link',
        target: sqlError ? 'sqlserver' : 'azure',
        code: sqlError ? String(sqlError.number) : 'LinkDeadline',
        message: `the link was not healthy after ${input.options.deadlineHours} h (state ${observation.replicaState ?? 'unknown'}, ${observation.connectedState ?? 'not connected'})${sqlError ? `; SQL Server reports ${sqlError.number}: ${sqlError.message}` : ''}`,
        advice: sqlError
          ? sqlAdvice(sqlError.number)
          : 'check the link in the portal and the network paths between SQL Server and the instance, then re-run',
      });
    }
    // Back off while nothing moves; look again soon while the link makes progress (seeding).
    const progress = JSON.stringify(status.seeding);
    interval =
      progress !== lastProgress
        ? input.options.pollIntervalSeconds
        : Math.min(interval * 2, MAX_POLL_SECONDS);
    lastProgress = progress;
    const next = Math.min(now.getTime() + interval * 1000, deadline.getTime());
    yield context.df.createTimer(new Date(next));
  }
  mark(['wait-for-link', 'verify-connection'], 'done');

  if (planned.has('first-log-backup'))
    reports.push(
      (yield* call('firstLogBackup', ['first-log-backup'], {
        since: context.df.currentUtcDateTime.toISOString(),
      })) as StepReport,
    );

  status.phase = 'succeeded';
  delete status.current;
  publish();
  log('link healthy');
  const output: CreateLinkOutput = {
    outcome: 'Succeeded',
    link: plan.names.link,
    managedInstance: request.managedInstance.name,
    database: request.database,
    health: observation,
    reports,
    warnings: status.warnings,
  };
  return output;
};

df.app.orchestration('createLink', createLinkOrchestrator);
