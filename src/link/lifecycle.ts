import { z } from 'zod';
import { InvalidRequestError, type ErrorDetail } from './errors.js';
import { parseLinkRequest, type LinkRequest } from './request.js';

/**
 * The operations on an existing link (drop, failover, split brain, migration): each takes the link request (the one
 * the link was created with: it names the SQL Server, the instance, the database and the secrets by name) and
 * options of its own. One schema each, for HTTP and the queue; a broken rule is a 400 naming `options.<field>`.
 */

const bool = (what: string) => z.boolean({ error: `${what} must be true or false` });

const lsnStableSeconds = z
  .number({ error: 'options.lsnStableSeconds must be a number of seconds' })
  .int({ error: 'options.lsnStableSeconds must be a whole number of seconds' })
  .min(0, { error: 'options.lsnStableSeconds must be between 0 and 3600' })
  .max(3600, { error: 'options.lsnStableSeconds must be between 0 and 3600' })
  .default(30);

export const dropOptionsSchema = z.strictObject({
  /** Also drop the AG on SQL Server (only when no other DAG uses it). */
  dropAvailabilityGroup: bool('options.dropAvailabilityGroup').default(false),
  /** Also drop the instance's certificate on SQL Server and the instance's trust of SQL Server's (only when no other link of the pair needs them). */
  dropCertificates: bool('options.dropCertificates').default(false),
  /** Checks the request explicitly overrides; the status reports each one overridden. */
  override: z
    .array(
      z.enum(['first-backup', 'split-brain'], {
        error: 'options.override may hold "first-backup" and "split-brain"',
      }),
      { error: 'options.override must be a list' },
    )
    .default([]),
});

export const failoverOptionsSchema = z
  .strictObject({
    /** The side that becomes primary. */
    to: z.enum(['ManagedInstance', 'SqlServer'], {
      error: 'options.to must be "ManagedInstance" or "SqlServer"',
    }),
    /** The confirmation "Fail over link" asks for: the application's writes are stopped. */
    workloadStopped: bool('options.workloadStopped').default(false),
    /** A forced failover (disaster recovery): transactions the new primary has not hardened are lost. */
    allowDataLoss: bool('options.allowDataLoss').default(false),
    /** How long last_hardened_lsn must stay equal on both sides before a planned failover. */
    lsnStableSeconds,
    override: z
      .array(z.enum(['split-brain'], { error: 'options.override may hold "split-brain"' }), {
        error: 'options.override must be a list',
      })
      .default([]),
  })
  .superRefine((o, ctx) => {
    if (!o.allowDataLoss && !o.workloadStopped)
      ctx.addIssue({
        code: 'custom',
        path: ['workloadStopped'],
        message:
          'options.workloadStopped must be true for a planned failover: stop the workload first ("Fail over link"), or set allowDataLoss for a forced failover',
      });
  });

export const splitBrainOptionsSchema = z.strictObject({
  /** The side that gives up the primary role (its backup is taken first). */
  demote: z.enum(['SqlServer', 'ManagedInstance'], {
    error: 'options.demote must be "SqlServer" or "ManagedInstance"',
  }),
  /** The explicit confirmation: the demoted side's transactions since the split are given up (after its backup). */
  confirm: z.literal(true, {
    error: 'options.confirm must be true: the demoted side gives up what it committed since the split',
  }),
});

export const migrateOptionsSchema = z.strictObject({
  workloadStopped: z.literal(true, {
    error:
      'options.workloadStopped must be true: a migration cut-over needs the workload stopped ("Fail over link")',
  }),
  lsnStableSeconds,
  /** After the link is dropped, also the AG and the certificates of the pair on SQL Server (when nothing else needs them). */
  dropSqlServerObjects: bool('options.dropSqlServerObjects').default(false),
});

export const LIFECYCLE_ACTIONS = {
  drop: { operation: 'dropLink', options: dropOptionsSchema },
  failover: { operation: 'failoverLink', options: failoverOptionsSchema },
  'resolve-split-brain': { operation: 'resolveSplitBrain', options: splitBrainOptionsSchema },
  migrate: { operation: 'migrateLink', options: migrateOptionsSchema },
} as const;

export type LifecycleAction = keyof typeof LIFECYCLE_ACTIONS;

export function isLifecycleAction(action: unknown): action is LifecycleAction {
  return typeof action === 'string' && Object.hasOwn(LIFECYCLE_ACTIONS, action);
}

export interface LifecycleRequest {
  operation: string;
  request: LinkRequest;
  parameters: Record<string, unknown>;
}

function optionDetails(error: z.ZodError): ErrorDetail[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys')
      return {
        code: 'UnknownField',
        target: issue.keys.length === 1 ? `options.${issue.keys[0]}` : 'options',
        message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `options.${k}`).join(', ')}: only the documented options are accepted`,
      };
    const target = ['options', ...issue.path.map(String)].join('.');
    return {
      code: issue.code === 'invalid_type' ? 'InvalidType' : 'InvalidValue',
      target,
      message: issue.message.includes(target) ? issue.message : `${target}: ${issue.message}`,
    };
  });
}

/**
 * Validates an operation on an existing link: the link request and the action's options. `now` is the caller's
 * clock (the trigger's), for the link request's rules.
 */
export function parseLifecycleRequest(
  action: LifecycleAction,
  request: unknown,
  options: unknown,
  now: Date,
): LifecycleRequest {
  const spec = LIFECYCLE_ACTIONS[action];
  let details: ErrorDetail[] = [];
  let linkRequest: LinkRequest | undefined;
  try {
    linkRequest = parseLinkRequest(request, now);
  } catch (e) {
    if (!(e instanceof InvalidRequestError)) throw e;
    details = e.details.map((d) => ({ ...d, target: d.target ? `request.${d.target}` : 'request' }));
  }
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options)))
    details.push({ code: 'InvalidType', target: 'options', message: 'options must be a JSON object' });
  const parsed = (spec.options as z.ZodType).safeParse(options ?? {});
  if (!parsed.success && (options === undefined || typeof options === 'object'))
    details.push(...optionDetails(parsed.error));
  if (details.length > 0 || !linkRequest || !parsed.success) throw new InvalidRequestError(details);
  const parameters = { ...(parsed.data as Record<string, unknown>) };
  // the moment the request was made, for names the operation derives from it (a tail-log backup's file)
  // the side kept is the one whose roles verify-roles checks afterwards
  if (action === 'resolve-split-brain')
    Object.assign(parameters, {
      requestedAt: now.toISOString(),
      to: parameters.demote === 'SqlServer' ? 'ManagedInstance' : 'SqlServer',
      allowDataLoss: false,
    });
  // a migration is a planned failover to the instance, then a drop
  if (action === 'migrate')
    Object.assign(parameters, {
      to: 'ManagedInstance',
      allowDataLoss: false,
      migration: true,
      dropAvailabilityGroup: parameters.dropSqlServerObjects === true,
      dropCertificates: parameters.dropSqlServerObjects === true,
    });
  return { operation: spec.operation, request: linkRequest, parameters };
}
