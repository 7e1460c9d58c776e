// What milink may do on ONE managed instance, deployed in that instance's resource group by
// hooks/managed-instances.mjs (azd's postprovision hook), as a deployment of its own: never part of
// main.bicep's deployment, so `azd down` can never delete the instance's resource group.
//
//   az deployment group create --subscription <sub> --resource-group <rg> \
//     --template-file infra/managed-instance-access.bicep \
//     --parameters managedInstanceName=<mi> principalId=<identity object id>
//
// - "milink link operator": a custom role holding exactly the ARM actions milink's request builders
//   send (src/azure/arm-requests.ts, armActionsUsed), assigned on the instance itself.
// - "milink operation status reader": reading the status of the long-running operations milink
//   starts (creating or deleting a link, uploading a certificate). Azure SQL answers those requests
//   with status URLs under /resourceGroups/<rg>/providers/Microsoft.Sql/locations/<region>/..., which
//   are not below the instance, so the narrowest scope that contains them is the instance's resource
//   group. The role holds only the read actions of those status resources.
// - Optionally (explicit opt-in) the broad built-in "SQL Managed Instance Contributor", on the
//   instance only.
//
// Both custom roles are defined with this resource group as their only assignable scope.

targetScope = 'resourceGroup'

@description('Name of the managed instance (in this deployment\'s resource group).')
param managedInstanceName string

@description('Object id of milink\'s user-assigned managed identity.')
param principalId string

@description('Also grant the built-in "SQL Managed Instance Contributor" role on the instance (broad; opt-in).')
param grantManagedInstanceContributor bool = false

var sqlManagedInstanceContributor = '4939a1f6-9ae0-4e48-a1e0-f2cbe897382d'

resource managedInstance 'Microsoft.Sql/managedInstances@2023-08-01' existing = {
  name: managedInstanceName
}

resource linkOperatorRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'milink-link-operator')
  properties: {
    roleName: 'milink link operator (${resourceGroup().name}, ${uniqueString(resourceGroup().id)})'
    description: 'The Azure Resource Manager actions milink sends to a managed instance for the operations it registers (create, watch, fail over and drop Managed Instance links).'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: [
          'Microsoft.Sql/managedInstances/read'
          'Microsoft.Sql/managedInstances/databases/read'
          'Microsoft.Sql/managedInstances/serverTrustCertificates/read'
          'Microsoft.Sql/managedInstances/serverTrustCertificates/write'
          'Microsoft.Sql/managedInstances/serverTrustCertificates/delete'
          'Microsoft.Sql/managedInstances/endpointCertificates/read'
          'Microsoft.Sql/managedInstances/distributedAvailabilityGroups/read'
          'Microsoft.Sql/managedInstances/distributedAvailabilityGroups/write'
          'Microsoft.Sql/managedInstances/distributedAvailabilityGroups/delete'
          'Microsoft.Sql/managedInstances/distributedAvailabilityGroups/failover/action'
          'Microsoft.Sql/managedInstances/distributedAvailabilityGroups/setRole/action'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
  }
}

resource operationStatusRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'milink-operation-status-reader')
  properties: {
    roleName: 'milink operation status reader (${resourceGroup().name}, ${uniqueString(resourceGroup().id)})'
    description: 'Reads the status of the long-running Azure SQL operations milink starts (links and server trust certificates).'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: [
          'Microsoft.Sql/locations/distributedAvailabilityGroupsAzureAsyncOperation/read'
          'Microsoft.Sql/locations/distributedAvailabilityGroupsOperationResults/read'
          'Microsoft.Sql/locations/serverTrustCertificatesAzureAsyncOperation/read'
          'Microsoft.Sql/locations/serverTrustCertificatesOperationResults/read'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
  }
}

resource linkOperatorAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(managedInstance.id, principalId, linkOperatorRole.id)
  scope: managedInstance
  properties: {
    roleDefinitionId: linkOperatorRole.id
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Resource-group scope, justified above: the status URLs are not below the instance.
resource operationStatusAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, operationStatusRole.id)
  properties: {
    roleDefinitionId: operationStatusRole.id
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource contributorAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantManagedInstanceContributor) {
  name: guid(managedInstance.id, principalId, sqlManagedInstanceContributor)
  scope: managedInstance
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', sqlManagedInstanceContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output linkOperatorRoleId string = linkOperatorRole.id
output operationStatusRoleId string = operationStatusRole.id
