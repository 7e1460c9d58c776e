import { createHash } from 'node:crypto';
import * as df from 'durable-functions';
import type { InvocationContext } from '@azure/functions';
import type { PipelineResponse } from '@azure/core-rest-pipeline';
import type { ArmRequest } from '../azure/arm-requests.js';
import { azure, type AzureContext } from '../azure/clients.js';
import { settings } from '../config.js';
import { ArmError } from '../azure/errors.js';
import { stepStatements, type EstateFacts, type StepId, type StepStatements } from '../link/plan.js';
import type { LinkRequest } from '../link/request.js';
import { encodeFailure, type StepFailure } from '../link/status.js';
import { fillVariables } from '../sql/quote.js';
import { SqlSession, SqlStepError, sqlTarget, type BatchResult } from '../sql/session.js';
import { variables } from '../sql/statements.js';

/** Every activity's input: the validated request and what preflight learned. No secrets. */
export interface StepInput {
  request: LinkRequest;
  facts: EstateFacts;
  ticketId?: string;
  /** first-log-backup: when seeding finished (the orchestrator's clock). */
  since?: string;
  /** wait-for-link: the status URL of the link's creation, when it was started. */
  operationUrl?: string;
}

const sessions = new Map<string, SqlSession>();

/** One pool per SQL Server and login (and password, so a rotated password gets a new pool). */
function sessionFor(request: LinkRequest, password: string): SqlSession {
  const target = sqlTarget(request);
  const key = [
    settings().MILINK_LOCAL_CONNECTION_FILE ?? '',
    target.host,
    target.port,
    target.login,
    target.encrypt,
    createHash('sha256').update(password).digest('hex'),
  ].join('|');
  let session = sessions.get(key);
  if (!session) {
    session = new SqlSession(target, password);
    sessions.set(key, session);
  }
  return session;
}

export async function closeAllSessions(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  await Promise.all(all.map((s) => s.close()));
}

export class StepContext {
  readonly statements: StepStatements;
  /** The step being worked on, named in a failure. */
  step: StepId | 'preflight';
  private readonly secretValues = new Set<string>();
  private session: SqlSession | undefined;
  /** Inspect only: batches and ARM changes are recorded, not executed (the live plan). */
  dryRun = false;
  readonly skipped: string[] = [];

  constructor(
    readonly input: StepInput,
    readonly azure: AzureContext,
    readonly invocationContext: InvocationContext,
    first: StepId | 'preflight',
  ) {
    this.statements = stepStatements(input.request, input.facts);
    this.step = first;
  }

  get request(): LinkRequest {
    return this.input.request;
  }

  /** A Key Vault secret's value; remembered so no error message can carry it out. */
  async secret(name: string): Promise<string> {
    const value = await this.azure.secrets.get(name);
    this.secretValues.add(value);
    return value;
  }

  async sql(): Promise<SqlSession> {
    if (!this.session)
      this.session = sessionFor(this.request, await this.secret(this.request.sqlServer.loginSecret));
    return this.session;
  }

  /** Runs a batch from the step builders, filling sqlcmd variables (secrets included) at the last moment. */
  async run(batch: string, values: Record<string, string> = {}): Promise<BatchResult> {
    if (this.dryRun) {
      this.skipped.push(batch);
      return { recordsets: [], messages: [] };
    }
    const session = await this.sql();
    const text =
      Object.keys(values).length > 0 ? fillVariables(batch, Object.values(variables), values) : batch;
    return session.batch(text);
  }

  /** An ARM request that changes something; not sent in a dry run. */
  async change(
    request: ArmRequest,
    what: string,
  ): Promise<(PipelineResponse & { json: unknown }) | undefined> {
    if (this.dryRun) {
      this.skipped.push(`${request.method} ${request.path}`);
      return undefined;
    }
    const response = await this.azure.arm.call(request, what);
    await this.azure.arm.waitShortOperation(response, what, request);
    return response;
  }

  log(message: string): void {
    const ticket = this.input.ticketId ? `[ticket ${this.input.ticketId}] ` : '';
    this.invocationContext.log(`${ticket}${this.step}: ${this.scrub(message)}`);
  }

  scrub(text: string): string {
    let out = text;
    for (const secret of this.secretValues) if (secret.length > 0) out = out.split(secret).join('***');
    return out;
  }

  failure(e: unknown): StepFailure {
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
      code: String(e.number ?? 'Connection'),
      message: e.message,
      advice: e.advice,
    };
  if (e instanceof ArmError) return { target: e.service, code: e.code, message: e.message, advice: e.advice };
  if (e instanceof StepProblem)
    return { target: e.target, code: e.code, message: e.message, advice: e.advice };
  return undefined;
}

/** A condition milink found that stops a step, with advice. */
export class StepProblem extends Error {
  constructor(
    readonly target: StepFailure['target'],
    readonly code: string,
    message: string,
    readonly advice: string,
  ) {
    super(message);
    this.name = 'StepProblem';
  }
}

/**
 * Registers an activity for a runbook step family. Its handler inspects, acts only where needed and reports;
 * any error leaves as a StepFailure (step, target, SQL/ARM error, advice), scrubbed of every secret it read.
 */
export function defineActivity<T>(
  name: string,
  first: StepId | 'preflight',
  work: (ctx: StepContext) => Promise<T>,
): void {
  df.app.activity(name, {
    handler: async (input: unknown, invocation: InvocationContext): Promise<T> => {
      const ctx = new StepContext(input as StepInput, azure(), invocation, first);
      try {
        return await work(ctx);
      } catch (e) {
        const failure = ctx.failure(e);
        ctx.log(`failed: ${failure.code}: ${failure.message}`);
        throw new Error(encodeFailure(failure));
      }
    },
  });
}
