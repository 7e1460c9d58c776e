// milink in Azure: the entry point `azd up` deploys (subscription scope).
//
// It creates one resource group holding the app (app.bicep). Nothing here is granted at subscription
// scope.
//
// The managed instances' own resource groups are deliberately NOT part of this deployment: `azd down`
// deletes every resource group a deployment put resources into, and those hold production instances.
// The grants on the instances (managed-instance-access.bicep, a separate resource-group deployment
// per instance) are made by azd's postprovision hook and removed by its predown hook
// (hooks/managed-instances.mjs).
//
// No Bicep compiler runs in milink's CI: test/infra/ parses these files as text and checks them.
// Run `az bicep build --file infra/main.bicep` (or `azd provision --preview`) before a release.

targetScope = 'subscription'

@minLength(1)
@maxLength(40)
@description('Name of the azd environment (for example "milink-prod"); it names the resource group and seeds every resource name.')
param environmentName string

@minLength(1)
@description('Azure region for every milink resource, for example "westeurope". Flex Consumption must be offered in it.')
param location string

@description('Name of the resource group to create. Empty: "rg-<environmentName>".')
param resourceGroupName string = ''

@minLength(1)
@description('Resource id of the subnet the Function App joins (VNet integration). It must be delegated to Microsoft.App/environments, empty of other resources, and able to reach every SQL Server on its SQL port and mirroring endpoint port. Form: /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>')
param appSubnetId string

@description('Object id of a person or group who will add the SQL logins\' passwords and master key passwords to the vault ("Key Vault Secrets Officer" on this vault only). Empty: nobody is granted; grant it yourself.')
param secretsOfficerPrincipalId string = ''

@minValue(1)
@maxValue(1000)
@description('Flex Consumption: the most instances the app may scale out to. Each instance runs up to host.json\'s durable concurrency limits, so this also bounds the sessions opened to each SQL Server.')
param maximumInstanceCount int = 40

@allowed([
  2048
  4096
])
@description('Flex Consumption: memory of each instance, in MB.')
param instanceMemoryMB int = 2048

@minValue(30)
@maxValue(730)
@description('Days the Log Analytics workspace keeps logs.')
param logRetentionInDays int = 30

@minValue(7)
@maxValue(90)
@description('Days a deleted vault or secret stays recoverable (soft delete). Purge protection is always on.')
param keyVaultSoftDeleteRetentionInDays int = 90

@minValue(1)
@maxValue(144)
@description('How long milink waits for a new link to become healthy before it stops and reports the step (hours). Seeding a large database over a slow network can take days; the service itself gives up after 6 days (144 h).')
param linkDeadlineHours int = 24

@minValue(1)
@maxValue(300)
@description('First pause between two looks at a link being created (seconds); it doubles up to 5 minutes.')
param pollIntervalSeconds int = 15

var tags = {
  'azd-env-name': environmentName
  application: 'milink'
}

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: empty(resourceGroupName) ? 'rg-${environmentName}' : resourceGroupName
  location: location
  tags: tags
}

module app 'app.bicep' = {
  name: 'milink-app'
  scope: rg
  params: {
    environmentName: environmentName
    location: location
    tags: tags
    appSubnetId: appSubnetId
    secretsOfficerPrincipalId: secretsOfficerPrincipalId
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    logRetentionInDays: logRetentionInDays
    keyVaultSoftDeleteRetentionInDays: keyVaultSoftDeleteRetentionInDays
    linkDeadlineHours: linkDeadlineHours
    pollIntervalSeconds: pollIntervalSeconds
  }
}

@description('Base URL of milink\'s HTTP API, e.g. https://<app>.azurewebsites.net/api')
output MILINK_API_BASE_URL string = app.outputs.apiBaseUrl
@description('Name of the Function App (for `az functionapp keys list`).')
output MILINK_FUNCTION_APP_NAME string = app.outputs.functionAppName
@description('Name of the Key Vault where the SQL login and master key secrets go.')
output MILINK_KEYVAULT_NAME string = app.outputs.keyVaultName
@description('URI of that Key Vault.')
output MILINK_KEYVAULT_URI string = app.outputs.keyVaultUri
@description('Client id of the managed identity milink runs as.')
output MILINK_IDENTITY_CLIENT_ID string = app.outputs.identityClientId
@description('Object (principal) id of that identity: the hooks grant it access on the managed instances.')
output MILINK_IDENTITY_PRINCIPAL_ID string = app.outputs.identityPrincipalId
@description('Name of the storage account holding the link-requests queue.')
output MILINK_STORAGE_ACCOUNT_NAME string = app.outputs.storageAccountName
output AZURE_RESOURCE_GROUP string = rg.name
