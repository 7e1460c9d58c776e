import { SqlManagementClient } from '@azure/arm-sql';
import { createHttpHeaders, createPipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import { DefaultAzureCredential, type AccessToken, type TokenCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { settings, type Settings } from '../config.js';
import { readLocalEstate, type LocalEstate } from '../local-estate.js';
import type { ArmRequest } from './arm-requests.js';
import { ArmError, armAdvice } from './errors.js';

/** A fixed bearer token (the local estate accepts any non-empty token). */
class StaticTokenCredential implements TokenCredential {
  constructor(private readonly token: string) {}
  async getToken(): Promise<AccessToken> {
    return { token: this.token, expiresOnTimestamp: Date.now() + 3600_000 };
  }
}

export interface AzureContext {
  arm: ArmClient;
  secrets: SecretReader;
}

export interface RetryOptions {
  maxRetries?: number;
  retryDelayInMs?: number;
  maxRetryDelayInMs?: number;
}

/** ARM through @azure/arm-sql's client pipeline: its credential policy, retries (Retry-After honoured) and tracing. */
export class ArmClient {
  private readonly client: SqlManagementClient;
  constructor(
    credential: TokenCredential,
    private readonly endpoint: string,
    tlsCa: string | undefined,
    retry: RetryOptions = {},
  ) {
    // The subscription id is part of every path milink builds; the client's own one is not used.
    this.client = new SqlManagementClient(credential, '00000000-0000-0000-0000-000000000000', {
      endpoint,
      credentialScopes: [`${new URL(endpoint).origin}/.default`],
      retryOptions: {
        maxRetries: retry.maxRetries ?? 4,
        retryDelayInMs: retry.retryDelayInMs ?? 1000,
        maxRetryDelayInMs: retry.maxRetryDelayInMs ?? 30_000,
      },
      ...(tlsCa ? { tlsOptions: { ca: tlsCa } } : {}),
    });
  }

  /** Sends a request built by the request builders (or a status URL the service gave). */
  async send(
    request: ArmRequest | { method: 'GET'; url: string },
  ): Promise<PipelineResponse & { json: unknown }> {
    const url = 'url' in request ? request.url : `${this.endpoint.replace(/\/$/, '')}${request.path}`;
    const body = 'body' in request && request.body !== undefined ? JSON.stringify(request.body) : undefined;
    const pipelineRequest = createPipelineRequest({
      url,
      method: request.method,
      headers: createHttpHeaders({ 'content-type': 'application/json', accept: 'application/json' }),
      ...(body !== undefined ? { body } : {}),
    });
    const response = await this.client.sendRequest(pipelineRequest);
    let json: unknown = undefined;
    if (response.bodyAsText) {
      try {
        json = JSON.parse(response.bodyAsText);
      } catch {
        json = undefined;
      }
    }
    return Object.assign(response, { json });
  }

  /** Sends and throws an ArmError (with advice) on any status of 400 or more. */
  async call(request: ArmRequest, what: string): Promise<PipelineResponse & { json: unknown }> {
    const response = await this.send(request);
    if (response.status >= 400) throw ArmError.fromResponse(response.status, response.json, what, request);
    return response;
  }

  /**
   * Waits for a short long-running operation inside an activity (a certificate upload): polls its status URL
   * a few times; longer operations are polled by the orchestrator between durable timers instead.
   */
  async waitShortOperation(
    response: PipelineResponse,
    what: string,
    request: ArmRequest,
    maxPolls = 30,
  ): Promise<void> {
    const statusUrl = response.headers.get('azure-asyncoperation') ?? response.headers.get('location');
    if (!statusUrl || response.status === 200 || response.status === 201) return;
    for (let i = 0; i < maxPolls; i++) {
      const status = await this.send({ method: 'GET', url: statusUrl });
      const body = status.json as
        { status?: string; error?: { code?: string; message?: string } } | undefined;
      const state = body?.status ?? (status.status === 200 ? 'Succeeded' : 'InProgress');
      if (state === 'Succeeded') return;
      if (state === 'Failed' || state === 'Canceled')
        throw ArmError.fromResponse(
          400,
          { error: body?.error ?? { code: state, message: `${what} ${state}` } },
          what,
          request,
        );
      const after = Number(status.headers.get('retry-after') ?? '1');
      await new Promise((r) => setTimeout(r, Math.min(Math.max(after, 0.05), 5) * 1000));
    }
    throw new ArmError(
      'OperationTimedOut',
      `${what} did not finish in time`,
      504,
      armAdvice('OperationTimedOut'),
      request.path,
    );
  }
}

/** Reads secrets from Key Vault inside activities; values never leave the activity. */
export class SecretReader {
  private readonly client: SecretClient;
  constructor(credential: TokenCredential, url: string, tlsCa: string | undefined, local: boolean) {
    this.client = new SecretClient(url, credential, {
      ...(tlsCa ? { tlsOptions: { ca: tlsCa } } : {}),
      ...(local ? { disableChallengeResourceVerification: true } : {}),
      retryOptions: { maxRetries: 3, retryDelayInMs: 500 },
    });
  }
  async get(name: string): Promise<string> {
    try {
      const secret = await this.client.getSecret(name);
      if (secret.value === undefined || secret.value === '')
        throw new ArmError(
          'SecretEmpty',
          `Key Vault secret ${name} has no value`,
          400,
          `put a value in the secret ${name}`,
          name,
          'keyvault',
        );
      return secret.value;
    } catch (e) {
      if (e instanceof ArmError) throw e;
      const status = (e as { statusCode?: number }).statusCode ?? 0;
      const code = (e as { code?: string }).code ?? 'KeyVaultError';
      const advice =
        status === 404
          ? `create the secret ${name} in the milink Key Vault`
          : status === 403
            ? "give milink's identity the Key Vault Secrets User role on the vault"
            : 'check that milink can reach its Key Vault';
      throw new ArmError(
        code,
        `reading Key Vault secret ${name} failed (${status || 'no answer'})`,
        status || 503,
        advice,
        name,
        'keyvault',
      );
    }
  }
}

let shared: { settings: Settings; context: AzureContext } | undefined;

export function createAzureContext(s: Settings = settings(), retry?: RetryOptions): AzureContext {
  let estate: LocalEstate | undefined;
  if (s.MILINK_LOCAL_CONNECTION_FILE) estate = readLocalEstate(s.MILINK_LOCAL_CONNECTION_FILE);
  const armCredential: TokenCredential = estate
    ? new StaticTokenCredential(estate.arm.token)
    : new DefaultAzureCredential(s.AZURE_CLIENT_ID ? { managedIdentityClientId: s.AZURE_CLIENT_ID } : {});
  const vaultCredential: TokenCredential = estate
    ? new StaticTokenCredential(estate.keyVault.token)
    : armCredential;
  return {
    arm: new ArmClient(armCredential, s.MILINK_ARM_ENDPOINT, estate?.caCertPem, retry),
    secrets: new SecretReader(
      vaultCredential,
      s.MILINK_KEYVAULT_URL,
      estate?.caCertPem,
      estate !== undefined,
    ),
  };
}

/** The process's Azure clients, made once. */
export function azure(): AzureContext {
  const current = settings();
  if (shared?.settings !== current) shared = { settings: current, context: createAzureContext(current) };
  return shared.context;
}
