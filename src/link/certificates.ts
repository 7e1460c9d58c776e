import { z } from 'zod';
import { InvalidRequestError, type ErrorDetail } from './errors.js';
import { certificateNameRule, checkName, shortHash } from './names.js';
import { parseLinkRequest, type LinkRequest } from './request.js';

/**
 * The operations on a SQL Server's certificates (rotate, refresh): the link request of any link of that SQL Server
 * (it names the SQL Server, its secrets by name, and an instance whose subscription and resource group the others
 * are looked up in) and options of their own. One schema for HTTP and the queue.
 */

const guid = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

const instancesSchema = z
  .array(
    z.strictObject({
      subscriptionId: z.string().regex(guid, { error: 'subscriptionId must be a GUID' }),
      resourceGroup: z
        .string()
        .regex(/^[-\w.()]{1,90}$/, { error: 'resourceGroup must be 1-90 letters, digits, _ - . ( )' }),
      name: z
        .string()
        .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, { error: 'name must be a managed instance name' })
        .max(63),
    }),
    { error: 'options.instances must be a list of { subscriptionId, resourceGroup, name }' },
  )
  .max(100)
  .optional();

export const rotateOptionsSchema = z.strictObject({
  /** The new certificate's name (default Cert_<@@SERVERNAME>_endpoint_<expiry yyyymmdd>). */
  certificateName: z
    .string({ error: 'options.certificateName must be a string' })
    .superRefine((v, ctx) => {
      const problem = checkName(v, certificateNameRule);
      if (problem) ctx.addIssue({ code: 'custom', message: `options.certificateName ${problem}` });
    })
    .optional(),
  /** The new certificate's expiry, YYYY-MM-DD (default: today plus DEFAULT_CERTIFICATE_LIFETIME_DAYS). */
  expiry: z
    .string({ error: 'options.expiry must be a date written YYYY-MM-DD' })
    .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'options.expiry must be a date written YYYY-MM-DD' })
    // only a YYYY-MM-DD text is checked for being a calendar date (the pattern's issue says the rest)
    .refine(
      (v) =>
        !/^\d{4}-\d{2}-\d{2}$/.test(v) ||
        (!Number.isNaN(Date.parse(`${v}T00:00:00Z`)) &&
          new Date(`${v}T00:00:00Z`).toISOString().startsWith(v)),
      {
        error: 'options.expiry must be a real calendar date',
      },
    )
    .optional(),
  /** Instances the SQL Server's links reach outside the request's subscription and resource group. */
  instances: instancesSchema,
  /**
   * A Key Vault certificate (its name) to use instead of one SQL Server makes: its current version is imported with
   * its private key (the secret of the same name, PEM) and the endpoint switched to it; run again when Key Vault
   * renews it, and the new version replaces the old the same way.
   */
  keyVaultCertificate: z
    .string({ error: 'options.keyVaultCertificate must be a Key Vault certificate name' })
    .regex(/^[0-9a-zA-Z-]{1,127}$/, {
      error:
        'options.keyVaultCertificate must be a Key Vault certificate name: 1-127 letters, digits and hyphens',
    })
    .optional(),
});

export const refreshOptionsSchema = z.strictObject({ instances: instancesSchema });

/** A new endpoint certificate's lifetime when the request names no expiry (the runbook's examples use a year or more). */
export const DEFAULT_CERTIFICATE_LIFETIME_DAYS = 365;

export const CERTIFICATE_ACTIONS = {
  'rotate-certificate': { operation: 'rotateCertificate', options: rotateOptionsSchema },
  'refresh-instance-certificates': {
    operation: 'refreshInstanceCertificates',
    options: refreshOptionsSchema,
  },
} as const;

export type CertificateAction = keyof typeof CERTIFICATE_ACTIONS;

export function isCertificateAction(action: unknown): action is CertificateAction {
  return typeof action === 'string' && Object.hasOwn(CERTIFICATE_ACTIONS, action);
}

/** The orchestration id of a SQL Server's certificate operations: one at a time per server, whatever the case. */
export function serverInstanceId(request: LinkRequest): string {
  const host = request.sqlServer.host.toLowerCase();
  const label = host
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `cert-${label}-${shortHash(`${host}:${request.sqlServer.port}`, 12)}`;
}

export interface CertificateRequest {
  operation: string;
  request: LinkRequest;
  parameters: Record<string, unknown>;
}

/**
 * Validates a certificate operation: the link request and the options; the new certificate's expiry defaults to
 * `now` plus `lifetimeDays` and must lie after `now` (the trigger's clock).
 */
export function parseCertificateRequest(
  action: CertificateAction,
  request: unknown,
  options: unknown,
  now: Date,
  lifetimeDays: number,
): CertificateRequest {
  const details: ErrorDetail[] = [];
  let linkRequest: LinkRequest | undefined;
  try {
    // the link's own certificateExpiry may have passed: that is what a rotation is for, so it is not held against it
    linkRequest = parseLinkRequest(request, new Date(0));
  } catch (e) {
    if (!(e instanceof InvalidRequestError)) throw e;
    details.push(...e.details.map((d) => ({ ...d, target: d.target ? `request.${d.target}` : 'request' })));
  }
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options)))
    details.push({ code: 'InvalidType', target: 'options', message: 'options must be a JSON object' });
  const parsed = (CERTIFICATE_ACTIONS[action].options as z.ZodType).safeParse(options ?? {});
  if (!parsed.success && (options === undefined || typeof options === 'object'))
    for (const issue of parsed.error.issues) {
      const target = ['options', ...issue.path.map(String)].join('.');
      details.push(
        issue.code === 'unrecognized_keys'
          ? {
              code: 'UnknownField',
              target: issue.keys.length === 1 ? `options.${issue.keys[0]}` : 'options',
              message: `unknown field(s) ${issue.keys.map((k) => `options.${k}`).join(', ')}: only the documented options are accepted`,
            }
          : {
              code: issue.code === 'invalid_type' ? 'InvalidType' : 'InvalidValue',
              target,
              message: issue.message.includes('options.') ? issue.message : `${target}: ${issue.message}`,
            },
      );
    }
  const parameters = parsed.success ? { ...(parsed.data as Record<string, unknown>) } : {};
  if (action === 'rotate-certificate') {
    const expiry =
      (parameters.expiry as string | undefined) ??
      new Date(now.getTime() + lifetimeDays * 86_400_000).toISOString().slice(0, 10);
    if (new Date(`${expiry}T00:00:00Z`).getTime() <= now.getTime())
      details.push({
        code: 'InvalidValue',
        target: 'options.expiry',
        message: `options.expiry ${expiry} must be in the future`,
      });
    parameters.expiry = expiry;
  }
  if (details.length > 0 || !linkRequest) throw new InvalidRequestError(details);
  return { operation: CERTIFICATE_ACTIONS[action].operation, request: linkRequest, parameters };
}
