/**
 * The state of simulated managed instances: what ARM shows (FQDN, collation, update policy, state), the
 * endpoint certificate the instance authenticates with, the SQL Server certificates it trusts, its
 * databases and its links. Plain objects: the ARM stand-in answers from them, the link's truth changes them.
 */
import { createHash } from 'node:crypto';
import { issueInstanceEndpointCertificate, type IssuedCertificate } from './pki.js';

export type DatabaseFormat = 'AlwaysUpToDate' | 'SQLServer2022' | 'SQLServer2025';
export type InstanceState = 'Ready' | 'Stopped' | 'Starting' | 'Stopping' | 'Updating';

export interface MiDatabase {
  name: string;
  /** properties.status of a managed database */
  status: 'Online' | 'Restoring' | 'Creating' | 'Inaccessible';
  collation: string;
  creationDate: Date;
  sizeBytes: number;
  /** End-of-log LSN at `lsnAt`; it grows with `lsnPerSecond` (the instance's own workload when it is primary). */
  lsnBase: bigint;
  lsnAt: Date;
  lsnPerSecond: bigint;
  /** Set while the database is the secondary of a link (name of the link). */
  linkName?: string;
  /** Full backups the instance took (or will have taken by finishDate) of the database as a primary. */
  fullBackups?: Array<{ startDate: Date; finishDate: Date }>;
}

export interface TrustedCertificate {
  name: string;
  der: Buffer;
  spki: Buffer;
  thumbprint: string;
  expiry: Date;
}

export interface ManagedInstanceSim {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  dnsZone: string;
  fqdn: string;
  collation: string;
  databaseFormat: DatabaseFormat;
  state: InstanceState;
  linkLimit: number;
  endpointCertificate: IssuedCertificate;
  serverTrustCertificates: Map<string, TrustedCertificate>;
  databases: Map<string, MiDatabase>;
}

export interface InstanceSpec {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  dnsZone?: string;
  location?: string;
  collation?: string;
  updatePolicy?: DatabaseFormat;
  state?: InstanceState;
  linkLimit?: number;
  /** Databases already on the instance (for the instance as the initial primary). */
  databases?: string[];
}

export const DEFAULT_COLLATION = 'SQL_Latin1_General_CP1_CI_AS';

export function instanceResourceId(mi: {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}): string {
  return `/subscriptions/${mi.subscriptionId}/resourceGroups/${mi.resourceGroup}/providers/Microsoft.Sql/managedInstances/${mi.name}`;
}

/** A DNS zone like the service's: 13 hex characters, derived from the instance's identity so it is stable. */
export function defaultDnsZone(spec: {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}): string {
  return createHash('sha256')
    .update(`${spec.subscriptionId}/${spec.resourceGroup}/${spec.name}`.toLowerCase())
    .digest('hex')
    .slice(0, 13);
}

export function createManagedInstance(spec: InstanceSpec, now: Date): ManagedInstanceSim {
  const dnsZone = spec.dnsZone ?? defaultDnsZone(spec);
  const fqdn = `${spec.name}.${dnsZone}.database.windows.net`;
  const collation = spec.collation ?? DEFAULT_COLLATION;
  const databases = new Map<string, MiDatabase>();
  for (const name of spec.databases ?? []) {
    databases.set(name.toLowerCase(), newMiDatabase(name, collation, now, 'Online'));
  }
  return {
    subscriptionId: spec.subscriptionId,
    resourceGroup: spec.resourceGroup,
    name: spec.name,
    location: spec.location ?? 'westeurope',
    dnsZone,
    fqdn,
    collation,
    databaseFormat: spec.updatePolicy ?? 'SQLServer2022',
    state: spec.state ?? 'Ready',
    linkLimit: spec.linkLimit ?? 100,
    endpointCertificate: issueInstanceEndpointCertificate(
      fqdn,
      `${spec.subscriptionId}/${spec.name}`.toLowerCase(),
      now,
    ),
    serverTrustCertificates: new Map(),
    databases,
  };
}

export function newMiDatabase(
  name: string,
  collation: string,
  now: Date,
  status: MiDatabase['status'],
  sizeBytes = 256 * 1024 * 1024,
): MiDatabase {
  return {
    name,
    status,
    collation,
    creationDate: now,
    sizeBytes,
    lsnBase: 37_000_000_123_400_001n,
    lsnAt: now,
    lsnPerSecond: 1_600_000n,
  };
}

/** The database's end-of-log LSN at `now`. */
export function miDatabaseLsn(db: MiDatabase, now: Date): bigint {
  const seconds = BigInt(Math.max(0, Math.floor((now.getTime() - db.lsnAt.getTime()) / 1000)));
  return db.lsnBase + seconds * db.lsnPerSecond;
}

/** Registry of instances by subscription / resource group / name (all case-insensitive, as ARM's are). */
export class InstanceRegistry {
  private readonly byKey = new Map<string, ManagedInstanceSim>();

  private static key(sub: string, rg: string, name: string): string {
    return `${sub}/${rg}/${name}`.toLowerCase();
  }

  add(mi: ManagedInstanceSim): void {
    const key = InstanceRegistry.key(mi.subscriptionId, mi.resourceGroup, mi.name);
    if (this.byKey.has(key)) throw new Error(`managed instance ${mi.name} is defined twice`);
    this.byKey.set(key, mi);
  }

  get(sub: string, rg: string, name: string): ManagedInstanceSim | undefined {
    return this.byKey.get(InstanceRegistry.key(sub, rg, name));
  }

  byFqdn(fqdn: string): ManagedInstanceSim | undefined {
    return this.all().find((mi) => mi.fqdn.toLowerCase() === fqdn.toLowerCase());
  }

  inResourceGroup(sub: string, rg: string): ManagedInstanceSim[] {
    return this.all().filter(
      (mi) =>
        mi.subscriptionId.toLowerCase() === sub.toLowerCase() &&
        mi.resourceGroup.toLowerCase() === rg.toLowerCase(),
    );
  }

  inSubscription(sub: string): ManagedInstanceSim[] {
    return this.all().filter((mi) => mi.subscriptionId.toLowerCase() === sub.toLowerCase());
  }

  all(): ManagedInstanceSim[] {
    return [...this.byKey.values()];
  }
}
