/**
 * The ARM actions milink's identity needs on a managed instance: the actions of every request the registered
 * operations' steps and checks send (src/runbook/operations.ts `armActionsUsed`), plus reading the status of the
 * long-running operations those requests start.
 */
import { existsSync } from 'node:fs';

const armRequestsModule = new URL('../../src/runbook/operations.ts', import.meta.url);

/**
 * Until src/azure/arm-requests.ts exists: the actions of the runbook's ARM steps and issue 6's
 * preflight (managed instance read, databases read, server trust certificates, endpoint certificate,
 * links with failover and setRole), from ../shared/notes/azure-link-api.md.
 */
export const INTERIM_ACTIONS: readonly string[] = [
  'Microsoft.Sql/managedInstances/read',
  'Microsoft.Sql/managedInstances/databases/read',
  'Microsoft.Sql/managedInstances/serverTrustCertificates/read',
  'Microsoft.Sql/managedInstances/serverTrustCertificates/write',
  'Microsoft.Sql/managedInstances/serverTrustCertificates/delete',
  'Microsoft.Sql/managedInstances/endpointCertificates/read',
  'Microsoft.Sql/managedInstances/distributedAvailabilityGroups/read',
  'Microsoft.Sql/managedInstances/distributedAvailabilityGroups/write',
  'Microsoft.Sql/managedInstances/distributedAvailabilityGroups/delete',
  'Microsoft.Sql/managedInstances/distributedAvailabilityGroups/failover/action',
  'Microsoft.Sql/managedInstances/distributedAvailabilityGroups/setRole/action',
];

/**
 * Azure SQL answers a long-running request with `Azure-AsyncOperation` / `Location` URLs under
 * /subscriptions/<s>/resourceGroups/<rg>/providers/Microsoft.Sql/locations/<region>/<kind>AzureAsyncOperation|OperationResults/<id>;
 * polling them is authorised as these read actions. Which ones milink needs follows from which
 * long-running requests it sends.
 */
export function operationStatusActions(actions: readonly string[]): string[] {
  const out: string[] = [];
  const family = (kind: string, prefix: string) => {
    const starts = actions.some((a) => a.startsWith(prefix) && !a.endsWith('/read'));
    if (starts)
      out.push(
        `Microsoft.Sql/locations/${kind}AzureAsyncOperation/read`,
        `Microsoft.Sql/locations/${kind}OperationResults/read`,
      );
  };
  family('distributedAvailabilityGroups', 'Microsoft.Sql/managedInstances/distributedAvailabilityGroups/');
  family('serverTrustCertificates', 'Microsoft.Sql/managedInstances/serverTrustCertificates/');
  return out;
}

export interface ActionsUsed {
  source: string;
  /** The request builders' actions plus the operation-status reads they imply, deduplicated. */
  actions: string[];
}

export async function loadActionsUsed(): Promise<ActionsUsed> {
  let source = 'the interim list in test/infra/arm-actions.ts (src/runbook/operations.ts does not exist yet)';
  let built: readonly string[] = INTERIM_ACTIONS;
  if (existsSync(armRequestsModule)) {
    const mod = (await import(armRequestsModule.href)) as { armActionsUsed?: () => readonly string[] };
    if (typeof mod.armActionsUsed !== 'function')
      throw new Error('src/runbook/operations.ts does not export armActionsUsed()');
    built = mod.armActionsUsed();
    source = 'src/runbook/operations.ts';
  }
  return { source, actions: [...new Set([...built, ...operationStatusActions(built)])] };
}
