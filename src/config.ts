import { z } from 'zod';

/**
 * milink's settings, read from the environment once and validated.
 * Every name in `settingNames` is set by infra/ in Azure and listed in local.settings.example.json. The names in
 * `optionalSettingNames` have defaults that suit Azure's public cloud; they are listed in
 * local.settings.example.json and never set by infra/. They point milink at a private cloud (other endpoints,
 * extra CA certificates, a host-name map, a fixed credential) and tune its retries; the local host sets them to
 * reach the simulated estate the same way.
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

const emptyAsUndefined = z
  .string()
  .optional()
  .transform((v) => (v ? v : undefined));
const boolean = z
  .enum(['true', 'false', '1', '0', ''])
  .default('false')
  .transform((v) => v === 'true' || v === '1');

const optionalSchema = z.object({
  /** A PEM file of CA certificates to trust for ARM and Key Vault besides the system's (TLS inspection, private clouds). */
  MILINK_EXTRA_CA_CERTS: emptyAsUndefined,
  /**
   * Where to reach SQL Servers named in requests, as JSON: `{ "sqlbox1.contoso.local:1433": "10.1.2.3:11433" }`
   * (a jump host, a port forward). Requests keep the names DBAs know; an unmapped host is reached as named.
   */
  MILINK_SQL_HOST_MAP: emptyAsUndefined,
  /** A file holding a bearer token for ARM and Key Vault instead of DefaultAzureCredential (a token broker). */
  MILINK_ACCESS_TOKEN_FILE: emptyAsUndefined,
  /** Key Vault's challenge names a resource other than vault.azure.net (sovereign or private clouds). */
  MILINK_KEYVAULT_DISABLE_CHALLENGE_VERIFICATION: boolean,
  /** Tries of a SQL batch that fails with a transient error (dropped connection, deadlock, 40613, …). */
  MILINK_SQL_RETRY_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  /** The first pause before retrying a SQL batch (ms); it doubles per try. */
  MILINK_SQL_RETRY_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(500),
  /** The client-side limit of one SQL batch (seconds); a BACKUP has none (it lasts as long as the database is big). */
  MILINK_SQL_REQUEST_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(120),
  /** Retries of an ARM or Key Vault request answered 429/5xx or dropped (the SDK pipeline's retry policy). */
  MILINK_AZURE_RETRY_ATTEMPTS: z.coerce.number().int().min(0).max(20).default(6),
  /** The first pause before retrying an ARM or Key Vault request (ms), unless the service says (Retry-After). */
  MILINK_AZURE_RETRY_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  /** The pause between two looks at a short Azure operation awaited inside a step (ms), unless Retry-After says. */
  MILINK_OPERATION_POLL_MS: z.coerce.number().int().min(0).max(60_000).default(2000),
  /** Tries of a step whose activity failed with a transient error, between durable timers. */
  MILINK_STEP_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  /** The durable pause before a step's next try (seconds). */
  MILINK_STEP_RETRY_SECONDS: z.coerce.number().min(0).max(3600).default(30),
  /** A fleet request links at most this many databases of one SQL Server at a time. */
  MILINK_FLEET_PER_SERVER: z.coerce.number().int().min(1).max(100).default(8),
  /** …and at most this many to one instance at a time. */
  MILINK_FLEET_PER_INSTANCE: z.coerce.number().int().min(1).max(100).default(8),
  /** When the nightly health sweep runs: a six-field NCRONTAB schedule, UTC (docs/health.md). */
  MILINK_HEALTH_SCHEDULE: z
    .string()
    .regex(/^\S+( \S+){5}$/, { error: 'a six-field NCRONTAB schedule, e.g. 0 0 2 * * *' })
    .default('0 0 2 * * *'),
  /** How many SQL Servers and managed instances the sweep reads at once. */
  MILINK_HEALTH_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  /** The health checks' thresholds as JSON, any subset of src/health/thresholds.ts (empty: the documented defaults). */
  MILINK_HEALTH_THRESHOLDS: emptyAsUndefined,
  /**
   * An incoming webhook (Teams, Slack) that gets one post per night with the new, changed and resolved findings.
   * Its URL holds a token: in Azure, make the app setting a Key Vault reference. Empty: no webhook.
   */
  MILINK_ALERT_WEBHOOK_URL: emptyAsUndefined,
  /** The dashboard's address, linked from the webhook's post (empty: no link). */
  MILINK_DASHBOARD_URL: emptyAsUndefined,
  /** The Table Storage table of managed links, in the app's storage account (AzureWebJobsStorage). */
  MILINK_INVENTORY_TABLE: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/)
    .default('milinkinventory'),
  /** The Blob Storage container of the nightly health reports, in the app's storage account. */
  MILINK_HEALTH_CONTAINER: z
    .string()
    .regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/)
    .default('milink-health'),
});

const settingsSchema = productionSchema.extend(optionalSchema.shape);

export type Settings = z.infer<typeof settingsSchema>;

/** Settings milink reads in Azure (each set by infra/ and listed in local.settings.example.json). */
export const settingNames = Object.keys(productionSchema.shape) as Array<keyof Settings>;
/** Settings with public-cloud defaults (listed in local.settings.example.json, never set by infra/). */
export const optionalSettingNames = Object.keys(optionalSchema.shape) as Array<keyof Settings>;

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
  const key = JSON.stringify([...settingNames, ...optionalSettingNames].map((n) => process.env[n] ?? null));
  if (cached?.key !== key) cached = { key, value: loadSettings() };
  return cached.value;
}
