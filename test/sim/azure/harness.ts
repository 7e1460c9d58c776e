/**
 * Test harness for the Azure stand-ins without the TDS listener: ARM + Key Vault over HTTPS, a LinkEngine
 * joined to SQL Server states built directly, and clients built the way milink builds them.
 */
import { createPipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { SqlManagementClient } from '@azure/arm-sql';
import { SecretClient } from '@azure/keyvault-secrets';
import type { Clock } from '../../../local/sim/clock.js';
import { startArm, type RunningArm } from '../../../local/sim/azure/arm.js';
import {
  createManagedInstance,
  InstanceRegistry,
  type InstanceSpec,
} from '../../../local/sim/azure/instances.js';
import { startKeyVault, type RunningKeyVault } from '../../../local/sim/azure/keyvault.js';
import { createLocalTls } from '../../../local/sim/azure/pki.js';
import { LinkEngine, type LinkTiming } from '../../../local/sim/estate/links.js';
import type { SqlServerEntry } from '../../../local/sim/estate/truth.js';

export const SUB = '00000000-0000-0000-0000-000000000001';
export const RG = 'rg-data';

export class StaticToken implements TokenCredential {
  constructor(private readonly token = 'test-token') {}
  async getToken(): Promise<AccessToken> {
    return { token: this.token, expiresOnTimestamp: Date.now() + 3600_000 };
  }
}

export interface AzureHarness {
  clock: Clock;
  arm: RunningArm;
  keyVault: RunningKeyVault;
  instances: InstanceRegistry;
  links: LinkEngine;
  servers: SqlServerEntry[];
  caCertPem: string;
  client: SqlManagementClient;
  secretClient: SecretClient;
  /** A raw request through the SqlManagementClient pipeline (auth, retries) — as milink sends its link requests. */
  raw(
    method: string,
    pathOrUrl: string,
    body?: unknown,
    apiVersion?: string,
  ): Promise<{ status: number; body: any; headers: Record<string, string> }>;
  close(): Promise<void>;
}

export async function startAzureHarness(opts: {
  clock: Clock;
  servers?: SqlServerEntry[];
  instances?: InstanceSpec[];
  secrets?: Record<string, string>;
  timing?: Partial<LinkTiming>;
  retryAfterSeconds?: number;
}): Promise<AzureHarness> {
  const { clock } = opts;
  const tls = createLocalTls();
  const instances = new InstanceRegistry();
  for (const spec of opts.instances ?? [{ subscriptionId: SUB, resourceGroup: RG, name: 'mi-prod' }]) {
    instances.add(createManagedInstance(spec, clock.now()));
  }
  const servers = opts.servers ?? [];
  const links = new LinkEngine({
    clock,
    instances,
    servers: () => servers,
    ...(opts.timing ? { timing: opts.timing } : {}),
  });
  const arm = await startArm({
    clock,
    tls,
    instances,
    links,
    retryAfterSeconds: opts.retryAfterSeconds ?? 0,
  });
  const keyVault = await startKeyVault({ clock, tls, secrets: opts.secrets ?? {} });
  const credential = new StaticToken();
  const client = new SqlManagementClient(credential, SUB, {
    endpoint: arm.url,
    tlsOptions: { ca: tls.caCertPem },
    retryOptions: { maxRetries: 3, retryDelayInMs: 10, maxRetryDelayInMs: 50 },
  });
  const secretClient = new SecretClient(keyVault.url, credential, {
    tlsOptions: { ca: tls.caCertPem },
    disableChallengeResourceVerification: true,
    retryOptions: { maxRetries: 3, retryDelayInMs: 10, maxRetryDelayInMs: 50 },
  });
  const raw: AzureHarness['raw'] = async (method, pathOrUrl, body, apiVersion = '2025-01-01') => {
    const url = pathOrUrl.startsWith('https://')
      ? pathOrUrl
      : `${arm.url}${pathOrUrl}${pathOrUrl.includes('?') ? '&' : '?'}api-version=${apiVersion}`;
    const request = createPipelineRequest({
      url,
      method: method as 'GET',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (body !== undefined) request.headers.set('Content-Type', 'application/json');
    const response: PipelineResponse = await client.sendRequest(request);
    const text = response.bodyAsText ?? '';
    return {
      status: response.status,
      body: text ? JSON.parse(text) : undefined,
      headers: response.headers.toJSON(),
    };
  };
  return {
    clock,
    arm,
    keyVault,
    instances,
    links,
    servers,
    caCertPem: tls.caCertPem,
    client,
    secretClient,
    raw,
    close: async () => {
      await Promise.all([arm.close(), keyVault.close()]);
    },
  };
}

export const miPath = (name = 'mi-prod') =>
  `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Sql/managedInstances/${name}`;
