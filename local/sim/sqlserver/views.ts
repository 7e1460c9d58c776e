/**
 * Catalog views and DMVs, computed from the state objects every time they are read (the estate changes
 * those objects between queries; nothing here is cached).
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { SimAvailabilityGroup, SimDatabase, SimReplica, SimServerState } from './model.js';
import { T, type SqlType, type Value } from './tsql/values.js';

export interface ViewContext {
  state: SimServerState;
  /** database the view is read in (current database or the three-part name's database) */
  database: SimDatabase;
  clock: Clock;
}

export type Row = Record<string, Value | undefined>;

export interface ViewDef {
  columns: Array<[string, SqlType]>;
  rows(ctx: ViewContext): Row[];
}

const N = T.nvarchar(128);
const N60 = T.nvarchar(60);
const NMAX = T.nvarchar(4000);

/** A stable GUID derived from text (group_database_id and the like). */
export function derivedGuid(text: string): string {
  const h = createHash('sha1').update(text).digest('hex').toUpperCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

const DB_STATE: Record<string, number> = { ONLINE: 0, RESTORING: 1, RECOVERING: 2, OFFLINE: 6 };
const RECOVERY: Record<string, number> = { FULL: 1, BULK_LOGGED: 2, SIMPLE: 3 };
const ROLE: Record<string, number> = { RESOLVING: 0, PRIMARY: 1, SECONDARY: 2 };
const HEALTH: Record<string, number> = { NOT_HEALTHY: 0, PARTIALLY_HEALTHY: 1, HEALTHY: 2 };
const SYNC_STATE: Record<string, number> = {
  'NOT SYNCHRONIZING': 0,
  SYNCHRONIZING: 1,
  SYNCHRONIZED: 2,
  REVERTING: 3,
  INITIALIZING: 4,
};
const AVAIL_MODE: Record<string, number> = {
  ASYNCHRONOUS_COMMIT: 0,
  SYNCHRONOUS_COMMIT: 1,
  CONFIGURATION_ONLY: 4,
};
const CLUSTER: Record<string, number> = { WSFC: 0, EXTERNAL: 1, NONE: 2 };

function isMaster(ctx: ViewContext): boolean {
  return ctx.database.name.toLowerCase() === 'master';
}

function agOfDatabase(state: SimServerState, dbName: string): SimAvailabilityGroup | undefined {
  return state.availabilityGroups.find(
    (g) => !g.isDistributed && g.databases.some((d) => d.toLowerCase() === dbName.toLowerCase()),
  );
}

function localReplica(ag: SimAvailabilityGroup): SimReplica | undefined {
  return ag.replicas.find((r) => r.isLocal);
}

export function compatibilityLevel(state: SimServerState): number {
  return state.version.major * 10;
}

/** sys.database_mirroring_endpoints.connection_auth and its description. */
export function connectionAuth(e: NonNullable<SimServerState['endpoint']>): [number, string] {
  const win = e.windowsAuth;
  const cert = e.certificateName !== null;
  const w = { NTLM: 1, KERBEROS: 2, NEGOTIATE: 3 } as const;
  if (win && !cert) return [w[win], win];
  if (!win && cert) return [4, 'CERTIFICATE'];
  if (win && cert)
    return e.certificateFirst ? [7 + w[win], `CERTIFICATE, ${win}`] : [4 + w[win], `${win}, CERTIFICATE`];
  return [0, 'NONE'];
}

export function encryptionAlgorithm(e: NonNullable<SimServerState['endpoint']>): [number, string] {
  if (e.encryption === 'DISABLED') return [0, 'NONE'];
  const algs = e.algorithms.join(', ');
  const table: Record<string, [number, string]> = {
    'REQUIRED:RC4': [1, 'RC4'],
    'REQUIRED:AES': [2, 'AES'],
    'SUPPORTED:RC4': [3, 'NONE, RC4'],
    'SUPPORTED:AES': [4, 'NONE, AES'],
    'REQUIRED:RC4, AES': [5, 'RC4, AES'],
    'REQUIRED:AES, RC4': [6, 'AES, RC4'],
    'SUPPORTED:RC4, AES': [7, 'NONE, RC4, AES'],
    'SUPPORTED:AES, RC4': [8, 'NONE, AES, RC4'],
  };
  return table[`${e.encryption}:${algs}`] ?? [2, 'AES'];
}

const STATE_CODE = { STARTED: 0, STOPPED: 1, DISABLED: 2 } as const;
const ROLE_CODE = { ALL: 3, PARTNER: 1, WITNESS: 2 } as const;

/** The endpoints SQL Server always has (TSQL), then the mirroring endpoint. */
function endpointRows(ctx: ViewContext): Row[] {
  const builtIn: Array<[string, number, number | null, number]> = [
    ['Dedicated Admin Connection', 1, 1434, 1],
    ['TSQL Local Machine', 2, null, 0],
    ['TSQL Named Pipes', 3, null, 0],
    ['TSQL Default TCP', 4, 1433, 0],
    ['TSQL Default VIA', 5, null, 0],
  ];
  const rows: Row[] = builtIn.map(([name, id, port, admin]) => ({
    name,
    endpoint_id: id,
    principal_id: 1,
    protocol: id === 2 ? 4 : id === 3 ? 3 : id === 5 ? 5 : 2,
    protocol_desc: id === 2 ? 'SHARED_MEMORY' : id === 3 ? 'NAMED_PIPES' : id === 5 ? 'VIA' : 'TCP',
    type: 2,
    type_desc: 'TSQL',
    state: id === 5 ? 1 : 0,
    state_desc: id === 5 ? 'STOPPED' : 'STARTED',
    is_admin_endpoint: admin,
    port,
    is_dynamic_port: 0,
    ip_address: null,
  }));
  const e = ctx.state.endpoint;
  if (e) {
    rows.push({
      name: e.name,
      endpoint_id: e.endpointId,
      principal_id: 1,
      protocol: 2,
      protocol_desc: 'TCP',
      type: 4,
      type_desc: 'DATABASE_MIRRORING',
      state: STATE_CODE[e.state],
      state_desc: e.state,
      is_admin_endpoint: 0,
      port: e.port,
      is_dynamic_port: 0,
      ip_address: e.listenerIp === 'ALL' ? null : e.listenerIp,
    });
  }
  return rows;
}

const ENDPOINT_COLUMNS: Array<[string, SqlType]> = [
  ['name', N],
  ['endpoint_id', T.int],
  ['principal_id', T.int],
  ['protocol', T.tinyint],
  ['protocol_desc', N60],
  ['type', T.tinyint],
  ['type_desc', N60],
  ['state', T.tinyint],
  ['state_desc', N60],
  ['is_admin_endpoint', T.bit],
];

/**
 * "sys.dm_hadr_database_replica_states": on the primary, a secondary database's row carries what was sent,
 * received, hardened and redone, and the send and redo rates (KB/s); the primary's own row leaves them NULL.
 * The stand-in keeps no history of rates: a queue is taken to drain within the lag, so the rate is queue ÷ lag
 * (0 when the queue is empty, NULL while not connected).
 */
function secondaryFlow(r: SimServerState['databaseReplicaStates'][number]): {
  lsn: bigint | null;
  time: Date | null;
  sendRate: bigint | null;
  redoRate: bigint | null;
} {
  if (r.isPrimaryReplica || r.synchronizationState === 'NOT SYNCHRONIZING' || r.lastHardenedLsn === null)
    return { lsn: null, time: null, sendRate: null, redoRate: null };
  const seconds = Math.max(1, r.secondaryLagSeconds ?? 1);
  const rate = (kb: number | null) => BigInt(Math.round((kb ?? 0) / seconds));
  return {
    lsn: r.lastHardenedLsn,
    time: r.lastCommitTime,
    sendRate: rate(r.logSendQueueSizeKb),
    redoRate: rate(r.redoQueueSizeKb),
  };
}

function hadrDbRow(ctx: ViewContext, r: SimServerState['databaseReplicaStates'][number]): Row {
  const db = ctx.state.databases.find((d) => d.name.toLowerCase() === r.databaseName.toLowerCase());
  const flow = secondaryFlow(r);
  return {
    database_id: db ? db.databaseId : null,
    group_id: r.groupId,
    replica_id: r.replicaId,
    group_database_id: derivedGuid(`${r.groupId}/${r.databaseName.toLowerCase()}`),
    is_local: r.isLocal ? 1 : 0,
    is_primary_replica: r.isPrimaryReplica ? 1 : 0,
    synchronization_state: SYNC_STATE[r.synchronizationState] ?? 0,
    synchronization_state_desc: r.synchronizationState,
    is_commit_participant: 0,
    synchronization_health: HEALTH[r.synchronizationHealth] ?? 0,
    synchronization_health_desc: r.synchronizationHealth,
    database_state: r.isLocal && db ? DB_STATE[db.state] : null,
    database_state_desc: r.isLocal && db ? db.state : null,
    is_suspended: 0,
    suspend_reason: null,
    suspend_reason_desc: null,
    recovery_lsn: null,
    truncation_lsn: null,
    last_sent_lsn: flow.lsn,
    last_sent_time: flow.time,
    last_received_lsn: flow.lsn,
    last_received_time: flow.time,
    last_hardened_lsn: r.lastHardenedLsn,
    last_hardened_time: r.lastCommitTime,
    last_redone_lsn: flow.lsn,
    last_redone_time: flow.time,
    log_send_queue_size: r.logSendQueueSizeKb === null ? null : BigInt(Math.round(r.logSendQueueSizeKb)),
    log_send_rate: flow.sendRate,
    redo_queue_size: r.redoQueueSizeKb === null ? null : BigInt(Math.round(r.redoQueueSizeKb)),
    redo_rate: flow.redoRate,
    filestream_send_rate: null,
    end_of_log_lsn: r.isPrimaryReplica && db ? db.currentLsn : r.lastHardenedLsn,
    last_commit_lsn: r.lastCommitLsn,
    last_commit_time: r.lastCommitTime,
    low_water_mark_for_ghosts: null,
    secondary_lag_seconds: r.secondaryLagSeconds === null ? null : BigInt(Math.round(r.secondaryLagSeconds)),
  };
}

function backupRows(ctx: ViewContext): Row[] {
  const rows: Row[] = [];
  let id = 0;
  for (const db of ctx.state.databases) {
    for (const b of db.backups) {
      id++;
      rows.push({
        backup_set_id: id,
        media_set_id: id,
        database_name: db.name,
        server_name: ctx.state.serverName,
        machine_name: ctx.state.serverName.split('\\')[0]!,
        type: b.type,
        is_copy_only: b.isCopyOnly ? 1 : 0,
        backup_start_date: b.startDate,
        backup_finish_date: b.finishDate,
        first_lsn: b.firstLsn,
        last_lsn: b.lastLsn,
        database_backup_lsn: b.firstLsn,
        recovery_model: db.recoveryModel,
        backup_size: BigInt(db.files.reduce((s, f) => s + f.sizePages * 8192, 0)),
        physical_device_name: b.physicalDeviceName,
        device_type: 2,
      });
    }
  }
  return rows;
}

/** sys.databases.log_reuse_wait codes of the reasons the stand-in knows. */
const LOG_REUSE_WAIT = { NOTHING: 0, LOG_BACKUP: 2, AVAILABILITY_REPLICA: 9 } as const;

function logReuseWait(d: SimDatabase, inAg: boolean, hasFull: boolean): keyof typeof LOG_REUSE_WAIT {
  if (d.logReuseWait) return d.logReuseWait;
  if (inAg) return 'AVAILABILITY_REPLICA';
  return d.recoveryModel !== 'SIMPLE' && hasFull ? 'LOG_BACKUP' : 'NOTHING';
}

export const VIEWS: Record<string, ViewDef> = {
  'sys.certificates': {
    columns: [
      ['name', N],
      ['certificate_id', T.int],
      ['principal_id', T.int],
      ['pvt_key_encryption_type', T.nvarchar(2)],
      ['pvt_key_encryption_type_desc', N60],
      ['is_active_for_begin_dialog', T.bit],
      ['issuer_name', T.nvarchar(442)],
      ['cert_serial_number', T.nvarchar(64)],
      ['sid', T.varbinary(85)],
      ['string_sid', T.nvarchar(128)],
      ['subject', NMAX],
      ['expiry_date', T.datetime],
      ['start_date', T.datetime],
      ['thumbprint', T.varbinary(32)],
      ['attested_by', NMAX],
      ['pvt_key_last_backup_date', T.datetime],
      ['key_length', T.int],
    ],
    rows: (ctx) =>
      isMaster(ctx)
        ? ctx.state.certificates.map((c) => {
            const x = new X509Certificate(c.der);
            return {
              name: c.name,
              certificate_id: c.certificateId,
              principal_id: 1,
              pvt_key_encryption_type: c.pvtKeyEncryptionType,
              pvt_key_encryption_type_desc:
                c.pvtKeyEncryptionType === 'MK' ? 'ENCRYPTED_BY_MASTER_KEY' : 'NO_PRIVATE_KEY',
              is_active_for_begin_dialog: 1,
              issuer_name: c.issuerName,
              cert_serial_number: x.serialNumber.toLowerCase().replace(/(..)(?!$)/g, '$1 '),
              sid: Buffer.concat([Buffer.from([1, 6, 0, 0, 0, 0, 0, 9, 1, 0, 0, 0]), c.thumbprint]),
              string_sid: null,
              subject: c.subject,
              expiry_date: c.expiryDate,
              start_date: c.startDate,
              thumbprint: c.thumbprint,
              attested_by: null,
              pvt_key_last_backup_date: null,
              key_length: x.publicKey.asymmetricKeyDetails?.modulusLength ?? 2048,
            };
          })
        : [],
  },
  'sys.symmetric_keys': {
    columns: [
      ['name', N],
      ['principal_id', T.int],
      ['symmetric_key_id', T.int],
      ['key_length', T.int],
      ['key_algorithm', T.nvarchar(2)],
      ['algorithm_desc', N60],
      ['create_date', T.datetime],
      ['modify_date', T.datetime],
      ['key_guid', T.guid],
      ['key_thumbprint', T.varbinary(32)],
      ['provider_type', N60],
      ['cryptographic_provider_guid', T.guid],
      ['cryptographic_provider_algid', T.nvarchar(60)],
    ],
    rows: (ctx) => {
      if (!isMaster(ctx)) return [];
      const rows: Row[] = [];
      const key = (name: string, id: number, created: Date): Row => ({
        name,
        principal_id: 1,
        symmetric_key_id: id,
        key_length: 256,
        key_algorithm: 'A3',
        algorithm_desc: 'AES_256',
        create_date: created,
        modify_date: created,
        key_guid: derivedGuid(`${ctx.state.serverName}/${name}/${created.toISOString()}`),
        key_thumbprint: null,
        provider_type: null,
        cryptographic_provider_guid: null,
        cryptographic_provider_algid: null,
      });
      if (ctx.state.masterKey) rows.push(key('##MS_DatabaseMasterKey##', 101, ctx.state.masterKey.createdAt));
      const master = ctx.state.databases.find((d) => d.name === 'master');
      rows.push(key('##MS_ServiceMasterKey##', 102, master?.createDate ?? ctx.clock.now()));
      return rows;
    },
  },
  'sys.endpoints': { columns: ENDPOINT_COLUMNS, rows: endpointRows },
  'sys.tcp_endpoints': {
    columns: [
      ...ENDPOINT_COLUMNS,
      ['port', T.int],
      ['is_dynamic_port', T.bit],
      ['ip_address', T.nvarchar(45)],
    ],
    rows: (ctx) => endpointRows(ctx).filter((r) => r.protocol === 2),
  },
  'sys.database_mirroring_endpoints': {
    columns: [
      ...ENDPOINT_COLUMNS,
      ['role', T.tinyint],
      ['role_desc', N60],
      ['is_encryption_enabled', T.bit],
      ['connection_auth', T.tinyint],
      ['connection_auth_desc', N60],
      ['certificate_id', T.int],
      ['encryption_algorithm', T.tinyint],
      ['encryption_algorithm_desc', N60],
    ],
    rows: (ctx) => {
      const e = ctx.state.endpoint;
      if (!e) return [];
      const base = endpointRows(ctx).find((r) => r.endpoint_id === e.endpointId)!;
      const [auth, authDesc] = connectionAuth(e);
      const [alg, algDesc] = encryptionAlgorithm(e);
      const cert = e.certificateName
        ? ctx.state.certificates.find((c) => c.name.toLowerCase() === e.certificateName!.toLowerCase())
        : undefined;
      return [
        {
          ...base,
          role: ROLE_CODE[e.role],
          role_desc: e.role,
          is_encryption_enabled: e.encryption === 'DISABLED' ? 0 : 1,
          connection_auth: auth,
          connection_auth_desc: authDesc,
          certificate_id: cert ? cert.certificateId : 0,
          encryption_algorithm: alg,
          encryption_algorithm_desc: algDesc,
        },
      ];
    },
  },
  'sys.availability_groups': {
    columns: [
      ['group_id', T.guid],
      ['name', N],
      ['resource_id', T.nvarchar(40)],
      ['resource_group_id', T.nvarchar(40)],
      ['failure_condition_level', T.int],
      ['health_check_timeout', T.int],
      ['automated_backup_preference', T.tinyint],
      ['automated_backup_preference_desc', N60],
      ['version', T.smallint],
      ['basic_features', T.bit],
      ['dtc_support', T.bit],
      ['db_failover', T.bit],
      ['is_distributed', T.bit],
      ['cluster_type', T.tinyint],
      ['cluster_type_desc', N60],
      ['required_synchronized_secondaries_to_commit', T.int],
      ['sequence_number', T.bigint],
      ['is_contained', T.bit],
    ],
    rows: (ctx) =>
      ctx.state.availabilityGroups.map((g, i) => ({
        group_id: g.groupId,
        name: g.name,
        resource_id: g.isDistributed ? null : g.groupId.toLowerCase(),
        resource_group_id: g.isDistributed ? null : g.groupId.toLowerCase(),
        failure_condition_level: g.isDistributed ? null : 3,
        health_check_timeout: g.isDistributed ? null : 30000,
        automated_backup_preference: g.isDistributed ? null : 2,
        automated_backup_preference_desc: g.isDistributed ? null : 'secondary',
        version: 1,
        basic_features: 0,
        dtc_support: 0,
        db_failover: 0,
        is_distributed: g.isDistributed ? 1 : 0,
        cluster_type: CLUSTER[g.clusterType],
        cluster_type_desc: g.clusterType.toLowerCase(),
        required_synchronized_secondaries_to_commit: 0,
        sequence_number: BigInt(1000 + i),
        is_contained: 0,
      })),
  },
  'sys.availability_replicas': {
    columns: [
      ['replica_id', T.guid],
      ['group_id', T.guid],
      ['replica_metadata_id', T.int],
      ['replica_server_name', T.nvarchar(256)],
      ['owner_sid', T.varbinary(85)],
      ['endpoint_url', T.nvarchar(256)],
      ['availability_mode', T.tinyint],
      ['availability_mode_desc', N60],
      ['failover_mode', T.tinyint],
      ['failover_mode_desc', N60],
      ['session_timeout', T.int],
      ['primary_role_allow_connections', T.tinyint],
      ['primary_role_allow_connections_desc', N60],
      ['secondary_role_allow_connections', T.tinyint],
      ['secondary_role_allow_connections_desc', N60],
      ['create_date', T.datetime],
      ['modify_date', T.datetime],
      ['backup_priority', T.int],
      ['read_only_routing_url', T.nvarchar(256)],
      ['seeding_mode', T.tinyint],
      ['seeding_mode_desc', N60],
    ],
    rows: (ctx) =>
      ctx.state.availabilityGroups.flatMap((g) =>
        g.replicas.map((r, i) => ({
          replica_id: r.replicaId,
          group_id: g.groupId,
          replica_metadata_id: r.isLocal ? 65536 + i : null,
          replica_server_name: r.replicaServerName,
          owner_sid: r.isLocal ? Buffer.from([1]) : null,
          endpoint_url: r.endpointUrl,
          availability_mode: AVAIL_MODE[r.availabilityMode],
          availability_mode_desc: r.availabilityMode,
          failover_mode: r.failoverMode === 'AUTOMATIC' ? 0 : 1,
          failover_mode_desc: r.failoverMode,
          session_timeout: r.sessionTimeout,
          primary_role_allow_connections: 2,
          primary_role_allow_connections_desc: 'ALL',
          secondary_role_allow_connections: 0,
          secondary_role_allow_connections_desc: 'NO',
          create_date: g.createDate,
          modify_date: g.createDate,
          backup_priority: 50,
          read_only_routing_url: null,
          seeding_mode: r.seedingMode === 'AUTOMATIC' ? 0 : 1,
          seeding_mode_desc: r.seedingMode,
        })),
      ),
  },
  'sys.dm_hadr_availability_replica_states': {
    columns: [
      ['replica_id', T.guid],
      ['group_id', T.guid],
      ['is_local', T.bit],
      ['role', T.tinyint],
      ['role_desc', N60],
      ['operational_state', T.tinyint],
      ['operational_state_desc', N60],
      ['connected_state', T.tinyint],
      ['connected_state_desc', N60],
      ['recovery_health', T.tinyint],
      ['recovery_health_desc', N60],
      ['synchronization_health', T.tinyint],
      ['synchronization_health_desc', N60],
      ['last_connect_error_number', T.int],
      ['last_connect_error_description', NMAX],
      ['last_connect_error_timestamp', T.datetime],
      ['write_lease_remaining_ticks', T.bigint],
      ['current_configuration_commit_start_time_utc', T.datetime],
    ],
    rows: (ctx) =>
      ctx.state.availabilityGroups.flatMap((g) =>
        g.replicas.map((r) => ({
          replica_id: r.replicaId,
          group_id: g.groupId,
          is_local: r.isLocal ? 1 : 0,
          role: ROLE[r.role],
          role_desc: r.role,
          operational_state: r.isLocal ? (r.role === 'PRIMARY' ? 2 : 2) : null,
          operational_state_desc: r.isLocal ? 'ONLINE' : null,
          connected_state: r.connectedState === 'CONNECTED' ? 1 : 0,
          connected_state_desc: r.connectedState,
          recovery_health: r.isLocal ? 1 : null,
          recovery_health_desc: r.isLocal ? 'ONLINE' : null,
          synchronization_health: HEALTH[r.synchronizationHealth],
          synchronization_health_desc: r.synchronizationHealth,
          last_connect_error_number: r.lastConnectError?.number ?? null,
          last_connect_error_description: r.lastConnectError?.description ?? null,
          last_connect_error_timestamp: r.lastConnectError?.timestamp ?? null,
          write_lease_remaining_ticks: r.isLocal && r.role === 'PRIMARY' ? 9223372036854775807n : null,
          current_configuration_commit_start_time_utc: null,
        })),
      ),
  },
  'sys.dm_hadr_availability_group_states': {
    columns: [
      ['group_id', T.guid],
      ['primary_replica', T.nvarchar(128)],
      ['primary_recovery_health', T.tinyint],
      ['primary_recovery_health_desc', N60],
      ['secondary_recovery_health', T.tinyint],
      ['secondary_recovery_health_desc', N60],
      ['synchronization_health', T.tinyint],
      ['synchronization_health_desc', N60],
    ],
    rows: (ctx) =>
      ctx.state.availabilityGroups.map((g) => {
        const primary = g.replicas.find((r) => r.role === 'PRIMARY');
        const local = g.replicas.find((r) => r.isLocal);
        const worst = g.replicas.reduce((w, r) => Math.min(w, HEALTH[r.synchronizationHealth] ?? 0), 2);
        const isPrimary = local?.role === 'PRIMARY';
        return {
          group_id: g.groupId,
          primary_replica: primary?.replicaServerName ?? null,
          primary_recovery_health: isPrimary ? 1 : null,
          primary_recovery_health_desc: isPrimary ? 'ONLINE' : null,
          secondary_recovery_health: isPrimary ? null : 1,
          secondary_recovery_health_desc: isPrimary ? null : 'ONLINE',
          synchronization_health: worst,
          synchronization_health_desc: ['NOT_HEALTHY', 'PARTIALLY_HEALTHY', 'HEALTHY'][worst],
        };
      }),
  },
  'sys.availability_databases_cluster': {
    columns: [
      ['group_id', T.guid],
      ['group_database_id', T.guid],
      ['database_name', N],
      ['truncation_lsn', T.numeric()],
    ],
    rows: (ctx) =>
      ctx.state.availabilityGroups.flatMap((g) =>
        g.databases.map((d) => ({
          group_id: g.groupId,
          group_database_id: derivedGuid(`${g.groupId}/${d.toLowerCase()}`),
          database_name: d,
          truncation_lsn: null,
        })),
      ),
  },
  'sys.dm_hadr_database_replica_states': {
    columns: [
      ['database_id', T.int],
      ['group_id', T.guid],
      ['replica_id', T.guid],
      ['group_database_id', T.guid],
      ['is_local', T.bit],
      ['is_primary_replica', T.bit],
      ['synchronization_state', T.tinyint],
      ['synchronization_state_desc', N60],
      ['is_commit_participant', T.bit],
      ['synchronization_health', T.tinyint],
      ['synchronization_health_desc', N60],
      ['database_state', T.tinyint],
      ['database_state_desc', N60],
      ['is_suspended', T.bit],
      ['suspend_reason', T.tinyint],
      ['suspend_reason_desc', N60],
      ['recovery_lsn', T.numeric()],
      ['truncation_lsn', T.numeric()],
      ['last_sent_lsn', T.numeric()],
      ['last_sent_time', T.datetime],
      ['last_received_lsn', T.numeric()],
      ['last_received_time', T.datetime],
      ['last_hardened_lsn', T.numeric()],
      ['last_hardened_time', T.datetime],
      ['last_redone_lsn', T.numeric()],
      ['last_redone_time', T.datetime],
      ['log_send_queue_size', T.bigint],
      ['log_send_rate', T.bigint],
      ['redo_queue_size', T.bigint],
      ['redo_rate', T.bigint],
      ['filestream_send_rate', T.bigint],
      ['end_of_log_lsn', T.numeric()],
      ['last_commit_lsn', T.numeric()],
      ['last_commit_time', T.datetime],
      ['low_water_mark_for_ghosts', T.bigint],
      ['secondary_lag_seconds', T.bigint],
    ],
    rows: (ctx) => ctx.state.databaseReplicaStates.map((r) => hadrDbRow(ctx, r)),
  },
  // "sys.dm_hadr_database_replica_cluster_states": which replica holds log truncation when
  // sys.databases.log_reuse_wait_desc is AVAILABILITY_REPLICA (truncation_lsn), and whether each database
  // replica is ready for failover (marked synchronized) and joined.
  'sys.dm_hadr_database_replica_cluster_states': {
    columns: [
      ['replica_id', T.guid],
      ['group_database_id', T.guid],
      ['database_name', N],
      ['is_failover_ready', T.bit],
      ['is_pending_secondary_suspend', T.bit],
      ['is_database_joined', T.bit],
      ['recovery_lsn', T.numeric()],
      ['truncation_lsn', T.numeric()],
    ],
    rows: (ctx) => {
      const rows = ctx.state.databaseReplicaStates;
      return rows.map((r) => {
        const group = rows.filter(
          (x) => x.groupId === r.groupId && x.databaseName.toLowerCase() === r.databaseName.toLowerCase(),
        );
        // the AG may truncate the primary's log only up to what every replica has hardened
        const hardened = group.map((x) => x.lastHardenedLsn).filter((x): x is bigint => x !== null);
        const lowest = hardened.length ? hardened.reduce((a, b) => (b < a ? b : a)) : null;
        return {
          replica_id: r.replicaId,
          group_database_id: derivedGuid(`${r.groupId}/${r.databaseName.toLowerCase()}`),
          database_name: r.databaseName,
          is_failover_ready: r.synchronizationState === 'SYNCHRONIZED' ? 1 : 0,
          is_pending_secondary_suspend: 0,
          is_database_joined: r.isLocal || r.synchronizationState !== 'NOT SYNCHRONIZING' ? 1 : 0,
          recovery_lsn: null,
          truncation_lsn: r.isPrimaryReplica ? lowest : r.lastHardenedLsn,
        };
      });
    },
  },
  'sys.dm_hadr_physical_seeding_stats': {
    columns: [
      ['local_physical_seeding_id', T.guid],
      ['remote_physical_seeding_id', T.guid],
      ['local_database_id', T.int],
      ['local_database_name', N],
      ['remote_machine_name', T.nvarchar(256)],
      ['role_desc', N60],
      ['internal_state_desc', N60],
      ['transfer_rate_bytes_per_second', T.bigint],
      ['transferred_size_bytes', T.bigint],
      ['database_size_bytes', T.bigint],
      ['start_time_utc', T.datetime],
      ['end_time_utc', T.datetime],
      ['estimate_time_complete_utc', T.datetime],
      ['total_disk_io_wait_time_ms', T.bigint],
      ['total_network_wait_time_ms', T.bigint],
      ['failure_code', T.int],
      ['failure_message', NMAX],
      ['failure_time_utc', T.datetime],
      ['is_compression_enabled', T.bit],
    ],
    rows: (ctx) =>
      ctx.state.seedings.map((s) => {
        const db = ctx.state.databases.find((d) => d.name.toLowerCase() === s.databaseName.toLowerCase());
        return {
          local_physical_seeding_id: s.localPhysicalSeedingId,
          remote_physical_seeding_id: derivedGuid(`remote/${s.localPhysicalSeedingId}`),
          local_database_id: db?.databaseId ?? null,
          local_database_name: s.databaseName,
          remote_machine_name: s.remoteMachineName,
          role_desc: s.roleDesc,
          internal_state_desc:
            s.currentState === 'COMPLETED'
              ? 'Success'
              : s.currentState === 'FAILED'
                ? 'Failed'
                : s.currentState === 'SEEDING'
                  ? 'ReadingAndSendingData'
                  : 'WaitingForRemote',
          transfer_rate_bytes_per_second: BigInt(Math.round(s.transferRateBytesPerSecond)),
          transferred_size_bytes: BigInt(Math.round(s.transferredSizeBytes)),
          database_size_bytes: BigInt(Math.round(s.databaseSizeBytes)),
          start_time_utc: s.startTime,
          end_time_utc: s.completionTime,
          estimate_time_complete_utc: s.estimateTimeComplete,
          total_disk_io_wait_time_ms: 0n,
          total_network_wait_time_ms: 0n,
          failure_code: s.currentState === 'FAILED' ? s.errorCode : null,
          failure_message: s.currentState === 'FAILED' ? s.failureStateDesc : null,
          failure_time_utc: s.currentState === 'FAILED' ? s.completionTime : null,
          is_compression_enabled: ctx.state.traceFlags.includes(9567) ? 1 : 0,
        };
      }),
  },
  'sys.dm_hadr_automatic_seeding': {
    columns: [
      ['start_time', T.datetime],
      ['completion_time', T.datetime],
      ['ag_id', T.guid],
      ['ag_db_id', T.guid],
      ['ag_remote_replica_id', T.guid],
      ['operation_id', T.guid],
      ['is_source', T.bit],
      ['current_state', N60],
      ['performed_seeding', T.bit],
      ['failure_state', T.int],
      ['failure_state_desc', N60],
      ['error_code', T.int],
      ['number_of_attempts', T.int],
    ],
    rows: (ctx) =>
      ctx.state.seedings.map((s) => {
        const g = ctx.state.availabilityGroups.find((x) => x.groupId === s.groupId);
        const remote = g?.replicas.find((r) => !r.isLocal);
        return {
          start_time: s.startTime,
          completion_time: s.completionTime,
          ag_id: s.groupId,
          ag_db_id: derivedGuid(`${s.groupId}/${s.databaseName.toLowerCase()}`),
          ag_remote_replica_id: remote?.replicaId ?? null,
          operation_id: s.operationId,
          is_source: s.roleDesc === 'Source' ? 1 : 0,
          current_state: s.currentState,
          performed_seeding: s.currentState === 'COMPLETED' ? 1 : 0,
          failure_state: s.failureStateDesc ? 1 : null,
          failure_state_desc: s.failureStateDesc,
          error_code: s.errorCode,
          number_of_attempts: 1,
        };
      }),
  },
  'sys.databases': {
    columns: [
      ['name', N],
      ['database_id', T.int],
      ['source_database_id', T.int],
      ['owner_sid', T.varbinary(85)],
      ['create_date', T.datetime],
      ['compatibility_level', T.tinyint],
      ['collation_name', N],
      ['user_access', T.tinyint],
      ['user_access_desc', N60],
      ['is_read_only', T.bit],
      ['state', T.tinyint],
      ['state_desc', N60],
      ['recovery_model', T.tinyint],
      ['recovery_model_desc', N60],
      ['log_reuse_wait', T.tinyint],
      ['log_reuse_wait_desc', N60],
      ['is_encrypted', T.bit],
      ['replica_id', T.guid],
      ['group_database_id', T.guid],
    ],
    rows: (ctx) =>
      [...ctx.state.databases]
        .sort((a, b) => a.databaseId - b.databaseId)
        .map((d) => {
          const ag = agOfDatabase(ctx.state, d.name);
          const hasFull = d.backups.some((b) => b.type === 'D' && !b.isCopyOnly);
          return {
            name: d.name,
            database_id: d.databaseId,
            source_database_id: null,
            owner_sid: Buffer.from([1]),
            create_date: d.createDate,
            compatibility_level: compatibilityLevel(ctx.state),
            collation_name: d.collation,
            user_access: 0,
            user_access_desc: 'MULTI_USER',
            is_read_only: 0,
            state: DB_STATE[d.state],
            state_desc: d.state,
            recovery_model: RECOVERY[d.recoveryModel],
            recovery_model_desc: d.recoveryModel,
            log_reuse_wait: LOG_REUSE_WAIT[logReuseWait(d, !!ag, hasFull)],
            log_reuse_wait_desc: logReuseWait(d, !!ag, hasFull),
            is_encrypted: d.tdeCertificate ? 1 : 0,
            replica_id: ag ? (localReplica(ag)?.replicaId ?? null) : null,
            group_database_id: ag ? derivedGuid(`${ag.groupId}/${d.name.toLowerCase()}`) : null,
          };
        }),
  },
  'sys.database_files': {
    columns: [
      ['file_id', T.int],
      ['file_guid', T.guid],
      ['type', T.tinyint],
      ['type_desc', N60],
      ['data_space_id', T.int],
      ['name', N],
      ['physical_name', T.nvarchar(260)],
      ['state', T.tinyint],
      ['state_desc', N60],
      ['size', T.int],
      ['max_size', T.int],
      ['growth', T.int],
      ['is_percent_growth', T.bit],
    ],
    rows: (ctx) => ctx.database.files.map((f) => fileRow(ctx.database, f)),
  },
  'sys.master_files': {
    columns: [
      ['database_id', T.int],
      ['file_id', T.int],
      ['type', T.tinyint],
      ['type_desc', N60],
      ['data_space_id', T.int],
      ['name', N],
      ['physical_name', T.nvarchar(260)],
      ['state', T.tinyint],
      ['state_desc', N60],
      ['size', T.int],
    ],
    rows: (ctx) =>
      ctx.state.databases.flatMap((d) =>
        d.files.map((f) => ({ database_id: d.databaseId, ...fileRow(d, f) })),
      ),
  },
  'sys.filegroups': {
    columns: [
      ['name', N],
      ['data_space_id', T.int],
      ['type', T.nvarchar(2)],
      ['type_desc', N60],
      ['is_default', T.bit],
      ['is_system', T.bit],
      ['filegroup_guid', T.guid],
      ['log_filegroup_id', T.int],
      ['is_read_only', T.bit],
    ],
    rows: (ctx) =>
      ctx.database.filegroups.map((g) => ({
        name: g.name,
        data_space_id: g.dataSpaceId,
        type: g.type,
        type_desc:
          g.type === 'FG'
            ? 'ROWS_FILEGROUP'
            : g.type === 'FD'
              ? 'FILESTREAM_DATA_FILEGROUP'
              : 'MEMORY_OPTIMIZED_DATA_FILEGROUP',
        is_default: g.isDefault ? 1 : 0,
        is_system: 0,
        filegroup_guid: g.dataSpaceId === 1 ? null : derivedGuid(`${ctx.database.name}/${g.name}`),
        log_filegroup_id: null,
        is_read_only: 0,
      })),
  },
  'sys.dm_db_log_space_usage': {
    columns: [
      ['database_id', T.int],
      ['total_log_size_in_bytes', T.bigint],
      ['used_log_space_in_bytes', T.bigint],
      ['used_log_space_in_percent', T.float],
      ['log_space_in_bytes_since_last_backup', T.bigint],
    ],
    rows: (ctx) => [
      {
        database_id: ctx.database.databaseId,
        total_log_size_in_bytes: BigInt(ctx.database.logSizeBytes),
        used_log_space_in_bytes: BigInt(ctx.database.logUsedBytes),
        used_log_space_in_percent: ctx.database.logSizeBytes
          ? (100 * ctx.database.logUsedBytes) / ctx.database.logSizeBytes
          : 0,
        log_space_in_bytes_since_last_backup: BigInt(ctx.database.logUsedBytes),
      },
    ],
  },
  'sys.server_principals': {
    columns: [
      ['name', N],
      ['principal_id', T.int],
      ['sid', T.varbinary(85)],
      ['type', T.nvarchar(1)],
      ['type_desc', N60],
      ['is_disabled', T.bit],
      ['create_date', T.datetime],
      ['modify_date', T.datetime],
      ['default_database_name', N],
      ['default_language_name', N],
    ],
    rows: (ctx) => {
      const created = ctx.state.databases.find((d) => d.name === 'master')?.createDate ?? ctx.clock.now();
      const rows: Row[] = [];
      for (const [name, id] of SERVER_ROLES) {
        rows.push({
          name,
          principal_id: id,
          sid: Buffer.from([id]),
          type: 'R',
          type_desc: 'SERVER_ROLE',
          is_disabled: 0,
          create_date: created,
          modify_date: created,
          default_database_name: null,
          default_language_name: null,
        });
      }
      ctx.state.logins.forEach((l, i) => {
        const id = loginPrincipalId(ctx.state, l.name, i);
        rows.push({
          name: l.name,
          principal_id: id,
          sid: createHash('md5').update(l.name.toLowerCase()).digest(),
          type: 'S',
          type_desc: 'SQL_LOGIN',
          is_disabled: l.isDisabled ? 1 : 0,
          create_date: created,
          modify_date: created,
          default_database_name: 'master',
          default_language_name: 'us_english',
        });
      });
      return rows.sort((a, b) => (a.principal_id as number) - (b.principal_id as number));
    },
  },
  'sys.server_role_members': {
    columns: [
      ['role_principal_id', T.int],
      ['member_principal_id', T.int],
    ],
    rows: (ctx) =>
      ctx.state.logins.flatMap((l, i) =>
        l.serverRoles
          .map((r) => SERVER_ROLES.find(([n]) => n === r))
          .filter((x): x is [string, number] => x !== undefined && x[0] !== 'public')
          .map(([, roleId]) => ({
            role_principal_id: roleId,
            member_principal_id: loginPrincipalId(ctx.state, l.name, i),
          })),
      ),
  },
  'dbo.backupset': {
    columns: [
      ['backup_set_id', T.int],
      ['media_set_id', T.int],
      ['database_name', N],
      ['server_name', N],
      ['machine_name', N],
      ['type', T.nvarchar(1)],
      ['is_copy_only', T.bit],
      ['backup_start_date', T.datetime],
      ['backup_finish_date', T.datetime],
      ['first_lsn', T.numeric()],
      ['last_lsn', T.numeric()],
      ['database_backup_lsn', T.numeric()],
      ['recovery_model', N60],
      ['backup_size', T.numeric(20, 0)],
    ],
    rows: backupRows,
  },
  'dbo.backupmediafamily': {
    columns: [
      ['media_set_id', T.int],
      ['family_sequence_number', T.tinyint],
      ['physical_device_name', T.nvarchar(260)],
      ['device_type', T.tinyint],
    ],
    rows: (ctx) =>
      backupRows(ctx).map((r) => ({
        media_set_id: r.media_set_id!,
        family_sequence_number: 1,
        physical_device_name: r.physical_device_name!,
        device_type: r.device_type!,
      })),
  },
};

/** msdb's tables are only found in msdb (three-part name or USE msdb). */
export const MSDB_ONLY = new Set(['dbo.backupset', 'dbo.backupmediafamily']);

const SERVER_ROLES: Array<[string, number]> = [
  ['public', 2],
  ['sysadmin', 3],
  ['securityadmin', 4],
  ['serveradmin', 5],
  ['setupadmin', 6],
  ['processadmin', 7],
  ['diskadmin', 8],
  ['dbcreator', 9],
  ['bulkadmin', 10],
];

export function loginPrincipalId(state: SimServerState, name: string, index?: number): number {
  const i = index ?? state.logins.findIndex((l) => l.name.toLowerCase() === name.toLowerCase());
  return name.toLowerCase() === 'sa' ? 1 : 259 + i;
}

function fileRow(db: SimDatabase, f: SimDatabase['files'][number]): Row {
  return {
    file_id: f.fileId,
    file_guid: derivedGuid(`${db.name}/${f.name}`),
    type: f.type === 'ROWS' ? 0 : f.type === 'LOG' ? 1 : 2,
    type_desc: f.type,
    data_space_id: f.dataSpaceId,
    name: f.name,
    physical_name: f.physicalName,
    state: 0,
    state_desc: 'ONLINE',
    size: f.sizePages,
    max_size: f.type === 'LOG' ? 268435456 : -1,
    growth: f.type === 'LOG' ? 8192 : 8192,
    is_percent_growth: 0,
  };
}
