import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadActionsUsed, operationStatusActions } from './arm-actions.js';
import {
  checkAzdDownSafety,
  checkBroadRoleIsOptIn,
  checkFunctionApp,
  checkKeyVault,
  checkMonitoring,
  checkParameterDescriptions,
  checkRoleActions,
  checkRoleAssignmentScopes,
  checkStorage,
  infraDir,
  parseInfra,
  readInfraSources,
  roleDefinitions,
  type Infra,
} from './infra-model.js';

const sources = readInfraSources();
const infra = parseInfra(sources);

/** The infrastructure with one textual change in one file; the change must apply exactly once. */
function mutated(file: string, from: string, to: string): Infra {
  const copy = new Map(sources);
  const text = copy.get(file)!;
  expect(text.split(from).length - 1, `"${from}" in ${file}`).toBe(1);
  copy.set(file, text.replace(from, to));
  return parseInfra(copy);
}

describe('infra/ as written', () => {
  it('has the three Bicep files azd deploys, all parseable', () => {
    expect([...sources.keys()]).toEqual(['app.bicep', 'main.bicep', 'managed-instance-access.bicep']);
    expect(infra.files.size).toBe(3);
  });

  it('passes every structural check', () => {
    expect(checkStorage(infra)).toEqual([]);
    expect(checkKeyVault(infra)).toEqual([]);
    expect(checkMonitoring(infra)).toEqual([]);
    expect(checkFunctionApp(infra)).toEqual([]);
    expect(checkRoleAssignmentScopes(infra)).toEqual([]);
    expect(checkBroadRoleIsOptIn(infra)).toEqual([]);
    expect(checkParameterDescriptions(infra)).toEqual([]);
    expect(checkAzdDownSafety(infra)).toEqual([]);
  });

  it("the custom roles hold exactly the ARM actions milink's request builders use", async () => {
    const used = await loadActionsUsed();
    expect(used.actions.length, used.source).toBeGreaterThan(0);
    expect(checkRoleActions(infra, used.actions), `compared with ${used.source}`).toEqual([]);
  });

  it('azd wiring: azure.yaml names infra/main and a function service; parameters map the inputs', () => {
    const yaml = readFileSync(new URL('../../azure.yaml', import.meta.url), 'utf8');
    expect(yaml).toMatch(/^\s+path: infra$/m);
    expect(yaml).toMatch(/^\s+module: main$/m);
    expect(yaml).toMatch(/^\s+host: function$/m);
    // Access on the instances is granted after provisioning and removed before `azd down`.
    const hooks = yaml.slice(yaml.indexOf('\nhooks:'));
    expect(hooks).toMatch(
      /postprovision:(\n\s+.*)*?\n\s+run: node infra\/hooks\/managed-instances\.mjs grant/,
    );
    expect(hooks).toMatch(/predown:(\n\s+.*)*?\n\s+run: node infra\/hooks\/managed-instances\.mjs revoke/);
    const params = JSON.parse(readFileSync(`${infraDir}main.parameters.json`, 'utf8')) as {
      parameters: Record<string, unknown>;
    };
    const main = infra.files.get('main.bicep')!;
    const declared = main.declarations.filter((d) => d.kind === 'param').map((d) => d.name);
    for (const name of Object.keys(params.parameters)) expect(declared, name).toContain(name);
    // Every parameter without a default is supplied by the parameters file.
    for (const d of main.declarations)
      if (d.kind === 'param' && d.defaultValue === undefined)
        expect(Object.keys(params.parameters)).toContain(d.name);
  });
});

describe('the checks catch a weakened infrastructure', () => {
  it('main.bicep deploying into an existing resource group (azd down would delete it)', () => {
    const problems = checkAzdDownSafety(
      mutated(
        'main.bicep',
        "module app 'app.bicep' = {\n  name: 'milink-app'\n  scope: rg\n",
        "module app 'app.bicep' = {\n  name: 'milink-app'\n  scope: resourceGroup('00000000-0000-0000-0000-000000000001', 'rg-data')\n",
      ),
    );
    expect(problems).toEqual([
      expect.stringMatching(/app: deploys into resourceGroup\(.*\), not a resource group this file creates/),
    ]);
  });

  it('storage shared keys on, public blobs, a missing queue', () => {
    expect(
      checkStorage(mutated('app.bicep', 'allowSharedKeyAccess: false', 'allowSharedKeyAccess: true')),
    ).toEqual([expect.stringMatching(/allowSharedKeyAccess must be false/)]);
    expect(checkStorage(mutated('app.bicep', '    allowSharedKeyAccess: false\n', ''))).toEqual([
      expect.stringMatching(/allowSharedKeyAccess must be false/),
    ]);
    expect(checkStorage(mutated('app.bicep', "name: 'link-requests-poison'", "name: 'poison'"))).toEqual([
      'queue link-requests-poison is not created',
    ]);
  });

  it('Key Vault without RBAC, purge protection or soft delete', () => {
    expect(
      checkKeyVault(mutated('app.bicep', 'enableRbacAuthorization: true', 'enableRbacAuthorization: false')),
    ).toEqual([expect.stringMatching(/enableRbacAuthorization must be true/)]);
    expect(checkKeyVault(mutated('app.bicep', '    enablePurgeProtection: true\n', ''))).toEqual([
      expect.stringMatching(/enablePurgeProtection must be true/),
    ]);
    expect(checkKeyVault(mutated('app.bicep', 'enableSoftDelete: true', 'enableSoftDelete: false'))).toEqual([
      expect.stringMatching(/enableSoftDelete must be true/),
    ]);
  });

  it('Application Insights with local auth', () => {
    expect(
      checkMonitoring(mutated('app.bicep', 'disableLocalAuth: true', 'disableLocalAuth: false')),
    ).toEqual([expect.stringMatching(/disableLocalAuth must be true/)]);
  });

  it('plain HTTP, another plan, another Node, a fixed subnet', () => {
    expect(checkFunctionApp(mutated('app.bicep', 'httpsOnly: true', 'httpsOnly: false'))).toEqual([
      expect.stringMatching(/httpsOnly must be true/),
    ]);
    expect(checkFunctionApp(mutated('app.bicep', "tier: 'FlexConsumption'", "tier: 'Dynamic'"))).toEqual([
      expect.stringMatching(/must be Flex Consumption/),
    ]);
    expect(checkFunctionApp(mutated('app.bicep', "version: '22'", "version: '20'"))).toEqual([
      expect.stringMatching(/runtime.version must be '22'/),
    ]);
    expect(
      checkFunctionApp(
        mutated(
          'app.bicep',
          'virtualNetworkSubnetId: appSubnetId',
          "virtualNetworkSubnetId: '/subscriptions/x'",
        ),
      ),
    ).toEqual([expect.stringMatching(/virtualNetworkSubnetId must be a parameter/)]);
    expect(
      checkFunctionApp(mutated('app.bicep', 'param appSubnetId string\n', "param appSubnetId string = ''\n")),
    ).toEqual([expect.stringMatching(/virtualNetworkSubnetId must be a parameter the user gives/)]);
  });

  it('a role assignment at resource-group scope, on the wrong resource, or the broad role by default', () => {
    expect(
      checkRoleAssignmentScopes(
        mutated(
          'app.bicep',
          "  scope: vault\n  properties: {\n    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)",
          "  properties: {\n    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)",
        ),
      ),
    ).toEqual([expect.stringMatching(/vaultSecretsUser: assigned at the deployment's scope/)]);
    expect(
      checkRoleAssignmentScopes(mutated('app.bicep', '  scope: insights\n', '  scope: storage\n')),
    ).toEqual([
      expect.stringMatching(
        /insightsPublisher: scoped to Microsoft.Storage\/storageAccounts, expected one Microsoft.Insights\/components/,
      ),
    ]);
    expect(
      checkRoleAssignmentScopes(
        mutated(
          'managed-instance-access.bicep',
          '  scope: managedInstance\n  properties: {\n    roleDefinitionId: linkOperatorRole.id',
          '  properties: {\n    roleDefinitionId: linkOperatorRole.id',
        ),
      ),
    ).toEqual([expect.stringMatching(/linkOperatorAssignment: assigned at the deployment's scope/)]);
    // The resource-group exception only holds while the role reads operation status and nothing else.
    expect(
      checkRoleAssignmentScopes(
        mutated(
          'managed-instance-access.bicep',
          "'Microsoft.Sql/locations/serverTrustCertificatesOperationResults/read'",
          "'Microsoft.Sql/locations/serverTrustCertificatesOperationResults/read'\n          'Microsoft.Sql/managedInstances/write'",
        ),
      ),
    ).toEqual([expect.stringMatching(/operationStatusAssignment: assigned at the deployment's scope/)]);
    expect(
      checkRoleAssignmentScopes(
        mutated(
          'managed-instance-access.bicep',
          "resourceGroup().id\n    ]\n    permissions: [\n      {\n        actions: [\n          'Microsoft.Sql/managedInstances/read'",
          "subscription().id\n    ]\n    permissions: [\n      {\n        actions: [\n          'Microsoft.Sql/managedInstances/read'",
        ),
      ),
    ).toEqual([expect.stringMatching(/linkOperatorRole: assignableScopes must be \[resourceGroup\(\).id\]/)]);
    expect(
      checkBroadRoleIsOptIn(
        mutated(
          'managed-instance-access.bicep',
          'param grantManagedInstanceContributor bool = false',
          'param grantManagedInstanceContributor bool = true',
        ),
      ),
    ).toEqual([
      expect.stringMatching(
        /contributorAssignment: the broad built-in role must depend on a bool parameter defaulting to false/,
      ),
    ]);
  });

  it('a role holding an action milink does not use, or missing one it uses', async () => {
    const used = await loadActionsUsed();
    const extra = mutated(
      'managed-instance-access.bicep',
      "'Microsoft.Sql/managedInstances/read'\n",
      "'Microsoft.Sql/managedInstances/read'\n          'Microsoft.Sql/managedInstances/write'\n",
    );
    expect(checkRoleActions(extra, used.actions)).toEqual([
      'linkOperatorRole: holds Microsoft.Sql/managedInstances/write, which milink does not use',
    ]);
    expect(
      checkRoleActions(infra, [...used.actions, 'Microsoft.Sql/managedInstances/databases/write']),
    ).toEqual([
      'linkOperatorRole: missing Microsoft.Sql/managedInstances/databases/write, which milink uses',
    ]);
    expect(checkRoleActions(infra, [...used.actions, 'Microsoft.Network/virtualNetworks/read'])).toEqual([
      'milink uses Microsoft.Network/virtualNetworks/read, which neither custom role is meant to hold',
    ]);
    const wildcard = mutated(
      'managed-instance-access.bicep',
      "'Microsoft.Sql/managedInstances/read'\n",
      "'Microsoft.Sql/managedInstances/read'\n          'Microsoft.Sql/managedInstances/*'\n",
    );
    expect(checkRoleActions(wildcard, used.actions)).toContain(
      'linkOperatorRole: wildcard actions are not least privilege',
    );
  });

  it('derives the operation-status reads from the long-running requests milink sends', () => {
    expect(operationStatusActions(['Microsoft.Sql/managedInstances/read'])).toEqual([]);
    expect(operationStatusActions(['Microsoft.Sql/managedInstances/serverTrustCertificates/write'])).toEqual([
      'Microsoft.Sql/locations/serverTrustCertificatesAzureAsyncOperation/read',
      'Microsoft.Sql/locations/serverTrustCertificatesOperationResults/read',
    ]);
    const roles = roleDefinitions(infra).map((r) => r.name);
    expect(roles).toEqual(['linkOperatorRole', 'operationStatusRole']);
  });
});
