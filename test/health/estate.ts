/**
 * A simulated estate with real links for the health tests: SQL Server stand-ins over TDS (read through
 * mssql) and a managed instance over ARM, links built by the runbook's fixture and created by ARM PUT.
 */
import sql from 'mssql';
import { VirtualClock } from '../../local/sim/clock.js';
import { startEstate, type RunningEstate } from '../../local/sim/estate/estate.js';
import type { ManagedInstanceSim } from '../../local/sim/azure/instances.js';
import type { SqlServerEntry } from '../../local/sim/estate/truth.js';
import { ByHand } from '../sim/estate/by-hand.js';
import { applyRunbookToState, linkBody, type RunbookNames } from '../sim/estate/fixtures.js';

export const SUB = '00000000-0000-0000-0000-000000000001';
export const RG = 'rg-data';
export const PASSWORD = 'Sim-Only-Passw0rd!1';

export interface HealthEstate {
  estate: RunningEstate;
  clock: VirtualClock;
  hand: ByHand;
  mi: ManagedInstanceSim;
  entry(server: string): SqlServerEntry;
  /** Runs a batch on a server as milink_admin through mssql; returns its recordsets. */
  query(server: string, text: string): Promise<unknown[]>;
  /** The instance's links, as ARM lists them (api-version 2025-01-01). */
  listLinks(): Promise<unknown[]>;
  createLink(server: string, n: RunbookNames): Promise<void>;
  close(): Promise<void>;
}

export async function healthEstate(
  servers: Array<{ name: string; version?: 2019 | 2022 | 2025; cu?: number; databases: string[] }>,
): Promise<HealthEstate> {
  const clock = new VirtualClock('2026-11-30T23:00:00Z');
  const estate = await startEstate(
    {
      sqlServers: servers.map((s, i) => ({
        serverName: s.name,
        host: `${s.name.toLowerCase()}.contoso.local`,
        endpointAddress: `10.0.0.${4 + i}`,
        version: s.version ?? 2022,
        cu: s.cu ?? 13,
        logins: [{ name: 'milink_admin', password: PASSWORD, serverRoles: ['sysadmin'] }],
        databases: s.databases.map((name) => ({
          name,
          recoveryModel: 'FULL',
          fullBackup: true,
          sizeMb: 100,
        })),
      })),
      managedInstances: [
        { subscriptionId: SUB, resourceGroup: RG, name: 'mi-prod', updatePolicy: 'SQLServer2022' },
      ],
      keyVault: { secrets: {} },
    },
    { clock },
  );
  const hand = new ByHand(estate, clock);
  const mi = estate.instances.get(SUB, RG, 'mi-prod') as ManagedInstanceSim;
  const pools = new Map<string, sql.ConnectionPool>();
  const entry = (server: string): SqlServerEntry => {
    const c = estate.connection.sqlServers.find((s) => s.serverName === server)!;
    return {
      serverName: server,
      host: c.host,
      endpointAddress: c.endpointAddress,
      state: estate.sqlServers.get(server)!.state,
    };
  };
  const pool = async (server: string) => {
    let p = pools.get(server);
    if (!p) {
      const running = estate.sqlServers.get(server)!;
      p = await new sql.ConnectionPool({
        server: running.host,
        port: running.port,
        user: 'milink_admin',
        password: PASSWORD,
        database: 'master',
        options: { encrypt: false, trustServerCertificate: true },
        pool: { max: 1, min: 0 },
        validateConnection: false,
      }).connect();
      pools.set(server, p);
    }
    return p;
  };
  return {
    estate,
    clock,
    hand,
    mi,
    entry,
    query: async (server, text) => (await (await pool(server)).request().batch(text)).recordsets as unknown[],
    listLinks: async () => {
      const r = await hand.raw('GET', `${hand.miPath}/distributedAvailabilityGroups`);
      return r.body.value as unknown[];
    },
    createLink: async (server, n) => {
      const e = entry(server);
      applyRunbookToState(e, mi, n, clock.now());
      const put = await hand.raw(
        'PUT',
        `${hand.miPath}/distributedAvailabilityGroups/${n.dag}`,
        linkBody(n, e),
      );
      if (put.status >= 300) throw new Error(`PUT link: ${put.status} ${JSON.stringify(put.body)}`);
      const op = await hand.finish(put.headers['azure-asyncoperation'] ?? '', 5_000);
      if (op.status !== 'Succeeded') throw new Error(`link ${n.dag}: ${JSON.stringify(op)}`);
    },
    close: async () => {
      for (const p of pools.values()) await p.close();
      await hand.close();
      await estate.close();
    },
  };
}
