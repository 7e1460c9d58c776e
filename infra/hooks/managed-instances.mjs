#!/usr/bin/env node
// azd hooks for milink's access to the managed instances (see azure.yaml):
//
//   node infra/hooks/managed-instances.mjs grant    (postprovision)
//   node infra/hooks/managed-instances.mjs revoke   (predown)
//
// grant: for every instance in MILINK_MANAGED_INSTANCES, deploys infra/managed-instance-access.bicep
//   into the instance's resource group as a deployment of its own (az deployment group create), so the
//   instance's resource group never becomes part of azd's deployment — `azd down` deletes every
//   resource group of its deployment, and these hold production instances.
// revoke: removes the role assignments of milink's identity on each instance and on its resource
//   group, then the custom role definitions when nothing else uses them.
//
// Reads azd's environment: MILINK_MANAGED_INSTANCES (JSON array of { subscriptionId, resourceGroup,
// name }), MILINK_IDENTITY_PRINCIPAL_ID (an output of infra/main.bicep), MILINK_GRANT_MI_CONTRIBUTOR
// (true to also grant the broad built-in role; default false), AZURE_ENV_NAME.
// Needs only Node.js and the Azure CLI signed in (`az login`).

import { execFileSync } from 'node:child_process';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const RESOURCE_GROUP = /^[-\w.()]{1,90}$/;
const INSTANCE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export const templateFile = fileURLToPath(new URL('../managed-instance-access.bicep', import.meta.url));

/** Parses and validates MILINK_MANAGED_INSTANCES; throws naming the entry and field that is wrong. */
export function parseInstances(text) {
  const raw = (text ?? '').trim();
  if (raw === '') return [];
  let value;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error(
      'MILINK_MANAGED_INSTANCES must be a JSON array of { subscriptionId, resourceGroup, name }',
    );
  }
  if (!Array.isArray(value)) throw new Error('MILINK_MANAGED_INSTANCES must be a JSON array');
  return value.map((mi, i) => {
    const where = `MILINK_MANAGED_INSTANCES[${i}]`;
    if (mi === null || typeof mi !== 'object' || Array.isArray(mi))
      throw new Error(`${where} must be an object`);
    const extra = Object.keys(mi).filter((k) => !['subscriptionId', 'resourceGroup', 'name'].includes(k));
    if (extra.length > 0) throw new Error(`${where} has unknown fields: ${extra.join(', ')}`);
    if (typeof mi.subscriptionId !== 'string' || !GUID.test(mi.subscriptionId))
      throw new Error(`${where}.subscriptionId must be a subscription GUID`);
    if (
      typeof mi.resourceGroup !== 'string' ||
      !RESOURCE_GROUP.test(mi.resourceGroup) ||
      mi.resourceGroup.endsWith('.')
    )
      throw new Error(`${where}.resourceGroup must be a resource group name`);
    if (typeof mi.name !== 'string' || !INSTANCE.test(mi.name) || mi.name.length > 63)
      throw new Error(`${where}.name must be a managed instance name (lower-case letters, digits, hyphens)`);
    return { subscriptionId: mi.subscriptionId, resourceGroup: mi.resourceGroup, name: mi.name };
  });
}

export function resourceGroupId(mi) {
  return `/subscriptions/${mi.subscriptionId}/resourceGroups/${mi.resourceGroup}`;
}

export function instanceId(mi) {
  return `${resourceGroupId(mi)}/providers/Microsoft.Sql/managedInstances/${mi.name}`;
}

/** The `az` argument lists that grant milink's identity its access on each instance, in order. */
export function grantCommands({ instances, principalId, grantContributor, environmentName }) {
  if (!GUID.test(principalId ?? ''))
    throw new Error(
      "MILINK_IDENTITY_PRINCIPAL_ID must be the identity's object id (run azd provision first)",
    );
  return instances.map((mi) => [
    'deployment',
    'group',
    'create',
    '--subscription',
    mi.subscriptionId,
    '--resource-group',
    mi.resourceGroup,
    '--name',
    `milink-access-${environmentName || 'default'}-${mi.name}`.slice(0, 64),
    '--template-file',
    // Relative to the project folder azd runs hooks in: no spaces from the clone's location.
    relative(process.cwd(), templateFile) || templateFile,
    '--parameters',
    `managedInstanceName=${mi.name}`,
    `principalId=${principalId}`,
    `grantManagedInstanceContributor=${grantContributor ? 'true' : 'false'}`,
    '--output',
    'none',
  ]);
}

/** The scopes where milink's identity holds role assignments on one instance: the instance, its resource group. */
export function revokeScopes(mi) {
  return [instanceId(mi), resourceGroupId(mi)];
}

/** Ids of `principalId`'s assignments made exactly at `scope` (not inherited), from `az role assignment list` JSON. */
export function assignmentsAtScope(list, principalId, scope) {
  return list
    .filter((a) => a.principalId === principalId && (a.scope ?? '').toLowerCase() === scope.toLowerCase())
    .map((a) => a.id);
}

/** Names (GUIDs) of milink's custom role definitions, from `az role definition list` JSON. */
export function milinkRoleDefinitions(list) {
  return list
    .filter((d) => customRoleNamePrefixes.some((p) => (d.roleName ?? '').startsWith(p)))
    .map((d) => d.name);
}

export const customRoleNamePrefixes = ['milink link operator (', 'milink operation status reader ('];

/** Runs the Azure CLI. Arguments never hold spaces or shell characters (Windows runs az.cmd through a shell). */
function az(args, capture = false) {
  return execFileSync('az', args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    shell: process.platform === 'win32',
  });
}

function grant(env) {
  const instances = parseInstances(env.MILINK_MANAGED_INSTANCES);
  if (instances.length === 0) {
    console.log('milink: MILINK_MANAGED_INSTANCES is empty; no managed instance access granted.');
    return;
  }
  const commands = grantCommands({
    instances,
    principalId: env.MILINK_IDENTITY_PRINCIPAL_ID,
    grantContributor: (env.MILINK_GRANT_MI_CONTRIBUTOR ?? '').toLowerCase() === 'true',
    environmentName: env.AZURE_ENV_NAME,
  });
  for (const [i, args] of commands.entries()) {
    console.log(`milink: granting access on ${instanceId(instances[i])}`);
    az(args);
  }
}

function revoke(env) {
  const instances = parseInstances(env.MILINK_MANAGED_INSTANCES);
  const principalId = env.MILINK_IDENTITY_PRINCIPAL_ID ?? '';
  if (!GUID.test(principalId)) {
    console.log('milink: no MILINK_IDENTITY_PRINCIPAL_ID; nothing to revoke.');
    return;
  }
  for (const mi of instances) {
    for (const scope of revokeScopes(mi)) {
      const list = JSON.parse(
        az(
          ['role', 'assignment', 'list', '--subscription', mi.subscriptionId, '--scope', scope].concat([
            '--fill-principal-name',
            'false',
            '--output',
            'json',
          ]),
          true,
        ),
      );
      const ids = assignmentsAtScope(list, principalId, scope);
      if (ids.length > 0) {
        console.log(`milink: removing ${ids.length} role assignment(s) at ${scope}`);
        az(['role', 'assignment', 'delete', '--subscription', mi.subscriptionId, '--ids', ...ids]);
      }
    }
    // The custom roles are shared by every milink deployment using this resource group: delete them
    // only once no assignment uses them (the service refuses otherwise; that is not an error here).
    const rg = resourceGroupId(mi);
    const definitions = JSON.parse(
      az(
        ['role', 'definition', 'list', '--custom-role-only', 'true', '--scope', rg, '--output', 'json'],
        true,
      ),
    );
    for (const name of milinkRoleDefinitions(definitions)) {
      try {
        az(['role', 'definition', 'delete', '--name', name, '--scope', rg]);
      } catch {
        console.log(`milink: kept role definition ${name} (still assigned elsewhere)`);
      }
    }
  }
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const verb = process.argv[2];
  try {
    if (verb === 'grant') grant(process.env);
    else if (verb === 'revoke') revoke(process.env);
    else throw new Error('usage: managed-instances.mjs grant|revoke');
  } catch (e) {
    console.error(`milink: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
