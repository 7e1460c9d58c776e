/**
 * milink's infra/ read as data: the parsed Bicep files and the checks the infrastructure tests run.
 * Every check is a function of parsed input returning the problems it found (empty: none), so the
 * tests can run the same check on a modified copy of the Bicep text and see it fail.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  bodyObject,
  literal,
  parseBicep,
  prop,
  show,
  type BicepFile,
  type Declaration,
  type Expr,
} from './bicep.js';

export const infraDir = new URL('../../infra/', import.meta.url).pathname;

export interface Infra {
  files: Map<string, BicepFile>;
}

type ResourceDecl = Extract<Declaration, { kind: 'resource' }>;
export interface Resource {
  file: string;
  decl: ResourceDecl;
  /** Type without api-version, e.g. Microsoft.Storage/storageAccounts. */
  type: string;
}

/** Reads every .bicep file of a folder; `overrides` replaces a file's text (for negative tests). */
export function readInfraSources(dir = infraDir): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of readdirSync(dir).sort())
    if (f.endsWith('.bicep')) out.set(f, readFileSync(join(dir, f), 'utf8'));
  return out;
}

export function parseInfra(sources: Map<string, string>): Infra {
  const files = new Map<string, BicepFile>();
  for (const [name, text] of sources) {
    try {
      files.set(name, parseBicep(text));
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}`, { cause: e });
    }
  }
  return { files };
}

export function resources(infra: Infra): Resource[] {
  const out: Resource[] = [];
  for (const [file, parsed] of infra.files)
    for (const decl of parsed.declarations)
      if (decl.kind === 'resource') out.push({ file, decl, type: decl.type.split('@')[0]! });
  return out;
}

export function resourcesOfType(infra: Infra, type: string): Resource[] {
  return resources(infra).filter((r) => r.type.toLowerCase() === type.toLowerCase() && !r.decl.existing);
}

function p(r: Resource, path: string): Expr | undefined {
  return prop(r.decl.value, path);
}

function where(r: Resource): string {
  return `${r.file}:${r.decl.line} ${r.decl.name}`;
}

/** Declarations of one kind in one file, by symbolic name. */
function declared(infra: Infra, file: string, name: string): Declaration | undefined {
  return infra.files.get(file)?.declarations.find((d) => 'name' in d && d.name === name);
}

// ------------------------------------------------------------------------------------ app settings

/**
 * The names of the app settings the Function App(s) get: `siteConfig.appSettings` entries and
 * `Microsoft.Web/sites/config` 'appsettings' objects. A name that is not a literal is an error:
 * the contract could not be checked.
 */
export function appSettingNames(infra: Infra): string[] {
  const names: string[] = [];
  for (const site of resourcesOfType(infra, 'Microsoft.Web/sites')) {
    const list = p(site, 'properties.siteConfig.appSettings');
    if (!list) continue;
    if (list.kind !== 'array') throw new Error(`${where(site)}: appSettings is not an array literal`);
    for (const item of list.items) {
      const name = literal(prop(item, 'name'));
      if (typeof name !== 'string')
        throw new Error(`${where(site)}: an app setting's name is not a literal: ${show(item)}`);
      names.push(name);
    }
  }
  for (const cfg of resourcesOfType(infra, 'Microsoft.Web/sites/config')) {
    if (literal(p(cfg, 'name')) !== 'appsettings') continue;
    const props = bodyObject(p(cfg, 'properties') ?? { kind: 'null' });
    if (!props) throw new Error(`${where(cfg)}: appsettings properties are not an object literal`);
    names.push(...props.properties.map((x) => x.key));
  }
  return names;
}

// ------------------------------------------------------------------------------------ security

export function checkStorage(infra: Infra): string[] {
  const problems: string[] = [];
  const accounts = resourcesOfType(infra, 'Microsoft.Storage/storageAccounts');
  if (accounts.length === 0) problems.push('no storage account');
  for (const a of accounts) {
    if (literal(p(a, 'properties.allowSharedKeyAccess')) !== false)
      problems.push(`${where(a)}: allowSharedKeyAccess must be false (identity-based access only)`);
    if (literal(p(a, 'properties.allowBlobPublicAccess')) !== false)
      problems.push(`${where(a)}: allowBlobPublicAccess must be false`);
    if (literal(p(a, 'properties.supportsHttpsTrafficOnly')) !== true)
      problems.push(`${where(a)}: supportsHttpsTrafficOnly must be true`);
    if (literal(p(a, 'properties.minimumTlsVersion')) !== 'TLS1_2')
      problems.push(`${where(a)}: minimumTlsVersion must be TLS1_2`);
  }
  const queues = resourcesOfType(infra, 'Microsoft.Storage/storageAccounts/queueServices/queues').map((q) =>
    literal(p(q, 'name')),
  );
  for (const q of ['link-requests', 'link-requests-poison', 'link-alerts'])
    if (!queues.includes(q)) problems.push(`queue ${q} is not created`);
  // the health sweep's inventory table and report container, named as the settings' defaults
  const tables = resourcesOfType(infra, 'Microsoft.Storage/storageAccounts/tableServices/tables').map((t) =>
    literal(p(t, 'name')),
  );
  if (!tables.includes('milinkinventory')) problems.push('table milinkinventory is not created');
  const containers = resourcesOfType(infra, 'Microsoft.Storage/storageAccounts/blobServices/containers');
  const reports = containers.find((c) => literal(p(c, 'name')) === 'milink-health');
  if (!reports) problems.push('container milink-health is not created');
  else if (literal(p(reports, 'properties.publicAccess')) !== 'None')
    problems.push('container milink-health must not be public');
  return problems;
}

export function checkKeyVault(infra: Infra): string[] {
  const problems: string[] = [];
  const vaults = resourcesOfType(infra, 'Microsoft.KeyVault/vaults');
  if (vaults.length === 0) problems.push('no Key Vault');
  for (const v of vaults) {
    if (literal(p(v, 'properties.enableRbacAuthorization')) !== true)
      problems.push(`${where(v)}: enableRbacAuthorization must be true`);
    if (literal(p(v, 'properties.enablePurgeProtection')) !== true)
      problems.push(`${where(v)}: enablePurgeProtection must be true`);
    if (literal(p(v, 'properties.enableSoftDelete')) !== true)
      problems.push(`${where(v)}: enableSoftDelete must be true`);
    if (p(v, 'properties.accessPolicies'))
      problems.push(`${where(v)}: access policies are not used (RBAC only)`);
  }
  return problems;
}

export function checkMonitoring(infra: Infra): string[] {
  const problems: string[] = [];
  const components = resourcesOfType(infra, 'Microsoft.Insights/components');
  if (components.length === 0) problems.push('no Application Insights component');
  for (const c of components) {
    if (literal(p(c, 'properties.disableLocalAuth')) !== true)
      problems.push(`${where(c)}: disableLocalAuth must be true`);
    if (!p(c, 'properties.WorkspaceResourceId'))
      problems.push(`${where(c)}: not backed by a Log Analytics workspace`);
  }
  if (resourcesOfType(infra, 'Microsoft.OperationalInsights/workspaces').length === 0)
    problems.push('no Log Analytics workspace');
  return problems;
}

/** Flex Consumption, Node 22, HTTPS only, VNet integration from a parameter, user-assigned identity. */
export function checkFunctionApp(infra: Infra): string[] {
  const problems: string[] = [];
  const plans = resourcesOfType(infra, 'Microsoft.Web/serverfarms');
  if (plans.length !== 1) problems.push(`expected one hosting plan, found ${plans.length}`);
  for (const plan of plans) {
    if (literal(p(plan, 'sku.tier')) !== 'FlexConsumption' || literal(p(plan, 'sku.name')) !== 'FC1')
      problems.push(`${where(plan)}: the plan must be Flex Consumption (sku FC1 / FlexConsumption)`);
  }
  const sites = resourcesOfType(infra, 'Microsoft.Web/sites');
  if (sites.length !== 1) problems.push(`expected one Function App, found ${sites.length}`);
  for (const site of sites) {
    const kind = literal(p(site, 'kind'));
    if (
      typeof kind !== 'string' ||
      !kind.split(',').includes('functionapp') ||
      !kind.split(',').includes('linux')
    )
      problems.push(`${where(site)}: kind must be functionapp,linux`);
    if (literal(p(site, 'properties.httpsOnly')) !== true)
      problems.push(`${where(site)}: httpsOnly must be true`);
    const tls = literal(p(site, 'properties.siteConfig.minTlsVersion'));
    if (tls !== '1.2' && tls !== '1.3')
      problems.push(`${where(site)}: siteConfig.minTlsVersion must be 1.2 or newer`);
    if (literal(p(site, 'properties.functionAppConfig.runtime.name')) !== 'node')
      problems.push(`${where(site)}: functionAppConfig.runtime.name must be node`);
    if (literal(p(site, 'properties.functionAppConfig.runtime.version')) !== '22')
      problems.push(`${where(site)}: functionAppConfig.runtime.version must be '22'`);
    const plan = p(site, 'properties.serverFarmId');
    if (!plan || !plans.some((pl) => show(plan) === `${pl.decl.name}.id`))
      problems.push(`${where(site)}: serverFarmId must be the Flex Consumption plan's id`);
    const subnet = p(site, 'properties.virtualNetworkSubnetId');
    const file = infra.files.get(site.file)!;
    const subnetParam =
      subnet?.kind === 'ident'
        ? file.declarations.find(
            (d) => d.kind === 'param' && d.name === subnet.name && !('defaultValue' in d && d.defaultValue),
          )
        : undefined;
    if (!subnetParam)
      problems.push(`${where(site)}: virtualNetworkSubnetId must be a parameter the user gives (no default)`);
    if (literal(p(site, 'identity.type')) !== 'UserAssigned')
      problems.push(`${where(site)}: identity.type must be UserAssigned (one user-assigned identity)`);
    const auth = p(site, 'properties.functionAppConfig.deployment.storage.authentication.type');
    if (literal(auth) !== 'UserAssignedIdentity')
      problems.push(`${where(site)}: the deployment package must be read with the user-assigned identity`);
  }
  const identities = resourcesOfType(infra, 'Microsoft.ManagedIdentity/userAssignedIdentities');
  if (identities.length !== 1)
    problems.push(`expected one user-assigned identity, found ${identities.length}`);
  return problems;
}

// ------------------------------------------------------------------------------------ roles

/** Built-in role ids milink grants, by the resource type they must be scoped to. */
export const BUILT_IN_ROLES: Record<string, { name: string; scopeType: string }> = {
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b': {
    name: 'Storage Blob Data Owner',
    scopeType: 'Microsoft.Storage/storageAccounts',
  },
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88': {
    name: 'Storage Queue Data Contributor',
    scopeType: 'Microsoft.Storage/storageAccounts',
  },
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3': {
    name: 'Storage Table Data Contributor',
    scopeType: 'Microsoft.Storage/storageAccounts',
  },
  '4633458b-17de-408a-b874-0445c86b69e6': {
    name: 'Key Vault Secrets User',
    scopeType: 'Microsoft.KeyVault/vaults',
  },
  'db79e9a7-68ee-4b58-9aeb-b90e7c24fcba': {
    name: 'Key Vault Certificate User',
    scopeType: 'Microsoft.KeyVault/vaults',
  },
  'b86a8fe4-44ce-4948-aee5-eccb2c155cd7': {
    name: 'Key Vault Secrets Officer',
    scopeType: 'Microsoft.KeyVault/vaults',
  },
  '3913510d-42f4-4e42-8a64-420c390055eb': {
    name: 'Monitoring Metrics Publisher',
    scopeType: 'Microsoft.Insights/components',
  },
  '4939a1f6-9ae0-4e48-a1e0-f2cbe897382d': {
    name: 'SQL Managed Instance Contributor',
    scopeType: 'Microsoft.Sql/managedInstances',
  },
};

/**
 * The one role assignment allowed at resource-group scope: reading the status of Azure SQL's
 * long-running operations, whose URLs live under /resourceGroups/<rg>/providers/Microsoft.Sql/locations/…
 * — not below any instance. It must hold only `Microsoft.Sql/locations/…/read` actions.
 */
export const RESOURCE_GROUP_SCOPE_EXCEPTION = {
  file: 'managed-instance-access.bicep',
  assignment: 'operationStatusAssignment',
  role: 'operationStatusRole',
};

export interface RoleDefinition {
  file: string;
  name: string;
  actions: string[];
  dataActions: string[];
  notActions: string[];
  assignableScopes: string[];
}

export function roleDefinitions(infra: Infra): RoleDefinition[] {
  return resourcesOfType(infra, 'Microsoft.Authorization/roleDefinitions').map((r) => {
    const perms = literal(p(r, 'properties.permissions'));
    if (!Array.isArray(perms) || perms.length !== 1)
      throw new Error(`${where(r)}: permissions must be one literal block`);
    const block = perms[0] as Record<string, string[] | undefined>;
    const scopes = p(r, 'properties.assignableScopes');
    return {
      file: r.file,
      name: r.decl.name,
      actions: block.actions ?? [],
      dataActions: block.dataActions ?? [],
      notActions: block.notActions ?? [],
      assignableScopes: scopes?.kind === 'array' ? scopes.items.map(show) : [],
    };
  });
}

/** Every role assignment is scoped to one resource of the type its role is about. */
export function checkRoleAssignmentScopes(infra: Infra): string[] {
  const problems: string[] = [];
  const byName = new Map(resources(infra).map((r) => [`${r.file}#${r.decl.name}`, r]));
  const customRoles = new Map(roleDefinitions(infra).map((d) => [`${d.file}#${d.name}`, d]));
  const assignments = resourcesOfType(infra, 'Microsoft.Authorization/roleAssignments');
  if (assignments.length === 0) problems.push('no role assignments');
  for (const a of assignments) {
    const roleExpr = p(a, 'properties.roleDefinitionId');
    const scope = p(a, 'scope');
    // Which role?
    let builtIn: { name: string; scopeType: string } | undefined;
    let custom: RoleDefinition | undefined;
    if (roleExpr?.kind === 'member' && roleExpr.property === 'id' && roleExpr.object.kind === 'ident') {
      custom = customRoles.get(`${a.file}#${roleExpr.object.name}`);
    } else if (roleExpr?.kind === 'call' && show(roleExpr.callee) === 'subscriptionResourceId') {
      const id = resolveString(infra, a.file, roleExpr.args[1]);
      builtIn = id ? BUILT_IN_ROLES[id] : undefined;
      if (!builtIn)
        problems.push(`${where(a)}: built-in role ${id ?? show(roleExpr)} is not one milink expects`);
    } else
      problems.push(
        `${where(a)}: cannot tell which role is assigned (${roleExpr ? show(roleExpr) : 'none'})`,
      );
    if (!builtIn && !custom) {
      if (roleExpr?.kind === 'member')
        problems.push(`${where(a)}: role ${show(roleExpr)} is not defined in ${a.file}`);
      continue;
    }
    // Which scope?
    if (!scope) {
      const ex = RESOURCE_GROUP_SCOPE_EXCEPTION;
      const isException = a.file === ex.file && a.decl.name === ex.assignment && custom?.name === ex.role;
      const onlyLocationReads =
        custom !== undefined &&
        custom.actions.length > 0 &&
        custom.actions.every((x) => /^Microsoft\.Sql\/locations\/[A-Za-z]+\/read$/.test(x)) &&
        custom.dataActions.length === 0;
      if (!isException || !onlyLocationReads)
        problems.push(
          `${where(a)}: assigned at the deployment's scope (resource group or wider); scope it to a resource`,
        );
      continue;
    }
    if (scope.kind !== 'ident') {
      problems.push(`${where(a)}: scope ${show(scope)} is not a resource of this file`);
      continue;
    }
    const target = byName.get(`${a.file}#${scope.name}`);
    if (!target) {
      problems.push(`${where(a)}: scope ${scope.name} is not a resource of ${a.file}`);
      continue;
    }
    const expectedType = builtIn ? builtIn.scopeType : 'Microsoft.Sql/managedInstances';
    if (target.type.toLowerCase() !== expectedType.toLowerCase())
      problems.push(`${where(a)}: scoped to ${target.type}, expected one ${expectedType}`);
    if (custom && !custom.actions.every((x) => x.startsWith('Microsoft.Sql/managedInstances/')))
      problems.push(`${where(a)}: role ${custom.name} holds actions outside Microsoft.Sql/managedInstances`);
  }
  // No file deploying at subscription scope may assign roles (that would be subscription-wide).
  for (const [file, parsed] of infra.files) {
    const scope = parsed.declarations.find((d) => d.kind === 'targetScope');
    if (scope?.kind === 'targetScope' && literal(scope.value) !== 'resourceGroup')
      for (const d of parsed.declarations)
        if (d.kind === 'resource' && d.type.startsWith('Microsoft.Authorization/'))
          problems.push(
            `${file}:${d.line} ${d.name}: authorization resource in a ${String(literal(scope.value))}-scope file`,
          );
  }
  // Custom roles may only be assigned within their own resource group.
  for (const d of roleDefinitions(infra))
    if (d.assignableScopes.length !== 1 || d.assignableScopes[0] !== 'resourceGroup().id')
      problems.push(`${d.file} ${d.name}: assignableScopes must be [resourceGroup().id]`);
  return problems;
}

/** A string literal, or a `var` (or `var.member`) holding one, in the same file. */
function resolveString(infra: Infra, file: string, e: Expr | undefined): string | undefined {
  if (!e) return undefined;
  const lit = literal(e);
  if (typeof lit === 'string') return lit;
  if (e.kind === 'ident') {
    const d = declared(infra, file, e.name);
    return d?.kind === 'var' ? resolveString(infra, file, d.value) : undefined;
  }
  if (e.kind === 'member' && e.object.kind === 'ident') {
    const d = declared(infra, file, e.object.name);
    return d?.kind === 'var' ? resolveString(infra, file, prop(d.value, e.property)) : undefined;
  }
  return undefined;
}

/**
 * The custom roles hold exactly the ARM actions milink uses: the instance role every
 * `Microsoft.Sql/managedInstances/…` action, the status role every `Microsoft.Sql/locations/…` one,
 * and nothing else anywhere.
 */
export function checkRoleActions(infra: Infra, actionsUsed: readonly string[]): string[] {
  const problems: string[] = [];
  const defs = roleDefinitions(infra);
  const instanceRole = defs.find((d) => d.name === 'linkOperatorRole');
  const statusRole = defs.find((d) => d.name === RESOURCE_GROUP_SCOPE_EXCEPTION.role);
  if (!instanceRole) return ['no custom role linkOperatorRole'];
  const wantInstance = actionsUsed.filter((a) => a.startsWith('Microsoft.Sql/managedInstances/'));
  const wantStatus = actionsUsed.filter((a) => a.startsWith('Microsoft.Sql/locations/'));
  for (const a of actionsUsed)
    if (!wantInstance.includes(a) && !wantStatus.includes(a))
      problems.push(`milink uses ${a}, which neither custom role is meant to hold`);
  problems.push(...compareSets('linkOperatorRole', instanceRole.actions, wantInstance));
  if (wantStatus.length > 0 && !statusRole)
    problems.push(`milink uses ${wantStatus.join(', ')} but no status role exists`);
  if (statusRole) problems.push(...compareSets(statusRole.name, statusRole.actions, wantStatus));
  for (const d of defs) {
    if (d.dataActions.length > 0) problems.push(`${d.name}: data actions are not needed`);
    if (d.actions.some((a) => a.includes('*')))
      problems.push(`${d.name}: wildcard actions are not least privilege`);
  }
  return problems;
}

function compareSets(role: string, have: readonly string[], want: readonly string[]): string[] {
  const problems: string[] = [];
  const lower = (xs: readonly string[]) => new Set(xs.map((x) => x.toLowerCase()));
  const h = lower(have);
  const w = lower(want);
  for (const a of want)
    if (!h.has(a.toLowerCase())) problems.push(`${role}: missing ${a}, which milink uses`);
  for (const a of have)
    if (!w.has(a.toLowerCase())) problems.push(`${role}: holds ${a}, which milink does not use`);
  if (h.size !== have.length) problems.push(`${role}: an action is listed twice`);
  return problems;
}

/** The broad built-in role is granted only behind a bool parameter that defaults to false. */
export function checkBroadRoleIsOptIn(infra: Infra): string[] {
  const problems: string[] = [];
  for (const a of resourcesOfType(infra, 'Microsoft.Authorization/roleAssignments')) {
    const roleExpr = p(a, 'properties.roleDefinitionId');
    if (roleExpr?.kind !== 'call') continue;
    const id = resolveString(infra, a.file, roleExpr.args[1]);
    if (BUILT_IN_ROLES[id ?? '']?.name !== 'SQL Managed Instance Contributor') continue;
    const cond = a.decl.value.kind === 'if' ? a.decl.value.condition : undefined;
    const param =
      cond?.kind === 'ident'
        ? infra.files.get(a.file)!.declarations.find((d) => d.kind === 'param' && d.name === cond.name)
        : undefined;
    if (param?.kind !== 'param' || literal(param.defaultValue) !== false)
      problems.push(
        `${where(a)}: the broad built-in role must depend on a bool parameter defaulting to false`,
      );
  }
  return problems;
}

/**
 * `azd down` deletes every resource group its deployment put resources into. A subscription-scope
 * entry point may therefore deploy modules only into resource groups it creates itself — never
 * into an existing one (such as a managed instance's).
 */
export function checkAzdDownSafety(infra: Infra): string[] {
  const problems: string[] = [];
  for (const [file, parsed] of infra.files) {
    const target = parsed.declarations.find((d) => d.kind === 'targetScope');
    if (target?.kind !== 'targetScope' || literal(target.value) !== 'subscription') continue;
    const created = new Set(
      parsed.declarations
        .filter(
          (d) =>
            d.kind === 'resource' && !d.existing && d.type.startsWith('Microsoft.Resources/resourceGroups@'),
        )
        .map((d) => (d as ResourceDecl).name),
    );
    for (const d of parsed.declarations) {
      if (d.kind !== 'module' && d.kind !== 'resource') continue;
      if (d.kind === 'resource' && d.type.startsWith('Microsoft.Resources/resourceGroups@')) {
        if (d.existing)
          problems.push(`${file}:${d.line} ${d.name}: an existing resource group in azd's deployment`);
        continue;
      }
      const scope = prop(d.value, 'scope');
      if (!scope || scope.kind !== 'ident' || !created.has(scope.name))
        problems.push(
          `${file}:${d.line} ${d.name}: deploys into ${scope ? show(scope) : 'the subscription'}, not a resource group this file creates (azd down would delete it)`,
        );
    }
  }
  return problems;
}

/** Every parameter of every file has a description. */
export function checkParameterDescriptions(infra: Infra): string[] {
  const problems: string[] = [];
  for (const [file, parsed] of infra.files)
    for (const d of parsed.declarations)
      if (
        d.kind === 'param' &&
        !d.decorators.some((x) => x.name === 'description' || x.name === 'sys.description')
      )
        problems.push(`${file}:${d.line} param ${d.name} has no @description`);
  return problems;
}
