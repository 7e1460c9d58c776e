import { z } from 'zod';

/**
 * milink's settings, read from the environment once and validated.
 * Every name in `settingNames` is set by infra/ in Azure and listed in local.settings.example.json; the names
 * in `localOnlySettingNames` are set only by the local host (they point milink at the simulated estate).
 */
const productionSchema = z.object({
  /** Key Vault holding SQL logins' passwords and master key passwords, e.g. https://kv-milink.vault.azure.net */
  MILINK_KEYVAULT_URL: z.url(),
  /** Azure Resource Manager endpoint. */
  MILINK_ARM_ENDPOINT: z.url().default('https://management.azure.com'),
  /** Client id of the user-assigned managed identity milink runs as (empty: DefaultAzureCredential's chain). */
  AZURE_CLIENT_ID: z.string().default(''),
  /** How long createLink waits for a link to become healthy before it stops and reports (hours). */
  MILINK_LINK_DEADLINE_HOURS: z.coerce.number().positive().max(144).default(24),
  /** The first pause between two looks at a link being created (seconds); it doubles up to 5 minutes. */
  MILINK_POLL_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(300).default(15),
});

const localOnlySchema = z.object({
  /**
   * The simulated estate's connection file (local development only): its ARM and Key Vault addresses, their
   * CA certificate and token, and the map from SQL Server host names to the stand-ins' local ports.
   */
  MILINK_LOCAL_CONNECTION_FILE: z
    .string()
    .optional()
    .transform((v) => (v ? v : undefined)),
});

const settingsSchema = productionSchema.extend(localOnlySchema.shape);

export type Settings = z.infer<typeof settingsSchema>;

/** Settings milink reads in Azure (each set by infra/ and listed in local.settings.example.json). */
export const settingNames = Object.keys(productionSchema.shape) as Array<keyof Settings>;
/** Settings only the local host sets (listed in local.settings.example.json, never set by infra/). */
export const localOnlySettingNames = Object.keys(localOnlySchema.shape) as Array<keyof Settings>;

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`milink settings are invalid: ${problems}`);
  }
  return parsed.data;
}

let cached: { key: string; value: Settings } | undefined;
/** The process's settings, read once per change of the environment (activities and triggers; never orchestrators). */
export function settings(): Settings {
  const key = JSON.stringify([...settingNames, ...localOnlySettingNames].map((n) => process.env[n] ?? null));
  if (cached?.key !== key) cached = { key, value: loadSettings() };
  return cached.value;
}
