import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_VERSION, armActionFor } from '../../src/azure/arm-requests.js';
import { main, type CliIo } from '../../src/cli/main.js';
import { linkContext } from '../../src/runbook/context.js';
import { armActionsUsed, OPERATIONS } from '../../src/runbook/operations.js';
import { createLink } from '../../src/runbook/operations/create-link.js';
import { buildPlan, planToJson, renderScript } from '../../src/runbook/plan.js';
import { parseLinkRequest } from '../../src/link/request.js';
import { fillVariables } from '../../src/sql/quote.js';
import { variables } from '../../src/sql/statements.js';
import { repoRoot } from '../helpers/runbook.js';

const now = new Date('2026-11-22T00:00:00Z');
const examplePath = join(repoRoot, 'examples/link-request.json');
const example = JSON.parse(readFileSync(examplePath, 'utf8'));

function captureIo(): CliIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out(t: string) {
      io.stdout += `${t}\n`;
    },
    err(t: string) {
      io.stderr += `${t}\n`;
    },
    now: () => now,
  };
  return io;
}

/** The example request as steps render it (with the failover and drop options some operations need). */
function sampleLink() {
  return linkContext(parseLinkRequest(example, now));
}

describe('plan', () => {
  const plan = buildPlan(createLink, parseLinkRequest(example, now));

  it('has the runbook steps in order, with stable ids', () => {
    const ids = plan.steps.map((s) => s.id);
    expect(ids).toEqual(createLink.steps.map((s) => s.id).filter((id) => ids.includes(id)));
    expect(ids).toEqual([
      'read-managed-instance',
      'prepare-database',
      'master-key',
      'sqlserver-certificate',
      'export-sqlserver-certificate',
      'trust-sqlserver-certificate',
      'export-instance-certificate',
      'import-instance-certificate',
      'import-root-certificates',
      'validate-instance-certificate',
      'mirroring-endpoint',
      'availability-group',
      'distributed-availability-group',
      'create-link',
      'wait-for-link',
      'verify-connection',
      'first-log-backup',
    ]);
  });

  it('--json follows { steps: [ { id, title, target, tsql?, arm? } ] }', () => {
    const json = planToJson(plan);
    for (const step of json.steps) {
      expect(Object.keys(step).every((k) => ['id', 'title', 'target', 'tsql', 'arm'].includes(k))).toBe(true);
      expect(['sqlserver', 'azure']).toContain(step.target);
      expect(step.tsql ?? step.arm).toBeDefined();
      for (const r of step.arm ?? []) {
        expect(r.path).toContain(`?api-version=${API_VERSION}`);
        expect(r.path.startsWith('/subscriptions/')).toBe(true);
      }
    }
    const link = json.steps.find((s) => s.id === 'create-link')!.arm![0]!;
    expect(link.method).toBe('PUT');
    expect(link.body).toEqual({
      properties: {
        partnerAvailabilityGroupName: 'AG_SalesDb',
        instanceAvailabilityGroupName: 'AG_SalesDb_MI',
        partnerEndpoint: 'TCP://10.0.0.4:5022',
        instanceLinkRole: 'Secondary',
        failoverMode: 'None',
        seedingMode: 'Automatic',
        databases: [{ databaseName: 'SalesDb' }],
      },
    });
  });

  it('the script heads each step, separates batches with GO, uses sqlcmd variables and az rest', () => {
    const script = renderScript(plan);
    for (const id of plan.steps.map((s) => s.id)) expect(script).toContain(`: ${id} — `);
    expect(script).toContain("CREATE MASTER KEY ENCRYPTION BY PASSWORD = N'$(MasterKeyPassword)'");
    expect(script).toContain('FROM BINARY = $(InstancePublicKey)');
    expect(script).toMatch(
      /^!! az rest --method put --url '.*serverTrustCertificates\/Cert_SQLBOX1_endpoint\?api-version=2025-01-01'/m,
    );
    expect(script.split('\nGO\n').length).toBeGreaterThan(12);
  });

  it('omitted values become variables and derived names are shown', () => {
    const r = structuredClone(example);
    delete r.sqlServer.serverName;
    delete r.managedInstance.fqdn;
    delete r.names;
    const p = buildPlan(createLink, parseLinkRequest(r, now));
    const script = renderScript(p);
    expect(script).toContain('CREATE CERTIFICATE [$(CertificateName)]');
    expect(script).toContain('tcp://$(ManagedInstanceFqdn):5022;Server=[mi-prod]');
    expect(script).toContain('names.link = DAG1_SalesDb');
    expect(p.variables.map((v) => v.name)).toEqual(
      expect.arrayContaining(['CertificateName', 'ManagedInstanceFqdn', 'SqlServerName']),
    );
  });

  it('filling variables quotes each value by its kind', () => {
    const filled = fillVariables(
      "PASSWORD = N'$(MasterKeyPassword)'; FROM BINARY = $(InstancePublicKey); [$(CertificateName)]",
      [variables.masterKeyPassword, variables.instancePublicKey, variables.certificateName],
      { MasterKeyPassword: "a'b", InstancePublicKey: 'abCD', CertificateName: 'x]y' },
    );
    expect(filled).toBe("PASSWORD = N'a''b'; FROM BINARY = 0xABCD; [x]]y]");
    expect(() =>
      fillVariables('$(InstancePublicKey)', [variables.instancePublicKey], { InstancePublicKey: 'zz' }),
    ).toThrow();
  });

  it('ARM actions are derived from the registered operations (only what they send)', () => {
    // each action follows from a request some registered operation sends; an operation that fails over, changes
    // roles or deletes brings its action, and removing it would take the action away
    expect(armActionsUsed()).toContain('Microsoft.Sql/managedInstances/read');
    expect(armActionsUsed()).toContain('Microsoft.Sql/managedInstances/distributedAvailabilityGroups/write');
    expect(armActionsUsed()).toContain('Microsoft.Sql/managedInstances/serverTrustCertificates/read');
    const failover = OPERATIONS.some((op) =>
      op.steps.some((st) =>
        /failover/i.test(JSON.stringify(Object.values(st.render(sampleLink()).arm ?? {}))),
      ),
    );
    expect(
      armActionsUsed().includes(
        'Microsoft.Sql/managedInstances/distributedAvailabilityGroups/failover/action',
      ),
    ).toBe(failover);
    // nothing milink never sends: no write on the instance itself, no database writes
    expect(armActionsUsed()).not.toContain('Microsoft.Sql/managedInstances/write');
    expect(armActionsUsed()).not.toContain('Microsoft.Sql/managedInstances/databases/write');
    expect(armActionsUsed()).toContain('Microsoft.Sql/managedInstances/endpointCertificates/read');
    expect(
      armActionFor({
        method: 'DELETE',
        path: '/subscriptions/s/resourceGroups/r/providers/Microsoft.Sql/managedInstances/m/serverTrustCertificates/c?api-version=x',
      }),
    ).toBe('Microsoft.Sql/managedInstances/serverTrustCertificates/delete');
  });
});

describe('milink plan (CLI)', () => {
  it('prints the script for the example request', async () => {
    const io = captureIo();
    expect(await main(['plan', examplePath], io)).toBe(0);
    expect(io.stdout).toContain('-- ==== Step 1/17: read-managed-instance');
    expect(io.stdout).toContain('CREATE AVAILABILITY GROUP [DAG1_SalesDb]');
  });
  it('prints JSON with --json', async () => {
    const io = captureIo();
    expect(await main(['plan', examplePath, '--json'], io)).toBe(0);
    const json = JSON.parse(io.stdout);
    expect(json.steps[0].id).toBe('read-managed-instance');
  });
  it('reports an invalid request in the ARM error shape and exits 2 (invalid input, nothing planned)', async () => {
    const io = captureIo();
    const bad = join(repoRoot, 'test/fixtures/bad-request.json');
    expect(await main(['plan', bad], io)).toBe(2);
    const body = JSON.parse(io.stderr);
    expect(body.error.details.map((d: { target: string }) => d.target)).toContain('managedInstance.name');
  });
  it('exits 2 on usage errors', async () => {
    expect(await main(['plan'], captureIo())).toBe(2);
    expect(await main(['frobnicate'], captureIo())).toBe(2);
  });
});
