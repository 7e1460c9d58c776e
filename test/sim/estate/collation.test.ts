/**
 * The link and collations. "Configure link with scripts" (Microsoft Learn): "Collation between SQL Server
 * and SQL Managed Instance should be the same. A mismatch in collation could cause a mismatch in server
 * name casing and prevent a successful connection from SQL Server to SQL Managed Instance." The 2022
 * runbook ("Replicate database with link feature with T-SQL and PowerShell scripts"): "depending on
 * collation settings, AG and DAG names could, or could not be case sensitive. If there's a mismatch with
 * this, there could be issues in ability to successfully connect SQL Server to Managed Instance."
 * The failure is a connection failure while initializing the link ("Troubleshoot issues with the link":
 * LinkInitError; 41976 "check names", 41986 "check names, configuration parameters").
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../local/sim/clock.js';
import type { ManagedInstanceSim } from '../../../local/sim/azure/instances.js';
import { createServerState } from '../../../local/sim/sqlserver/state.js';
import { findDag, LinkErrorCodes, type SqlServerEntry } from '../../../local/sim/estate/truth.js';
import { miPath, RG, startAzureHarness, SUB, type AzureHarness } from '../azure/harness.js';
import { applyRunbookToState, linkBody, type RunbookNames } from './fixtures.js';

const CS = 'SQL_Latin1_General_CP1_CS_AS';
const CI = 'SQL_Latin1_General_CP1_CI_AS';

const names: RunbookNames = {
  database: 'SalesDb',
  ag: 'AG_SalesDb',
  instanceAg: 'AG_SalesDb_MI',
  dag: 'DAG1_SalesDb',
  port: 5022,
};

let h: AzureHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function setup(sqlCollation: string, instanceCollation: string) {
  const clock = new VirtualClock();
  const state = createServerState(
    {
      serverName: 'SQLBOX1',
      version: 2022,
      cu: 13,
      collation: sqlCollation,
      logins: [{ name: 'milink_admin', password: 'x', serverRoles: ['sysadmin'] }],
      databases: [{ name: 'SalesDb', recoveryModel: 'FULL', fullBackup: true, sizeMb: 100 }],
    },
    clock,
  );
  const entry: SqlServerEntry = {
    serverName: 'SQLBOX1',
    host: 'sqlbox1.contoso.local',
    endpointAddress: '10.0.0.4',
    state,
  };
  h = await startAzureHarness({
    clock,
    servers: [entry],
    instances: [{ subscriptionId: SUB, resourceGroup: RG, name: 'mi-prod', collation: instanceCollation }],
  });
  const mi = h.instances.get(SUB, RG, 'mi-prod') as ManagedInstanceSim;
  return { h, clock, state, entry, mi };
}

const dagPath = `${miPath()}/distributedAvailabilityGroups/${names.dag}`;

async function create(
  sqlCollation: string,
  instanceCollation: string,
  put: Record<string, unknown>,
  listener?: (mi: ManagedInstanceSim) => string,
) {
  const x = await setup(sqlCollation, instanceCollation);
  applyRunbookToState(
    x.entry,
    x.mi,
    { ...names, ...(listener ? { instanceListenerUrl: listener(x.mi) } : {}) },
    x.clock.now(),
  );
  const created = await x.h.raw('PUT', dagPath, linkBody(names, x.entry, put));
  expect(created.status).toBe(201);
  x.clock.advance(31_000);
  const op = await x.h.raw('GET', created.headers['azure-asyncoperation'] ?? '');
  const link = await x.h.raw('GET', dagPath);
  const remote = findDag(x.state, names.dag)?.replicas.find((r) => !r.isLocal);
  return { op: op.body, db: link.body.properties.databases[0], remote };
}

describe('the link across collations', () => {
  it('an AG name cased differently from SQL Server fails when SQL Server is case-sensitive and the instance is not (41976)', async () => {
    const { op, db, remote } = await create(CS, CI, { partnerAvailabilityGroupName: 'ag_salesdb' });
    expect(op.status).toBe('Failed');
    expect(op.error.code).toBe(LinkErrorCodes.connectivity);
    expect(db).toMatchObject({ replicaState: 'LinkInitError', connectedState: 'DISCONNECTED' });
    expect(db.mostRecentLinkError).toContain('Error 41976');
    expect(remote?.lastConnectError?.number).toBe(41976);
  });

  it('the same request connects when both collations are case-insensitive', async () => {
    const { op, db } = await create(CI, CI, { partnerAvailabilityGroupName: 'ag_salesdb' });
    expect(op.status).toBe('Succeeded');
    expect(db).toMatchObject({ replicaState: 'Seeding', connectedState: 'CONNECTED' });
  });

  it("the instance's name cased differently in the LISTENER_URL fails when the instance is case-sensitive (41986)", async () => {
    const upper = (mi: ManagedInstanceSim) => `tcp://${mi.fqdn}:5022;Server=[${mi.name.toUpperCase()}]`;
    const mismatch = await create(CI, CS, {}, upper);
    expect(mismatch.op.status).toBe('Failed');
    expect(mismatch.db.replicaState).toBe('LinkInitError');
    expect(mismatch.remote?.lastConnectError?.number).toBe(41986);
    await h?.close();
    const same = await create(CI, CI, {}, upper);
    expect(same.op.status).toBe('Succeeded');
  });

  it('names written exactly as created connect whatever the collations', async () => {
    const { op, db } = await create(CS, CI, {});
    expect(op.status).toBe('Succeeded');
    expect(db.connectedState).toBe('CONNECTED');
  });
});
