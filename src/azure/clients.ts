import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { SqlManagementClient } from '@azure/arm-sql';
import { createHttpPoller, type LongRunningOperation, type LroResponse } from '@azure/core-lro';
import { createHttpHeaders, createPipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import { DefaultAzureCredential, type AccessToken, type TokenCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import type { Settings } from '../config.js';
import type { ArmRequest } from './arm-requests.js';
import { ArmError } from './errors.js';
import { CertificateReader } from './keyvault-certificates.js';

/** A bearer token read from a file at each use (a token broker keeps the file fresh). */
class TokenFileCredential implements TokenCredential {
  constructor(private readonly file: string) {}
  async getToken(): Promise<AccessToken> {
    return { token: readFileSync(this.file, 'utf8').trim(), expiresOnTimestamp: Date.now() + 300_000 };
  }
}

export type ArmResponse = PipelineResponse & { json: unknown };

/** A long-running ARM operation as the service reports it, with the poller's state to look again later. */
export interface OperationLook {
  status: 'running' | 'succeeded' | 'failed' | 'canceled' | 'forgotten';
  error?: { code: string; message: string };
  /** The poller's serialised state (no secret: URLs and status only), for the next look. */
  state?: string;
}

function lroResponse(response: ArmResponse): LroResponse {
  return {
    flatResponse: response.json,
    rawResponse: {
      statusCode: response.status,
      headers: response.headers.toJSON({ preserveCase: false }),
      body: response.json,
    },
  };
}

class ForgottenOperation extends Error {}

/**
 * ARM through @azure/arm-sql's client pipeline (its credential policy, retries with Retry-After honoured, tracing);
 * long-running operations through @azure/core-lro's HTTP poller, whose state is serialised between looks so an
 * orchestration can look again after a durable timer.
 */
export class ArmClient {
  private readonly client: SqlManagementClient;
  constructor(
    credential: TokenCredential,
    private readonly endpoint: string,
    tlsCa: string | undefined,
    retry: { maxRetries: number; retryDelayInMs: number },
    private readonly pollIntervalMs: number,
  ) {
    // The subscription id is part of every path milink builds; the client's own one is not used.
    this.client = new SqlManagementClient(credential, '00000000-0000-0000-0000-000000000000', {
      endpoint,
      credentialScopes: [`${new URL(endpoint).origin}/.default`],
      retryOptions: { ...retry, maxRetryDelayInMs: 30_000 },
      ...(tlsCa ? { tlsOptions: { ca: tlsCa } } : {}),
    });
  }

  /** Sends a request built by the request builders (or a status URL the service gave). */
  async send(request: ArmRequest | { method: 'GET'; url: string }): Promise<ArmResponse> {
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
  async call(request: ArmRequest, what: string): Promise<ArmResponse> {
    const response = await this.send(request);
    if (response.status >= 400) throw ArmError.fromResponse(response.status, response.json, what, request);
    return response;
  }

  private operation(request: ArmRequest, what: string): LongRunningOperation {
    return {
      requestPath: request.path,
      requestMethod: request.method,
      sendInitialRequest: async () => lroResponse(await this.call(request, what)),
      sendPollRequest: async (path: string) => {
        const response = await this.send({ method: 'GET', url: new URL(path, this.endpoint).href });
        if (response.status === 404) throw new ForgottenOperation(path);
        if (response.status >= 400)
          throw ArmError.fromResponse(response.status, response.json, `${what} (its status)`, {
            method: 'GET',
            path: new URL(path, this.endpoint).pathname,
          });
        return lroResponse(response);
      },
    };
  }

  private async poller(request: ArmRequest, what: string, restoreFrom?: string) {
    return createHttpPoller(this.operation(request, what), {
      intervalInMs: this.pollIntervalMs,
      resourceLocationConfig: 'azure-async-operation',
      resolveOnUnsuccessful: true,
      ...(restoreFrom ? { restoreFrom } : {}),
    });
  }

  private static look(poller: {
    getOperationState(): { status: string; error?: Error };
    toString(): string;
  }): OperationLook {
    const state = poller.getOperationState();
    const error = state.error as (Error & { code?: string }) | undefined;
    return {
      status: state.status === 'notStarted' ? 'running' : (state.status as OperationLook['status']),
      ...(error ? { error: { code: error.code ?? 'OperationFailed', message: error.message } } : {}),
      state: poller.toString(),
    };
  }

  /** Starts a long-running operation: sends it, and returns how it stands with the state to look again. */
  async start(request: ArmRequest, what: string): Promise<OperationLook> {
    return ArmClient.look(await this.poller(request, what));
  }

  /** Looks once at an operation started earlier (its serialised state); a status URL answering 404 is forgotten. */
  async lookAgain(request: ArmRequest, what: string, state: string): Promise<OperationLook> {
    const poller = await this.poller(request, what, state);
    try {
      await poller.poll();
    } catch (e) {
      if (e instanceof ForgottenOperation) return { status: 'forgotten' };
      throw e;
    }
    return ArmClient.look(poller);
  }

  /** Sends a short long-running operation (a certificate upload) and waits for it inside the step. */
  async complete(request: ArmRequest, what: string): Promise<void> {
    const poller = await this.poller(request, what);
    try {
      await poller.pollUntilDone();
    } catch (e) {
      if (e instanceof ForgottenOperation) return;
      throw e;
    }
    const look = ArmClient.look(poller);
    if (look.status === 'failed' || look.status === 'canceled')
      throw ArmError.fromResponse(
        400,
        { error: look.error ?? { code: look.status, message: `${what}: ${look.status}` } },
        what,
        request,
      );
  }
}

/** Reads secrets from Key Vault inside activities; values never leave the activity. */
export class SecretReader {
  private readonly client: SecretClient;
  /**
   * Values read for a run of an operation, in this process's memory only (never persisted): one read per operation
   * and process, not one per step; a new operation reads again, so a rotated secret is seen.
   */
  private readonly recent = new Map<string, { value: Promise<string>; until: number }>();
  constructor(
    credential: TokenCredential,
    url: string,
    tlsCa: string | undefined,
    disableChallengeResourceVerification: boolean,
    retry: { maxRetries: number; retryDelayInMs: number },
    private readonly keepMs = 300_000,
  ) {
    this.client = new SecretClient(url, credential, {
      ...(tlsCa ? { tlsOptions: { ca: tlsCa } } : {}),
      ...(disableChallengeResourceVerification ? { disableChallengeResourceVerification: true } : {}),
      retryOptions: retry,
    });
  }

  /** A secret's value; `run` names the operation's run that may reuse it (none: read every time). */
  async get(name: string, run?: string): Promise<string> {
    if (run === undefined) return this.read(name);
    const key = `${run}\u0000${name}`;
    const now = Date.now();
    const known = this.recent.get(key);
    if (known && known.until > now) return known.value;
    for (const [k, v] of this.recent) if (v.until <= now) this.recent.delete(k);
    const value = this.read(name);
    this.recent.set(key, { value, until: now + this.keepMs });
    value.catch(() => this.recent.delete(key));
    return value;
  }

  private async read(name: string): Promise<string> {
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

export interface AzureClients {
  arm: ArmClient;
  secrets: SecretReader;
  /** Key Vault certificates (an endpoint certificate held in the vault). */
  certificates: CertificateReader;
}

export function createAzureClients(s: Settings): AzureClients {
  const credential: TokenCredential = s.MILINK_ACCESS_TOKEN_FILE
    ? new TokenFileCredential(s.MILINK_ACCESS_TOKEN_FILE)
    : new DefaultAzureCredential(s.AZURE_CLIENT_ID ? { managedIdentityClientId: s.AZURE_CLIENT_ID } : {});
  // the extra certificates are trusted besides the system's, not instead of them
  const ca = s.MILINK_EXTRA_CA_CERTS
    ? [...rootCertificates, readFileSync(s.MILINK_EXTRA_CA_CERTS, 'utf8')].join('\n')
    : undefined;
  const retry = { maxRetries: s.MILINK_AZURE_RETRY_ATTEMPTS, retryDelayInMs: s.MILINK_AZURE_RETRY_DELAY_MS };
  return {
    arm: new ArmClient(credential, s.MILINK_ARM_ENDPOINT, ca, retry, s.MILINK_OPERATION_POLL_MS),
    secrets: new SecretReader(
      credential,
      s.MILINK_KEYVAULT_URL,
      ca,
      s.MILINK_KEYVAULT_DISABLE_CHALLENGE_VERIFICATION,
      retry,
    ),
    certificates: new CertificateReader(
      credential,
      s.MILINK_KEYVAULT_URL,
      ca,
      s.MILINK_KEYVAULT_DISABLE_CHALLENGE_VERIFICATION,
      retry,
    ),
  };
}
