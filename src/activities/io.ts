import { createHash } from 'node:crypto';
import * as df from 'durable-functions';
import type { InvocationContext } from '@azure/functions';
import type { AzureClients } from '../azure/clients.js';
import { ArmError } from '../azure/errors.js';
import { settings, type Settings } from '../config.js';
import type { LinkRequest } from '../link/request.js';
import { encodeFailure, type StepFailure } from '../link/status.js';
import { linkContext, type LinkContext } from '../runbook/context.js';
import { OwnedByStep, StepProblem, type EstateFacts, type StepIo } from '../runbook/step.js';
import { fillVariables } from '../sql/quote.js';
import {
  parseHostMap,
  SqlSession,
  SqlStepError,
  type BatchOptions,
  type BatchResult,
  type HostMap,
} from '../sql/session.js';
import { variables } from '../sql/statements.js';
import { redactor } from '../link/redact.js';

/**
 * The I/O seam: the estate's clients (ARM, Key Vault, SQL Server sessions) built once per process from settings
 * and handed to steps; secrets read here are remembered so no log, error or result carries them out.
 */

/** Every activity's input: the operation, the validated request and what preflight learned. No secrets. */
export interface ActivityInput {
  operation: string;
  request: LinkRequest;
  facts: EstateFacts;
  ticketId?: string;
  /** The step to run or look at. */
  step?: string;
  /** The orchestration's clock when it handed over. */
  since?: string;
  /** A long-running operation a step started (its poller's serialised state). */
  lro?: string;
  /** The operation's run (its orchestration and start): secrets are read once per run and process. */
  run?: string;
  /** The operation's own parameters (validated by the trigger). */
  parameters?: Record<string, unknown>;
  /** A wait's previous observation. */
  previous?: unknown;
}

export interface Process {
  settings: Settings;
  azure: AzureClients;
  hostMap: HostMap;
  sessions: Map<string, SqlSession>;
}

let current: Process | undefined;

/**
 * The process's clients, made once per change of settings. The Azure SDKs load here, in the first activity that
 * needs them, not when the app registers its functions (cold start).
 */
async function processClients(): Promise<Process> {
  const s = settings();
  if (current?.settings !== s) {
    const { createAzureClients } = await import('../azure/clients.js');
    if (current?.settings === s) return current;
    const previous = current;
    current = {
      settings: s,
      azure: createAzureClients(s),
      hostMap: parseHostMap(s.MILINK_SQL_HOST_MAP),
      sessions: new Map(),
    };
    if (previous) void Promise.all([...previous.sessions.values()].map((x) => x.close()));
  }
  return current;
}

export async function closeAllSessions(): Promise<void> {
  const sessions = [...(current?.sessions.values() ?? [])];
  current?.sessions.clear();
  await Promise.all(sessions.map((s) => s.close()));
}

/** One pool per SQL Server and login (and password, so a rotated password gets a new pool). */
function sessionFor(p: Process, request: LinkRequest, password: string): SqlSession {
  const target = {
    host: request.sqlServer.host,
    port: request.sqlServer.port,
    login: request.sqlServer.login,
    encrypt: request.sqlServer.tls?.encrypt ?? true,
    trustServerCertificate: request.sqlServer.tls?.trustServerCertificate ?? false,
  };
  const key = [
    target.host.toLowerCase(),
    target.port,
    target.login,
    target.encrypt,
    createHash('sha256').update(password).digest('hex'),
  ].join('|');
  let session = p.sessions.get(key);
  if (!session) {
    session = new SqlSession(target, password, {
      attempts: p.settings.MILINK_SQL_RETRY_ATTEMPTS,
      backoffMs: p.settings.MILINK_SQL_RETRY_DELAY_MS,
      hostMap: p.hostMap,
      requestTimeoutMs: p.settings.MILINK_SQL_REQUEST_TIMEOUT_SECONDS * 1000,
    });
    p.sessions.set(key, session);
  }
  return session;
}

/** A step's io for one activity invocation. */
export class ActivityIo implements StepIo {
  readonly request: LinkRequest;
  facts: EstateFacts;
  private readonly secretValues = new Set<string>();
  private session: SqlSession | undefined;

  /** The step (or check) being worked on, named in a failure. */
  step: string;

  constructor(
    readonly input: ActivityInput,
    readonly invocation: InvocationContext,
    readonly process: Process,
  ) {
    this.request = input.request;
    this.facts = input.facts;
    this.step = input.step ?? 'preflight';
  }

  get link(): LinkContext {
    return linkContext(this.request, this.facts, this.parameters);
  }

  get parameters(): Readonly<Record<string, unknown>> {
    return this.input.parameters ?? {};
  }

  get previous(): unknown {
    return this.input.previous;
  }

  get arm() {
    return this.process.azure.arm;
  }

  get since(): Date | undefined {
    return this.input.since ? new Date(this.input.since) : undefined;
  }

  get operation(): string | undefined {
    return this.input.lro;
  }

  async secret(name: string): Promise<string> {
    const value = await this.process.azure.secrets.get(name, this.input.run);
    this.secretValues.add(value);
    return value;
  }

  vaultCertificate(name: string, version?: string) {
    return this.process.azure.certificates.certificate(name, version);
  }

  async vaultPrivateKey(name: string, version: string): Promise<string> {
    const pem = await this.process.azure.certificates.privateKey(name, version);
    this.conceal(pem);
    return pem;
  }

  conceal(value: string): void {
    this.secretValues.add(value);
  }

  async sql(): Promise<SqlSession> {
    if (!this.session) {
      const secretName = this.request.sqlServer.loginSecret;
      this.session = sessionFor(this.process, this.request, await this.secret(secretName));
    }
    return this.session;
  }

  async run(
    batch: string,
    values: Record<string, string> = {},
    options: Pick<BatchOptions, 'timeoutMs'> = {},
  ): Promise<BatchResult> {
    const session = await this.sql();
    const text =
      Object.keys(values).length > 0 ? fillVariables(batch, Object.values(variables), values) : batch;
    // a step's batch is its action: it changes state, so a timeout is not retried
    return session.batch(text, { ...options, changesState: true });
  }

  log(message: string): void {
    const ticket = this.input.ticketId ? `[ticket ${this.input.ticketId}] ` : '';
    this.invocation.log(`${ticket}${this.step}: ${this.scrub(message)}`);
  }

  scrub(text: string): string {
    return redactor(this.secretValues)(text);
  }

  failure(thrown: unknown): StepFailure {
    let e = thrown;
    if (e instanceof OwnedByStep) {
      this.step = e.step;
      e = e.error;
    }
    const known = describeError(e);
    if (known) return { step: this.step, ...known, message: this.scrub(known.message) };
    const error = e as Error;
    return {
      step: this.step,
      target: this.step === 'preflight' ? 'sqlserver' : 'milink',
      code: error?.name ?? 'Error',
      message: this.scrub(error?.message ?? String(e)),
      advice:
        'an unexpected error: see the logs for this step, then re-run (milink skips what is already done)',
    };
  }
}

/**
 * Where an error milink classifies came from, its SQL Server number or ARM code, and the advice: one reading
 * for step failures and preflight problems. Undefined for an error milink does not know.
 */
export function describeError(e: unknown): Omit<StepFailure, 'step'> | undefined {
  if (e instanceof SqlStepError)
    return {
      target: 'sqlserver',
      code: e.code ?? String(e.number ?? 'Connection'),
      message: e.message,
      advice: e.advice,
    };
  if (e instanceof ArmError) return { target: e.service, code: e.code, message: e.message, advice: e.advice };
  if (e instanceof StepProblem)
    return { target: e.target, code: e.code, message: e.message, advice: e.advice };
  return undefined;
}

/** Whether a failure is worth another try of the step later (a dropped connection, throttling, a 5xx). */
export function transientFailure(thrown: unknown): boolean {
  const e = thrown instanceof OwnedByStep ? thrown.error : thrown;
  if (e instanceof SqlStepError) return e.transient;
  if (e instanceof ArmError) return e.status === 429 || e.status >= 500 || e.status === 0;
  return false;
}

/**
 * Registers an activity. Any error leaves as a StepFailure (step, target, SQL/ARM error, advice, and whether a later
 * try may succeed), scrubbed of every secret the activity read.
 */
export function defineActivity<T>(name: string, work: (io: ActivityIo) => Promise<T>): void {
  df.app.activity(name, {
    handler: async (input: unknown, invocation: InvocationContext): Promise<T> => {
      const io = new ActivityIo(input as ActivityInput, invocation, await processClients());
      try {
        return await work(io);
      } catch (e) {
        const failure = io.failure(e);
        io.log(`failed: ${failure.code}: ${failure.message}`);
        throw new Error(`${transientFailure(e) ? 'transient ' : ''}${encodeFailure(failure)}`);
      }
    },
  });
}
