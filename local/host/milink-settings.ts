import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What milink needs to know of a simulated estate (a subset of its connection file). */
export interface EstateAddresses {
  arm: { endpoint: string; token: string };
  keyVault: { url: string; token: string };
  caCertPem: string;
  sqlServers: Array<{ host: string; address: string; port: number }>;
}

/**
 * milink's settings for a simulated estate, the way a user points milink at a private cloud: its ARM and Key Vault
 * endpoints, their CA certificate as an extra trusted CA, a fixed bearer token from a file, and a host-name map
 * from the SQL Server names requests use to the stand-ins' local ports. Writes the CA and token files into `dir`.
 */
export function milinkSettingsFor(estate: EstateAddresses, dir: string): Record<string, string> {
  const ca = join(dir, 'estate-ca.pem');
  const token = join(dir, 'estate-token');
  writeFileSync(ca, estate.caCertPem);
  writeFileSync(token, estate.arm.token, { mode: 0o600 });
  return {
    MILINK_ARM_ENDPOINT: estate.arm.endpoint,
    MILINK_KEYVAULT_URL: estate.keyVault.url,
    MILINK_EXTRA_CA_CERTS: ca,
    MILINK_ACCESS_TOKEN_FILE: token,
    // the stand-in vault answers from 127.0.0.1, so its challenge cannot name vault.azure.net
    MILINK_KEYVAULT_DISABLE_CHALLENGE_VERIFICATION: 'true',
    MILINK_SQL_HOST_MAP: JSON.stringify(
      Object.fromEntries(estate.sqlServers.map((s) => [s.host, `${s.address}:${s.port}`])),
    ),
  };
}

/** Retries that suit a simulated estate on a virtual clock: durable pauses cost nothing, real sleeps are not taken. */
export const FAST_RETRY_SETTINGS: Record<string, string> = {
  MILINK_SQL_RETRY_DELAY_MS: '0',
  MILINK_AZURE_RETRY_DELAY_MS: '0',
  MILINK_OPERATION_POLL_MS: '0',
};
