import { isIPv6 } from 'node:net';
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
const guidPattern = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Control characters (Unicode category Cc): C0, DEL and C1. */
// eslint-disable-next-line no-control-regex
const controlCharacter = /[\u0000-\u001f\u007f-\u009f]/;

/** A string holding a lone surrogate is not text: it cannot be encoded as UTF-8, a SQL name or a URL. */
export function isWellFormedText(value: string): boolean {
  return !/\p{Cs}/u.test(value);
}

export function hasControlCharacter(value: string): boolean {
  return controlCharacter.test(value);
}

/** Four decimal numbers 0-255, without leading zeros (which some resolvers read as octal). */
export function isIpv4Literal(value: string): boolean {
  const parts = value.split('.');
  return parts.length === 4 && parts.every((p) => /^(?:0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

/** An IPv6 address as written in a URL host without brackets; no zone (`%eth0` names a local interface). */
export function isIpv6Literal(value: string): boolean {
  return !value.includes('%') && isIPv6(value);
}

/**
 * An RFC 1123 host name: labels of letters, digits and inner hyphens, 1-63 characters each, 253 in all. RFC 1123
 * 2.1: the top label of a host name is never all digits, so `999.999.999.999` is no name but a broken address.
 */
export function isHostName(value: string): boolean {
  if (!hostNamePattern.test(value)) return false;
  return !/^\d+$/.test(value.slice(value.lastIndexOf('.') + 1));
}

export function isHostOrAddress(value: string): boolean {
  return isHostName(value) || isIpv4Literal(value) || isIpv6Literal(value);
}

const HOST_RULE =
  'must be a DNS name or an IPv4 or IPv6 address: an RFC 1123 host name (letters, digits and inner hyphens, labels of at most 63 characters, 253 in all, the last label not all digits), four numbers 0-255 without leading zeros, or an IPv6 address without a zone';

const port = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .int({ error: `${what} must be a whole number` })
    .min(1, { error: `${what} must be between 1 and 65535` })
    .max(65535, { error: `${what} must be between 1 and 65535` });

/** Every string field: text that is well-formed UTF-16 (the rule for fields that hold anything). */
const text = (what: string) =>
  z.string({ error: `${what} must be a string` }).refine(isWellFormedText, {
    error: `${what} must be well-formed Unicode text (a lone UTF-16 surrogate is not a character)`,
    params: { rule: 'Unicode' },
  });

/** A field that names something (a host, a login, a secret, a path, an object): no control characters either. */
const nameText = (what: string) =>
  text(what).refine((v) => !hasControlCharacter(v), {
    error: `${what} cannot hold control characters (U+0000-U+001F, U+007F-U+009F): they are no part of a name`,
    params: { rule: 'ControlCharacter' },
  });

const hostOrIp = (what: string) =>
  nameText(what).refine(isHostOrAddress, { error: `${what} ${HOST_RULE}`, params: { rule: 'HostName' } });

const secretName = (what: string) =>
  nameText(what).regex(/^[0-9a-zA-Z-]{1,127}$/, {
    error: `${what} must be a Key Vault secret name: 1-127 letters, digits and hyphens (the secret's name, never its value)`,
  });

const named = (rule: NameRule, what: string) =>
  nameText(what).superRefine((v, ctx) => {
    const problem = checkName(v, rule);
    if (problem) ctx.addIssue({ code: 'custom', message: `${what} ${problem}`, params: { rule: rule.code } });
  });

const sqlServerSchema = z.strictObject({
  host: hostOrIp('sqlServer.host'),
  port: port('sqlServer.port').default(1433),
  serverName: nameText('sqlServer.serverName')
    .min(1, { error: 'sqlServer.serverName cannot be empty' })
    .max(128, { error: 'sqlServer.serverName is at most 128 characters' })
    .optional(),
  endpointAddress: hostOrIp('sqlServer.endpointAddress'),
  endpointPort: port('sqlServer.endpointPort').default(5022),
  login: nameText('sqlServer.login')
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
  subscriptionId: nameText('managedInstance.subscriptionId').regex(guidPattern, {
    error: 'managedInstance.subscriptionId must be a GUID',
  }),
  resourceGroup: nameText('managedInstance.resourceGroup')
    .regex(/^[-\w.()]{1,90}$/, {
      error: 'managedInstance.resourceGroup must be 1-90 letters, digits, _ - . ( )',
    })
    .refine((v) => !v.endsWith('.'), { error: 'managedInstance.resourceGroup cannot end with a period' }),
  name: nameText('managedInstance.name')
    .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, {
      error:
        'managedInstance.name must match ^[a-z0-9]+(?:-[a-z0-9]+)*$ (lower-case letters, digits, single hyphens)',
    })
    .max(63, { error: 'managedInstance.name is at most 63 characters' }),
  fqdn: nameText('managedInstance.fqdn')
    .refine(isHostName, {
      error:
        'managedInstance.fqdn must be a DNS name: an RFC 1123 host name (letters, digits and inner hyphens, labels of at most 63 characters, 253 in all, the last label not all digits)',
      params: { rule: 'HostName' },
    })
    .optional(),
});

const namesSchema = z.strictObject({
  availabilityGroup: named(availabilityGroupNameRule, 'names.availabilityGroup').optional(),
  instanceAvailabilityGroup: named(availabilityGroupNameRule, 'names.instanceAvailabilityGroup').optional(),
  link: named(linkNameRule, 'names.link').optional(),
  certificate: named(certificateNameRule, 'names.certificate').optional(),
});

/** The link request's fields (the rules between fields are linkRequestSchema's). */
export const linkRequestFields = z.strictObject({
  sqlServer: sqlServerSchema,
  managedInstance: managedInstanceSchema,
  // SQL Server takes any character in a delimited identifier ([ ] with ] doubled): database keeps them all,
  // but for control characters. A line break cannot travel in the reviewable script (sqlcmd reads it line by
  // line, and GO, :commands and !! at a line's start are commands, inside [ ] too); the rest are no part of a
  // name a person can read or type in a review.
  database: text('database')
    .refine((v) => !hasControlCharacter(v), {
      error:
        'database cannot hold control characters (U+0000-U+001F, U+007F-U+009F): every other character SQL Server allows in a delimited name is accepted',
      params: { rule: 'ControlCharacter' },
    })
    .min(1, { error: 'database cannot be empty' })
    .refine((v) => [...v].length <= 128, { error: 'database is at most 128 characters' })
    .refine((v) => !SYSTEM_DATABASES.includes(v.toLowerCase().trim() as (typeof SYSTEM_DATABASES)[number]), {
      error:
        'database cannot be a system database (master, msdb, model, tempdb): the link replicates user databases only',
    }),
  initialPrimary: z.enum(['SqlServer', 'ManagedInstance'], {
    error: 'initialPrimary must be "SqlServer" or "ManagedInstance"',
  }),
  failoverMode: z
    .enum(['None', 'Manual'], {
      error: 'failoverMode must be "None" (one-way to Azure) or "Manual" (two-way)',
    })
    .default('None'),
  certificateExpiry: text('certificateExpiry')
    .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'certificateExpiry must be a date written YYYY-MM-DD' })
    .refine(
      (v) =>
        !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v),
      {
        error: 'certificateExpiry must be a real calendar date',
      },
    ),
  backupPath: nameText('backupPath')
    .min(1, { error: 'backupPath cannot be empty' })
    .max(200, { error: 'backupPath is at most 200 characters' })
    .optional(),
  names: namesSchema.optional(),
});

export const linkRequestSchema = linkRequestFields.superRefine((r, ctx) => {
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

export type LinkRequest = z.output<typeof linkRequestSchema>;
export type LinkRequestInput = z.input<typeof linkRequestSchema>;

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
 * Every string in the request, known field or not, enum or free text, that is not well-formed UTF-16: refused
 * before the schema reads it, so no rule, log line or error message ever handles a lone surrogate as text.
 */
function illFormedStrings(input: unknown, path: string[] = []): ErrorDetail[] {
  if (typeof input === 'string') {
    if (isWellFormedText(input)) return [];
    const target = path.join('.');
    return [
      {
        code: 'InvalidUnicode',
        target,
        message: `${target} must be well-formed Unicode text (a lone UTF-16 surrogate is not a character)`,
      },
    ];
  }
  if (input === null || typeof input !== 'object') return [];
  return Object.entries(input).flatMap(([key, value]) => illFormedStrings(value, [...path, key]));
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
  const unicode = illFormedStrings(input);
  const parsed = linkRequestSchema.safeParse(input);
  if (unicode.length > 0 || !parsed.success) {
    const flagged = new Set(unicode.map((d) => d.target));
    const rest = parsed.success ? [] : detailsFrom(parsed.error, input).filter((d) => !flagged.has(d.target));
    throw new InvalidRequestError([...unicode, ...rest]);
  }
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
