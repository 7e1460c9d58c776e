import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../src/link/errors.js';
import { parseLifecycleRequest } from '../../src/link/lifecycle.js';
import { armActionsUsed } from '../../src/runbook/operations.js';
import { dropLink } from '../../src/runbook/operations/drop-link.js';
import { failoverLink } from '../../src/runbook/operations/failover-link.js';
import { migrateLink } from '../../src/runbook/operations/migrate-link.js';
import { resolveSplitBrain } from '../../src/runbook/operations/resolve-split-brain.js';
import { buildPlan, planToJson, renderScript } from '../../src/runbook/plan.js';

const now = new Date('2026-11-22T08:00:00Z');
const request = {
  sqlServer: {
    host: 'sqlbox1.contoso.local',
    endpointAddress: '10.0.0.4',
    login: 'milink_admin',
    loginSecret: 'sqlbox1-login',
    masterKeySecret: 'sqlbox1-master-key',
  },
  managedInstance: {
    subscriptionId: '00000000-0000-0000-0000-000000000001',
    resourceGroup: 'rg-data',
    name: 'mi-prod',
  },
  database: 'SalesDb',
  initialPrimary: 'SqlServer',
  certificateExpiry: '2027-11-30',
  backupPath: '/var/opt/mssql/backup/',
};

function details(f: () => unknown) {
  try {
    f();
  } catch (e) {
    if (e instanceof InvalidRequestError) return e.details;
    throw e;
  }
  throw new Error('no error');
}

describe('lifecycle requests', () => {
  it('name the broken field and rule', () => {
    expect(details(() => parseLifecycleRequest('failover', request, {}, now))).toEqual([
      expect.objectContaining({ target: 'options.to' }),
    ]);
    expect(details(() => parseLifecycleRequest('failover', request, { to: 'SqlServer' }, now))).toEqual([
      expect.objectContaining({
        target: 'options.workloadStopped',
        message: expect.stringMatching(/must be true/),
      }),
    ]);
    expect(
      details(() => parseLifecycleRequest('failover', request, { to: 'Azure', allowDataLoss: 'yes' }, now)),
    ).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ target: 'options.to', message: expect.stringMatching(/ManagedInstance/) }),
        expect.objectContaining({ target: 'options.allowDataLoss' }),
      ]),
    );
    expect(
      details(() =>
        parseLifecycleRequest('resolve-split-brain', request, { demote: 'SqlServer', confirm: false }, now),
      ),
    ).toEqual([expect.objectContaining({ target: 'options.confirm' })]);
    expect(details(() => parseLifecycleRequest('drop', { ...request, database: '' }, [], now))).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ target: 'request.database' }),
        expect.objectContaining({ target: 'options', code: 'InvalidType' }),
      ]),
    );
  });

  it('a forced failover needs no stop-workload confirmation; a migration is a planned failover to the instance', () => {
    expect(
      parseLifecycleRequest('failover', request, { to: 'ManagedInstance', allowDataLoss: true }, now)
        .parameters,
    ).toMatchObject({ to: 'ManagedInstance', allowDataLoss: true, lsnStableSeconds: 30 });
    expect(
      parseLifecycleRequest('migrate', request, { workloadStopped: true, dropSqlServerObjects: true }, now),
    ).toMatchObject({
      operation: 'migrateLink',
      parameters: {
        to: 'ManagedInstance',
        allowDataLoss: false,
        migration: true,
        dropAvailabilityGroup: true,
      },
    });
  });
});

describe('lifecycle plans', () => {
  const failover = (options: Record<string, unknown>, build: number) => {
    const parsed = parseLifecycleRequest('failover', request, options, now);
    return buildPlan(
      failoverLink,
      parsed.request,
      { version: 2022, build, serverName: 'SQLBOX1' },
      parsed.parameters,
    );
  };

  it('by CU: T-SQL FAILOVER on 2022 CU13, SQL Server demoted then ARM forced before it', () => {
    const cu13 = planToJson(failover({ to: 'ManagedInstance', workloadStopped: true }, 4125));
    expect(cu13.steps.find((s) => s.id === 'fail-over')).toMatchObject({
      tsql: [expect.stringContaining('ALTER AVAILABILITY GROUP [DAG1_SalesDb] FAILOVER;')],
    });
    const cu12 = failover({ to: 'ManagedInstance', workloadStopped: true }, 4120);
    const step = planToJson(cu12).steps.find((s) => s.id === 'fail-over')!;
    expect(step.tsql).toEqual([expect.stringContaining('SET (ROLE = SECONDARY);')]);
    expect(step.arm).toEqual([
      expect.objectContaining({ method: 'POST', body: { failoverType: 'ForcedAllowDataLoss' } }),
    ]);
    // the reviewable script is rendered without facts (the CU read at run time: the T-SQL path is shown)
    const parsed = parseLifecycleRequest(
      'failover',
      request,
      { to: 'SqlServer', workloadStopped: true },
      now,
    );
    expect(renderScript(buildPlan(failoverLink, parsed.request, {}, parsed.parameters))).toContain(
      `!! az rest --method post --url 'https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-data/providers/Microsoft.Sql/managedInstances/mi-prod/distributedAvailabilityGroups/DAG1_SalesDb/failover?api-version=2025-01-01' --body '{"failoverType":"Planned"}'`,
    );
  });

  it('a forced failover has no synchronous commit and no LSN wait; back to SQL Server is ARM Planned', () => {
    expect(
      planToJson(failover({ to: 'ManagedInstance', allowDataLoss: true }, 4125)).steps.map((s) => s.id),
    ).toEqual(['fail-over', 'verify-roles']);
    const back = planToJson(failover({ to: 'SqlServer', workloadStopped: true }, 4125));
    expect(back.steps.find((s) => s.id === 'fail-over')?.arm?.[0]?.body).toEqual({ failoverType: 'Planned' });
  });

  it('split brain: the tail-log backup before the demotion; migration: the first full backup before the drop', () => {
    const parsed = parseLifecycleRequest(
      'resolve-split-brain',
      request,
      { demote: 'SqlServer', confirm: true },
      now,
    );
    const steps = planToJson(buildPlan(resolveSplitBrain, parsed.request, {}, parsed.parameters)).steps;
    expect(steps.map((s) => s.id)).toEqual(['split-brain-backup', 'demote-sqlserver', 'verify-roles']);
    expect(steps[0]!.tsql![0]).toMatch(
      /^BACKUP LOG \[SalesDb\] TO DISK = N'\/var\/opt\/mssql\/backup\/milink_SalesDb_tail_20261122080000\.trn';$/,
    );
    const m = parseLifecycleRequest('migrate', request, { workloadStopped: true }, now);
    const ids = buildPlan(migrateLink, m.request, {}, m.parameters).steps.map((s) => s.id);
    expect(ids.indexOf('wait-for-first-backup')).toBeGreaterThan(ids.indexOf('verify-roles'));
    expect(ids.indexOf('delete-link')).toBeGreaterThan(ids.indexOf('wait-for-first-backup'));
    expect(ids).not.toContain('drop-availability-group');
  });

  it("notes say what the operation leaves to run time, not createLink's", () => {
    const d = parseLifecycleRequest('drop', request, {}, now);
    const notes = buildPlan(dropLink, d.request, {}, d.parameters).notes.join('\n');
    expect(notes).toMatch(/first full backup/);
    expect(notes).not.toMatch(/mirroring endpoint/);
  });

  it('the least-privilege role covers the lifecycle actions', () => {
    expect(armActionsUsed()).toEqual(
      expect.arrayContaining([
        'Microsoft.Sql/managedInstances/distributedAvailabilityGroups/delete',
        'Microsoft.Sql/managedInstances/distributedAvailabilityGroups/failover/action',
        'Microsoft.Sql/managedInstances/distributedAvailabilityGroups/setRole/action',
        'Microsoft.Sql/managedInstances/serverTrustCertificates/delete',
      ]),
    );
  });
});
