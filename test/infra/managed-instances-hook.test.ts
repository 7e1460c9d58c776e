import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  assignmentsAtScope,
  grantCommands,
  instanceId,
  milinkRoleDefinitions,
  parseInstances,
  revokeScopes,
  templateFile,
} from '../../infra/hooks/managed-instances.mjs';
import { parseInfra, readInfraSources } from './infra-model.js';

const sub = '11111111-2222-3333-4444-555555555555';
const principal = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const instances = parseInstances(
  JSON.stringify([
    { subscriptionId: sub, resourceGroup: 'rg-data', name: 'mi-prod' },
    { subscriptionId: sub, resourceGroup: 'rg-dr', name: 'mi-dr' },
  ]),
);

describe('azd hook: access on the managed instances', () => {
  it('reads MILINK_MANAGED_INSTANCES and rejects malformed entries naming them', () => {
    expect(instances).toHaveLength(2);
    expect(parseInstances(undefined)).toEqual([]);
    expect(parseInstances('  ')).toEqual([]);
    const bad: Array<[string, RegExp]> = [
      ['not json', /must be a JSON array/],
      ['{}', /must be a JSON array/],
      ['[1]', /\[0\] must be an object/],
      [
        `[{"subscriptionId":"x","resourceGroup":"rg","name":"mi"}]`,
        /\[0\]\.subscriptionId must be a subscription GUID/,
      ],
      [`[{"subscriptionId":"${sub}","resourceGroup":"rg;rm","name":"mi"}]`, /\[0\]\.resourceGroup/],
      [
        `[{"subscriptionId":"${sub}","resourceGroup":"rg","name":"MI_Prod"}]`,
        /\[0\]\.name must be a managed instance name/,
      ],
      [
        `[{"subscriptionId":"${sub}","resourceGroup":"rg","name":"mi","role":"Owner"}]`,
        /unknown fields: role/,
      ],
    ];
    for (const [text, message] of bad) expect(() => parseInstances(text), text).toThrow(message);
  });

  it('deploys managed-instance-access.bicep once per instance, into its own resource group, with its declared parameters', () => {
    const commands = grantCommands({
      instances,
      principalId: principal,
      grantContributor: false,
      environmentName: 'prod',
    });
    expect(commands).toHaveLength(2);
    const [first] = commands;
    expect(first!.slice(0, 3)).toEqual(['deployment', 'group', 'create']);
    const arg = (name: string) => first![first!.indexOf(name) + 1];
    expect(arg('--subscription')).toBe(sub);
    expect(arg('--resource-group')).toBe('rg-data');
    expect(resolve(arg('--template-file')!)).toBe(templateFile);
    expect(existsSync(templateFile)).toBe(true);
    const params = first!.slice(first!.indexOf('--parameters') + 1, first!.indexOf('--output'));
    expect(params).toEqual([
      'managedInstanceName=mi-prod',
      `principalId=${principal}`,
      'grantManagedInstanceContributor=false',
    ]);
    // The parameters passed are exactly the template's parameters.
    const template = parseInfra(readInfraSources()).files.get('managed-instance-access.bicep')!;
    const declared = template.declarations.filter((d) => d.kind === 'param').map((d) => d.name);
    expect(params.map((p) => p.split('=')[0]).sort()).toEqual([...declared].sort());
    // No argument a Windows shell could split or interpret.
    for (const a of commands.flat()) expect(a, a).not.toMatch(/[\s"'&|<>^%]/);
  });

  it('grants the broad role only when asked, and refuses to run without the identity', () => {
    const broad = grantCommands({
      instances,
      principalId: principal,
      grantContributor: true,
      environmentName: 'prod',
    });
    expect(broad[0]).toContain('grantManagedInstanceContributor=true');
    expect(() =>
      grantCommands({ instances, principalId: '', grantContributor: false, environmentName: 'x' }),
    ).toThrow(/MILINK_IDENTITY_PRINCIPAL_ID/);
  });

  it('revokes only the identity’s own assignments made at the instance and its resource group', () => {
    const mi = instances[0]!;
    expect(revokeScopes(mi)).toEqual([instanceId(mi), `/subscriptions/${sub}/resourceGroups/rg-data`]);
    const scope = instanceId(mi);
    const list = [
      { id: 'mine-here', principalId: principal, scope },
      {
        id: 'mine-here-other-case',
        principalId: principal,
        scope: scope.replace('resourceGroups', 'resourcegroups'),
      },
      { id: 'mine-inherited', principalId: principal, scope: `/subscriptions/${sub}` },
      { id: 'someone-else', principalId: '99999999-2222-3333-4444-555555555555', scope },
    ];
    expect(assignmentsAtScope(list, principal, scope)).toEqual(['mine-here', 'mine-here-other-case']);
    expect(
      milinkRoleDefinitions([
        { name: 'g1', roleName: 'milink link operator (rg-data, abc)' },
        { name: 'g2', roleName: 'milink operation status reader (rg-data, abc)' },
        { name: 'g3', roleName: 'Contoso DBA' },
        { name: 'g4' },
      ]),
    ).toEqual(['g1', 'g2']);
  });
});
