/**
 * Builders for every Azure Resource Manager request milink makes (Microsoft.Sql, stable api-version
 * 2025-01-01). Steps render them (printed by `plan` as `az rest` commands) and send the same objects through
 * @azure/arm-sql's client pipeline. Only what a registered operation sends is here.
 */
export const API_VERSION = '2025-01-01';

export type HttpMethod = 'GET' | 'PUT' | 'PATCH' | 'DELETE' | 'POST';

export interface ArmRequest {
  method: HttpMethod;
  /** Path and query, starting with /subscriptions/, including ?api-version=. */
  path: string;
  body?: unknown;
}

export interface InstanceRef {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

const seg = encodeURIComponent;

export function instancePath(mi: InstanceRef): string {
  return `/subscriptions/${seg(mi.subscriptionId)}/resourceGroups/${seg(mi.resourceGroup)}/providers/Microsoft.Sql/managedInstances/${seg(mi.name)}`;
}

const withVersion = (path: string) => `${path}?api-version=${API_VERSION}`;

export function getManagedInstance(mi: InstanceRef): ArmRequest {
  return { method: 'GET', path: withVersion(instancePath(mi)) };
}

export function getManagedDatabase(mi: InstanceRef, database: string): ArmRequest {
  return { method: 'GET', path: withVersion(`${instancePath(mi)}/databases/${seg(database)}`) };
}

export function listServerTrustCertificates(mi: InstanceRef): ArmRequest {
  return { method: 'GET', path: withVersion(`${instancePath(mi)}/serverTrustCertificates`) };
}

/** Uploads SQL Server's certificate (the whole certificate blob, 0x…) for the instance to trust. */
export function putServerTrustCertificate(mi: InstanceRef, name: string, publicBlob: string): ArmRequest {
  return {
    method: 'PUT',
    path: withVersion(`${instancePath(mi)}/serverTrustCertificates/${seg(name)}`),
    body: { properties: { publicBlob } },
  };
}

/** The instance's own endpoint certificate for the link (DATABASE_MIRRORING). */
export function getEndpointCertificate(mi: InstanceRef): ArmRequest {
  return { method: 'GET', path: withVersion(`${instancePath(mi)}/endpointCertificates/DATABASE_MIRRORING`) };
}

export interface LinkProperties {
  partnerAvailabilityGroupName: string;
  instanceAvailabilityGroupName: string;
  partnerEndpoint: string;
  instanceLinkRole: 'Primary' | 'Secondary';
  failoverMode: 'None' | 'Manual';
  seedingMode: 'Automatic';
  databases: Array<{ databaseName: string }>;
}

export function linkPath(mi: InstanceRef, link: string): string {
  return `${instancePath(mi)}/distributedAvailabilityGroups/${seg(link)}`;
}

export function putLink(mi: InstanceRef, link: string, properties: LinkProperties): ArmRequest {
  return { method: 'PUT', path: withVersion(linkPath(mi, link)), body: { properties } };
}

export function getLink(mi: InstanceRef, link: string): ArmRequest {
  return { method: 'GET', path: withVersion(linkPath(mi, link)) };
}

export function listLinks(mi: InstanceRef): ArmRequest {
  return { method: 'GET', path: withVersion(`${instancePath(mi)}/distributedAvailabilityGroups`) };
}

/** Drops the link on the instance: 200 | 202 (follow Location) | 204 when absent; both copies then stand alone. */
export function deleteLink(mi: InstanceRef, link: string): ArmRequest {
  return { method: 'DELETE', path: withVersion(linkPath(mi, link)) };
}

/** Fails the link over: `Planned` (the instance must be primary) or `ForcedAllowDataLoss` (the instance secondary). */
export function failoverLink(
  mi: InstanceRef,
  link: string,
  failoverType: 'Planned' | 'ForcedAllowDataLoss',
): ArmRequest {
  return { method: 'POST', path: withVersion(`${linkPath(mi, link)}/failover`), body: { failoverType } };
}

/** Sets the instance's role in the link (the documented way to demote the instance after a forced failover). */
export function setLinkRole(
  mi: InstanceRef,
  link: string,
  instanceRole: 'Primary' | 'Secondary',
  roleChangeType: 'Forced' | 'Planned',
): ArmRequest {
  return {
    method: 'POST',
    path: withVersion(`${linkPath(mi, link)}/setRole`),
    body: { instanceRole, roleChangeType },
  };
}

/** Removes the instance's trust of a SQL Server certificate. */
export function deleteServerTrustCertificate(mi: InstanceRef, name: string): ArmRequest {
  return { method: 'DELETE', path: withVersion(`${instancePath(mi)}/serverTrustCertificates/${seg(name)}`) };
}

/**
 * The Azure RBAC action a request needs, derived from its method and path (a custom role holds exactly these).
 * Resource-type segments are the even segments after `providers/Microsoft.Sql`; a POST to an action name
 * becomes `<type>/<action>/action`.
 */
export function armActionFor(request: ArmRequest): string {
  const path = request.path.split('?')[0]!;
  const parts = path.split('/').filter(Boolean);
  const at = parts.indexOf('providers');
  if (at < 0) throw new Error(`not a provider path: ${path}`);
  const namespace = parts[at + 1]!;
  const rest = parts.slice(at + 2);
  const types: string[] = [];
  for (let i = 0; i < rest.length; i += 2) types.push(rest[i]!);
  const resourceType = [namespace, ...types].join('/');
  if (request.method === 'POST') return `${resourceType}/action`;
  if (request.method === 'GET') return `${resourceType}/read`;
  if (request.method === 'DELETE') return `${resourceType}/delete`;
  return `${resourceType}/write`;
}
