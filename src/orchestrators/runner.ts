import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import type { LinkRequest } from '../link/request.js';
import {
  decodeFailure,
  linkInstanceId,
  POLLS_PER_GENERATION,
  type OperationStatus,
  type StepFailure,
  type StepState,
} from '../link/status.js';
import { buildPlan } from '../runbook/plan.js';
import type { Operation } from '../runbook/operation.js';
import type { PreflightResult } from '../runbook/preflight.js';
import type { EstateFacts, StepReport } from '../runbook/step.js';
import type { StepResult } from '../activities/run-step.js';

/**
 * The one orchestration runner: any operation, as data, run as preflight → its steps in order (each an activity
 * that inspects, acts only if needed and reports) → a wait that looks at a long-running ARM operation between
 * durable timers, with backoff, a deadline and short histories (the wait continues as new generations). It
 * publishes one status model (src/link/status.ts). Deterministic: no clock but the orchestration's, no I/O, no
 * secrets (activities read them).
 */
export interface RunOptions {
  deadlineHours: number;
  pollIntervalSeconds: number;
  /** Tries of a step whose activity failed with a transient error. */
  stepAttempts: number;
  /** Durable pause before the next try (seconds). */
  stepRetrySeconds: number;
}

export interface OperationInput {
  operation: string;
  /** Names this run of the operation (made by the trigger): activities of one run may share what they read. */
  run: string;
  request: LinkRequest;
  ticketId?: string;
  options: RunOptions;
  /** The operation's own parameters (drop's options, failover's direction, …), validated by the trigger. */
  parameters?: Record<string, unknown>;
  /** Set when a long wait continues as a new generation (continueAsNew), so the history stays short. */
  waiting?: WaitState;
  /** Set when a run handed the operation over to its resolved link's id: preflight already ran. */
  handedOver?: { facts: EstateFacts; warnings?: OperationStatus['warnings'] };
}

/** What a wait carries from one generation to the next. */
export interface WaitState {
  status: OperationStatus;
  facts: EstateFacts;
  reports: StepReport[];
  /** The index of the wait step in the operation. */
  at: number;
  lro?: string;
  deadline: string;
  interval: number;
  lastProgress: string;
  /** The wait's last observation, handed to its next look. */
  previous?: unknown;
}

export interface OperationOutput {
  outcome: 'Succeeded';
  operation: string;
  link: string;
  managedInstance: string;
  database: string;
  /** The last wait's last observation (for createLink, the link's health). */
  health?: unknown;
  reports: StepReport[];
  warnings: OperationStatus['warnings'];
}

const MAX_POLL_SECONDS = 300;

/** The event a queue ticket sends to the operation already running on its link (its id joins the status). */
export const TICKET_EVENT = 'ticket';
/** The longest pause before a look the wait predicted (its estimate is re-made at every look). */
const MAX_PREDICTED_SECONDS = 24 * 3600;

/** The activity every operation calls once it succeeded, with the link and the request (src/activities/inventory.ts). */
export const RECORD_ACTIVITY = 'recordInventory';

class StepFailedError extends Error {
  constructor(readonly failure: StepFailure) {
    super(
      `step ${failure.step} failed on ${failure.target}: ${failure.code}: ${failure.message} — ${failure.advice}`,
    );
    this.name = 'StepFailedError';
  }
}

export function operationOrchestrator(op: Operation): OrchestrationHandler {
  return function* (context: OrchestrationContext) {
    const input = context.df.getInput() as OperationInput;
    const { request, ticketId, options } = input;
    const parameters = input.parameters ?? {};
    const log = (message: string) => {
      if (!context.df.isReplaying)
        context.log(
          `${ticketId ? `[ticket ${ticketId}] ` : ''}${op.name} ${request.managedInstance.name}/${request.database}: ${message}`,
        );
    };
    const initial = buildPlan(op, request, {}, parameters);
    const status: OperationStatus = input.waiting?.status ?? {
      operation: op.name,
      phase: 'preflight',
      link: initial.names.link,
      managedInstance: request.managedInstance.name,
      database: request.database,
      steps: initial.steps.map((s) => ({ id: s.id, title: s.title, state: 'pending' as StepState })),
      ...(ticketId ? { ticketId } : {}),
    };
    const publish = () => context.df.setCustomStatus(status);
    const mark = (id: string, state: StepState) => {
      const step = status.steps.find((s) => s.id === id);
      if (step) step.state = state;
      if (state === 'current') status.current = id;
      publish();
    };
    /** Read steps running within the current step (see below). */
    let readsInFlight: string[] = [];
    const fail = (failure: StepFailure): never => {
      status.phase = 'failed';
      status.error = failure;
      delete status.current;
      // read steps run within the step that failed: done unless the failure was their read
      for (const id of readsInFlight) {
        const read = status.steps.find((s) => s.id === id);
        if (read && id !== failure.step) read.state = 'done';
      }
      for (const s of status.steps) if (s.state === 'current') s.state = 'pending';
      const at =
        status.steps.find((s) => s.id === failure.step) ??
        (failure.step === 'preflight' ? status.steps[0] : undefined);
      if (at) at.state = 'failed';
      publish();
      log(`failed at ${failure.step}: ${failure.code}`);
      throw new StepFailedError(failure);
    };

    let facts: EstateFacts = input.waiting?.facts ?? {};
    const reports: StepReport[] = input.waiting?.reports ?? [];
    const activityInput = (step: string, extra: Record<string, unknown> = {}) => ({
      operation: op.name,
      run: input.run,
      request,
      facts,
      step,
      ...(ticketId ? { ticketId } : {}),
      ...(input.parameters ? { parameters: input.parameters } : {}),
      ...extra,
    });

    /** Calls an activity; a transient failure is tried again after a durable pause, up to the configured tries. */
    const call = function* (
      name: string,
      step: string,
      extra?: Record<string, unknown>,
    ): Generator<Task, unknown, unknown> {
      for (let attempt = 1; ; attempt++) {
        try {
          return yield context.df.callActivity(name, activityInput(step, extra));
        } catch (e) {
          const message = (e as Error).message ?? '';
          const transient = message.includes('transient milink-step-failure:');
          if (!transient || attempt >= options.stepAttempts) return fail(decodeFailure(message, step));
          log(`${step}: transient failure, try ${attempt + 1} of ${options.stepAttempts}`);
          yield context.df.createTimer(
            new Date(context.df.currentUtcDateTime.getTime() + options.stepRetrySeconds * 1000),
          );
        }
      }
    };

    /** The steps as they will run (names resolved, titles completed); returns where the steps begin. */
    const begin = (known: EstateFacts): number => {
      const found = buildPlan(op, request, known, parameters);
      status.link = found.names.link;
      const planned = new Set(found.steps.map((s) => s.id));
      status.steps = found.steps.map((s) => ({
        id: s.id,
        title: s.title,
        state: (op.steps.find((x) => x.id === s.id)?.preflight ? 'done' : 'pending') as StepState,
      }));
      status.phase = 'running';
      publish();
      const first = op.steps.findIndex((s) => planned.has(s.id) && !s.preflight);
      return first < 0 ? op.steps.length : first;
    };

    /**
     * A wait's pause until the next look. A queue ticket that asks for this operation while it runs arrives as an
     * event (TICKET_EVENT): its id joins the status's tickets, and the pause goes on to the same moment.
     */
    const pause = function* (until: Date): Generator<Task, void, unknown> {
      const timer = context.df.createTimer(until);
      for (;;) {
        const ticket = context.df.waitForExternalEvent(TICKET_EVENT);
        const first = (yield context.df.Task.any([timer, ticket])) as Task;
        if (first === timer) return;
        const id = (ticket.result as { ticketId?: unknown } | undefined)?.ticketId;
        if (typeof id === 'string' && id !== status.ticketId && !status.tickets?.includes(id)) {
          status.tickets = [...(status.tickets ?? []), id];
          publish();
          log(`ticket ${id} asked for this operation while it ran`);
        }
      }
    };

    let at = 0;
    let wait:
      | {
          lro?: string;
          deadline: string;
          interval: number;
          lastProgress: string;
          previous?: unknown;
          lookedAt?: string;
        }
      | undefined;
    publish();
    if (input.waiting) {
      at = input.waiting.at;
      wait = input.waiting;
    } else if (input.handedOver) {
      facts = input.handedOver.facts;
      if (input.handedOver.warnings) status.warnings = input.handedOver.warnings;
      at = begin(facts);
    } else {
      // ---- preflight: read everything first, report every failure together
      log('preflight');
      const first = status.steps[0];
      if (first) mark(first.id, 'current');
      const pre = (yield* call('preflight', 'preflight')) as PreflightResult;
      if (pre.warnings.length > 0) status.warnings = pre.warnings;
      if (pre.failures.length > 0) {
        status.failures = pre.failures;
        const problem = pre.failures[0]!;
        return fail({
          step: 'preflight',
          target: problem.target,
          code: problem.code ?? 'PreflightFailed',
          message: `${pre.failures.length} preflight check(s) failed: ${pre.failures.map((f) => f.message).join('; ')}`,
          advice: problem.advice,
        });
      }
      facts = pre.facts;
      at = begin(facts);
      // every operation on one link runs under that link's id: a resolved name other than the requested one
      // (DAG2_<db>) goes on under its own id, and this run waits for it
      const resolvedId = linkInstanceId(request.managedInstance.name, status.link);
      if ((op.identity ?? 'link') === 'link' && resolvedId !== context.df.instanceId) {
        status.handedOverTo = resolvedId;
        publish();
        log(`the link is ${status.link}: continuing as ${resolvedId}`);
        try {
          const handedOver = { facts, ...(status.warnings ? { warnings: status.warnings } : {}) };
          const out = (yield context.df.callSubOrchestrator(
            op.name,
            { ...input, handedOver },
            resolvedId,
          )) as OperationOutput;
          status.phase = 'succeeded';
          publish();
          return out;
        } catch (e) {
          return fail({
            ...decodeFailure((e as Error).message, 'preflight'),
            ...(/already exists/.test((e as Error).message)
              ? {
                  code: 'LinkOperationInProgress',
                  target: 'milink' as const,
                  message: `another operation runs on link ${status.link}: ${resolvedId}`,
                  advice: 'wait for it to finish, then re-run',
                }
              : {}),
          });
        }
      }
    }

    let observation: unknown;
    const planned = new Set(status.steps.map((s) => s.id));
    for (; at < op.steps.length; at++) {
      const step = op.steps[at]!;
      if (!planned.has(step.id) || step.preflight) continue;
      if (!step.wait) {
        // A read step whose output a later planned step uses is read by that step's own inspection: it runs with
        // it (no activity of its own, no second read of the same thing).
        const reader = op.steps.find((s) => s.uses === step && planned.has(s.id));
        if (!step.act && reader) continue;
        const reads = op.steps.filter((s) => step.uses === s && !s.act && planned.has(s.id)).map((s) => s.id);
        log(step.id);
        readsInFlight = reads;
        for (const id of reads) mark(id, 'current');
        mark(step.id, 'current');
        const result = (yield* call('runStep', step.id, wait?.lro ? { lro: wait.lro } : {})) as StepResult;
        if (result.report) reports.push(result.report);
        if (result.lro) wait = { lro: result.lro, deadline: '', interval: 0, lastProgress: '' };
        for (const id of reads) mark(id, 'done');
        readsInFlight = [];
        mark(step.id, 'done');
        continue;
      }

      // ---- a wait: durable timers with backoff, until done or the deadline
      status.phase = 'waiting';
      mark(step.id, 'current');
      if (!wait?.deadline) {
        const lro = wait?.lro;
        wait = {
          ...(lro ? { lro } : {}),
          deadline: new Date(
            context.df.currentUtcDateTime.getTime() + options.deadlineHours * 3600_000,
          ).toISOString(),
          interval: options.pollIntervalSeconds,
          lastProgress: '',
        };
        // an operation this run just started is not done at once: the first look waits one interval
        if (lro)
          yield context.df.createTimer(
            new Date(context.df.currentUtcDateTime.getTime() + options.pollIntervalSeconds * 1000),
          );
      }
      const deadline = new Date(wait.deadline);
      for (let polls = 0; ; polls++) {
        if (polls === POLLS_PER_GENERATION) {
          // The wait goes on as a new generation of this orchestration: same id, a short history.
          const waiting: WaitState = { ...wait, status, facts, reports, at };
          context.df.continueAsNew({ ...input, waiting });
          return undefined;
        }
        const result = (yield* call('runStep', step.id, {
          ...(wait.lro ? { lro: wait.lro } : {}),
          ...(wait.previous !== undefined ? { previous: wait.previous } : {}),
          since: context.df.currentUtcDateTime.toISOString(),
        })) as StepResult;
        observation = result.observation;
        const before = wait.previous;
        const between = wait.lookedAt
          ? (context.df.currentUtcDateTime.getTime() - new Date(wait.lookedAt).getTime()) / 1000
          : 0;
        wait.previous = observation;
        wait.lookedAt = context.df.currentUtcDateTime.toISOString();
        if (result.lro) wait.lro = result.lro;
        else delete wait.lro;
        status.progress = step.progress?.(observation) ?? {};
        if (result.done) break;
        mark(step.id, 'current');
        const now = context.df.currentUtcDateTime;
        if (now.getTime() >= deadline.getTime()) {
          const overdue = step.overdue?.(observation, options.deadlineHours) ?? {
            target: 'milink' as const,
            code: 'Deadline',
            message: `${step.id} did not finish in ${options.deadlineHours} h`,
            advice: 'look at the link, then re-run',
          };
          return fail({ step: step.id, ...overdue });
        }
        // Look again when the wait says it will be over (seeding's rate predicts its end); otherwise back off while
        // nothing moves and look again soon while it makes progress.
        const progress = JSON.stringify(status.progress);
        const predicted = before === undefined ? undefined : step.nextLook?.(observation, before, between);
        wait.interval =
          predicted !== undefined
            ? Math.min(Math.max(predicted, 1), MAX_PREDICTED_SECONDS)
            : progress !== wait.lastProgress
              ? options.pollIntervalSeconds
              : Math.min(wait.interval * 2, MAX_POLL_SECONDS);
        wait.lastProgress = progress;
        yield* pause(new Date(Math.min(now.getTime() + wait.interval * 1000, deadline.getTime())));
      }
      mark(step.id, 'done');
      status.phase = 'running';
      wait = undefined;
    }

    // Every operation that succeeds is recorded (the inventory the nightly health sweep reads). Not recorded is a
    // warning, not a failure: the link is made, and the sweep lists it as unmanaged until it is adopted.
    try {
      yield context.df.callActivity(RECORD_ACTIVITY, {
        ...activityInput('record'),
        link: status.link,
        instanceId: context.df.instanceId,
        since: context.df.currentUtcDateTime.toISOString(),
        outcome: 'succeeded',
      });
    } catch (e) {
      status.warnings = [
        ...(status.warnings ?? []),
        {
          check: 'record',
          target: 'azure',
          message: `${status.link} was not recorded in milink's inventory: ${decodeFailure((e as Error).message, 'record').message}`,
          advice: 'record it with POST /api/links/adopt and the same request',
        },
      ];
    }

    status.phase = 'succeeded';
    delete status.current;
    publish();
    log('done');
    const output: OperationOutput = {
      outcome: 'Succeeded',
      operation: op.name,
      link: status.link,
      managedInstance: request.managedInstance.name,
      database: request.database,
      ...(observation !== undefined ? { health: observation } : {}),
      reports,
      warnings: status.warnings,
    };
    return output;
  };
}
