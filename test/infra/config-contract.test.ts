import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as config from '../../src/config.js';
import { checkConfigContract, isPlatformSetting, type ContractInputs } from './config-contract.js';
import { appSettingNames, parseInfra, readInfraSources } from './infra-model.js';

const localSettingsFile = new URL('../../local.settings.example.json', import.meta.url);

function realInputs(sources = readInfraSources()): ContractInputs {
  const localOnly = (config as Record<string, unknown>).optionalSettingNames;
  const example = JSON.parse(readFileSync(localSettingsFile, 'utf8')) as { Values?: Record<string, unknown> };
  return {
    settingNames: config.settingNames,
    localOnlySettingNames: Array.isArray(localOnly) ? (localOnly as string[]) : [],
    infraAppSettings: appSettingNames(parseInfra(sources)),
    localSettings: Object.keys(example.Values ?? {}),
  };
}

/** app.bicep with one more entry in the Function App's appSettings. */
function withExtraAppSetting(name: string): Map<string, string> {
  const sources = readInfraSources();
  const app = sources.get('app.bicep')!;
  const anchor = 'appSettings: [';
  expect(app).toContain(anchor);
  sources.set(
    'app.bicep',
    app.replace(anchor, `${anchor}\n        {\n          name: '${name}'\n          value: 'x'\n        }`),
  );
  return sources;
}

describe('config contract: src/config.ts ⇄ infra/ ⇄ local.settings.example.json', () => {
  it('holds for the repository as it is', () => {
    const inputs = realInputs();
    expect(inputs.settingNames.length).toBeGreaterThan(0);
    expect(inputs.infraAppSettings).toEqual(expect.arrayContaining([...inputs.settingNames]));
    expect(checkConfigContract(inputs)).toEqual([]);
  });

  it('infra uses identity-based storage and Entra-authenticated telemetry', () => {
    const { infraAppSettings } = realInputs();
    expect(infraAppSettings).toEqual(
      expect.arrayContaining([
        'AzureWebJobsStorage__accountName',
        'AzureWebJobsStorage__credential',
        'AzureWebJobsStorage__clientId',
        'APPLICATIONINSIGHTS_CONNECTION_STRING',
        'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
        'AZURE_CLIENT_ID',
      ]),
    );
    expect(infraAppSettings).not.toContain('AzureWebJobsStorage');
    expect(infraAppSettings.filter((n) => n.startsWith('FUNCTIONS_'))).toEqual([]);
  });

  it('fails when milink reads a setting infra does not set', () => {
    const inputs = realInputs();
    const problems = checkConfigContract({
      ...inputs,
      settingNames: [...inputs.settingNames, 'MILINK_NEW_SETTING'],
      localSettings: [...inputs.localSettings, 'MILINK_NEW_SETTING'],
    });
    expect(problems).toEqual(['MILINK_NEW_SETTING: milink reads it but infra/ does not set it']);
  });

  it('fails when milink reads a setting local.settings.example.json does not list', () => {
    const sources = withExtraAppSetting('MILINK_NEW_SETTING');
    const inputs = realInputs(sources);
    const problems = checkConfigContract({
      ...inputs,
      settingNames: [...inputs.settingNames, 'MILINK_NEW_SETTING'],
    });
    expect(problems).toEqual([
      'MILINK_NEW_SETTING: milink reads it but local.settings.example.json does not list it',
    ]);
  });

  it('fails when infra sets a setting nobody reads (parsed from a modified app.bicep)', () => {
    const inputs = realInputs(withExtraAppSetting('MILINK_LEFTOVER'));
    expect(inputs.infraAppSettings).toContain('MILINK_LEFTOVER');
    expect(checkConfigContract(inputs)).toEqual([
      'MILINK_LEFTOVER: infra/ sets it but milink does not read it and it is no documented platform setting',
    ]);
  });

  it('fails when infra sets a local-only setting, or the example lacks one', () => {
    const inputs = realInputs(withExtraAppSetting('MILINK_SIM_CONNECTION_FILE'));
    const problems = checkConfigContract({
      ...inputs,
      localOnlySettingNames: [...inputs.localOnlySettingNames, 'MILINK_SIM_CONNECTION_FILE'],
    });
    expect(problems).toEqual([
      'MILINK_SIM_CONNECTION_FILE: local-only setting missing from local.settings.example.json',
      'MILINK_SIM_CONNECTION_FILE: local-only setting (simulated estate) must not be set by infra/',
    ]);
  });

  it('fails when local.settings.example.json lists a setting nothing reads', () => {
    const inputs = realInputs();
    expect(
      checkConfigContract({ ...inputs, localSettings: [...inputs.localSettings, 'MILINK_STALE'] }),
    ).toEqual(['MILINK_STALE: local.settings.example.json lists it but nothing reads it']);
  });

  it('fails when infra sets a setting twice', () => {
    const inputs = realInputs(withExtraAppSetting('AZURE_CLIENT_ID'));
    expect(checkConfigContract(inputs)).toEqual(['AZURE_CLIENT_ID: infra/ sets it twice']);
  });

  it('keeps the platform allowlist narrow', () => {
    for (const name of [
      'AzureWebJobsStorage',
      'AzureWebJobsStorage__accountName',
      'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
      'FUNCTIONS_WORKER_RUNTIME',
      'AzureFunctionsJobHost__extensions__durableTask__hubName',
    ])
      expect(isPlatformSetting(name), name).toBe(true);
    for (const name of [
      'MILINK_KEYVAULT_URL',
      'AzureWebJobsStorage__accountKey',
      'FUNCTIONS_ANYTHING',
      'AZURE_CLIENT_SECRET',
    ])
      expect(isPlatformSetting(name), name).toBe(false);
  });
});
