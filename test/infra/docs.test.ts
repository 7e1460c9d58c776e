import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settingNames } from '../../src/config.js';
import { appSettingNames, infraDir, parseInfra, readInfraSources } from './infra-model.js';

const deploy = readFileSync(new URL('../../docs/deploy.md', import.meta.url), 'utf8');
const operations = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
const hook = readFileSync(`${infraDir}hooks/managed-instances.mjs`, 'utf8');
const infra = parseInfra(readInfraSources());

describe('the operator docs keep up with infra/', () => {
  it('deploy.md names every value a deployment reads from the azd environment', () => {
    const params = readFileSync(`${infraDir}main.parameters.json`, 'utf8');
    const fromParams = [...params.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]!);
    const fromHook = [...hook.matchAll(/env\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!);
    const names = [...new Set([...fromParams, ...fromHook])];
    expect(names).toEqual(expect.arrayContaining(['MILINK_APP_SUBNET_ID', 'MILINK_MANAGED_INSTANCES']));
    for (const name of names) expect(deploy, name).toContain(name);
  });

  it('deploy.md names every parameter with a default, every output and every app setting', () => {
    const main = infra.files.get('main.bicep')!;
    for (const d of main.declarations) {
      if (d.kind === 'param' && d.defaultValue !== undefined)
        expect(deploy, d.name).toContain(`\`${d.name}\``);
      if (d.kind === 'output') expect(deploy, d.name).toContain(d.name);
    }
    for (const name of appSettingNames(infra)) {
      const shown = name.startsWith('AzureWebJobsStorage__') ? name.replace('AzureWebJobsStorage', '') : name;
      expect(deploy, name).toContain(shown);
    }
    for (const name of settingNames) expect(deploy, name).toContain(name);
  });

  it('deploy.md says no Bicep compiler checks the templates here', () => {
    expect(deploy).toMatch(/No Bicep compiler runs in milink's tests/);
    expect(deploy).toContain('az bicep build --file infra/main.bicep');
  });

  it('operations.md covers the routes and both queues', () => {
    for (const s of [
      'POST /api/links/plan',
      'POST /api/links',
      'GET /api/links/{instanceId}',
      'link-requests',
      'link-requests-poison',
      '"ticketId"',
      '"action": "create"',
    ])
      expect(operations, s).toContain(s);
  });
});
