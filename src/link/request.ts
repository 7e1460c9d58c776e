import { z } from 'zod';
import { InvalidRequestError, type ErrorDetail } from './errors.js';
import {
  availabilityGroupNameRule,
  certificateNameRule,
  checkName,
  linkNameRule,
  type NameRule,
} from './names.js';

/**
 * The link request: one schema for HTTP, the queue and the CLI. Secrets appear only as Key Vault secret
 * names. Unknown fields are rejected.
 */

export const SYSTEM_DATABASES = ['master', 'msdb', 'model', 'tempdb'] as const;
export const SUPPORTED_VERSIONS = [2016, 2017, 2019, 2022, 2025] as const;

const hostNamePattern =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const ipv4Pattern = /^(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const guidPattern = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

const port = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .int({ error: `${what} must be a whole number` })
    .min(1, { error: `${what} must be between 1 and 65535` })
    .max(65535, { error: `${what} must be between 1 and 65535` });

const hostOrIp = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .refine((v) => hostNamePattern.test(v) || ipv4Pattern.test(v), {
      error: `${what} must be a DNS name or an IPv4 address`,
    });

const secretName = (what: string) =>
  z.string({ error: `${what} must be a string` }).regex(/^[0-9a-zA-Z-]{1,127}$/, {
    error: `${what} must be a Key Vault secret name: 1-127 letters, digits and hyphens (the secret's name, never its value)`,
  });

const named = (rule: NameRule, what: string) =>
  z.string({ error: `${what} must be a string` }).superRefine((v, ctx) => {
    const problem = checkName(v, rule);
    if (problem) ctx.addIssue({ code: 'custom', message: `${what} ${problem}`, params: { rule: rule.code } });
  });

const sqlServerSchema = z.strictObject({
  host: hostOrIp('sqlServer.host'),
  port: port('sqlServer.port').default(1433),
  serverName: z
    .string({ error: 'sqlServer.serverName must be a string' })
    .min(1, { error: 'sqlServer.serverName cannot be empty' })
    .max(128, { error: 'sqlServer.serverName is at most 128 characters' })
    .optional(),
  endpointAddress: hostOrIp('sqlServer.endpointAddress'),
  endpointPort: port('sqlServer.endpointPort').default(5022),
  login: z
    .string({ error: 'sqlServer.login must be a string' })
    .min(1, { error: 'sqlServer.login cannot be empty' })
    .max(128, { error: 'sqlServer.login is at most 128 characters' }),
  loginSecret: secretName('sqlServer.loginSecret'),
  masterKeySecret: secretName('sqlServer.masterKeySecret'),
  version: z
    .literal([...SUPPORTED_VERSIONS], {
      error: `sqlServer.version must be one of ${SUPPORTED_VERSIONS.join(', ')}`,
    })
    .optional(),
  tls: z
    .strictObject({
      encrypt: z.boolean({ error: 'sqlServer.tls.encrypt must be true or false' }).default(true),
      trustServerCertificate: z
        .boolean({ error: 'sqlServer.tls.trustServerCertificate must be true or false' })
        .default(false),
    })
    .optional(),
});

const managedInstanceSchema = z.strictObject({
  subscriptionId: z
    .string({ error: 'managedInstance.subscriptionId must be a string' })
    .regex(guidPattern, { error: 'managedInstance.subscriptionId must be a GUID' }),
  resourceGroup: z
    .string({ error: 'managedInstance.resourceGroup must be a string' })
    .regex(/^[-\w.()]{1,90}$/, {
      error: 'managedInstance.resourceGroup must be 1-90 letters, digits, _ - . ( )',
    })
    .refine((v) => !v.endsWith('.'), { error: 'managedInstance.resourceGroup cannot end with a period' }),
  name: z
    .string({ error: 'managedInstance.name must be a string' })
    .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, {
      error:
        'managedInstance.name must match ^[a-z0-9]+(?:-[a-z0-9]+)*$ (lower-case letters, digits, single hyphens)',
    })
    .max(63, { error: 'managedInstance.name is at most 63 characters' }),
  fqdn: z
    .string({ error: 'managedInstance.fqdn must be a string' })
    .regex(hostNamePattern, { error: 'managedInstance.fqdn must be a DNS name' })
    .optional(),
});

const namesSchema = z.strictObject({
  availabilityGroup: named(availabilityGroupNameRule, 'names.availabilityGroup').optional(),
  instanceAvailabilityGroup: named(availabilityGroupNameRule, 'names.instanceAvailabilityGroup').optional(),
  link: named(linkNameRule, 'names.link').optional(),
  certificate: named(certificateNameRule, 'names.certificate').optional(),
});

const requestSchema = z
  .strictObject({
    sqlServer: sqlServerSchema,
    managedInstance: managedInstanceSchema,
    database: z
      .string({ error: 'database must be a string' })
      .min(1, { error: 'database cannot be empty' })
      .refine((v) => [...v].length <= 128, { error: 'database is at most 128 characters' })
      .refine(
        (v) => !SYSTEM_DATABASES.includes(v.toLowerCase().trim() as (typeof SYSTEM_DATABASES)[number]),
        {
          error:
            'database cannot be a system database (master, msdb, model, tempdb): the link replicates user databases only',
        },
      )
      // eslint-disable-next-line no-control-regex
      .refine((v) => !/[\u0000-\u001f\u007f]/.test(v), { error: 'database cannot hold control characters' }),
    initialPrimary: z.enum(['SqlServer', 'ManagedInstance'], {
      error: 'initialPrimary must be "SqlServer" or "ManagedInstance"',
    }),
    failoverMode: z
      .enum(['None', 'Manual'], {
        error: 'failoverMode must be "None" (one-way to Azure) or "Manual" (two-way)',
      })
      .default('None'),
    certificateExpiry: z
      .string({ error: 'certificateExpiry must be a string' })
      .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'certificateExpiry must be a date written YYYY-MM-DD' })
      .refine(
        (v) =>
          !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) &&
          new Date(`${v}T00:00:00Z`).toISOString().startsWith(v),
        {
          error: 'certificateExpiry must be a real calendar date',
        },
      ),
    backupPath: z
      .string({ error: 'backupPath must be a string' })
      .min(1, { error: 'backupPath cannot be empty' })
      .max(200, { error: 'backupPath is at most 200 characters' })
      // eslint-disable-next-line no-control-regex
      .refine((v) => !/[\u0000-\u001f\u007f]/.test(v), { error: 'backupPath cannot hold control characters' })
      .optional(),
    names: namesSchema.optional(),
  })
  .superRefine((r, ctx) => {
    const version = r.sqlServer.version;
    if (r.initialPrimary === 'ManagedInstance' && version !== undefined && version < 2022) {
      ctx.addIssue({
        code: 'custom',
        path: ['sqlServer', 'version'],
        message: `sqlServer.version ${version} cannot take a link with the managed instance as initial primary: that needs SQL Server 2022 CU10 or later`,
      });
    }
    if (r.failoverMode === 'Manual' && version !== undefined && version < 2022) {
      ctx.addIssue({
        code: 'custom',
        path: ['failoverMode'],
        message: `failoverMode "Manual" (two-way) needs SQL Server 2022 or later; sqlServer.version is ${version}`,
      });
    }
    if (
      r.managedInstance.fqdn !== undefined &&
      !r.managedInstance.fqdn.toLowerCase().startsWith(`${r.managedInstance.name}.`)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['managedInstance', 'fqdn'],
        message: `managedInstance.fqdn must start with the instance name followed by a period ("${r.managedInstance.name}.")`,
      });
    }
  });

export type LinkRequest = z.output<typeof requestSchema>;
export type LinkRequestInput = z.input<typeof requestSchema>;

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function detailsFrom(error: z.ZodError, input: unknown): ErrorDetail[] {
  return error.issues.map((issue) => {
    const target = issue.path.join('.');
    let message = issue.message;
    let code = 'InvalidValue';
    if (issue.code === 'unrecognized_keys') {
      code = 'UnknownField';
      const where = target ? `${target}.` : '';
      message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `${where}${k}`).join(', ')}: only the documented fields are accepted`;
      return { code, target: issue.keys.length === 1 ? `${where}${issue.keys[0]}` : target, message };
    }
    if (issue.code === 'invalid_type') {
      code = 'InvalidType';
      if (valueAt(input, issue.path) === undefined) {
        code = 'MissingField';
        message = `${target} is required`;
      }
    }
    if (issue.code === 'custom') {
      const rule = (issue.params as { rule?: string } | undefined)?.rule;
      if (rule) code = `Invalid${rule}`;
    }
    if (!message.includes(target) && target) message = `${target}: ${message}`;
    return { code, target, message };
  });
}

/**
 * Validates a link request. `now` is used for the rule that the certificate expiry lies in the future
 * (callers pass the clock they have; never an orchestrator).
 */
export function parseLinkRequest(input: unknown, now: Date): LinkRequest {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidRequestError([
      { code: 'InvalidType', target: '', message: 'the link request must be a JSON object' },
    ]);
  }
  const parsed = requestSchema.safeParse(input);
  if (!parsed.success) throw new InvalidRequestError(detailsFrom(parsed.error, input));
  const request = parsed.data;
  const expiry = new Date(`${request.certificateExpiry}T00:00:00Z`);
  if (expiry.getTime() <= now.getTime()) {
    throw new InvalidRequestError([
      {
        code: 'InvalidValue',
        target: 'certificateExpiry',
        message: `certificateExpiry ${request.certificateExpiry} must be in the future`,
      },
    ]);
  }
  return request;
}
