import { buildPlan, planToJson, type PlanStep, type StepId } from '../link/plan.js';
import type { PreflightProblem, StepFailure } from '../link/status.js';
import * as catalog from '../sql/catalog.js';
import { defineActivity, StepContext } from './common.js';
import { observeLink, startLink } from './link.js';
import { preflight } from './preflight.js';
import * as steps from './steps.js';

/** The live plan: what the estate still needs, found by running every step's inspection without acting. */
export interface LivePlan {
  steps: PlanStep[];
  done: StepId[];
  warnings: PreflightProblem[];
  failures: PreflightProblem[];
  /** Steps whose inspection could not run because an earlier step is still needed. */
  blocked: StepFailure[];
}

const inspections: Array<[StepId[], (ctx: StepContext) => Promise<{ changed: string[] }>]> = [
  [['prepare-database'], steps.prepareDatabase],
  [['master-key'], steps.ensureMasterKey],
  [['sqlserver-certificate'], steps.ensureSqlServerCertificate],
  [['export-sqlserver-certificate', 'trust-sqlserver-certificate'], steps.trustSqlServerCertificate],
  [
    [
      'export-instance-certificate',
      'import-instance-certificate',
      'import-root-certificates',
      'validate-instance-certificate',
    ],
    steps.trustInstanceCertificate,
  ],
  [['mirroring-endpoint'], steps.ensureEndpoint],
  [['availability-group'], steps.ensureAvailabilityGroup],
  [['distributed-availability-group'], steps.ensureDistributedAvailabilityGroup],
  [['create-link'], startLink],
];

export async function inspectLink(ctx: StepContext): Promise<LivePlan> {
  ctx.dryRun = true;
  const pre = await preflight(ctx);
  const plan = buildPlan(ctx.request, pre.facts);
  const planned = new Set(plan.steps.map((s) => s.id));
  const needed = new Set<StepId>();
  const blocked: StepFailure[] = [];
  const done: StepId[] = ['read-managed-instance'];
  if (pre.failures.length === 0) {
    const factsCtx = new StepContext(
      { ...ctx.input, facts: pre.facts },
      ctx.azure,
      ctx.invocationContext,
      'preflight',
    );
    factsCtx.dryRun = true;
    let earlierNeeded = false;
    for (const [ids, inspect] of inspections) {
      if (!ids.every((id) => planned.has(id))) continue;
      factsCtx.step = ids[0]!;
      try {
        const result = await inspect(factsCtx);
        if (result.changed.length > 0) ids.forEach((id) => needed.add(id));
        else done.push(...ids);
      } catch (e) {
        // An inspection that needs an earlier step's result cannot tell yet: the step is needed.
        if (!earlierNeeded) throw e;
        blocked.push(factsCtx.failure(e));
        ids.forEach((id) => needed.add(id));
      }
      if (ids.some((id) => needed.has(id))) earlierNeeded = true;
    }
    if (needed.has('create-link'))
      ['wait-for-link', 'verify-connection', 'first-log-backup'].forEach((id) => needed.add(id as StepId));
    else {
      const seen = await observeLink(factsCtx);
      if (!seen.healthy)
        ['wait-for-link', 'verify-connection', 'first-log-backup'].forEach((id) => needed.add(id as StepId));
      else {
        done.push('wait-for-link', 'verify-connection');
        const session = await factsCtx.sql();
        const created = await catalog.availabilityGroupCreated(session, plan.names.link);
        const backups = created ? await catalog.logBackupsSince(session, ctx.request.database, created) : 0;
        if (backups > 0) done.push('first-log-backup');
        else needed.add('first-log-backup');
      }
    }
  }
  const json = planToJson(plan);
  return {
    steps: pre.failures.length > 0 ? json.steps : json.steps.filter((s) => needed.has(s.id)),
    done: done.filter((id) => planned.has(id)),
    warnings: pre.warnings,
    failures: pre.failures,
    blocked,
  };
}

defineActivity('inspectLink', 'preflight', inspectLink);
