/**
 * What the health checks read: one observation per SQL Server (the health batch), one ARM list of links per
 * managed instance, and the inventory of managed links. A server or instance that did not answer is
 * carried as an `error`, so the sweep completes and the checks report it.
 */
import { z } from 'zod';
import type { ServerObservation } from './batch.js';

/** One database of a link as ARM lists it (api-version 2025-01-01, DistributedAvailabilityGroups.json). */
export const armLinkDatabaseSchema = z.looseObject({
  databaseName: z.string().optional(),
  replicaState: z.string().optional(),
  seedingProgress: z.string().optional(),
  synchronizationHealth: z.string().optional(),
  connectedState: z.string().optional(),
  lastHardenedLsn: z.string().optional(),
  lastCommitTime: z.string().optional(),
  mostRecentLinkError: z.string().optional(),
  partnerAuthCertValidity: z
    .looseObject({ certificateName: z.string().optional(), expiryDate: z.string().optional() })
    .optional(),
  instanceSendReplicationLagSeconds: z.number().optional(),
  instanceRedoReplicationLagSeconds: z.number().optional(),
});

/** One link (distributed availability group resource) from `GET …/distributedAvailabilityGroups`. */
export const armLinkSchema = z.looseObject({
  name: z.string(),
  id: z.string().optional(),
  properties: z
    .looseObject({
      distributedAvailabilityGroupName: z.string().optional(),
      partnerAvailabilityGroupName: z.string().optional(),
      instanceAvailabilityGroupName: z.string().optional(),
      partnerEndpoint: z.string().optional(),
      replicationMode: z.string().optional(),
      instanceLinkRole: z.string().optional(),
      partnerLinkRole: z.string().optional(),
      failoverMode: z.string().optional(),
      seedingMode: z.string().optional(),
      databases: z.array(armLinkDatabaseSchema).optional(),
    })
    .prefault({}),
});

export type ArmLink = z.infer<typeof armLinkSchema>;
export type ArmLinkDatabase = z.infer<typeof armLinkDatabaseSchema>;

/** Parses the `value` arrays of an ARM list (all pages), dropping nothing silently: a bad item throws. */
export function parseArmLinks(items: unknown): ArmLink[] {
  return z.array(armLinkSchema).parse(items);
}

/** Why a server or an instance gave no answer (never a secret: a driver or ARM error's text). */
export interface Unreachable {
  message: string;
  /** SQL error number, driver code (ETIMEOUT, ESOCKET), HTTP status or ARM error code. */
  code?: string;
}

export interface ServerSweep {
  /** The SQL Server as the inventory names it (`sqlServer`). */
  sqlServer: string;
  observation?: ServerObservation;
  error?: Unreachable;
}

export interface InstanceSweep {
  /** The managed instance's name (as the inventory names it). */
  instance: string;
  /** Every link ARM listed, all pages. */
  links?: ArmLink[];
  /** `managedInstances.properties.databaseFormat` (update policy), when read. */
  databaseFormat?: string | null;
  error?: Unreachable;
}

/** A link milink manages (from the inventory). */
export interface ManagedLink {
  instance: string;
  linkName: string;
  sqlServer: string;
  database: string;
}

/** What the checks need from the previous night about one link (seeding progress). */
export interface PreviousLinkState {
  link: string;
  seedingOperationId: string | null;
  seedingTransferredBytes: number | null;
  seedingProgress: string | null;
}

export interface SweepInput {
  /** When the sweep ran (ISO 8601, UTC). */
  at: string;
  inventory: ManagedLink[];
  servers: ServerSweep[];
  instances: InstanceSweep[];
  previous?: PreviousLinkState[];
}

/** The key of a link in findings and reports: `<instance>/<linkName>`. */
export function linkKey(instance: string, linkName: string): string {
  return `${instance.toLowerCase()}/${linkName}`;
}

/**
 * A driver's or ARM's error text with anything shaped like a credential removed (`Password=…;`,
 * `AccountKey=…`, `sig=…`, bearer tokens), before it lands in a finding, report or alert.
 */
export function redactSecrets(text: string): string {
  return text
    .replace(
      /\b(password|pwd|accountkey|sharedaccesssignature|sig|client_secret|secret)\s*[=:]\s*("[^"]*"|'[^']*'|[^;&\s]+)/gi,
      '$1=[redacted]',
    )
    .replace(/\bBearer\s+[A-Za-z0-9._~+/=-]+/g, 'Bearer [redacted]');
}
