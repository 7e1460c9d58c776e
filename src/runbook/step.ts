import type { ArmClient } from '../azure/clients.js';
import type { ArmRequest } from '../azure/arm-requests.js';
import type { VaultCertificate } from '../azure/keyvault-certificates.js';
import type { LinkRequest } from '../link/request.js';
import type { StepFailure } from '../link/status.js';
import type { EndpointInfo } from '../sql/catalog.js';
import type { BatchOptions, BatchResult, SqlSession } from '../sql/session.js';
import type { LinkContext } from './context.js';
import type { CertificateFacts } from './checks/server-certificates.js';

/**
 * A runbook step: one object in one file that renders, inspects and performs it.
 *
 * - `render(link)` gives the step's T-SQL batches and ARM requests **by name**, for `milink plan`, the live plan
 *   and the step's own action (which executes exactly what it renders);
 * - `inspect(io)` reads the estate and returns a typed observation; it never changes anything;
 * - `needed(observation)` says whether the step must act;
 * - `act(io, observation)` does only what is missing and reports what it changed.
 *
 * A step that only reads (`export-…`) has no `act`; a step that waits (`wait-for-link`) is looked at between durable
 * timers until `needed` says the wait is over.
 */
export type StepScope = 'sqlserver' | 'instance' | 'pair' | 'database' | 'link';

export interface Rendered {
  tsql?: Record<string, string>;
  arm?: Record<string, ArmRequest>;
  /** Batches run only on a condition the step detects (an outdated certificate): not part of the script. */
  remedy?: Record<string, string>;
}

/** What a step reports: what it found already in place and what it changed. Never a secret. */
export interface StepReport {
  step: string;
  found: string[];
  changed: string[];
  /** Figures the step measured (a forced failover's data loss), for the operation's output. Never a secret. */
  details?: Record<string, unknown>;
}

/** What is known about the estate when a plan is made; anything missing becomes a sqlcmd variable. */
export interface EstateFacts {
  /** @@SERVERNAME */
  serverName?: string;
  /** SQL Server's major version year (2016 … 2025). */
  version?: number;
  /** SQL Server's build (the third part of ProductVersion). */
  build?: number;
  /** The instance's FQDN. */
  fqdn?: string;
  /** Names chosen at run time where the request leaves them out (an AG the database already has, DAG2_<db>, …). */
  names?: { availabilityGroup?: string; link?: string };
  /** An existing DATABASE_MIRRORING endpoint. */
  endpoint?: EndpointInfo | null;
  /** SQL Server's endpoint certificate, 0x… (public; read by export-sqlserver-certificate). */
  sqlServerCertificate?: string;
  /** The instance's endpoint certificate, 0x… (public; read by export-instance-certificate). */
  instanceCertificate?: string;
  /** A SQL Server's certificates and the instances its links reach (rotateCertificate, refreshInstanceCertificates). */
  certificates?: CertificateFacts;
}

/** What a step works with: the request, the facts, and the estate's clients (built once, injected). */
export interface StepIo {
  readonly request: LinkRequest;
  readonly facts: EstateFacts;
  readonly link: LinkContext;
  readonly arm: ArmClient;
  /** The session with the request's SQL Server (its login's password read from Key Vault). */
  sql(): Promise<SqlSession>;
  /**
   * Runs a batch the step rendered, filling sqlcmd variables (secrets included) at the last moment. It changes state:
   * a timeout is not retried. `options.timeoutMs` sets its own limit (0 = none, for a BACKUP).
   */
  run(
    batch: string,
    values?: Record<string, string>,
    options?: Pick<BatchOptions, 'timeoutMs'>,
  ): Promise<BatchResult>;
  /** A Key Vault secret's value; remembered so no error or log can carry it out. */
  secret(name: string): Promise<string>;
  /** A Key Vault certificate's public part: its current version, or the version named. */
  vaultCertificate?(name: string, version?: string): Promise<VaultCertificate>;
  /** A Key Vault certificate version's private key (PEM), remembered as a secret like `secret`'s values. */
  vaultPrivateKey?(name: string, version: string): Promise<string>;
  /** Remembers a value made from a secret (a private key in another format) so nothing can carry it out either. */
  conceal?(value: string): void;
  /** The moment the orchestration handed over (its deterministic clock), for steps that compare times. */
  readonly since?: Date;
  /** A long-running operation this step started earlier (its poller's serialised state). */
  readonly operation?: string;
  /** The operation's own parameters (what the request asked of this drop, failover, …); never a secret. */
  readonly parameters: Readonly<Record<string, unknown>>;
  /** A wait: its previous look's observation in this wait (to tell how long something has stayed unchanged). */
  readonly previous?: unknown;
}

export interface Step<O = unknown> {
  id: string;
  scope: StepScope;
  target: 'sqlserver' | 'azure';
  title(link: LinkContext): string;
  /** Whether the operation runs this step for this request (e.g. prepare-database only with SQL Server as primary). */
  include?(link: LinkContext): boolean;
  render(link: LinkContext): Rendered;
  /** ARM requests the inspection sends (reads), by name: with the rendered ones, what the operation needs to be allowed. */
  reads?(link: LinkContext): Record<string, ArmRequest>;
  inspect(io: StepIo): Promise<O>;
  needed(observation: O): boolean;
  /** What was found in place when nothing is needed. */
  found(observation: O): string[];
  act?(io: StepIo, observation: O): Promise<StepReport>;
  /** The read step whose output this step acts on: that step is needed exactly when this one is. */
  uses?: Step<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** A wait: looked at between durable timers; it carries the observation to the status. */
  wait?: true;
  /** Read by the operation's preflight, which decides with what it reads (no activity of its own). */
  preflight?: true;
  /** A wait's progress for the status (what the user watches); the runner looks again sooner while it changes. */
  progress?(observation: O): Record<string, unknown>;
  /**
   * When to look again (seconds), when the wait can tell from what it saw: e.g. seeding's rate between two looks
   * predicts when it ends. Undefined: the runner backs off on its own.
   */
  nextLook?(observation: O, previous: O | undefined, secondsBetween: number): number | undefined;
  /** A wait still not over at its deadline: what to report. */
  overdue?(observation: O, hours: number): Omit<StepFailure, 'step'>;
}

/** Defines a step (keeps each step file's object typed by its own observation). */
export function defineStep<O>(step: Step<O>): Step<O> {
  return step;
}

/** A condition a step found that stops it, with advice. */
export class StepProblem extends Error {
  constructor(
    readonly target: 'sqlserver' | 'azure' | 'keyvault' | 'milink',
    readonly code: string,
    message: string,
    readonly advice: string,
  ) {
    super(message);
    this.name = 'StepProblem';
  }
}

/** An error met while one step reads what another step owns (its statement, its object): the failure is that step's. */
export class OwnedByStep extends Error {
  constructor(
    readonly step: string,
    readonly error: unknown,
  ) {
    super((error as Error)?.message ?? String(error));
    this.name = 'OwnedByStep';
  }
}

export function report(step: string): StepReport {
  return { step, found: [], changed: [] };
}
