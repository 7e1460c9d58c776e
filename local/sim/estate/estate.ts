/**
 * One simulated estate: SQL Server stand-ins (TDS), managed instances over ARM (HTTPS) and a Key Vault
 * (HTTPS), sharing one clock and one truth about the links between them. Start it in-process with
 * `startEstate`, or as its own process with launch.ts.
 */
import type { Clock } from '../clock.js';
import { startArm, type RunningArm } from '../azure/arm.js';
import { FaultInjector } from '../azure/faults.js';
import { createManagedInstance, InstanceRegistry } from '../azure/instances.js';
import { startKeyVault, type RunningKeyVault } from '../azure/keyvault.js';
import { createLocalTls } from '../azure/pki.js';
import { startSqlServer, type RunningSqlServer } from '../sqlserver/server.js';
import { createServerState } from '../sqlserver/state.js';
import { createControl, serveControl, type EstateControlApi } from './control.js';
import { scheduleFirstFullBackup, updatePolicyProblem } from './failover.js';
import { LinkEngine, type LinkTiming } from './links.js';
import { parseEstateSpec, type EstateSpec } from './spec.js';
import {
  expandGeneratedSpec,
  installGeneratedLinks,
  isGeneratedSpec,
  type GeneratedEstateSpec,
} from './generate.js';
import { TroubleEngine } from './trouble.js';
import type { SqlServerEntry } from './truth.js';
import { WorkloadEngine } from './workload.js';

export type { EstateSpec } from './spec.js';

/** Everything a second process needs to reach the estate (the connection file). No SQL passwords: they are Key Vault secrets. */
export interface EstateConnection {
  arm: { endpoint: string; token: string };
  keyVault: { url: string; token: string };
  caCertPem: string;
  sqlServers: Array<{
    serverName: string;
    host: string;
    endpointAddress: string;
    address: '127.0.0.1';
    port: number;
  }>;
  managedInstances: Array<{ subscriptionId: string; resourceGroup: string; name: string; fqdn: string }>;
  /** A launched estate's real clock (origin and scale), so another process can share its simulated time. */
  clock?: { originMs: number; scale: number };
  /** The estate's control API (workload, trouble on demand): see control.ts, `connectControl`. */
  control?: { url: string; token: string };
}

export interface RunningEstate {
  connection: EstateConnection;
  clock: Clock;
  /** By server name (@@SERVERNAME). */
  sqlServers: Map<string, RunningSqlServer>;
  /** The managed instances' state (readable and changeable by tests). */
  instances: InstanceRegistry;
  /** The links and their lifecycle. */
  links: LinkEngine;
  arm: RunningArm;
  keyVault: RunningKeyVault;
  armFaults: FaultInjector;
  keyVaultFaults: FaultInjector;
  /** Workload, trouble on demand and what only the estate knows (also served at `connection.control`). */
  control: EstateControlApi;
  workload: WorkloadEngine;
  trouble: TroubleEngine;
  /** Brings every link (and SQL Server's view of it) up to the clock's now. */
  advance(): void;
  close(): Promise<void>;
}

export interface EstateOptions {
  clock: Clock;
  /** Overrides the spec's timing (the links' and the SQL Servers' backups). */
  timing?: Partial<LinkTiming> & { backupSeconds?: number };
  /** Retry-After of long-running ARM operations (seconds, default 1). */
  retryAfterSeconds?: number;
  /** The bearer token written into the connection file (any non-empty token is accepted). */
  token?: string;
  /** Items per page of ARM lists (instances, links; default 100). */
  armListPageSize?: number;
}

export async function startEstate(
  specInput: EstateSpec | GeneratedEstateSpec,
  opts: EstateOptions,
): Promise<RunningEstate> {
  const generated = isGeneratedSpec(specInput) ? expandGeneratedSpec(specInput) : undefined;
  const spec = parseEstateSpec(generated ? generated.spec : specInput);
  const clock = opts.clock;
  const now = clock.now();
  const tls = createLocalTls(new Date());
  const instances = new InstanceRegistry();
  for (const m of spec.managedInstances) instances.add(createManagedInstance(m, now));
  const entries: SqlServerEntry[] = spec.sqlServers.map((s) => {
    const { host, endpointAddress, ...serverSpec } = s;
    const state = createServerState(serverSpec, clock);
    const backupSeconds = opts.timing?.backupSeconds ?? spec.timing?.backupSeconds;
    if (backupSeconds) state.backupSeconds = backupSeconds;
    return { serverName: s.serverName, host, endpointAddress, state };
  });
  const links = new LinkEngine({
    clock,
    instances,
    servers: () => entries,
    timing: { ...(spec.timing ?? {}), ...(opts.timing ?? {}) },
  });
  const workload = new WorkloadEngine({ clock, servers: () => entries, instances });
  workload.attach(() => links.all());
  const trouble = new TroubleEngine({ clock, links, instances, workload });
  links.dynamics = {
    stepTo: (at) => {
      trouble.stepTo(at);
      workload.stepTo(at);
    },
    progress: (link, now) => workload.progress(link, now),
    injectedProblem: (link) =>
      trouble.injectedProblem(link) ??
      (link.instanceRole === 'Primary' && link.sqlRole === 'Secondary' && link.server
        ? (updatePolicyProblem(link.mi, link.server.state) ?? undefined)
        : undefined),
    caughtUp: (link) => workload.caughtUp(link),
    drain: (link) => workload.drain(link),
    instancePromoted: (link, at) => {
      const db = link.mi.databases.get(link.props.databaseName.toLowerCase());
      if (db) scheduleFirstFullBackup(db, at);
    },
  };
  if (generated) installGeneratedLinks({ planned: generated.links, entries, instances, links, clock });
  const control = createControl({ clock, links, instances, workload, trouble });
  const started: Array<{ close(): Promise<void> }> = [];
  try {
    const sqlServers = new Map<string, RunningSqlServer>();
    for (const entry of entries) {
      const running = await startSqlServer({
        state: entry.state,
        clock,
        hooks: {
          beforeStatement: () => links.advance(),
          onDistributedAgCommand: (cmd) => links.sqlDagCommand(cmd.state, cmd.kind, cmd.dag.name),
        },
      });
      started.push(running);
      sqlServers.set(entry.serverName, running);
    }
    const armFaults = new FaultInjector();
    const keyVaultFaults = new FaultInjector();
    const arm = await startArm({
      clock,
      tls: { certPem: tls.certPem, keyPem: tls.keyPem },
      instances,
      links,
      faults: armFaults,
      ...(opts.retryAfterSeconds !== undefined ? { retryAfterSeconds: opts.retryAfterSeconds } : {}),
      ...(opts.armListPageSize !== undefined ? { listPageSize: opts.armListPageSize } : {}),
    });
    started.push(arm);
    const keyVault = await startKeyVault({
      clock,
      tls: { certPem: tls.certPem, keyPem: tls.keyPem },
      secrets: spec.keyVault.secrets,
      faults: keyVaultFaults,
    });
    started.push(keyVault);
    const token = opts.token ?? 'milink-simulated-estate-token';
    const controlServer = await serveControl(control, { certPem: tls.certPem, keyPem: tls.keyPem }, token);
    started.push(controlServer);
    const connection: EstateConnection = {
      arm: { endpoint: arm.url, token },
      keyVault: { url: keyVault.url, token },
      caCertPem: tls.caCertPem,
      sqlServers: entries.map((e) => ({
        serverName: e.serverName,
        host: e.host,
        endpointAddress: e.endpointAddress,
        address: '127.0.0.1' as const,
        port: sqlServers.get(e.serverName)?.port ?? 0,
      })),
      managedInstances: instances.all().map((mi) => ({
        subscriptionId: mi.subscriptionId,
        resourceGroup: mi.resourceGroup,
        name: mi.name,
        fqdn: mi.fqdn,
      })),
      control: { url: controlServer.url, token },
    };
    let closed = false;
    return {
      connection,
      clock,
      sqlServers,
      instances,
      links,
      arm,
      keyVault,
      armFaults,
      keyVaultFaults,
      control,
      workload,
      trouble,
      advance: () => links.advance(),
      close: async () => {
        if (closed) return;
        closed = true;
        await Promise.all(started.map((s) => s.close()));
      },
    };
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.close()));
    throw err;
  }
}
