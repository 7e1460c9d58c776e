import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InvalidRequestError } from '../link/errors.js';
import {
  isLifecycleAction,
  LIFECYCLE_ACTIONS,
  parseLifecycleRequest,
  type LifecycleAction,
} from '../link/lifecycle.js';
import { parseLinkRequest } from '../link/request.js';
import { operationNamed } from '../runbook/operations.js';
import { createLink } from '../runbook/operations/create-link.js';
import { buildPlan, planToJson, renderScript } from '../runbook/plan.js';
import { ApiClient, ApiProblem, EXIT, type ExitCode, type Fetch } from './api.js';
import { applyAzFlags, AzFlagError, azOptions } from './az.js';
import {
  isTerminal,
  listLines,
  outcomeLines,
  progressView,
  statusLines,
  type StatusAnswer,
} from './render.js';

const usage = `milink — automation for the Azure SQL Managed Instance link

Usage:
  milink create <request.json> [az flags] [--watch]   start createLink; prints the operation id
  milink status <id> [--json]                          one operation: steps, progress, error and advice
  milink watch <id> [--interval <s>] [--timeout <s>]   follow an operation live to its end
  milink list [--state <s>] [--instance-name <mi>] [--ticket <id>] [--link <name>] [--json]
  milink cancel <id> [--reason <text>]                 stop a running operation
  milink plan <request.json> [--json] [--live] [--operation <op>] [--options <json|file>]
                                                       the reviewable script (offline); --live asks the API what is
                                                       still needed; --operation drop|failover|migrate|resolve-split-brain
  milink drop|failover|migrate|resolve-split-brain <request.json> [--options <json|file>] [--watch]
                                                       an operation on an existing link (its request as created)
  milink rotate-certificate|refresh-certificates <request.json> [--options <json|file>] [--watch]
                                                       a SQL Server's certificates (any of its links' requests):
                                                       rotate the endpoint certificate on every instance, or
                                                       validate and re-import the instances' certificates
  milink local [options]                               the main job on the embedded local estate (milink local --help)
  milink help                                          this text

API: --url <app URL> (or MILINK_URL), --key <function key> (or MILINK_KEY).
az sql mi link flags for create and plan: --instance-name/--mi, -g/--resource-group, --subscription, -n/--name,
  --partner-ag-name, --instance-ag-name, --databases, --partner-endpoint, --failover-mode, --instance-link-role.
Exit codes: 0 ok, 1 operation failed or cancelled, 2 usage or invalid request, 3 not found, 4 still running or
  another operation runs on the link, 5 API unreachable or failing.
`;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  now(): Date;
  /** Environment (MILINK_URL, MILINK_KEY); process.env by default. */
  env?: Record<string, string | undefined>;
  /** fetch for the API (tests give a fake). */
  fetch?: Fetch;
  /** A pause between two looks at a running operation. */
  sleep?(ms: number): Promise<void>;
}

const processIo: CliIo = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
  now: () => new Date(),
};

class UsageError extends Error {}

const apiOptions = {
  url: { type: 'string' },
  key: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Options = NonNullable<ParseArgsConfig['options']>;

function parse(args: string[], options: Options, positionals: number) {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args,
      options: { ...apiOptions, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (!parsed.values.help && parsed.positionals.length !== positionals)
    throw new UsageError(
      positionals === 0
        ? `unexpected argument ${parsed.positionals[0]}`
        : `expected ${positionals === 1 ? 'one argument' : `${positionals} arguments`}, got ${parsed.positionals.length}`,
    );
  return parsed as { values: Record<string, string | boolean | undefined>; positionals: string[] };
}

function client(values: Record<string, unknown>, io: CliIo): ApiClient {
  const env = io.env ?? process.env;
  const url = (values.url as string | undefined) ?? env.MILINK_URL;
  if (!url)
    throw new UsageError(
      'give the API with --url or MILINK_URL (e.g. https://func-milink.azurewebsites.net)',
    );
  const key = (values.key as string | undefined) ?? env.MILINK_KEY;
  return new ApiClient({ url, ...(key ? { key } : {}) }, io.fetch ?? fetch);
}

async function readRequest(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new UsageError(`${file} must hold a JSON object (a link request)`);
  return value as Record<string, unknown>;
}

async function requestWithFlags(
  file: string,
  values: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const request = await readRequest(file);
  try {
    applyAzFlags(request, values);
  } catch (e) {
    if (e instanceof AzFlagError) throw new UsageError(e.message);
    throw e;
  }
  return request;
}

function seconds(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a number of seconds`);
  return n;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Follows an operation until it ends (or the timeout): its progress as it changes, then the outcome. */
async function follow(
  api: ApiClient,
  instanceId: string,
  io: CliIo,
  intervalMs: number,
  timeoutMs: number,
): Promise<ExitCode> {
  const view = progressView();
  const wait = io.sleep ?? sleep;
  const started = Date.now();
  for (;;) {
    const status = (await api.status(instanceId)).body as StatusAnswer;
    for (const line of view(status)) io.out(line);
    if (isTerminal(status)) {
      const o = outcomeLines(status);
      io.out('');
      io.out(o.headline);
      for (const d of o.details) io.out(d);
      return o.ok ? EXIT.ok : EXIT.failed;
    }
    if (timeoutMs > 0 && Date.now() - started >= timeoutMs) {
      io.err(`milink watch: ${instanceId} is still ${status.runtimeStatus} after ${timeoutMs / 1000} s`);
      return EXIT.inProgress;
    }
    await wait(intervalMs);
  }
}

async function create(args: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parse(
    args,
    { ...azOptions(), watch: { type: 'boolean' }, interval: { type: 'string' }, json: { type: 'boolean' } },
    1,
  );
  const request = await requestWithFlags(positionals[0]!, values);
  const api = client(values, io);
  const answer = await api.create(request);
  const id = answer.body.instanceId as string;
  if (values.json) io.out(JSON.stringify(answer.body, null, 2));
  else io.out(`${answer.body.operation ?? 'createLink'} started: ${id}\n  status: ${answer.body.statusUrl}`);
  if (!values.watch) return EXIT.ok;
  return follow(api, id, io, seconds(values.interval, 'interval', 5) * 1000, 0);
}

async function status(args: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } }, 1);
  const answer = await client(values, io).status(positionals[0]!);
  const s = answer.body as StatusAnswer;
  if (values.json) io.out(JSON.stringify(s, null, 2));
  else for (const line of statusLines(s)) io.out(line);
  if (!isTerminal(s)) return EXIT.inProgress;
  return s.runtimeStatus === 'Completed' ? EXIT.ok : EXIT.failed;
}

async function watch(args: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parse(
    args,
    { interval: { type: 'string' }, timeout: { type: 'string' } },
    1,
  );
  const api = client(values, io);
  const id = positionals[0]!;
  io.out(`milink watch: ${id}`);
  return follow(
    api,
    id,
    io,
    seconds(values.interval, 'interval', 5) * 1000,
    seconds(values.timeout, 'timeout', 0) * 1000,
  );
}

async function list(args: string[], io: CliIo): Promise<ExitCode> {
  const { values } = parse(
    args,
    {
      state: { type: 'string' },
      'instance-name': { type: 'string' },
      mi: { type: 'string' },
      ticket: { type: 'string' },
      link: { type: 'string' },
      name: { type: 'string', short: 'n' },
      json: { type: 'boolean' },
    },
    0,
  );
  const instance = (values['instance-name'] ?? values.mi) as string | undefined;
  const link = (values.link ?? values.name) as string | undefined;
  const answer = await client(values, io).list({
    state: values.state as string | undefined,
    instance,
    ticket: values.ticket as string | undefined,
    link,
  });
  const operations = (answer.body.value ?? []) as StatusAnswer[];
  if (values.json) io.out(JSON.stringify(operations, null, 2));
  else for (const line of listLines(operations)) io.out(line);
  // a ticket names one run: a script asking for it learns from the exit code whether it exists
  if (values.ticket && operations.length === 0) {
    io.err(`milink list: no operation for ticket ${String(values.ticket)}`);
    return EXIT.notFound;
  }
  return EXIT.ok;
}

async function cancel(args: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parse(args, { reason: { type: 'string' } }, 1);
  const answer = await client(values, io).cancel(positionals[0]!, values.reason as string | undefined);
  io.out(`cancelled ${(answer.body.terminated as string[]).join(', ')}: ${answer.body.reason}`);
  return EXIT.ok;
}

/** `--options` as JSON text or a file holding it. */
async function readOptions(value: unknown): Promise<unknown> {
  if (value === undefined) return undefined;
  const text = String(value).trim();
  if (text.startsWith('{')) {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new UsageError(`--options is not valid JSON: ${(e as Error).message}`);
    }
  }
  return readRequest(text);
}

function lifecycleAction(value: unknown): LifecycleAction | undefined {
  if (value === undefined || value === 'create') return undefined;
  if (!isLifecycleAction(value))
    throw new UsageError(`--operation must be one of create, ${Object.keys(LIFECYCLE_ACTIONS).join(', ')}`);
  return value;
}

/**
 * A verb that posts a request file and `--options` to start an operation, prints its id and status URL, and with
 * `--watch` follows it to the end: drop, failover, migrate, resolve-split-brain, rotate-certificate, refresh-certificates.
 */
function requestCommand(
  name: string,
  send: (api: ApiClient, request: unknown, options: unknown) => Promise<{ body: Record<string, unknown> }>,
) {
  return async (args: string[], io: CliIo): Promise<ExitCode> => {
    const { values, positionals } = parse(
      args,
      {
        options: { type: 'string' },
        watch: { type: 'boolean' },
        interval: { type: 'string' },
        json: { type: 'boolean' },
      },
      1,
    );
    const request = await readRequest(positionals[0]!);
    const api = client(values, io);
    const answer = await send(api, request, await readOptions(values.options));
    const id = answer.body.instanceId as string;
    if (values.json) io.out(JSON.stringify(answer.body, null, 2));
    else
      io.out(
        `${String(answer.body.operation ?? name)} started: ${id}\n  status: ${String(answer.body.statusUrl)}`,
      );
    if (!values.watch) return EXIT.ok;
    return follow(api, id, io, seconds(values.interval, 'interval', 5) * 1000, 0);
  };
}

const lifecycleCommand = (action: LifecycleAction) =>
  requestCommand(action, (api, request, options) => api.lifecycle(action, request, options));
const certificateCommand = (route: 'rotate' | 'refresh') =>
  requestCommand(route, (api, request, options) => api.certificates(route, request, options));

async function plan(args: string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parse(
    args,
    {
      ...azOptions(),
      json: { type: 'boolean' },
      live: { type: 'boolean' },
      operation: { type: 'string' },
      options: { type: 'string' },
    },
    1,
  );
  const action = lifecycleAction(values.operation);
  const input = await requestWithFlags(positionals[0]!, values);
  const options = await readOptions(values.options);
  if (values.live) {
    const api = client(values, io);
    const answer = action
      ? await api.lifecyclePlan(action, input, options, true)
      : await api.plan(input, true);
    if (answer.status === 202) {
      io.err(`milink plan: the live plan is still inspecting; see ${answer.body.statusUrl}`);
      return EXIT.inProgress;
    }
    const live = answer.body as {
      steps: Array<{ id: string; title: string }>;
      done: string[];
      failures: Array<{ message: string; advice: string }>;
    };
    if (values.json) io.out(JSON.stringify(live, null, 2));
    else {
      for (const f of live.failures ?? []) io.out(`preflight: ${f.message} (${f.advice})`);
      for (const id of live.done ?? []) io.out(`  ✔ ${id.padEnd(32)} in place`);
      for (const s of live.steps ?? []) io.out(`  … ${s.id.padEnd(32)} ${s.title}`);
      io.out(live.steps?.length ? `${live.steps.length} step(s) still needed` : 'nothing left to do');
    }
    return (live.failures ?? []).length > 0 ? EXIT.failed : EXIT.ok;
  }
  try {
    let p;
    if (action) {
      const parsed = parseLifecycleRequest(action, input, options, io.now());
      const op = operationNamed(parsed.operation);
      if (!op) throw new UsageError(`operation ${parsed.operation} is not registered`);
      p = buildPlan(op, parsed.request, {}, parsed.parameters);
    } else p = buildPlan(createLink, parseLinkRequest(input, io.now()));
    io.out(values.json ? JSON.stringify(planToJson(p), null, 2) : renderScript(p));
    return EXIT.ok;
  } catch (e) {
    if (e instanceof InvalidRequestError) {
      io.err(JSON.stringify(e.toBody(), null, 2));
      return EXIT.usage;
    }
    throw e;
  }
}

const COMMANDS: Record<string, (args: string[], io: CliIo) => Promise<ExitCode>> = {
  create,
  status,
  watch,
  list,
  cancel,
  plan,
  ...Object.fromEntries(
    Object.keys(LIFECYCLE_ACTIONS).map((action) => [action, lifecycleCommand(action as LifecycleAction)]),
  ),
  'rotate-certificate': certificateCommand('rotate'),
  'refresh-certificates': certificateCommand('refresh'),
};

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    io.out(usage);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  const run = COMMANDS[command];
  if (!run) {
    io.err(`milink: unknown command ${command}\n\n${usage}`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(usage);
    return EXIT.ok;
  }
  try {
    return await run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`milink ${command}: ${e.message}\n\n${usage}`);
      return EXIT.usage;
    }
    if (e instanceof ApiProblem) {
      io.err(`milink ${command}: ${e.message}`);
      return e.exitCode;
    }
    throw e;
  }
}
