export interface ManagedInstanceRef {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}
export const templateFile: string;
export const customRoleNamePrefixes: string[];
export function parseInstances(text: string | undefined): ManagedInstanceRef[];
export function resourceGroupId(mi: ManagedInstanceRef): string;
export function instanceId(mi: ManagedInstanceRef): string;
export function grantCommands(options: {
  instances: ManagedInstanceRef[];
  principalId: string | undefined;
  grantContributor: boolean;
  environmentName: string | undefined;
}): string[][];
export function revokeScopes(mi: ManagedInstanceRef): string[];
export function assignmentsAtScope(
  list: Array<{ id: string; principalId?: string; scope?: string }>,
  principalId: string,
  scope: string,
): string[];
export function milinkRoleDefinitions(list: Array<{ name: string; roleName?: string }>): string[];
