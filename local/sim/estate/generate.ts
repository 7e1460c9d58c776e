/**
 * Generated estates: an estate of any size described in a few lines,
 *
 *   { "generate": { "sqlServers": 100, "instances": 10, "links": 1000 } }
 *
 * expands into SQL Servers SQL001…, managed instances mi-01…, one database per link (Db0001…), spread so
 * that link k lives on server k mod S and each server's links go to one instance (server s → instance
 * s mod I). With `linkState: "connected"` (the default) every link is made at start the way the runbook
 * leaves it — master key, endpoint certificate, the instance's certificate and the Azure roots on SQL Server,
 * the SQL Server certificate trusted by the instance, endpoint, AG_<db>, DAG1_<db> — without running the
 * runbook's T-SQL per link, then created through the link engine (the same truth checks) with its creation
 * moved an hour into the past, so it is seeded, caught up and synchronized when the estate answers.
 * `linkState: "none"` leaves the databases ready for milink to link.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { InstanceRegistry, ManagedInstanceSim } from '../azure/instances.js';
import { parseCertificateDer } from '../azure/pki.js';
import { makeCertificate } from '../sqlserver/certs.js';
import type { SimAvailabilityGroup, SimReplica, SimServerState } from '../sqlserver/model.js';
import { importCertificate } from '../sqlserver/state.js';
import type { LinkEngine } from './links.js';
import { EstateSpecError, type EstateServerSpec, type EstateSpec } from './spec.js';
import type { SqlServerEntry } from './truth.js';

export const generateSchema = z.object({
  sqlServers: z.number().int().min(1).max(999),
  instances: z.number().int().min(1).max(99),
  links: z.number().int().min(0).max(99_999),
  version: z.union([z.literal(2019), z.literal(2022), z.literal(2025)]).optional(),
  cu: z.number().int().min(0).optional(),
  databaseSizeMb: z.number().positive().optional(),
  subscriptionId: z
    .string()
    .regex(/^[0-9a-fA-F-]{36}$/)
    .optional(),
  resourceGroup: z.string().min(1).max(90).optional(),
  linkState: z.enum(['connected', 'none']).optional(),
  /** SQL Server collation of every server (default SQL_Latin1_General_CP1_CI_AS). */
  collation: z.string().optional(),
});

export const generatedEstateSchema = z.object({
  generate: generateSchema,
  keyVault: z.object({ secrets: z.record(z.string(), z.string()) }).optional(),
  timing: z.record(z.string(), z.number()).optional(),
});

export type GenerateSpec = z.infer<typeof generateSchema>;
export type GeneratedEstateSpec = z.infer<typeof generatedEstateSchema>;

export function isGeneratedSpec(x: unknown): x is GeneratedEstateSpec {
  return typeof x === 'object' && x !== null && 'generate' in x;
}

/** One link the generated estate makes at start. */
export interface PlannedLink {
  serverName: string;
  instance: { subscriptionId: string; resourceGroup: string; name: string };
  database: string;
  ag: string;
  instanceAg: string;
  dag: string;
}

export interface GeneratedEstate {
  spec: EstateSpec;
  links: PlannedLink[];
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const ENDPOINT_PORT = 5022;

/** Expands `{ generate: {...} }` into a full estate description and the links to make at start. */
export function expandGeneratedSpec(input: GeneratedEstateSpec): GeneratedEstate {
  const checked = generatedEstateSchema.safeParse(input);
  if (!checked.success) {
    throw new EstateSpecError(
      checked.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  const g = checked.data.generate;
  const sub = g.subscriptionId ?? '00000000-0000-0000-0000-000000000001';
  const rg = g.resourceGroup ?? 'rg-estate';
  const serverWidth = Math.max(3, String(g.sqlServers).length);
  const dbWidth = Math.max(4, String(g.links).length);
  const instances = Array.from({ length: g.instances }, (_, i) => ({
    subscriptionId: sub,
    resourceGroup: rg,
    name: `mi-${pad(i + 1, 2)}`,
  }));
  const serverName = (s: number) => `SQL${pad(s + 1, serverWidth)}`;
  const perInstance = new Array<number>(g.instances).fill(0);
  const planned: PlannedLink[] = [];
  const databases = new Map<number, string[]>();
  for (let k = 0; k < g.links; k++) {
    const s = k % g.sqlServers;
    const i = s % g.instances;
    perInstance[i] = (perInstance[i] ?? 0) + 1;
    const database = `Db${pad(k + 1, dbWidth)}`;
    databases.set(s, [...(databases.get(s) ?? []), database]);
    planned.push({
      serverName: serverName(s),
      instance: instances[i]!,
      database,
      ag: `AG_${database}`,
      instanceAg: `AG_${database}_MI`,
      dag: `DAG1_${database}`,
    });
  }
  const secrets: Record<string, string> = {};
  const sqlServers: EstateServerSpec[] = Array.from({ length: g.sqlServers }, (_, s) => {
    const name = serverName(s);
    const password = `Sim-Only-${name}-Passw0rd!`;
    secrets[`${name.toLowerCase()}-login`] = password;
    secrets[`${name.toLowerCase()}-master-key`] = `Sim-Only-${name}-MasterKey#1`;
    return {
      serverName: name,
      host: `${name.toLowerCase()}.contoso.local`,
      endpointAddress: `10.${1 + Math.floor(s / 62_500)}.${Math.floor(s / 250) % 250}.${(s % 250) + 4}`,
      version: g.version ?? 2022,
      cu: g.cu ?? 13,
      traceFlags: [1800, 9567],
      ...(g.collation ? { collation: g.collation } : {}),
      logins: [{ name: 'milink_admin', password, serverRoles: ['sysadmin'] }],
      databases: (databases.get(s) ?? []).map((d) => ({
        name: d,
        recoveryModel: 'FULL' as const,
        fullBackup: true,
        sizeMb: g.databaseSizeMb ?? 64,
      })),
      ...(g.linkState === 'none'
        ? {}
        : {
            endpoint: {
              name: 'database_mirroring_endpoint',
              port: ENDPOINT_PORT,
              certificateName: `Cert_${name}_endpoint`,
              encryption: 'REQUIRED' as const,
              algorithms: ['AES' as const],
            },
          }),
    };
  });
  const spec: EstateSpec = {
    sqlServers,
    managedInstances: instances.map((mi, i) => ({
      ...mi,
      linkLimit: Math.max(100, perInstance[i] ?? 0),
    })),
    keyVault: { secrets: { ...secrets, ...(input.keyVault?.secrets ?? {}) } },
    ...(input.timing ? { timing: input.timing } : {}),
  };
  return { spec, links: g.linkState === 'none' ? [] : planned };
}

/** An availability replica as SQL Server records it, the local one primary and connected (overrides on top). */
export function replica(
  over: Partial<SimReplica> & Pick<SimReplica, 'replicaServerName' | 'endpointUrl' | 'isLocal'>,
): SimReplica {
  return {
    replicaId: randomUUID().toUpperCase(),
    availabilityMode: 'ASYNCHRONOUS_COMMIT',
    failoverMode: 'MANUAL',
    seedingMode: 'AUTOMATIC',
    sessionTimeout: 10,
    role: over.isLocal ? 'PRIMARY' : 'SECONDARY',
    connectedState: over.isLocal ? 'CONNECTED' : 'DISCONNECTED',
    synchronizationHealth: 'NOT_HEALTHY',
    ...over,
  };
}

/** Root certificates standing in for MicrosoftPKI and DigiCertPKI (same subjects), made once per process. */
let roots: { microsoft: Buffer; digicert: Buffer } | undefined;
function azureRoots(now: Date): { microsoft: Buffer; digicert: Buffer } {
  if (!roots) {
    const make = (subject: string) =>
      makeCertificate({
        subject,
        notBefore: new Date(now.getTime() - 365 * 86_400_000),
        notAfter: new Date(now.getTime() + 10 * 365 * 86_400_000),
      }).der;
    roots = {
      microsoft: make('CN=Microsoft RSA Root Certificate Authority 2017, O=Microsoft Corporation, C=US'),
      digicert: make('CN=DigiCert Global Root G2, OU=www.digicert.com, O=DigiCert Inc, C=US'),
    };
  }
  return roots;
}

/**
 * Puts on SQL Server and the instance what the runbook leaves for each planned link, then creates the links
 * through the link engine with their creation an hour in the past (seeded, caught up, synchronized now).
 */
export function installGeneratedLinks(args: {
  planned: PlannedLink[];
  entries: SqlServerEntry[];
  instances: InstanceRegistry;
  links: LinkEngine;
  clock: Clock;
}): void {
  const { planned, entries, instances, links, clock } = args;
  if (planned.length === 0) return;
  const now = clock.now();
  const past = new Date(now.getTime() - 3_600_000);
  const rootDer = azureRoots(now);
  const byServer = new Map<string, PlannedLink[]>();
  for (const p of planned) byServer.set(p.serverName, [...(byServer.get(p.serverName) ?? []), p]);
  for (const [serverName, list] of byServer) {
    const entry = entries.find((e) => e.serverName === serverName);
    if (!entry) throw new Error(`generated link on unknown server ${serverName}`);
    const s: SimServerState = entry.state;
    const endpoint = s.endpoint;
    const cert = s.certificates.find((c) => c.name === endpoint?.certificateName);
    if (!endpoint || !cert) throw new Error(`${serverName} has no endpoint certificate`);
    // the roots and sp_certificate_add_issuer
    importCertificate(s, 'MicrosoftPKI', rootDer.microsoft).issuerRegistrations.push(
      '*.database.windows.net',
    );
    importCertificate(s, 'DigiCertPKI', rootDer.digicert).issuerRegistrations.push('*.database.windows.net');
    const sqlUrl = `TCP://${entry.endpointAddress}:${endpoint.port}`;
    const parsed = parseCertificateDer(cert.der);
    if (!parsed) throw new Error(`${serverName}: unreadable endpoint certificate`);
    const seen = new Set<ManagedInstanceSim>();
    for (const p of list) {
      const mi = instances.get(p.instance.subscriptionId, p.instance.resourceGroup, p.instance.name);
      if (!mi) throw new Error(`generated link on unknown instance ${p.instance.name}`);
      if (!seen.has(mi)) {
        seen.add(mi);
        // the instance's certificate on SQL Server, the SQL Server certificate trusted by the instance
        importCertificate(s, mi.fqdn, mi.endpointCertificate.der);
        mi.serverTrustCertificates.set(cert.name.toLowerCase(), {
          name: cert.name,
          der: cert.der,
          spki: parsed.spki,
          thumbprint: parsed.thumbprint,
          expiry: parsed.validTo,
        });
      }
      const db = s.databases.find((d) => d.name === p.database);
      if (!db) throw new Error(`${serverName} has no database ${p.database}`);
      const ag: SimAvailabilityGroup = {
        groupId: randomUUID().toUpperCase(),
        name: p.ag,
        isDistributed: false,
        clusterType: 'NONE',
        databases: [db.name],
        replicas: [
          replica({
            replicaServerName: s.serverName,
            endpointUrl: sqlUrl,
            isLocal: true,
            availabilityMode: 'SYNCHRONOUS_COMMIT',
            synchronizationHealth: 'HEALTHY',
          }),
        ],
        createAnyDatabaseGranted: false,
        createDate: past,
      };
      s.availabilityGroups.push(ag);
      s.databaseReplicaStates.push({
        groupId: ag.groupId,
        replicaId: ag.replicas[0]!.replicaId,
        databaseName: db.name,
        isLocal: true,
        isPrimaryReplica: true,
        synchronizationState: 'SYNCHRONIZED',
        synchronizationHealth: 'HEALTHY',
        lastHardenedLsn: db.currentLsn,
        lastCommitLsn: db.currentLsn,
        lastCommitTime: past,
        logSendQueueSizeKb: null,
        redoQueueSizeKb: null,
        secondaryLagSeconds: null,
      });
      s.availabilityGroups.push({
        groupId: randomUUID().toUpperCase(),
        name: p.dag,
        isDistributed: true,
        clusterType: 'NONE',
        databases: [],
        replicas: [
          replica({ replicaServerName: p.ag, endpointUrl: sqlUrl, isLocal: true }),
          replica({
            replicaServerName: p.instanceAg,
            endpointUrl: `tcp://${mi.fqdn}:5022;Server=[${mi.name}]`,
            isLocal: false,
          }),
        ],
        createAnyDatabaseGranted: false,
        createDate: past,
      });
      // the first log backup, taken after seeding as the runbook says
      db.backups.push({
        type: 'L',
        isCopyOnly: false,
        startDate: new Date(now.getTime() - 1_800_000),
        finishDate: new Date(now.getTime() - 1_790_000),
        firstLsn: db.currentLsn - 1000n,
        lastLsn: db.currentLsn,
        physicalDeviceName: `C:\\Backup\\${db.name}_log.trn`,
      });
      const result = links.put(mi, p.dag, {
        properties: {
          partnerAvailabilityGroupName: p.ag,
          instanceAvailabilityGroupName: p.instanceAg,
          partnerEndpoint: sqlUrl,
          instanceLinkRole: 'Secondary',
          failoverMode: 'None',
          seedingMode: 'Automatic',
          replicationMode: 'Async',
          databases: [{ databaseName: p.database }],
        },
      });
      if (result.status >= 300)
        throw new Error(`generated link ${p.dag} refused: ${JSON.stringify(result.body)}`);
      const link = links.find(mi, p.dag);
      if (link) {
        link.createdAt = past;
        link.joinAt = new Date(past.getTime() + links.timing.creationSeconds * 1000);
      }
    }
  }
  links.advance();
}
