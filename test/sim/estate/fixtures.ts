/**
 * Test fixtures for the link's truth: the Azure root certificates of the runbook, and the runbook's
 * SQL Server side applied directly to a SimServerState (for tests that exercise the truth without TDS).
 */
import { randomUUID } from 'node:crypto';
import type { ManagedInstanceSim } from '../../../local/sim/azure/instances.js';
import { parseCertificateDer } from '../../../local/sim/azure/pki.js';
import type { SimReplica, SimServerState } from '../../../local/sim/sqlserver/model.js';
import { createServerCertificate, importCertificate } from '../../../local/sim/sqlserver/state.js';
import type { SqlServerEntry } from '../../../local/sim/estate/truth.js';
import { replica as simReplica } from '../../../local/sim/estate/generate.js';
import { ROOT_CERTIFICATES } from '../../../src/sql/roots.js';
import { hasReference, runbookText } from '../../helpers/runbook.js';

/**
 * The DER of the MicrosoftPKI and DigiCertPKI roots, as the runbook imports them. Without the reference
 * runbook (a clone alone), milink's own copy of the same public certificates (src/sql/roots.ts), which
 * test/unit/runbook-equivalence.test.ts compares with the runbook's wherever the runbook is present.
 */
export function azureRoots(): { microsoft: Buffer; digicert: Buffer } {
  if (!hasReference) {
    const der = (name: string) =>
      Buffer.from(ROOT_CERTIFICATES.find((r) => r.name === name)!.blob.replace(/^0x/, ''), 'hex');
    return { microsoft: der('MicrosoftPKI'), digicert: der('DigiCertPKI') };
  }
  const text = runbookText();
  const grab = (name: string) => {
    const m = new RegExp(`CREATE CERTIFICATE \\[${name}\\] FROM BINARY = 0x([0-9A-Fa-f]+)`).exec(text);
    if (!m?.[1]) throw new Error(`runbook has no ${name} certificate`);
    return Buffer.from(m[1], 'hex');
  };
  return { microsoft: grab('MicrosoftPKI'), digicert: grab('DigiCertPKI') };
}

export type RunbookStep =
  | 'sqlCertificate'
  | 'trustOnInstance'
  | 'instanceCertificateOnSql'
  | 'roots'
  | 'endpoint'
  | 'availabilityGroup'
  | 'distributedAvailabilityGroup'
  | 'grantCreateAnyDatabase';

export interface RunbookNames {
  database: string;
  ag: string;
  instanceAg: string;
  dag: string;
  port: number;
  instancePrimary?: boolean;
  /** Steps to leave out. */
  skip?: RunbookStep[];
  /** The instance member's LISTENER_URL, when a test wants it wrong. */
  instanceListenerUrl?: string;
}

/** A replica as the runbook's T-SQL makes it (SESSION_TIMEOUT = 20). */
function replica(
  over: Partial<SimReplica> & Pick<SimReplica, 'replicaServerName' | 'endpointUrl' | 'isLocal'>,
): SimReplica {
  return simReplica({ sessionTimeout: 20, ...over });
}

/** What the runbook's T-SQL leaves on SQL Server (and the certificate upload on the instance), done on the objects. */
export function applyRunbookToState(
  entry: SqlServerEntry,
  mi: ManagedInstanceSim,
  n: RunbookNames,
  now: Date,
): void {
  const s: SimServerState = entry.state;
  const skip = new Set(n.skip ?? []);
  const certName = `Cert_${s.serverName}_endpoint`;
  s.masterKey = { createdAt: now };
  if (!skip.has('sqlCertificate')) {
    createServerCertificate(
      s,
      certName,
      `Certificate for ${certName}`,
      now,
      new Date(now.getTime() + 365 * 86_400_000),
    );
  }
  const sqlCert = s.certificates.find((c) => c.name === certName);
  if (!skip.has('trustOnInstance') && sqlCert) {
    const parsed = parseCertificateDer(sqlCert.der);
    if (!parsed) throw new Error('bad certificate');
    mi.serverTrustCertificates.set(certName.toLowerCase(), {
      name: certName,
      der: sqlCert.der,
      spki: parsed.spki,
      thumbprint: parsed.thumbprint,
      expiry: parsed.validTo,
    });
  }
  if (!skip.has('instanceCertificateOnSql')) importCertificate(s, mi.fqdn, mi.endpointCertificate.der);
  if (!skip.has('roots')) {
    const roots = azureRoots();
    importCertificate(s, 'MicrosoftPKI', roots.microsoft).issuerRegistrations.push('*.database.windows.net');
    importCertificate(s, 'DigiCertPKI', roots.digicert).issuerRegistrations.push('*.database.windows.net');
  }
  if (!skip.has('endpoint')) {
    s.endpoint = {
      endpointId: 65536,
      name: 'database_mirroring_endpoint',
      state: 'STARTED',
      port: n.port,
      listenerIp: 'ALL',
      role: 'ALL',
      windowsAuth: null,
      certificateName: certName,
      certificateFirst: false,
      encryption: 'REQUIRED',
      algorithms: ['AES'],
    };
  }
  const sqlUrl = `TCP://${entry.endpointAddress}:${n.port}`;
  if (!skip.has('availabilityGroup')) {
    s.availabilityGroups.push({
      groupId: randomUUID().toUpperCase(),
      name: n.ag,
      isDistributed: false,
      clusterType: 'NONE',
      databases: n.instancePrimary ? [] : [n.database],
      replicas: [
        replica({
          replicaServerName: s.serverName,
          endpointUrl: sqlUrl,
          isLocal: true,
          availabilityMode: 'SYNCHRONOUS_COMMIT',
          synchronizationHealth: 'HEALTHY',
        }),
      ],
      createAnyDatabaseGranted: !!n.instancePrimary && !skip.has('grantCreateAnyDatabase'),
      createDate: now,
    });
  }
  if (!skip.has('distributedAvailabilityGroup')) {
    const listener =
      n.instanceListenerUrl ??
      `tcp://${mi.fqdn}:5022;Server=[${mi.name}]${n.instancePrimary ? `;Database=[${n.database}]` : ''}`;
    s.availabilityGroups.push({
      groupId: randomUUID().toUpperCase(),
      name: n.dag,
      isDistributed: true,
      clusterType: 'NONE',
      databases: [],
      replicas: [
        replica({
          replicaServerName: n.ag,
          endpointUrl: sqlUrl,
          isLocal: true,
          role: n.instancePrimary ? 'SECONDARY' : 'PRIMARY',
        }),
        replica({ replicaServerName: n.instanceAg, endpointUrl: listener, isLocal: false }),
      ],
      createAnyDatabaseGranted: false,
      createDate: now,
    });
  }
}

export function linkBody(
  n: RunbookNames,
  entry: SqlServerEntry,
  overrides: Record<string, unknown> = {},
): unknown {
  return {
    properties: {
      instanceLinkRole: n.instancePrimary ? 'Primary' : 'Secondary',
      partnerAvailabilityGroupName: n.ag,
      instanceAvailabilityGroupName: n.instanceAg,
      partnerEndpoint: `TCP://${entry.endpointAddress}:${n.port}`,
      failoverMode: 'Manual',
      seedingMode: 'Automatic',
      databases: [{ databaseName: n.database }],
      ...overrides,
    },
  };
}
