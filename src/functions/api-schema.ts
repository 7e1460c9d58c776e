import { z } from 'zod';
import { healthReportSchema } from '../health/report.js';
import { CERTIFICATE_ACTIONS } from '../link/certificates.js';
import { MAX_FLEET_DATABASES } from '../link/fleet.js';
import { LIFECYCLE_ACTIONS } from '../link/lifecycle.js';
import { linkRequestFields, linkRequestSchema } from '../link/request.js';
import type { OperationStatus } from '../link/status.js';

/**
 * The HTTP API's answers as zod schemas, and the OpenAPI 3.1 document generated from them and from the link request's
 * own schema (`z.toJSONSchema`): what `GET /api/openapi.json` serves. The schemas describe what the triggers answer;
 * the e2e tests check every answer they get against the document.
 */

const text = z.string();
const isoTime = z.string().describe('ISO 8601 time (UTC)');

export const errorDetailSchema = z.object({
  code: text,
  target: text.describe('the request field (dotted path) the rule is about; empty for the whole body'),
  message: text,
});

export const errorSchema = z
  .object({
    error: z.object({
      code: text.describe('InvalidLinkRequest, NotFound, LinkOperationInProgress, OperationNotRunning, …'),
      message: text,
      target: text.optional(),
      details: z.array(errorDetailSchema).optional(),
    }),
  })
  .describe("An error, in Azure Resource Manager's shape");

const target3 = z.enum(['sqlserver', 'azure', 'keyvault']);

export const stepFailureSchema = z
  .object({
    step: text.describe('the step id, or preflight'),
    target: z.enum(['sqlserver', 'azure', 'keyvault', 'milink']),
    code: text.describe(
      'SQL Server error number, ARM error code, or milink code (StatementTimeout, Deadline, …)',
    ),
    message: text,
    advice: text,
  })
  .describe('Where an operation failed, what the service said and what to do');

export const preflightProblemSchema = z.object({
  check: text,
  target: target3,
  message: text,
  advice: text,
  code: text.optional(),
});

export const RUNTIME_STATUSES = [
  'Running',
  'Pending',
  'Completed',
  'Failed',
  'Terminated',
  'ContinuedAsNew',
  'Canceled',
  'Suspended',
] as const;
export const runtimeStatusSchema = z.enum(RUNTIME_STATUSES);

export const stepStateSchema = z.enum(['pending', 'current', 'done', 'skipped', 'failed']);

/** The operation's own status (the runner's custom status); absent until the orchestration first runs. */
const operationFields = {
  operation: text.optional().describe('createLink, …'),
  phase: z
    .enum(['preflight', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'])
    .optional()
    .describe('cancelled: an operator cancelled the run (runtimeStatus Terminated)'),
  ticketId: text.optional().describe('the queue ticket that started it'),
  tickets: z.array(text).optional().describe('tickets that asked for it while it ran'),
  link: text.optional().describe('the link (distributed availability group) name'),
  managedInstance: text.optional(),
  database: text.optional(),
  current: text.optional().describe('the step running now'),
  handedOverTo: text
    .optional()
    .describe('the run goes on under this id (preflight resolved another link, e.g. DAG2_<db>)'),
};

export const stepReportSchema = z.object({
  step: text,
  found: z.array(text),
  changed: z.array(text),
  details: z.record(z.string(), z.unknown()).optional(),
});

export const operationOutputSchema = z
  .looseObject({
    outcome: z.literal('Succeeded'),
    operation: text,
    link: text,
    managedInstance: text,
    database: text,
    health: z
      .unknown()
      .optional()
      .describe("the last wait's last observation (createLink: the link's health)"),
    reports: z.array(stepReportSchema),
    warnings: z.array(preflightProblemSchema).optional(),
  })
  .describe('What a succeeded operation did');

const armRequestSchema = z.object({
  method: z.enum(['GET', 'PUT', 'POST', 'PATCH', 'DELETE']),
  path: text,
  body: z.unknown().optional(),
});

export const planStepSchema = z.object({
  id: text,
  title: text,
  target: z.enum(['sqlserver', 'azure']),
  tsql: z.array(text).optional(),
  arm: z.array(armRequestSchema).optional(),
});

/** What a live plan's orchestration (planOperation) returns. */
export const livePlanResultSchema = z
  .object({
    steps: z.array(planStepSchema).describe('the steps still needed'),
    done: z.array(text).describe('steps already in place'),
    warnings: z.array(preflightProblemSchema),
    failures: z.array(preflightProblemSchema),
    blocked: z.array(stepFailureSchema),
  })
  .describe('What the estate still needs (nothing was executed)');

export const linkStatusSchema = z
  .object({
    instanceId: text,
    handedOverFrom: text.optional().describe('the id asked for, when the run went on under another one'),
    name: text.describe('the orchestration (createLink, …)'),
    runtimeStatus: runtimeStatusSchema,
    createdTime: isoTime,
    lastUpdatedTime: isoTime,
    ...operationFields,
    steps: z
      .array(z.object({ id: text, title: text, state: stepStateSchema }))
      .optional()
      .describe('every step of the operation, in order'),
    progress: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("a wait's progress (createLink: replica state, seeding, connection, health)"),
    warnings: z.array(preflightProblemSchema).optional(),
    failures: z.array(preflightProblemSchema).optional(),
    error: stepFailureSchema.optional(),
    output: z
      .union([operationOutputSchema, livePlanResultSchema, text, z.null()])
      .describe("the result once Completed; the failure's or cancellation's text otherwise"),
  })
  .describe('One operation: runtime status, steps, progress, and on failure the step, error and advice');

// Every field of the status model is described: a field added to OperationStatus without its schema here fails to
// compile (the list names it).
type Described = keyof z.infer<typeof linkStatusSchema>;
const _described: Record<Exclude<keyof OperationStatus, Described>, never> = {};
void _described;

export const operationSummarySchema = z.object({
  instanceId: text,
  name: text,
  runtimeStatus: runtimeStatusSchema,
  createdTime: isoTime,
  lastUpdatedTime: isoTime,
  ...operationFields,
  error: stepFailureSchema.optional(),
});

export const operationListSchema = z
  .object({ value: z.array(operationSummarySchema), count: z.number().int().min(0) })
  .describe('Operations, newest first');

export const acceptedSchema = z
  .object({
    instanceId: text,
    operation: text,
    statusUrl: z.url().describe("GET it for the operation's status (also the Location header)"),
  })
  .describe('The operation started');

export const cancelRequestSchema = z.strictObject({
  reason: z
    .string()
    .min(1)
    .max(500)
    .optional()
    .describe('why (recorded as the orchestration’s termination reason)'),
});

export const cancelledSchema = z
  .object({
    instanceId: text,
    terminated: z
      .array(text)
      .describe('the runs asked to stop (a handed-over run and the run it went on as)'),
    reason: text,
    statusUrl: z.url(),
  })
  .describe('Cancellation asked: the run stops at its next step boundary');

export const planRequestSchema = z.strictObject({
  request: linkRequestSchema,
  live: z
    .boolean()
    .optional()
    .describe('inspect the estate (nothing is executed) and keep only the steps still needed'),
});

export const planSchema = z
  .object({ steps: z.array(planStepSchema), script: text.describe('the reviewable sqlcmd script') })
  .describe('The plan for a link request');

export const livePlanSchema = livePlanResultSchema
  .extend({ live: z.literal(true), instanceId: text })
  .describe('The live plan: only what the estate still needs');

// ---------------------------------------------------------------- operations on a link, fleets

/** `{ request, options }` for an operation on an existing link (the options are the action's own). */
export function lifecycleRequestSchema(action: keyof typeof LIFECYCLE_ACTIONS) {
  return z.strictObject({
    request: linkRequestSchema.describe('the link request the link was created with'),
    options: LIFECYCLE_ACTIONS[action].options.optional(),
  });
}

export const lifecyclePlanRequestSchema = z.strictObject({
  request: linkRequestSchema,
  options: z.record(z.string(), z.unknown()).optional(),
  live: z.boolean().optional(),
});

/** A fleet: a link request whose `database` is `databases` (or a batch of such requests). */
const fleetPairSchema = linkRequestFields.omit({ database: true, names: true }).extend({
  databases: z
    .array(z.string())
    .min(1)
    .max(MAX_FLEET_DATABASES)
    .describe('the databases to link, each its own link'),
  names: z.strictObject({ certificate: z.string().optional() }).optional(),
});
export const fleetRequestSchema = z.union([
  fleetPairSchema,
  z.strictObject({ batch: z.array(fleetPairSchema).min(1).max(50) }),
]);

export const fleetAcceptedSchema = z
  .object({ instanceId: text, databases: z.number().int(), statusUrl: z.url() })
  .describe('The fleet started');

const fleetItemState = z.enum(['pending', 'running', 'succeeded', 'failed', 'skipped']);
export const fleetStatusSchema = z
  .object({
    instanceId: text,
    runtimeStatus: text,
    createdTime: isoTime.optional(),
    lastUpdatedTime: isoTime.optional(),
    operation: z.literal('createFleet').optional(),
    phase: z.enum(['preparing', 'linking', 'succeeded', 'failed']).optional(),
    ticketId: text.optional(),
    pairs: z
      .array(
        z.object({
          sqlServer: text,
          managedInstance: text,
          instanceId: text,
          state: fleetItemState,
          error: stepFailureSchema.optional(),
        }),
      )
      .optional(),
    databases: z
      .array(
        z.object({
          database: text,
          sqlServer: text,
          managedInstance: text,
          link: text,
          instanceId: text.describe("the database's own run: GET /api/links/{instanceId}"),
          state: fleetItemState,
          phase: text.optional(),
          step: text.optional().describe('the step the running database is at'),
          error: stepFailureSchema.optional(),
        }),
      )
      .optional(),
    counts: z.record(fleetItemState, z.number().int()).optional(),
    output: z.unknown(),
  })
  .describe("A fleet's status: each pair and database with its state");

// ---------------------------------------------------------------- the document

type Json = Record<string, unknown>;

/** A zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect), without its own `$schema`. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'output'): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  }) as Json;
  return rest;
}

const SCHEMAS = {
  LinkRequest: () => jsonSchema(linkRequestSchema, 'input'),
  PlanRequest: () => jsonSchema(planRequestSchema, 'input'),
  CancelRequest: () => jsonSchema(cancelRequestSchema, 'input'),
  Error: () => jsonSchema(errorSchema),
  Accepted: () => jsonSchema(acceptedSchema),
  LinkStatus: () => jsonSchema(linkStatusSchema),
  OperationList: () => jsonSchema(operationListSchema),
  Cancelled: () => jsonSchema(cancelledSchema),
  Plan: () => jsonSchema(planSchema),
  LivePlan: () => jsonSchema(livePlanSchema),
  DropRequest: () => jsonSchema(lifecycleRequestSchema('drop'), 'input'),
  FailoverRequest: () => jsonSchema(lifecycleRequestSchema('failover'), 'input'),
  MigrateRequest: () => jsonSchema(lifecycleRequestSchema('migrate'), 'input'),
  ResolveSplitBrainRequest: () => jsonSchema(lifecycleRequestSchema('resolve-split-brain'), 'input'),
  LifecyclePlanRequest: () => jsonSchema(lifecyclePlanRequestSchema, 'input'),
  FleetRequest: () => jsonSchema(fleetRequestSchema, 'input'),
  FleetAccepted: () => jsonSchema(fleetAcceptedSchema),
  FleetStatus: () => jsonSchema(fleetStatusSchema),
  RotateCertificateRequest: () =>
    jsonSchema(
      z.strictObject({
        request: linkRequestSchema.describe(
          'a link request naming the SQL Server (and an instance it reaches)',
        ),
        options: CERTIFICATE_ACTIONS['rotate-certificate'].options.optional(),
      }),
      'input',
    ),
  RefreshCertificatesRequest: () =>
    jsonSchema(
      z.strictObject({
        request: linkRequestSchema,
        options: CERTIFICATE_ACTIONS['refresh-instance-certificates'].options.optional(),
      }),
      'input',
    ),
  HealthReport: () => jsonSchema(healthReportSchema),
};

const LIFECYCLE_REQUESTS = {
  drop: 'DropRequest',
  failover: 'FailoverRequest',
  migrate: 'MigrateRequest',
  'resolve-split-brain': 'ResolveSplitBrainRequest',
} as const;

/** The routes of the operations on an existing link: start, and plan (static or live). */
function lifecyclePaths(): Json {
  const out: Json = {};
  for (const [action, schema] of Object.entries(LIFECYCLE_REQUESTS)) {
    const operation = LIFECYCLE_ACTIONS[action as keyof typeof LIFECYCLE_ACTIONS].operation;
    out[`/links/${action}`] = {
      post: {
        operationId: operation,
        summary: `${operation} on an existing link (under the link's id)`,
        requestBody: { required: true, content: json(ref(schema)) },
        responses: {
          '202': answer('Started', 'Accepted', tracking),
          '400': error('The request or an option breaks a rule; nothing started'),
          '409': error('An operation on this link is running, or a limit is reached (named in the error)'),
          '500': error('milink could not answer'),
        },
      },
    };
    out[`/links/${action}/plan`] = {
      post: {
        operationId: `${operation}Plan`,
        summary: `The plan of ${operation} (live: only what the estate still needs)`,
        requestBody: { required: true, content: json(ref('LifecyclePlanRequest')) },
        responses: {
          '200': { description: 'The plan', content: json({ type: 'object' }) },
          '202': answer('The live plan takes longer: ask its status', 'Accepted', tracking),
          '400': error('The request breaks a rule'),
          '502': error('The live plan could not read the estate'),
          '500': error('milink could not answer'),
        },
      },
    };
  }
  return out;
}

const ref = (name: keyof typeof SCHEMAS) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json) => ({ 'application/json': { schema } });
const answer = (description: string, name: keyof typeof SCHEMAS, headers?: Json) => ({
  description,
  content: json(ref(name)),
  ...(headers ? { headers } : {}),
});
const error = (description: string) => answer(description, 'Error');
const idParameter = {
  name: 'instanceId',
  in: 'path',
  required: true,
  description: 'the operation id (link-<instance>-<hash>), as POST /api/links answered it',
  schema: { type: 'string', pattern: '^[A-Za-z0-9-]{1,100}$' },
};
const tracking = {
  Location: {
    description: "the operation's status: GET /api/links/{instanceId}",
    schema: { type: 'string' },
  },
  'Retry-After': { description: 'seconds before asking again', schema: { type: 'integer' } },
};
const query = (name: string, description: string, schema: Json = { type: 'string' }) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});

/** The OpenAPI 3.1 document of milink's HTTP API. */
export function openApiDocument(): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'milink',
      version: '1',
      description:
        'Automation for the Azure SQL Managed Instance link: create links, follow and cancel their operations, review plans. Errors use ARM’s shape.',
    },
    servers: [{ url: '/api' }],
    security: [{ functionKey: [] }, { functionKeyQuery: [] }],
    paths: {
      '/links': {
        post: {
          operationId: 'createLink',
          summary: 'Create a link (starts createLink under the link’s id)',
          requestBody: { required: true, content: json(ref('LinkRequest')) },
          responses: {
            '202': answer('Started', 'Accepted', tracking),
            '400': error('The request breaks a rule (the details name each field and rule); nothing started'),
            '409': error('An operation on this link is running (named in the error)'),
            '500': error('milink could not answer'),
          },
        },
        get: {
          operationId: 'listOperations',
          summary: 'List operations, newest first',
          parameters: [
            query(
              'state',
              'runtime status, comma-separated: running, pending, completed, failed, terminated',
              {
                type: 'string',
                pattern: '^[A-Za-z]+(,[A-Za-z]+)*$',
              },
            ),
            query('instance', 'the managed instance name'),
            query('ticket', 'a queue ticket id: the run it started (or asked for)'),
            query('link', 'the link (distributed availability group) name'),
          ],
          responses: {
            '200': answer('The operations', 'OperationList'),
            '400': error('A filter breaks a rule'),
            '500': error('milink could not answer'),
          },
        },
      },
      '/links/{instanceId}': {
        get: {
          operationId: 'getOperation',
          summary: 'One operation’s status (follows a run that went on under another id)',
          parameters: [idParameter],
          responses: {
            '200': answer('The status', 'LinkStatus'),
            '400': error('The id is malformed'),
            '404': error('No operation has this id'),
            '500': error('milink could not answer'),
          },
        },
      },
      '/links/plan': {
        post: {
          operationId: 'planLink',
          summary: 'The plan for a link request (live: only the steps the estate still needs)',
          requestBody: { required: true, content: json(ref('PlanRequest')) },
          responses: {
            '200': {
              description: 'The plan',
              content: json({ oneOf: [ref('Plan'), ref('LivePlan')] }),
            },
            '202': answer('The live plan takes longer: ask its status', 'Accepted', tracking),
            '400': error('The request breaks a rule'),
            '502': error('The live plan could not read the estate'),
            '500': error('milink could not answer'),
          },
        },
      },
      '/operations/{instanceId}/cancel': {
        post: {
          operationId: 'cancelOperation',
          summary: 'Cancel a running operation (terminates its orchestration with a reason)',
          parameters: [idParameter],
          requestBody: { required: false, content: json(ref('CancelRequest')) },
          responses: {
            '202': answer('Cancellation asked', 'Cancelled', tracking),
            '400': error('The id or the body breaks a rule'),
            '404': error('No operation has this id'),
            '409': error('The operation is not running'),
            '500': error('milink could not answer'),
          },
        },
      },
      ...lifecyclePaths(),
      '/fleets': {
        post: {
          operationId: 'createFleet',
          summary: 'Link many databases of a SQL Server to an instance (each pair prepared once)',
          requestBody: { required: true, content: json(ref('FleetRequest')) },
          responses: {
            '202': answer('Started', 'FleetAccepted', tracking),
            '400': error('The request breaks a rule (each database and field named); nothing started'),
            '409': error('This fleet is running'),
            '500': error('milink could not answer'),
          },
        },
      },
      '/fleets/{instanceId}': {
        get: {
          operationId: 'getFleet',
          summary: "A fleet's status: every pair and database, the running ones with their step",
          parameters: [idParameter],
          responses: {
            '200': answer('The status', 'FleetStatus'),
            '400': error('The id is malformed'),
            '404': error('No fleet has this id'),
            '500': error('milink could not answer'),
          },
        },
      },
      '/certificates/rotate': {
        post: {
          operationId: 'rotateCertificate',
          summary:
            "Rotate a SQL Server's endpoint certificate onto every instance its links reach (under the server's id)",
          requestBody: { required: true, content: json(ref('RotateCertificateRequest')) },
          responses: {
            '202': answer('Started', 'Accepted', tracking),
            '400': error('The request or an option breaks a rule; nothing started'),
            '409': error('A rotation runs on this SQL Server'),
            '500': error('milink could not answer'),
          },
        },
      },
      '/certificates/refresh': {
        post: {
          operationId: 'refreshInstanceCertificates',
          summary:
            'Validate, and where needed re-import, the instance certificates and roots SQL Server holds',
          requestBody: { required: true, content: json(ref('RefreshCertificatesRequest')) },
          responses: {
            '202': answer('Started', 'Accepted', tracking),
            '400': error('The request or an option breaks a rule; nothing started'),
            '409': error('A certificate operation runs on this SQL Server'),
            '500': error('milink could not answer'),
          },
        },
      },
      '/health': {
        get: {
          operationId: 'latestHealthReport',
          summary:
            'The latest nightly health report (docs/health.md; its JSON Schema: docs/health-report.schema.json)',
          responses: {
            '200': answer('The report', 'HealthReport'),
            '404': error('No sweep has run yet'),
            '500': error('milink could not answer'),
          },
        },
      },
      '/health/{date}': {
        get: {
          operationId: 'healthReportByDate',
          summary: "A night's health report",
          parameters: [
            {
              name: 'date',
              in: 'path',
              required: true,
              description: 'the night, YYYY-MM-DD (UTC)',
              schema: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
            },
          ],
          responses: {
            '200': answer('The report', 'HealthReport'),
            '400': error('The date breaks the rule'),
            '404': error('No report for that night'),
            '500': error('milink could not answer'),
          },
        },
      },
      '/health/sweep': {
        post: {
          operationId: 'startHealthSweep',
          summary: 'Run the nightly health sweep now (one sweep at a time)',
          responses: {
            '202': { description: 'The sweep started', content: json({ type: 'object' }) },
            '409': error('A sweep is running'),
            '500': error('milink could not answer'),
          },
        },
        get: {
          operationId: 'healthSweepStatus',
          summary: "The last sweep's progress and outcome",
          responses: {
            '200': { description: 'The sweep', content: json({ type: 'object' }) },
            '404': error('No sweep has run yet'),
            '500': error('milink could not answer'),
          },
        },
      },
      '/health/dashboard': {
        get: {
          operationId: 'healthDashboard',
          summary: 'The dashboard: one HTML page from the latest reports',
          responses: {
            '200': { description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } },
            '500': error('milink could not answer'),
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openApi',
          summary: 'This document',
          responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } },
        },
      },
    },
    components: {
      schemas: Object.fromEntries(Object.entries(SCHEMAS).map(([name, make]) => [name, make()])),
      securitySchemes: {
        functionKey: { type: 'apiKey', in: 'header', name: 'x-functions-key' },
        functionKeyQuery: { type: 'apiKey', in: 'query', name: 'code' },
      },
    },
  };
}
