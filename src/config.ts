import { z } from 'zod';

/**
 * milink's settings, read from the environment once and validated.
 * Every name here is set by infra/ in Azure and listed in local.settings.example.json.
 */
const settingsSchema = z.object({
  /** Key Vault holding SQL logins' passwords and master key passwords, e.g. https://kv-milink.vault.azure.net */
  MILINK_KEYVAULT_URL: z.url(),
  /** Azure Resource Manager endpoint. */
  MILINK_ARM_ENDPOINT: z.url().default('https://management.azure.com'),
  /** Client id of the user-assigned managed identity milink runs as (empty: DefaultAzureCredential's chain). */
  AZURE_CLIENT_ID: z.string().default(''),
});

export type Settings = z.infer<typeof settingsSchema>;

/** The names of all settings milink reads (for the config contract test and the docs). */
export const settingNames = Object.keys(settingsSchema.shape) as Array<keyof Settings>;

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`milink settings are invalid: ${problems}`);
  }
  return parsed.data;
}
