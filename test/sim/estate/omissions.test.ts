/**
 * Leaving out any one trust step of the runbook, or getting a port or a name wrong, done by hand through
 * real clients: the link fails the way the service reports it, in ARM and in SQL Server's DMVs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../local/sim/clock.js';
import { startEstate, type RunningEstate } from '../../../local/sim/estate/estate.js';
import type { EstateSpec } from '../../../local/sim/estate/spec.js';
import { LinkErrorCodes } from '../../../local/sim/estate/truth.js';
import { ByHand } from './by-hand.js';

const SUB = '00000000-0000-0000-0000-000000000001';

function spec(): EstateSpec {
  return {
    sqlServers: [
      {
        serverName: 'SQLBOX1',
        host: 'sqlbox1.contoso.local',
        endpointAddress: '10.0.0.4',
        version: 2022,
        cu: 13,
        logins: [{ name: 'milink_admin', password: 'Pw-box1!', serverRoles: ['sysadmin'] }],
        databases: [{ name: 'SalesDb', recoveryModel: 'FULL', fullBackup: true, sizeMb: 50 }],
      },
    ],
    managedInstances: [{ subscriptionId: SUB, resourceGroup: 'rg-data', name: 'mi-prod' }],
    keyVault: { secrets: { 'sqlbox1-login': 'Pw-box1!', 'master-key': 'Mk-Secret#1' } },
  };
}

type Omission = 'upload' | 'instanceCertificate' | 'roots' | 'endpoint' | 'none';
interface Case {
  what: string;
  omit: Omission;
  put?: Record<string, unknown>;
  listener?: (fqdn: string) => string;
  code: string;
  dmv: number | null;
}

const cases: Case[] = [
  {
    what: 'no upload of the SQL Server certificate to the instance',
    omit: 'upload',
    code: LinkErrorCodes.certNotOnInstance,
    dmv: 41973,
  },
  {
    what: 'no import of the instance certificate into SQL Server',
    omit: 'instanceCertificate',
    code: LinkErrorCodes.certNotOnSqlServer,
    dmv: 41974,
  },
  {
    what: 'no MicrosoftPKI / DigiCertPKI roots',
    omit: 'roots',
    code: LinkErrorCodes.certNotOnSqlServer,
    dmv: 41974,
  },
  { what: 'no mirroring endpoint', omit: 'endpoint', code: LinkErrorCodes.connectivity, dmv: 41986 },
  {
    what: 'a wrong port in partnerEndpoint',
    omit: 'none',
    put: { partnerEndpoint: 'TCP://10.0.0.4:5023' },
    code: LinkErrorCodes.connectivity,
    dmv: 41986,
  },
  {
    what: 'a wrong address in partnerEndpoint',
    omit: 'none',
    put: { partnerEndpoint: 'TCP://10.0.0.99:5022' },
    code: LinkErrorCodes.connectivity,
    dmv: null,
  },
  {
    what: 'a wrong instance AG name',
    omit: 'none',
    put: { instanceAvailabilityGroupName: 'AG_Wrong_MI' },
    code: LinkErrorCodes.connectivity,
    dmv: 41986,
  },
  // "Troubleshoot issues with the link" (Microsoft Learn), errors initializing a link: 41976 "The
  // availability group isn't responding. Check names and configuration parameters and try again."
  {
    what: 'a wrong SQL Server AG name',
    omit: 'none',
    put: { partnerAvailabilityGroupName: 'AG_Wrong' },
    code: LinkErrorCodes.connectivity,
    dmv: 41976,
  },
  {
    what: "a LISTENER_URL that does not name the instance's FQDN",
    omit: 'none',
    listener: () => 'tcp://mi-prod.0000000000000.database.windows.net:5022;Server=[mi-prod]',
    code: LinkErrorCodes.connectivity,
    dmv: 41986,
  },
];

let estate: RunningEstate | undefined;
let hand: ByHand | undefined;
afterEach(async () => {
  await hand?.close();
  await estate?.close();
  estate = undefined;
  hand = undefined;
});

describe('the link fails the way the service reports it', () => {
  it.each(cases.map((c) => [c.what, c] as const))('with %s', async (_what, c) => {
    const clock = new VirtualClock();
    estate = await startEstate(spec(), { clock, retryAfterSeconds: 0 });
    hand = new ByHand(estate, clock);
    const h = hand;
    await h.masterKey('SQLBOX1');
    const cert = await h.sqlCertificate('SQLBOX1');
    if (c.omit !== 'upload') expect(await h.uploadToInstance(cert)).toBe('Succeeded');
    if (c.omit !== 'instanceCertificate') await h.instanceCertificate('SQLBOX1');
    if (c.omit !== 'roots') await h.roots('SQLBOX1');
    if (c.omit !== 'instanceCertificate' && c.omit !== 'roots')
      await h.validateInstanceCertificate('SQLBOX1');
    if (c.omit !== 'endpoint') await h.endpoint('SQLBOX1', 5022, cert.name);
    await h.availabilityGroups('SQLBOX1', {
      database: 'SalesDb',
      ag: 'AG_SalesDb',
      instanceAg: 'AG_SalesDb_MI',
      dag: 'DAG1_SalesDb',
      address: '10.0.0.4',
      port: 5022,
      ...(c.listener ? { instanceListener: c.listener(h.fqdn) } : {}),
    });
    const put = await h.raw('PUT', `${h.miPath}/distributedAvailabilityGroups/DAG1_SalesDb`, {
      properties: {
        instanceLinkRole: 'Secondary',
        partnerAvailabilityGroupName: 'AG_SalesDb',
        instanceAvailabilityGroupName: 'AG_SalesDb_MI',
        partnerEndpoint: 'TCP://10.0.0.4:5022',
        failoverMode: 'Manual',
        seedingMode: 'Automatic',
        databases: [{ databaseName: 'SalesDb' }],
        ...(c.put ?? {}),
      },
    });
    expect(put.status).toBe(201);
    const op = await h.finish(put.headers['azure-asyncoperation'] ?? '');
    expect(op.status).toBe('Failed');
    expect(op.error?.code).toBe(c.code);
    const link = await h.raw('GET', `${h.miPath}/distributedAvailabilityGroups/DAG1_SalesDb`);
    // "Troubleshoot issues with the link": every one of these fails while initializing the link, whose
    // state the article names LinkInitError (41962, 41973, 41974, 41976, 41986, 47521).
    expect(link.body.properties.databases[0]).toMatchObject({
      replicaState: 'LinkInitError',
      connectedState: 'DISCONNECTED',
    });
    if (c.dmv !== null)
      expect(link.body.properties.databases[0].mostRecentLinkError).toContain(`Error ${c.dmv}`);
    const dmv = await h.run(
      'SQLBOX1',
      `SELECT r.replica_server_name, rs.connected_state_desc, rs.last_connect_error_number, rs.last_connect_error_description
FROM sys.dm_hadr_availability_replica_states rs JOIN sys.availability_replicas r ON rs.replica_id = r.replica_id
JOIN sys.availability_groups ag ON ag.group_id = r.group_id WHERE ag.name = N'DAG1_SalesDb' AND r.replica_server_name = N'AG_SalesDb_MI'`,
    );
    expect(dmv.recordset[0]?.connected_state_desc).toBe('DISCONNECTED');
    expect(dmv.recordset[0]?.last_connect_error_number ?? null).toBe(c.dmv);
  });
});
