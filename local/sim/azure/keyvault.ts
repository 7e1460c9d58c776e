/**
 * The Key Vault stand-in: secrets and certificates over HTTPS, as `@azure/keyvault-secrets` and
 * `@azure/keyvault-certificates` expect them — the first request without a token gets the 401 bearer challenge,
 * then any non-empty bearer token is accepted.
 * Supported: PUT /secrets/{name}, GET /secrets/{name}[/{version}], GET /secrets, GET /secrets/{name}/versions;
 * GET /certificates/{name}[/{version}], GET /certificates/{name}/versions. As in Key Vault, every certificate version
 * has a secret of the same name and version holding its private key with the certificate (here PEM,
 * `application/x-pem-file`, the policy's content type), and a new version is what renewal makes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { makeCertificate } from '../sqlserver/certs.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../clock.js';
import { FaultInjector } from './faults.js';
import { armError, listenHttps, readBody, sendJson, type HttpsListener } from './https.js';

export interface SecretVersion {
  version: string;
  /** The secret behind a certificate version (Key Vault manages it). */
  managed?: boolean;
  value: string;
  contentType?: string;
  tags?: Record<string, string>;
  enabled: boolean;
  created: Date;
  updated: Date;
}

/** Items by name (case-insensitive, as Key Vault's are), each with its versions, newest last. */
class Versioned<V extends { version: string }, E extends { name: string; versions: V[] }> {
  protected readonly byName = new Map<string, E>();

  get(name: string, version?: string): { name: string; version: V } | undefined {
    const entry = this.byName.get(name.toLowerCase());
    if (!entry) return undefined;
    const found = version
      ? entry.versions.find((v) => v.version === version)
      : entry.versions[entry.versions.length - 1];
    return found ? { name: entry.name, version: found } : undefined;
  }

  versions(name: string): E | undefined {
    return this.byName.get(name.toLowerCase());
  }
}

/** Secrets by name, each with its versions. */
export class SecretStore extends Versioned<SecretVersion, { name: string; versions: SecretVersion[] }> {
  constructor(private readonly clock: Clock) {
    super();
  }

  set(
    name: string,
    value: string,
    extra: {
      contentType?: string;
      tags?: Record<string, string>;
      enabled?: boolean;
      /** A certificate's secret shares its version. */
      version?: string;
      managed?: boolean;
    } = {},
  ): SecretVersion {
    const key = name.toLowerCase();
    let entry = this.byName.get(key);
    if (!entry) {
      entry = { name, versions: [] };
      this.byName.set(key, entry);
    }
    const now = this.clock.now();
    const version: SecretVersion = {
      version: extra.version ?? randomBytes(16).toString('hex'),
      ...(extra.managed ? { managed: true } : {}),
      value,
      enabled: extra.enabled ?? true,
      created: now,
      updated: now,
      ...(extra.contentType !== undefined ? { contentType: extra.contentType } : {}),
      ...(extra.tags !== undefined ? { tags: extra.tags } : {}),
    };
    entry.versions.push(version);
    return version;
  }

  names(): string[] {
    return [...this.byName.values()].map((e) => e.name);
  }
}

export interface CertificateVersion {
  version: string;
  /** The X.509 certificate, DER (the bundle's `cer`). */
  der: Buffer;
  notBefore: Date;
  expires: Date;
  created: Date;
  enabled: boolean;
}

/**
 * Certificates by name (case-insensitive), each with its versions, newest last. Making a version (a new certificate
 * or a renewal) writes the secret of the same name and version: the private key and the certificate, PEM.
 */
export class CertificateStore extends Versioned<
  CertificateVersion,
  { name: string; subject: string; versions: CertificateVersion[] }
> {
  constructor(
    private readonly clock: Clock,
    private readonly secrets: SecretStore,
  ) {
    super();
  }

  /** Creates a certificate, or a new version of it (what a lifetime action's renewal does). */
  create(name: string, opts: { subject?: string; validityDays?: number } = {}): CertificateVersion {
    const key = name.toLowerCase();
    const entry = this.byName.get(key) ?? { name, subject: opts.subject ?? `CN=${name}`, versions: [] };
    this.byName.set(key, entry);
    const now = this.clock.now();
    const expires = new Date(now.getTime() + (opts.validityDays ?? 365) * 86_400_000);
    const made = makeCertificate({
      subject: entry.subject,
      notBefore: now,
      notAfter: expires,
      freshKey: true,
    });
    const version = randomBytes(16).toString('hex');
    const pem = [
      made.privateKeyPem.trim(),
      '-----BEGIN CERTIFICATE-----',
      ...(made.der.toString('base64').match(/.{1,64}/g) ?? []),
      '-----END CERTIFICATE-----',
      '',
    ].join('\n');
    this.secrets.set(entry.name, pem, { contentType: 'application/x-pem-file', version, managed: true });
    const v: CertificateVersion = {
      version,
      der: made.der,
      notBefore: now,
      expires,
      created: now,
      enabled: true,
    };
    entry.versions.push(v);
    return v;
  }
}

export interface RunningKeyVault {
  url: string;
  port: number;
  secrets: SecretStore;
  certificates: CertificateStore;
  faults: FaultInjector;
  /** Requests answered, in order: method, path, status (tests read it). */
  journal: Array<{ method: string; path: string; status: number }>;
  close(): Promise<void>;
}

const SECRET_NAME = /^[0-9a-zA-Z-]{1,127}$/;

export async function startKeyVault(opts: {
  clock: Clock;
  tls: { certPem: string; keyPem: string };
  secrets?: Record<string, string>;
  faults?: FaultInjector;
}): Promise<RunningKeyVault> {
  const store = new SecretStore(opts.clock);
  for (const [name, value] of Object.entries(opts.secrets ?? {})) store.set(name, value);
  const certificates = new CertificateStore(opts.clock, store);
  const faults = opts.faults ?? new FaultInjector();
  const journal: RunningKeyVault['journal'] = [];
  let base = '';

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const path = url.pathname.replace(/\/+$/, '');
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      journal.push({ method, path, status });
      sendJson(res, status, body, headers);
    };
    if (await faults.apply(req, res, (_s, code) => armError(code, `Injected fault: ${code}`))) return;
    const body = await readBody(req);
    const auth = req.headers.authorization ?? '';
    const token = /^Bearer\s+(.+)$/i.exec(auth)?.[1]?.trim();
    if (!token) {
      reply(401, armError('Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.'), {
        'WWW-Authenticate':
          'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", resource="https://vault.azure.net"',
      });
      return;
    }
    const bundle = (name: string, v: SecretVersion) => ({
      value: v.value,
      id: `${base}/secrets/${name}/${v.version}`,
      ...(v.managed ? { managed: true, kid: `${base}/keys/${name}/${v.version}` } : {}),
      ...(v.contentType !== undefined ? { contentType: v.contentType } : {}),
      ...(v.tags !== undefined ? { tags: v.tags } : {}),
      attributes: attributes(v),
    });
    const item = (name: string, v: SecretVersion, withVersion: boolean) => ({
      id: withVersion ? `${base}/secrets/${name}/${v.version}` : `${base}/secrets/${name}`,
      ...(v.contentType !== undefined ? { contentType: v.contentType } : {}),
      ...(v.tags !== undefined ? { tags: v.tags } : {}),
      attributes: attributes(v),
    });
    const notFound = (name: string) =>
      reply(
        404,
        armError('SecretNotFound', `A secret with (name/id) ${name} was not found in this key vault.`),
      );

    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] === 'certificates') {
      const [, certName, tail] = parts;
      const certBundle = (n: string, v: CertificateVersion, withPolicy: boolean) => ({
        id: `${base}/certificates/${n}/${v.version}`,
        kid: `${base}/keys/${n}/${v.version}`,
        sid: `${base}/secrets/${n}/${v.version}`,
        x5t: createHash('sha1').update(v.der).digest('base64url'),
        cer: v.der.toString('base64'),
        contentType: 'application/x-pem-file',
        attributes: certAttributes(v),
        ...(withPolicy
          ? {
              policy: {
                id: `${base}/certificates/${n}/policy`,
                key_props: { exportable: true, kty: 'RSA', key_size: 2048, reuse_key: false },
                secret_props: { contentType: 'application/x-pem-file' },
                x509_props: { subject: subjectOf(n), validity_months: 12 },
                lifetime_actions: [
                  { trigger: { lifetime_percentage: 80 }, action: { action_type: 'AutoRenew' } },
                ],
                issuer: { name: 'Self' },
                attributes: { enabled: true },
              },
            }
          : {}),
      });
      const subjectOf = (n: string) => `CN=${n}`;
      const missing = () =>
        reply(
          404,
          armError(
            'CertificateNotFound',
            `A certificate with (name/id) ${certName ?? ''} was not found in this key vault.`,
          ),
        );
      if (method !== 'GET' || !certName) {
        reply(
          405,
          armError('MethodNotAllowed', `${method} ${path} is not supported by the simulated Key Vault.`),
        );
        return;
      }
      if (tail === 'versions' && parts.length === 3) {
        const entry = certificates.versions(certName);
        if (!entry) return missing();
        reply(200, {
          value: entry.versions.map((v) => ({
            id: `${base}/certificates/${entry.name}/${v.version}`,
            x5t: createHash('sha1').update(v.der).digest('base64url'),
            attributes: certAttributes(v),
          })),
          nextLink: null,
        });
        return;
      }
      if (parts.length === 2 || parts.length === 3) {
        const found = certificates.get(certName, tail || undefined);
        if (!found) return missing();
        reply(200, certBundle(found.name, found.version, !tail));
        return;
      }
      reply(404, armError('NotFound', `The resource ${path} was not found.`));
      return;
    }
    if (parts[0] !== 'secrets') {
      reply(404, armError('NotFound', `The resource ${path} was not found.`));
      return;
    }
    const [, name, third] = parts;
    if (method === 'GET' && parts.length === 1) {
      const value = store
        .names()
        .map((n) => store.get(n))
        .filter((e): e is NonNullable<typeof e> => e !== undefined)
        .map((e) => item(e.name, e.version, false));
      reply(200, { value, nextLink: null });
      return;
    }
    if (!name || !SECRET_NAME.test(name)) {
      reply(
        400,
        armError(
          'BadParameter',
          `The secret name '${name ?? ''}' is not valid: use 1-127 letters, digits and dashes.`,
        ),
      );
      return;
    }
    if (method === 'PUT' && parts.length === 2) {
      let parsed: {
        value?: unknown;
        contentType?: unknown;
        tags?: unknown;
        attributes?: { enabled?: unknown };
      };
      try {
        parsed = JSON.parse(body || '{}');
      } catch {
        reply(400, armError('BadParameter', 'The request body is not valid JSON.'));
        return;
      }
      if (typeof parsed.value !== 'string') {
        reply(400, armError('BadParameter', 'Property value is required.'));
        return;
      }
      const v = store.set(name, parsed.value, {
        ...(typeof parsed.contentType === 'string' ? { contentType: parsed.contentType } : {}),
        ...(parsed.tags && typeof parsed.tags === 'object'
          ? { tags: parsed.tags as Record<string, string> }
          : {}),
        ...(typeof parsed.attributes?.enabled === 'boolean' ? { enabled: parsed.attributes.enabled } : {}),
      });
      reply(200, bundle(store.get(name)?.name ?? name, v));
      return;
    }
    if (method === 'GET' && parts.length === 3 && third === 'versions') {
      const entry = store.versions(name);
      if (!entry) return notFound(name);
      reply(200, { value: entry.versions.map((v) => item(entry.name, v, true)), nextLink: null });
      return;
    }
    if (method === 'GET' && (parts.length === 2 || parts.length === 3)) {
      const found = store.get(name, third || undefined);
      if (!found) return notFound(third ? `${name}/${third}` : name);
      if (!found.version.enabled) {
        reply(403, armError('Forbidden', `Operation get is not allowed on a disabled secret.`));
        return;
      }
      reply(200, bundle(found.name, found.version));
      return;
    }
    reply(
      405,
      armError('MethodNotAllowed', `${method} ${path} is not supported by the simulated Key Vault.`),
    );
  };

  const listener: HttpsListener = await listenHttps(opts.tls, handler);
  base = listener.url;
  return {
    url: listener.url,
    port: listener.port,
    secrets: store,
    certificates,
    faults,
    journal,
    close: () => listener.close(),
  };
}

function attributes(v: SecretVersion) {
  return {
    enabled: v.enabled,
    created: Math.floor(v.created.getTime() / 1000),
    updated: Math.floor(v.updated.getTime() / 1000),
    recoveryLevel: 'Recoverable+Purgeable',
    recoverableDays: 90,
  };
}

function certAttributes(v: CertificateVersion) {
  return {
    enabled: v.enabled,
    nbf: Math.floor(v.notBefore.getTime() / 1000),
    exp: Math.floor(v.expires.getTime() / 1000),
    created: Math.floor(v.created.getTime() / 1000),
    updated: Math.floor(v.created.getTime() / 1000),
    recoveryLevel: 'Recoverable+Purgeable',
    recoverableDays: 90,
  };
}
