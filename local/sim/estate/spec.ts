/**
 * The description of a simulated estate (JSON-able): SQL Servers, managed instances, Key Vault secrets.
 * `parseEstateSpec` checks it and names every problem by its path.
 */
import { z } from 'zod';
import type { ServerSpec } from '../sqlserver/state.js';
import type { DatabaseFormat, InstanceState } from '../azure/instances.js';
import type { LinkTiming } from './links.js';

const databaseSchema = z.object({
  name: z.string().min(1).max(128),
  recoveryModel: z.enum(['FULL', 'SIMPLE', 'BULK_LOGGED']).optional(),
  fullBackup: z.boolean().optional(),
  copyOnlyBackupOnly: z.boolean().optional(),
  logFiles: z.number().int().min(1).optional(),
  filestream: z.boolean().optional(),
  memoryOptimized: z.boolean().optional(),
  sizeMb: z.number().positive().optional(),
  collation: z.string().optional(),
});

const serverSchema = z.object({
  serverName: z.string().min(1),
  host: z.string().min(1),
  endpointAddress: z.string().min(1),
  version: z.union([z.literal(2016), z.literal(2017), z.literal(2019), z.literal(2022), z.literal(2025)]),
  cu: z.number().int().min(0).optional(),
  edition: z.string().optional(),
  hadrEnabled: z.boolean().optional(),
  collation: z.string().optional(),
  traceFlags: z.array(z.number().int()).optional(),
  logins: z
    .array(
      z.object({
        name: z.string().min(1),
        password: z.string().min(1),
        serverRoles: z.array(z.string()).optional(),
      }),
    )
    .min(1),
  databases: z.array(databaseSchema).optional(),
  endpoint: z
    .object({
      name: z.string().min(1),
      port: z.number().int().min(1).max(65535),
      windowsAuth: z.enum(['NTLM', 'KERBEROS', 'NEGOTIATE']).optional(),
      certificateName: z.string().optional(),
      encryption: z.enum(['DISABLED', 'SUPPORTED', 'REQUIRED']).optional(),
      algorithms: z.array(z.enum(['AES', 'RC4'])).optional(),
    })
    .optional(),
});

const instanceSchema = z.object({
  subscriptionId: z.string().regex(/^[0-9a-fA-F-]{36}$/, 'a subscription id is a GUID'),
  resourceGroup: z.string().min(1).max(90),
  name: z
    .string()
    .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'lower-case letters, digits and single hyphens')
    .max(63),
  dnsZone: z
    .string()
    .regex(/^[a-z0-9]+$/)
    .optional(),
  location: z.string().optional(),
  collation: z.string().optional(),
  updatePolicy: z.enum(['AlwaysUpToDate', 'SQLServer2022', 'SQLServer2025']).optional(),
  state: z.enum(['Ready', 'Stopped', 'Starting', 'Stopping', 'Updating']).optional(),
  linkLimit: z.number().int().min(0).optional(),
  databases: z.array(z.string().min(1)).optional(),
});

const timingSchema = z
  .object({
    creationSeconds: z.number().min(0),
    seedingMBps: z.number().positive(),
    catchupSeconds: z.number().min(0),
    failoverSeconds: z.number().min(0),
    deleteSeconds: z.number().min(0),
    patchSeconds: z.number().min(0),
    /** Simulated seconds every BACKUP DATABASE on the estate's SQL Servers takes (default: at once). */
    backupSeconds: z.number().min(0),
  })
  .partial();

export const estateSpecSchema = z.object({
  sqlServers: z.array(serverSchema),
  managedInstances: z.array(instanceSchema),
  keyVault: z.object({ secrets: z.record(z.string(), z.string()) }),
  timing: timingSchema.optional(),
});

export type EstateServerSpec = ServerSpec & { host: string; endpointAddress: string };

export interface EstateInstanceSpec {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  dnsZone?: string;
  location?: string;
  collation?: string;
  updatePolicy?: DatabaseFormat;
  state?: InstanceState;
  linkLimit?: number;
  databases?: string[];
}

export interface EstateSpec {
  sqlServers: EstateServerSpec[];
  managedInstances: EstateInstanceSpec[];
  keyVault: { secrets: Record<string, string> };
  timing?: Partial<LinkTiming> & { backupSeconds?: number };
}

// The schema's output must fit the declared types (a compile-time check).
const _fits: (x: z.infer<typeof estateSpecSchema>) => EstateSpec = (x) => x;
void _fits;

export class EstateSpecError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid estate: ${problems.join('; ')}`);
    this.name = 'EstateSpecError';
  }
}

/** Checks an estate description; throws EstateSpecError listing every problem with its path. */
export function parseEstateSpec(input: unknown): EstateSpec {
  const result = estateSpecSchema.safeParse(input);
  if (!result.success) {
    throw new EstateSpecError(
      result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  const spec = result.data;
  const problems: string[] = [];
  const names = spec.sqlServers.map((s) => s.serverName.toLowerCase());
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i) problems.push(`sqlServers.${i}.serverName: '${n}' is defined twice`);
  });
  const hosts = spec.sqlServers.flatMap((s) => [s.host.toLowerCase(), s.endpointAddress.toLowerCase()]);
  spec.sqlServers.forEach((s, i) => {
    for (const h of [s.host, s.endpointAddress]) {
      if (
        hosts.filter((x) => x === h.toLowerCase()).length >
        (s.host.toLowerCase() === s.endpointAddress.toLowerCase() ? 2 : 1)
      ) {
        problems.push(`sqlServers.${i}: host or endpoint address '${h}' is used by another SQL Server`);
      }
    }
  });
  const mis = spec.managedInstances.map((m) =>
    `${m.subscriptionId}/${m.resourceGroup}/${m.name}`.toLowerCase(),
  );
  mis.forEach((k, i) => {
    if (mis.indexOf(k) !== i) problems.push(`managedInstances.${i}: '${k}' is defined twice`);
  });
  if (problems.length > 0) throw new EstateSpecError(problems);
  return spec;
}
