/**
 * The Azure Resource Manager stand-in for Microsoft.Sql managed instances, over HTTPS with a bearer token:
 * managed instance GET, managed databases, serverTrustCertificates, endpointCertificates and the link
 * (distributedAvailabilityGroups, current schema) as long-running operations with Azure-AsyncOperation and
 * Location. Any api-version is accepted; the answers follow the 2025-01-01 schema.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../clock.js';
import { FaultInjector } from './faults.js';
import { armError, listenHttps, readBody, sendJson, type HttpsListener } from './https.js';
import { instanceResourceId, type InstanceRegistry, type ManagedInstanceSim } from './instances.js';
import { OperationStore, timedOperation, type SimOperation } from './operations.js';
import { listPage } from './paging.js';
import { bufferToHexBlob, hexBlobToBuffer, parseCertificateDer } from './pki.js';

/** What an ARM handler answers: a status and body, optionally started as a long-running operation. */
export interface ArmResult {
  status: number;
  body?: unknown;
  /** When set, the answer carries Azure-AsyncOperation and Location for this operation. */
  operation?: Omit<SimOperation, 'id'>;
}

/** The link (distributedAvailabilityGroups) behaviour, implemented by the estate (it needs SQL Server). */
export interface LinkBackend {
  /** Brings every link up to the clock's now. */
  advance(): void;
  list(mi: ManagedInstanceSim): unknown[];
  get(mi: ManagedInstanceSim, name: string): unknown | undefined;
  put(mi: ManagedInstanceSim, name: string, body: unknown): ArmResult;
  patch(mi: ManagedInstanceSim, name: string, body: unknown): ArmResult;
  delete(mi: ManagedInstanceSim, name: string): ArmResult;
  failover(mi: ManagedInstanceSim, name: string, body: unknown): ArmResult;
  setRole(mi: ManagedInstanceSim, name: string, body: unknown): ArmResult;
}

export interface ArmOptions {
  clock: Clock;
  tls: { certPem: string; keyPem: string };
  instances: InstanceRegistry;
  links: LinkBackend;
  faults?: FaultInjector;
  /** Retry-After on long-running operations, seconds (default 1). */
  retryAfterSeconds?: number;
  /** Simulated duration of a certificate upload or removal, seconds (default 0: done at the first poll). */
  certificateOperationSeconds?: number;
  /** Items per page of managed-instance lists (default 100); further pages are reached through nextLink. */
  listPageSize?: number;
}

export interface RunningArm {
  url: string;
  port: number;
  faults: FaultInjector;
  operations: OperationStore;
  journal: Array<{ method: string; path: string; status: number }>;
  close(): Promise<void>;
}

const MI_PREFIX =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Sql\/managedInstances\/([^/]+)(\/.*)?$/i;
const MI_LIST =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Sql\/managedInstances$/i;
/** Managed Instances - List (by subscription): what Get-AzSqlInstance -InstanceName uses to find the resource group. */
const MI_SUB_LIST = /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.Sql\/managedInstances$/i;
const OPERATION =
  /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.Sql\/locations\/([^/]+)\/([A-Za-z]+?)(AzureAsyncOperation|OperationResults)\/([^/]+)$/i;

export async function startArm(opts: ArmOptions): Promise<RunningArm> {
  const faults = opts.faults ?? new FaultInjector();
  const operations = new OperationStore();
  const journal: RunningArm['journal'] = [];
  const retryAfter = String(opts.retryAfterSeconds ?? 1);
  const certSeconds = opts.certificateOperationSeconds ?? 0;
  const pageSize = Math.max(1, opts.listPageSize ?? 100);
  let base = '';

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const path = decodeURIComponent(url.pathname).replace(/\/+$/, '');
    const reply = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      journal.push({ method, path, status });
      sendJson(res, status, body, headers);
    };
    if (await faults.apply(req, res, (_s, code) => armError(code, `Injected fault: ${code}`))) return;
    const text = await readBody(req);
    const token = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    if (!token) {
      reply(
        401,
        armError('AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing."),
        {
          'WWW-Authenticate':
            'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="The authentication failed because of missing \'Authorization\' header."',
        },
      );
      return;
    }
    const apiVersion = url.searchParams.get('api-version');
    if (!apiVersion) {
      reply(
        400,
        armError(
          'MissingApiVersionParameter',
          'The api-version query parameter (?api-version=) is required for all requests.',
        ),
      );
      return;
    }
    let body: unknown = undefined;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        reply(
          400,
          armError('InvalidRequestContent', 'The request content was invalid and could not be deserialized.'),
        );
        return;
      }
    }
    opts.links.advance();
    const now = opts.clock.now();
    operations.settle(now);

    const answer = (result: ArmResult) => {
      if (!result.operation) {
        reply(result.status, result.body);
        return;
      }
      const op = operations.create(result.operation);
      operations.settle(now);
      const opBase = `${base}/subscriptions/${op.subscriptionId}/providers/Microsoft.Sql/locations/${op.location}/${op.kind}`;
      reply(result.status, result.body, {
        'Azure-AsyncOperation': `${opBase}AzureAsyncOperation/${op.id}?api-version=${apiVersion}`,
        Location: `${opBase}OperationResults/${op.id}?api-version=${apiVersion}`,
        'Retry-After': retryAfter,
      });
    };

    // Operation status and result URLs.
    const opMatch = OPERATION.exec(path);
    if (opMatch && method === 'GET') {
      const [, , , , which, id] = opMatch;
      const op = operations.get(id ?? '');
      if (!op) {
        reply(404, armError('ResourceNotFound', `The operation '${id ?? ''}' was not found.`));
        return;
      }
      const state = op.state(now);
      if (which?.toLowerCase() === 'azureasyncoperation') {
        reply(200, {
          name: op.id,
          status: state.status,
          startTime: op.startTime.toISOString(),
          ...(state.endTime ? { endTime: state.endTime.toISOString() } : {}),
          ...(state.error ? { error: state.error } : {}),
        });
        return;
      }
      if (state.status === 'InProgress') {
        reply(202, undefined, { Location: `${base}${url.pathname}${url.search}`, 'Retry-After': retryAfter });
      } else if (state.status === 'Succeeded') {
        if (state.result === undefined) reply(204);
        else reply(200, state.result);
      } else {
        reply(400, { error: state.error ?? { code: 'OperationFailed', message: 'The operation failed.' } });
      }
      return;
    }

    const listMatch = MI_LIST.exec(path);
    if (listMatch && method === 'GET') {
      const [, sub, rg] = listMatch;
      const page = listPage(opts.instances.inResourceGroup(sub ?? '', rg ?? ''), url, base, pageSize);
      if ('error' in page) return reply(400, page.error);
      reply(200, { value: page.items.map((mi) => instanceBody(mi)), ...page.next });
      return;
    }
    const subListMatch = MI_SUB_LIST.exec(path);
    if (subListMatch && method === 'GET') {
      const [, sub] = subListMatch;
      const page = listPage(opts.instances.inSubscription(sub ?? ''), url, base, pageSize);
      if ('error' in page) return reply(400, page.error);
      reply(200, { value: page.items.map((mi) => instanceBody(mi)), ...page.next });
      return;
    }

    const miMatch = MI_PREFIX.exec(path);
    if (!miMatch) {
      reply(
        404,
        armError(
          'InvalidResourceType',
          `No route for ${method} ${path} in the simulated Microsoft.Sql provider.`,
        ),
      );
      return;
    }
    const [, sub, rg, miName, rest = ''] = miMatch;
    const mi = opts.instances.get(sub ?? '', rg ?? '', miName ?? '');
    if (!mi) {
      reply(
        404,
        armError(
          'ResourceNotFound',
          `The Resource 'Microsoft.Sql/managedInstances/${miName ?? ''}' under resource group '${rg ?? ''}' was not found.`,
        ),
      );
      return;
    }
    const segments = rest.split('/').filter(Boolean);
    const [collection, itemName, action] = segments;
    const col = collection?.toLowerCase();

    if (!col) {
      if (method === 'GET') return reply(200, instanceBody(mi));
      return reply(405, armError('MethodNotAllowed', `${method} on a managed instance is not simulated.`));
    }

    if (col === 'databases' && method === 'GET') {
      if (!itemName)
        return reply(200, { value: [...mi.databases.values()].map((db) => databaseBody(mi, db.name, now)) });
      const db = mi.databases.get(itemName.toLowerCase());
      if (!db) {
        return reply(
          404,
          armError(
            'ResourceNotFound',
            `The requested resource of type 'Microsoft.Sql/managedInstances/databases' with name '${itemName}' was not found.`,
          ),
        );
      }
      return reply(200, databaseBody(mi, db.name, now));
    }

    if (col === 'endpointcertificates' && method === 'GET') {
      const types = ['DATABASE_MIRRORING', 'SERVICE_BROKER'];
      const certBody = (type: string) => ({
        id: `${instanceResourceId(mi)}/endpointCertificates/${type}`,
        name: type,
        type: 'Microsoft.Sql/managedInstances/endpointCertificates',
        properties: { publicBlob: bufferToHexBlob(mi.endpointCertificate.der, true) },
      });
      if (!itemName) return reply(200, { value: types.map(certBody) });
      const type = types.find((t) => t.toLowerCase() === itemName.toLowerCase());
      if (!type)
        return reply(404, armError('ResourceNotFound', `Endpoint type '${itemName}' does not exist.`));
      return reply(200, certBody(type));
    }

    if (col === 'servertrustcertificates') {
      const certBody = (name: string) => {
        const c = mi.serverTrustCertificates.get(name.toLowerCase());
        if (!c) return undefined;
        return {
          id: `${instanceResourceId(mi)}/serverTrustCertificates/${c.name}`,
          name: c.name,
          type: 'Microsoft.Sql/managedInstances/serverTrustCertificates',
          properties: {
            publicBlob: bufferToHexBlob(c.der, false),
            thumbprint: c.thumbprint,
            certificateName: c.name,
          },
        };
      };
      const notFound = (name: string) =>
        reply(
          404,
          armError(
            'ServerTrustCertificateNotFound',
            `The server trust certificate '${name}' does not exist on managed instance '${mi.name}'.`,
          ),
        );
      if (method === 'GET' && !itemName)
        return reply(200, { value: [...mi.serverTrustCertificates.keys()].map(certBody) });
      if (!itemName) return reply(405, armError('MethodNotAllowed', `${method} is not allowed here.`));
      if (method === 'GET') {
        const b = certBody(itemName);
        return b ? reply(200, b) : notFound(itemName);
      }
      const opInit = {
        kind: 'serverTrustCertificates',
        subscriptionId: mi.subscriptionId,
        location: mi.location,
        startTime: now,
      };
      const doneAt = new Date(now.getTime() + certSeconds * 1000);
      if (method === 'PUT') {
        const blob = (body as { properties?: { publicBlob?: unknown } } | undefined)?.properties?.publicBlob;
        if (typeof blob !== 'string') {
          return reply(
            400,
            armError('MissingRequiredParameter', "The property 'properties.publicBlob' is required.", [
              {
                code: 'MissingRequiredParameter',
                target: 'properties.publicBlob',
                message: 'publicBlob is required',
              },
            ]),
          );
        }
        const der = hexBlobToBuffer(blob);
        const parsed = der ? parseCertificateDer(der) : null;
        if (!der || !parsed)
          return reply(
            400,
            armError('InvalidPublicBlob', 'Invalid public blob: the value is not an X.509 certificate.'),
          );
        const sameKey = [...mi.serverTrustCertificates.values()].find(
          (c) => c.spki.equals(parsed.spki) && c.name.toLowerCase() !== itemName.toLowerCase(),
        );
        if (sameKey) {
          return reply(
            409,
            armError(
              'ServerTrustCertificateAlreadyExists',
              `A certificate with the same public key is already trusted by managed instance '${mi.name}' under the name '${sameKey.name}'.`,
            ),
          );
        }
        const existing = mi.serverTrustCertificates.get(itemName.toLowerCase());
        if (existing && existing.der.equals(der)) return reply(200, certBody(itemName));
        const name = itemName;
        return answer({
          status: 202,
          operation: timedOperation({ ...opInit, doneAt }, () => {
            mi.serverTrustCertificates.set(name.toLowerCase(), {
              name,
              der,
              spki: parsed.spki,
              thumbprint: parsed.thumbprint,
              expiry: parsed.validTo,
            });
            return { result: certBody(name) };
          }),
        });
      }
      if (method === 'DELETE') {
        if (!mi.serverTrustCertificates.has(itemName.toLowerCase())) return reply(204);
        const key = itemName.toLowerCase();
        return answer({
          status: 202,
          operation: timedOperation({ ...opInit, doneAt }, () => {
            mi.serverTrustCertificates.delete(key);
            return {};
          }),
        });
      }
      return reply(
        405,
        armError('MethodNotAllowed', `${method} is not allowed on server trust certificates.`),
      );
    }

    if (col === 'distributedavailabilitygroups') {
      const links = opts.links;
      if (!itemName) {
        if (method === 'GET') {
          // pageable like every ARM list (DistributedAvailabilityGroups_ListByInstance): nextLink until the last page
          const page = listPage(links.list(mi), url, base, pageSize);
          if ('error' in page) return reply(400, page.error);
          return reply(200, { value: page.items, ...page.next });
        }
        return reply(405, armError('MethodNotAllowed', `${method} is not allowed here.`));
      }
      if (action) {
        if (method !== 'POST')
          return reply(405, armError('MethodNotAllowed', `${method} is not allowed on ${action}.`));
        if (action.toLowerCase() === 'failover') return answer(links.failover(mi, itemName, body));
        if (action.toLowerCase() === 'setrole') return answer(links.setRole(mi, itemName, body));
        return reply(404, armError('InvalidResourceType', `Unknown action '${action}'.`));
      }
      if (method === 'GET') {
        const link = links.get(mi, itemName);
        if (link === undefined) {
          return reply(
            404,
            armError(
              'ResourceNotFound',
              `The requested resource of type 'Microsoft.Sql/managedInstances/distributedAvailabilityGroups' with name '${itemName}' was not found.`,
            ),
          );
        }
        return reply(200, link);
      }
      if (method === 'PUT') return answer(links.put(mi, itemName, body));
      if (method === 'PATCH') return answer(links.patch(mi, itemName, body));
      if (method === 'DELETE') return answer(links.delete(mi, itemName));
      return reply(405, armError('MethodNotAllowed', `${method} is not allowed on a link.`));
    }

    reply(
      404,
      armError(
        'InvalidResourceType',
        `No route for ${method} ${path} in the simulated Microsoft.Sql provider.`,
      ),
    );
  };

  const listener: HttpsListener = await listenHttps(opts.tls, handler);
  base = listener.url;
  return {
    url: listener.url,
    port: listener.port,
    faults,
    operations,
    journal,
    close: () => listener.close(),
  };
}

export function instanceBody(mi: ManagedInstanceSim) {
  return {
    id: instanceResourceId(mi),
    name: mi.name,
    type: 'Microsoft.Sql/managedInstances',
    location: mi.location,
    sku: { name: 'GP_Gen5', tier: 'GeneralPurpose', family: 'Gen5', capacity: 8 },
    properties: {
      provisioningState: 'Succeeded',
      managedInstanceCreateMode: 'Default',
      fullyQualifiedDomainName: mi.fqdn,
      administratorLogin: 'miadmin',
      subnetId: `/subscriptions/${mi.subscriptionId}/resourceGroups/${mi.resourceGroup}/providers/Microsoft.Network/virtualNetworks/vnet-mi/subnets/ManagedInstance`,
      state: mi.state,
      licenseType: 'LicenseIncluded',
      hybridSecondaryUsage: 'Active',
      vCores: 8,
      storageSizeInGB: 256,
      collation: mi.collation,
      dnsZone: mi.dnsZone,
      publicDataEndpointEnabled: false,
      proxyOverride: 'Proxy',
      timezoneId: 'UTC',
      minimalTlsVersion: '1.2',
      requestedBackupStorageRedundancy: 'Geo',
      currentBackupStorageRedundancy: 'Geo',
      zoneRedundant: false,
      databaseFormat: mi.databaseFormat,
      pricingModel: 'Regular',
    },
  };
}

function databaseBody(mi: ManagedInstanceSim, name: string, now: Date) {
  const db = mi.databases.get(name.toLowerCase());
  // Point-in-time restore starts at the instance's first full backup of the database (taken after it became
  // primary, e.g. after a failover to the instance).
  const firstFull = (db?.fullBackups ?? [])
    .filter((b) => b.finishDate.getTime() <= now.getTime())
    .sort((a, b) => a.finishDate.getTime() - b.finishDate.getTime())[0];
  return {
    id: `${instanceResourceId(mi)}/databases/${db?.name ?? name}`,
    name: db?.name ?? name,
    type: 'Microsoft.Sql/managedInstances/databases',
    location: mi.location,
    properties: {
      collation: db?.collation,
      status: db?.status,
      creationDate: db?.creationDate.toISOString(),
      ...(firstFull ? { earliestRestorePoint: firstFull.finishDate.toISOString() } : {}),
      catalogCollation: 'SQL_Latin1_General_CP1_CI_AS',
    },
  };
}
