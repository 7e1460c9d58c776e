import type { ArmRequest } from '../azure/arm-requests.js';
import type { LinkRequest } from '../link/request.js';
import type { ResolvedNames } from '../link/names.js';
import { SqlcmdVariable } from '../sql/quote.js';
import * as sql from '../sql/statements.js';
import { sqlcmdPreamble, sqlcmdSafePlan } from '../sql/sqlcmd.js';
import { linkContext } from './context.js';
import type { Operation } from './operation.js';
import { operationNamed } from './operations.js';
import type { EstateFacts } from './step.js';

/**
 * An operation's plan: its steps for one request, rendered by the steps themselves. The same rendering is the JSON
 * plan, the reviewable script (`milink plan`) and what the activities execute.
 */
export interface PlanStep {
  id: string;
  title: string;
  target: 'sqlserver' | 'azure';
  tsql?: string[];
  arm?: ArmRequest[];
}

export interface Plan {
  operation: string;
  request: LinkRequest;
  names: ResolvedNames;
  steps: PlanStep[];
  /** sqlcmd variables the script uses, with what they stand for. */
  variables: SqlcmdVariable[];
  /** Remarks for the reader (derived names, assumptions). */
  notes: string[];
  /** The operation's own parameters the plan was rendered with. */
  parameters: Readonly<Record<string, unknown>>;
}

export function buildPlan(
  op: Operation,
  request: LinkRequest,
  facts: EstateFacts = {},
  parameters: Readonly<Record<string, unknown>> = {},
): Plan {
  const link = linkContext(request, facts, parameters);
  const steps: PlanStep[] = [];
  for (const step of op.steps) {
    if (step.include && !step.include(link)) continue;
    const rendered = step.render(link);
    const out: PlanStep = { id: step.id, title: step.title(link), target: step.target };
    const tsql = Object.values(rendered.tsql ?? {});
    const armRequests = Object.values(rendered.arm ?? {});
    if (tsql.length > 0) out.tsql = tsql;
    if (armRequests.length > 0) out.arm = armRequests;
    steps.push(out);
  }
  const text = JSON.stringify(steps);
  const variables = Object.values(sql.variables).filter((v) => text.includes(v.reference));
  const notes: string[] = [];
  for (const key of link.names.derived)
    notes.push(`names.${key} = ${link.names[key]} (derived from the runbook's convention)`);
  // an operation on an existing link says what its plan leaves to run time; createLink's notes are the default
  if (op.notes) notes.push(...op.notes(link));
  else {
    if (link.names.certificate === undefined)
      notes.push(
        'names.certificate = Cert_<@@SERVERNAME>_endpoint: read from SQL Server at run time ($(CertificateName))',
      );
    if (link.version === undefined)
      notes.push(
        'SQL Server version read at run time; for SQL Server 2016 the availability group is created without CLUSTER_TYPE',
      );
    if (facts.endpoint === undefined)
      notes.push(
        'mirroring endpoint: created when SQL Server has none; an existing one is altered to certificate + AES at run time',
      );
  }
  return { operation: op.name, request, names: link.names, steps, variables, notes, parameters };
}

/** The JSON plan: `{ steps: [ { id, title, target, tsql?, arm? } ] }`. */
export function planToJson(plan: Plan): { steps: PlanStep[] } {
  return {
    steps: plan.steps.map((s) => {
      const out: PlanStep = { id: s.id, title: s.title, target: s.target };
      if (s.tsql && s.tsql.length > 0) out.tsql = s.tsql;
      if (s.arm && s.arm.length > 0)
        out.arm = s.arm.map((r) =>
          r.body === undefined
            ? { method: r.method, path: r.path }
            : { method: r.method, path: r.path, body: r.body },
        );
      return out;
    }),
  };
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** An ARM request as an `az rest` command (POSIX shell quoting). */
export function azRestCommand(request: ArmRequest): string {
  const parts = [
    'az rest',
    `--method ${request.method.toLowerCase()}`,
    `--url ${shellQuote(`https://management.azure.com${request.path}`)}`,
  ];
  if (request.body !== undefined) parts.push(`--body ${shellQuote(JSON.stringify(request.body))}`);
  return parts.join(' ');
}

/**
 * The reviewable script: T-SQL batches separated by GO, each step headed by a comment, values known only at
 * run time as sqlcmd variables, ARM steps as `az rest` commands run through sqlcmd's `!!`. It runs in SSMS's
 * SQLCMD mode or with `sqlcmd -v`.
 */
export function renderScript(built: Plan): string {
  // Names holding `$(` are written so SQLCMD substitutes nothing in them (src/sql/sqlcmd.ts).
  const plan = sqlcmdSafePlan(built, () =>
    buildPlan(operationNamed(built.operation)!, built.request, {}, built.parameters),
  );
  const r = plan.request;
  const out: string[] = sqlcmdPreamble(plan.escaped);
  out.push(
    `-- milink plan: ${plan.operation} — link ${plan.names.link} for database ${r.database}`,
    `--   SQL Server ${r.sqlServer.serverName ?? r.sqlServer.host} (${r.sqlServer.host},${r.sqlServer.port}) -> managed instance ${r.managedInstance.name} (${r.managedInstance.resourceGroup})`,
    `--   initial primary: ${r.initialPrimary}; failover mode: ${r.failoverMode}`,
    '--',
    '-- Run in SSMS with Query > SQLCMD Mode, or:',
    `--   sqlcmd -S ${r.sqlServer.host},${r.sqlServer.port} -i plan.sql ${plan.variables.map((v) => `-v ${v.name}="..."`).join(' ')}`.trimEnd(),
    '-- Lines starting with !! run az rest (Azure CLI, signed in to the subscription) in a POSIX shell.',
  );
  if (plan.variables.length > 0) {
    out.push('--', "-- Values known only at run time (sqlcmd variables; double any ' inside a value):");
    for (const v of plan.variables) out.push(`--   ${v.name}: ${v.description}`); // no $( here: SQLCMD substitutes in comments
  }
  if (plan.notes.length > 0) {
    out.push('--', '-- Notes:');
    for (const n of plan.notes) out.push(`--   ${n}`);
  }
  out.push('', ':on error exit', '');
  plan.steps.forEach((step, i) => {
    out.push(`-- ==== Step ${i + 1}/${plan.steps.length}: ${step.id} — ${step.title}`);
    out.push(
      `-- Runs on: ${step.target === 'sqlserver' ? `SQL Server ${r.sqlServer.serverName ?? r.sqlServer.host}` : 'Azure Resource Manager'}`,
    );
    if (step.target === 'sqlserver' && !step.tsql)
      out.push('-- Nothing to do: the estate already has what this step makes.');
    for (const batch of step.tsql ?? []) out.push(batch, 'GO');
    for (const request of step.arm ?? []) out.push(`!! ${azRestCommand(request)}`);
    out.push('');
  });
  return out.join('\n');
}
