/** Healthy inputs for the health checks (a link from SQL Server SQLBOX1 to mi-prod), changed per test. */
import type { DagDatabase, ServerObservation } from '../../src/health/batch.js';
import type { ArmLink, SweepInput } from '../../src/health/inputs.js';

export const AT = '2026-12-01T02:00:00.000Z';
export const FQDN = 'mi-prod.abc123.database.windows.net';
export const KEY = 'mi-prod/DAG1_SalesDb';

export function healthyDatabase(): DagDatabase {
  return {
    name: 'SalesDb',
    databaseId: 5,
    state: 'ONLINE',
    recoveryModel: 'FULL',
    logReuseWait: 'AVAILABILITY_REPLICA',
    logSizeMb: 1024,
    logUsedPercent: 12,
    lastLogBackup: { finishedAt: '2026-12-01T01:00:00.000Z', ageMinutes: 60 },
    lastFullBackup: { finishedAt: '2026-11-29T01:00:00.000Z', ageMinutes: 2940 },
    local: {
      replicaId: 'L',
      isLocal: true,
      isPrimaryReplica: true,
      synchronizationState: 'SYNCHRONIZED',
      synchronizationHealth: 'HEALTHY',
      databaseState: 'ONLINE',
      isSuspended: false,
      suspendReason: null,
      lastHardenedLsn: '34000000500000001',
      lastCommitLsn: '34000000500000001',
      endOfLogLsn: '34000000500000001',
      lastCommitTime: AT,
      logSendQueueKb: null,
      logSendRateKbPerSec: null,
      redoQueueKb: null,
      redoRateKbPerSec: null,
      secondaryLagSeconds: null,
    },
    remote: {
      replicaId: 'R',
      isLocal: false,
      isPrimaryReplica: false,
      synchronizationState: 'SYNCHRONIZING',
      synchronizationHealth: 'HEALTHY',
      databaseState: null,
      isSuspended: false,
      suspendReason: null,
      lastHardenedLsn: '34000000500000001',
      lastCommitLsn: '34000000500000001',
      endOfLogLsn: '34000000500000001',
      lastCommitTime: AT,
      logSendQueueKb: 12,
      logSendRateKbPerSec: null,
      redoQueueKb: 4,
      redoRateKbPerSec: null,
      secondaryLagSeconds: 2,
    },
    seeding: [
      {
        operationId: 'OP1',
        state: 'COMPLETED',
        startedAt: '2026-11-29T01:10:00.000Z',
        completedAt: '2026-11-29T01:20:00.000Z',
        transferredBytes: 104857600,
        databaseSizeBytes: 104857600,
        errorCode: null,
        failure: null,
      },
    ],
  };
}

export function healthyServer(): ServerObservation {
  return {
    serverName: 'SQLBOX1',
    observedAt: AT,
    version: { productVersion: '16.0.4125.3', major: 16, cu: 13, edition: 'Enterprise Edition (64-bit)' },
    traceFlag12381: false,
    endpoint: {
      name: 'ep',
      state: 'STARTED',
      port: 5022,
      auth: 'CERTIFICATE',
      certificateName: 'Cert_SQLBOX1',
    },
    certificates: [
      {
        id: 256,
        name: 'Cert_SQLBOX1',
        privateKey: true,
        issuer: 'Cert_SQLBOX1',
        subject: 'Cert_SQLBOX1',
        startDate: '2026-01-01T00:00:00.000Z',
        expiryDate: '2027-06-01T00:00:00.000Z',
        isEndpointCertificate: true,
        chain: null,
      },
      {
        id: 257,
        name: FQDN,
        privateKey: false,
        issuer: 'C=US, O=Microsoft Corporation, CN=Microsoft Azure RSA TLS Issuing CA 08',
        subject: FQDN,
        startDate: '2026-01-01T00:00:00.000Z',
        expiryDate: '2027-06-01T00:00:00.000Z',
        isEndpointCertificate: false,
        chain: { valid: true },
      },
    ],
    dags: [
      {
        name: 'DAG1_SalesDb',
        groupId: 'G1',
        local: {
          replicaId: 'L',
          memberName: 'AG_SalesDb',
          endpointUrl: 'TCP://10.0.0.4:5022',
          isLocal: true,
          role: 'PRIMARY',
          connectedState: 'CONNECTED',
          synchronizationHealth: 'HEALTHY',
          availabilityMode: 'ASYNCHRONOUS_COMMIT',
          lastConnectError: null,
        },
        remote: {
          replicaId: 'R',
          memberName: 'AG_SalesDb_MI',
          endpointUrl: `tcp://${FQDN}:5022;Server=[mi-prod]`,
          isLocal: false,
          role: 'SECONDARY',
          connectedState: 'CONNECTED',
          synchronizationHealth: 'HEALTHY',
          availabilityMode: 'ASYNCHRONOUS_COMMIT',
          lastConnectError: null,
        },
        databases: [healthyDatabase()],
      },
    ],
  };
}

export function healthyArmLink(): ArmLink {
  return {
    name: 'DAG1_SalesDb',
    properties: {
      distributedAvailabilityGroupName: 'DAG1_SalesDb',
      partnerAvailabilityGroupName: 'AG_SalesDb',
      instanceAvailabilityGroupName: 'AG_SalesDb_MI',
      partnerEndpoint: 'TCP://10.0.0.4:5022',
      replicationMode: 'Async',
      instanceLinkRole: 'Secondary',
      partnerLinkRole: 'Primary',
      failoverMode: 'Manual',
      seedingMode: 'Automatic',
      databases: [
        {
          databaseName: 'SalesDb',
          replicaState: 'Catchup',
          synchronizationHealth: 'HEALTHY',
          connectedState: 'CONNECTED',
          lastHardenedLsn: '34000000500000001',
          partnerAuthCertValidity: { certificateName: 'Cert_SQLBOX1', expiryDate: '2027-06-01T00:00:00Z' },
          instanceSendReplicationLagSeconds: 0,
          instanceRedoReplicationLagSeconds: 0,
        },
      ],
    },
  };
}

/** One healthy managed link; `change` edits the server observation and the ARM link in place. */
export function healthyInput(
  change: (x: { server: ServerObservation; arm: ArmLink; input: SweepInput }) => void = () => {},
): SweepInput {
  const server = healthyServer();
  const arm = healthyArmLink();
  const input: SweepInput = {
    at: AT,
    inventory: [{ instance: 'mi-prod', linkName: 'DAG1_SalesDb', sqlServer: 'SQLBOX1', database: 'SalesDb' }],
    servers: [{ sqlServer: 'SQLBOX1', observation: server }],
    instances: [{ instance: 'mi-prod', links: [arm], databaseFormat: 'SQLServer2022' }],
  };
  change({ server, arm, input });
  return input;
}

export const db0 = (s: ServerObservation) => s.dags[0]!.databases[0]!;
export const armDb0 = (a: ArmLink) => a.properties.databases![0]!;
