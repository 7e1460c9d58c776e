/**
 * The settings contract between milink's code, its infrastructure and its local host:
 *
 * - every setting milink reads in Azure (`settingNames` of src/config.ts) is set by infra/'s app
 *   settings and listed in local.settings.example.json;
 * - every optional setting (`optionalSettingNames`: private-cloud endpoints and retry tuning, with defaults) is
 *   listed in local.settings.example.json and never set by infra/;
 * - every app setting infra/ sets is read by milink or is a documented platform setting;
 * - every setting local.settings.example.json lists is read by milink, local-only, or a platform
 *   setting (nothing stale).
 */

/**
 * Settings read by the platform (the Functions host, its extensions, the Application Insights
 * agent), not by milink's code. Explicit on purpose: a new prefix here needs a reason.
 */
export const PLATFORM_SETTINGS: ReadonlyArray<{ pattern: RegExp; reason: string }> = [
  {
    pattern: /^AzureWebJobsStorage$/,
    reason: 'host storage as a connection string (local only: Azurite via UseDevelopmentStorage=true)',
  },
  {
    pattern:
      /^AzureWebJobsStorage__(accountName|credential|clientId|blobServiceUri|queueServiceUri|tableServiceUri)$/,
    reason: 'identity-based host storage connection (host, durable task hub, queue trigger)',
  },
  {
    pattern: /^APPLICATIONINSIGHTS_(CONNECTION_STRING|AUTHENTICATION_STRING)$/,
    reason: 'Application Insights: where to send telemetry, and Entra authentication for it',
  },
  {
    pattern: /^FUNCTIONS_(WORKER_RUNTIME|EXTENSION_VERSION)$/,
    reason: 'Functions runtime selection (local host; Flex Consumption takes it from functionAppConfig)',
  },
  {
    pattern: /^AzureFunctionsJobHost__[A-Za-z0-9_]+$/,
    reason: 'overrides of host.json values, e.g. AzureFunctionsJobHost__extensions__durableTask__hubName',
  },
];

export function isPlatformSetting(name: string): boolean {
  return PLATFORM_SETTINGS.some((p) => p.pattern.test(name));
}

export interface ContractInputs {
  /** Settings milink reads in Azure (src/config.ts `settingNames`). */
  settingNames: readonly string[];
  /** Settings only the local host sets (src/config.ts `optionalSettingNames`; empty if absent). */
  localOnlySettingNames: readonly string[];
  /** App settings the infrastructure sets (parsed from infra/*.bicep). */
  infraAppSettings: readonly string[];
  /** Keys of local.settings.example.json's `Values`. */
  localSettings: readonly string[];
}

export function checkConfigContract(i: ContractInputs): string[] {
  const problems: string[] = [];
  const infra = new Set(i.infraAppSettings);
  const local = new Set(i.localSettings);
  const read = new Set(i.settingNames);
  const localOnly = new Set(i.localOnlySettingNames);

  for (const name of i.settingNames) {
    if (!infra.has(name)) problems.push(`${name}: milink reads it but infra/ does not set it`);
    if (!local.has(name))
      problems.push(`${name}: milink reads it but local.settings.example.json does not list it`);
    if (localOnly.has(name)) problems.push(`${name}: both a setting for Azure and a local-only setting`);
  }
  for (const name of i.localOnlySettingNames) {
    if (!local.has(name))
      problems.push(`${name}: local-only setting missing from local.settings.example.json`);
    if (infra.has(name))
      problems.push(`${name}: local-only setting (simulated estate) must not be set by infra/`);
  }
  for (const name of i.infraAppSettings) {
    if (!read.has(name) && !localOnly.has(name) && !isPlatformSetting(name))
      problems.push(
        `${name}: infra/ sets it but milink does not read it and it is no documented platform setting`,
      );
  }
  for (const name of i.localSettings) {
    if (!read.has(name) && !localOnly.has(name) && !isPlatformSetting(name))
      problems.push(`${name}: local.settings.example.json lists it but nothing reads it`);
  }
  const seen = new Set<string>();
  for (const name of i.infraAppSettings) {
    if (seen.has(name)) problems.push(`${name}: infra/ sets it twice`);
    seen.add(name);
  }
  return problems;
}
