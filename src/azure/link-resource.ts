import type { LinkProperties } from './arm-requests.js';

/**
 * A link (distributedAvailabilityGroups resource) as ARM answers it at api-version 2025-01-01: the fields milink
 * reads, typed once for every step, check and report.
 */
export interface LinkDatabaseState {
  databaseName?: string;
  replicaState?: string;
  seedingProgress?: string;
  synchronizationHealth?: string;
  connectedState?: string;
  mostRecentLinkError?: string;
  lastHardenedLsn?: string;
  instanceSendReplicationLagSeconds?: number;
  instanceRedoReplicationLagSeconds?: number;
  partnerAuthCertValidity?: { certificateName?: string; expiryDate?: string };
}

export interface LinkResource {
  name?: string;
  properties?: Omit<Partial<LinkProperties>, 'databases'> & {
    databases?: LinkDatabaseState[];
    partnerLinkRole?: string;
    replicationMode?: string;
  };
}

/** Reads a link resource from an ARM answer (undefined for anything that is not one). */
export function asLinkResource(json: unknown): LinkResource | undefined {
  if (json === null || typeof json !== 'object') return undefined;
  return json as LinkResource;
}

/** Reads a list of links from an ARM list answer (`value`, with `nextLink` paging left to the caller). */
export function asLinkList(json: unknown): { links: LinkResource[]; nextLink?: string } {
  const body = (json ?? {}) as { value?: LinkResource[]; nextLink?: string };
  return { links: body.value ?? [], ...(body.nextLink ? { nextLink: body.nextLink } : {}) };
}
