import { createPrivateKey } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import { CertificateClient } from '@azure/keyvault-certificates';
import { SecretClient } from '@azure/keyvault-secrets';
import { ArmError } from './errors.js';

/** A Key Vault certificate version's public part (what the plan and the status may show). */
export interface VaultCertificate {
  name: string;
  version: string;
  /** The X.509 certificate, DER. */
  der: Buffer;
  expiresOn?: Date;
}

/**
 * Key Vault certificates for SQL Server's endpoint (`@azure/keyvault-certificates`): the public part from the
 * certificate, the private key from the secret of the same name and version, as Key Vault keeps it ("About Azure Key
 * Vault certificates": the addressable secret holds the private key in the policy's content type). PEM
 * (`application/x-pem-file`) is read; a PKCS#12 secret is refused with the policy change to make. The private key is
 * returned to the activity that imports it and nowhere else.
 */
export class CertificateReader {
  private readonly certificates: CertificateClient;
  private readonly secrets: SecretClient;
  constructor(
    credential: TokenCredential,
    url: string,
    tlsCa: string | undefined,
    disableChallengeResourceVerification: boolean,
    retry: { maxRetries: number; retryDelayInMs: number },
  ) {
    const options = {
      ...(tlsCa ? { tlsOptions: { ca: tlsCa } } : {}),
      ...(disableChallengeResourceVerification ? { disableChallengeResourceVerification: true } : {}),
      retryOptions: retry,
    };
    this.certificates = new CertificateClient(url, credential, options);
    this.secrets = new SecretClient(url, credential, options);
  }

  /** The certificate's current version (no version given) or the version named. */
  async certificate(name: string, version?: string): Promise<VaultCertificate> {
    try {
      const found = version
        ? await this.certificates.getCertificateVersion(name, version)
        : await this.certificates.getCertificate(name);
      if (!found.cer || !found.properties.version)
        throw new ArmError(
          'CertificateIncomplete',
          `Key Vault certificate ${name} has no issued version yet`,
          409,
          'wait for its issuance to complete, then re-run',
          name,
          'keyvault',
        );
      return {
        name,
        version: found.properties.version,
        der: Buffer.from(found.cer),
        ...(found.properties.expiresOn ? { expiresOn: found.properties.expiresOn } : {}),
      };
    } catch (e) {
      throw vaultError(e, `reading Key Vault certificate ${name}`, name, 'Key Vault Certificates User');
    }
  }

  /** The private key of a certificate version, PEM (PKCS#8): only for the import, inside the activity. */
  async privateKey(name: string, version: string): Promise<string> {
    let value: string | undefined;
    let contentType: string | undefined;
    try {
      const secret = await this.secrets.getSecret(name, { version });
      value = secret.value;
      contentType = secret.properties.contentType;
    } catch (e) {
      throw vaultError(
        e,
        `reading the private key of Key Vault certificate ${name}`,
        name,
        'Key Vault Secrets User',
      );
    }
    if (!value || !/-----BEGIN (?:RSA )?PRIVATE KEY-----/.test(value))
      throw new ArmError(
        'CertificateContentType',
        `the secret of Key Vault certificate ${name} is not PEM (content type ${contentType ?? 'unknown'})`,
        400,
        "set the certificate policy's content type to application/x-pem-file (secret_props.contentType) and create a new version",
        name,
        'keyvault',
      );
    // only the private key leaves this function: re-exported on its own, the certificate chain left out
    return createPrivateKey(value).export({ type: 'pkcs8', format: 'pem' }).toString();
  }
}

function vaultError(e: unknown, what: string, name: string, role: string): ArmError {
  if (e instanceof ArmError) return e;
  const status = (e as { statusCode?: number }).statusCode ?? 0;
  const code = (e as { code?: string }).code ?? 'KeyVaultError';
  const advice =
    status === 404
      ? `create the certificate ${name} in the milink Key Vault`
      : status === 403
        ? `give milink's identity the ${role} role on the vault`
        : 'check that milink can reach its Key Vault';
  return new ArmError(
    code,
    `${what} failed (${status || 'no answer'})`,
    status || 503,
    advice,
    name,
    'keyvault',
  );
}
