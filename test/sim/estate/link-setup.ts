/**
 * Brings links up by hand for the workload, failover and trouble tests: the runbook's trust, endpoint, AG and
 * DAG steps through mssql, the link's PUT through the ARM pipeline, then the virtual clock until connected.
 */
import { expect } from 'vitest';
import type { ByHand } from './by-hand.js';

export const SUB = '00000000-0000-0000-0000-000000000001';
export const MI_PATH = `/subscriptions/${SUB}/resourceGroups/rg-data/providers/Microsoft.Sql/managedInstances/mi-prod`;

/** The runbook's trust and endpoint steps on one SQL Server (with its own endpoint certificate name, if given). */
export async function establishTrust(
  h: ByHand,
  server: string,
  certificate?: { name: string; expiry: string },
): Promise<void> {
  await h.masterKey(server);
  let cert: { name: string; der: Buffer };
  if (certificate) {
    await h.run(
      server,
      `CREATE CERTIFICATE [${certificate.name}] WITH SUBJECT = N'Certificate for ${certificate.name}', EXPIRY_DATE = '${certificate.expiry}'`,
    );
    const pk = await h.run(server, `SELECT CERTENCODED(CERT_ID(N'${certificate.name}')) AS k`);
    cert = { name: certificate.name, der: pk.recordset[0].k as Buffer };
  } else {
    cert = await h.sqlCertificate(server);
  }
  expect(await h.uploadToInstance(cert)).toBe('Succeeded');
  await h.instanceCertificate(server);
  await h.roots(server);
  await h.endpoint(server, 5022, cert.name);
}

/** AG, DAG and the link's PUT for one database; returns once ARM says the link is Connected. */
export async function linkUp(
  h: ByHand,
  server: string,
  address: string,
  database: string,
): Promise<{ dag: string; path: string }> {
  const names = { database, ag: `AG_${database}`, instanceAg: `AG_${database}_MI`, dag: `DAG1_${database}` };
  await h.availabilityGroups(server, { ...names, address, port: 5022 });
  const path = `${h.miPath}/distributedAvailabilityGroups/${names.dag}`;
  const put = await h.raw('PUT', path, {
    properties: {
      instanceLinkRole: 'Secondary',
      partnerAvailabilityGroupName: names.ag,
      instanceAvailabilityGroupName: names.instanceAg,
      partnerEndpoint: `TCP://${address}:5022`,
      failoverMode: 'Manual',
      seedingMode: 'Automatic',
      databases: [{ databaseName: database }],
    },
  });
  expect(put.status).toBe(201);
  for (let i = 0; i < 100; i++) {
    h.clock.advance(5_000);
    const link = await h.raw('GET', path);
    if (link.body.properties.databases[0].replicaState === 'Connected') return { dag: names.dag, path };
  }
  throw new Error(`link ${names.dag} never connected`);
}

/** The lag query of "Best practices for maintaining the link" / "Fail over link", run on one side. */
export const LAG_QUERY = (
  dag: string,
) => `SELECT ag.name, ars1.role_desc, ars2.connected_state_desc, ars2.synchronization_health_desc,
  drs.secondary_lag_seconds, drs.log_send_queue_size, drs.redo_queue_size, drs.synchronization_state_desc,
  CAST(drs.last_hardened_lsn AS varchar(40)) AS last_hardened_lsn
FROM sys.availability_groups ag
JOIN sys.dm_hadr_availability_replica_states ars1 ON ag.group_id = ars1.group_id
JOIN sys.dm_hadr_availability_replica_states ars2 ON ag.group_id = ars2.group_id
JOIN sys.dm_hadr_database_replica_states drs ON ars2.replica_id = drs.replica_id
WHERE ag.is_distributed = 1 AND ag.name = N'${dag}' AND ars1.is_local = 1 AND ars2.is_local = 0`;

/** The split-brain role query of "Troubleshoot issues with the link". */
export const ROLE_QUERY = (dag: string) => `SELECT rs.role_desc FROM sys.availability_groups ag
JOIN sys.dm_hadr_availability_replica_states rs ON ag.group_id = rs.group_id
WHERE rs.is_local = 1 AND ag.is_distributed = 1 AND ag.name = N'${dag}'`;

/** The connection query of "Configure link with scripts". */
export const CONNECTION_QUERY = (dag: string) => `SELECT r.replica_server_name, rs.connected_state_desc,
  rs.last_connect_error_number, rs.last_connect_error_description
FROM sys.dm_hadr_availability_replica_states rs
JOIN sys.availability_replicas r ON rs.replica_id = r.replica_id
JOIN sys.availability_groups ag ON ag.group_id = r.group_id
WHERE ag.name = N'${dag}' AND rs.is_local = 0`;
