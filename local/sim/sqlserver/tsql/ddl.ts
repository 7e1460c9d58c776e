/**
 * The statements that change the catalog: master key, certificates, the mirroring endpoint, availability
 * groups (plain and distributed), recovery model and backups. Each validates as SQL Server does and raises
 * SQL Server's error when the statement would fail there (re-creating what exists included).
 */
import type { Clock } from '../../clock.js';
import { SqlError, sqlError } from '../errors.js';
import type { SimAvailabilityGroup, SimDatabase, SimReplica, SimServerState } from '../model.js';
import { createServerCertificate, importCertificate, newGuid, nextEndpointId } from '../state.js';
import { keyMatchesCertificate, parseCertificate, privateKeyFromPvk } from '../certs.js';
import { DEFAULT_COLLATION, sameName, serverCollation, type Collation } from '../collation.js';
import type { Expr, OptionValue, ReplicaSpec, Stmt } from './ast.js';
import { convert, T, toText, type TV } from './values.js';
import type { Session } from './interpreter.js';

/** A command on a distributed availability group, offered to the estate before the stand-in applies it. */
export interface DistributedAgCommand {
  kind:
    | 'FAILOVER'
    | 'FORCE_FAILOVER_ALLOW_DATA_LOSS'
    | 'SET_ROLE_SECONDARY'
    | 'MODIFY_AVAILABILITY_MODE'
    | 'DROP';
  /** the DAG as it is before the change */
  dag: SimAvailabilityGroup;
  state: SimServerState;
  /** MODIFY … ON 'ag' WITH (AVAILABILITY_MODE = …): the requested modes by member AG name */
  modes?: Array<{ memberAg: string; availabilityMode: SimReplica['availabilityMode'] }>;
}

export interface DdlEnv {
  state: SimServerState;
  clock: Clock;
  session: Session;
  eval(e: Expr): TV;
  info(number: number, message: string): void;
  /** an error that does not end the statement (SQL Server sends several for one failing BACKUP) */
  error(e: SqlError): void;
  database(name: string): SimDatabase | undefined;
  onDistributedAgCommand?: (cmd: DistributedAgCommand) => void;
  /**
   * A statement that lasts simulated time (a long BACKUP): `finish` runs, and the request is answered, only once the
   * clock reaches `until`; a request cancelled before then never runs it.
   */
  lasts?(until: Date, finish: () => void): void;
}

/**
 * Names DDL compares (certificates in master, endpoints, availability groups, replicas, databases) are
 * instance-level: they compare under the instance's collation, set for the statement being run.
 */
let instanceCollation: Collation = DEFAULT_COLLATION;
const same = (a: string, b: string): boolean => sameName(a, b, instanceCollation);

function requireMaster(env: DdlEnv, what: string): void {
  if (!same(env.session.database, 'master'))
    throw new SqlError(
      50000,
      `The SQL Server stand-in keeps ${what} in master only; run this statement in master.`,
    );
}

function text(env: DdlEnv, e: Expr): string {
  return toText(env.eval(e)) ?? '';
}

/** Windows' default password policy, which CREATE MASTER KEY enforces. */
function complexEnough(p: string): boolean {
  if (p.length < 8) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(p)).length;
  return classes >= 3;
}

function findAg(state: SimServerState, name: string): SimAvailabilityGroup | undefined {
  return state.availabilityGroups.find((g) => same(g.name, name));
}

function mode(
  v: OptionValue | undefined,
  fallback: SimReplica['availabilityMode'],
): SimReplica['availabilityMode'] {
  if (v === undefined) return fallback;
  const s = String(v).toUpperCase();
  if (s === 'SYNCHRONOUS_COMMIT' || s === 'ASYNCHRONOUS_COMMIT' || s === 'CONFIGURATION_ONLY') return s;
  throw sqlError(102, String(v));
}

function checkDatabaseForAg(env: DdlEnv, dbName: string, agName: string): SimDatabase {
  const db = env.database(dbName);
  if (!db) throw sqlError(911, dbName);
  if (db.isSystem)
    throw new SqlError(
      35284,
      `Cannot add database '${db.name}' to availability group '${agName}': system databases cannot be added to an availability group.`,
    );
  const other = env.state.availabilityGroups.find(
    (g) => !g.isDistributed && g.databases.some((d) => same(d, db.name)),
  );
  if (other)
    throw new SqlError(
      35240,
      `Database '${db.name}' cannot be joined to or unjoined from availability group '${agName}'. This operation is not supported on the primary replica of the availability group.`,
    );
  if (db.recoveryModel !== 'FULL') throw sqlError(1465, db.name);
  if (!db.backups.some((b) => b.type === 'D' && !b.isCopyOnly)) throw sqlError(1475, db.name);
  return db;
}

function addDatabaseReplicaState(env: DdlEnv, ag: SimAvailabilityGroup, db: SimDatabase): void {
  const local = ag.replicas.find((r) => r.isLocal)!;
  env.state.databaseReplicaStates.push({
    groupId: ag.groupId,
    replicaId: local.replicaId,
    databaseName: db.name,
    isLocal: true,
    isPrimaryReplica: local.role === 'PRIMARY',
    synchronizationState: 'SYNCHRONIZED',
    synchronizationHealth: 'HEALTHY',
    lastHardenedLsn: db.currentLsn,
    lastCommitLsn: db.currentLsn,
    lastCommitTime: env.clock.now(),
    logSendQueueSizeKb: null,
    redoQueueSizeKb: null,
    secondaryLagSeconds: null,
  });
}

function replicaFrom(
  spec: ReplicaSpec,
  isLocal: boolean,
  urlKey: 'ENDPOINT_URL' | 'LISTENER_URL',
): SimReplica {
  const o = spec.options;
  const url = o[urlKey];
  if (url === undefined) throw sqlError(102, ')');
  return {
    replicaId: newGuid(),
    replicaServerName: spec.name,
    endpointUrl: String(url),
    availabilityMode: mode(o.AVAILABILITY_MODE, 'ASYNCHRONOUS_COMMIT'),
    failoverMode: String(o.FAILOVER_MODE ?? 'MANUAL').toUpperCase() === 'AUTOMATIC' ? 'AUTOMATIC' : 'MANUAL',
    seedingMode: String(o.SEEDING_MODE ?? 'MANUAL').toUpperCase() === 'AUTOMATIC' ? 'AUTOMATIC' : 'MANUAL',
    sessionTimeout: typeof o.SESSION_TIMEOUT === 'number' ? o.SESSION_TIMEOUT : 10,
    isLocal,
    role: isLocal ? 'PRIMARY' : 'SECONDARY',
    connectedState: isLocal ? 'CONNECTED' : 'DISCONNECTED',
    synchronizationHealth: isLocal ? 'HEALTHY' : 'NOT_HEALTHY',
  };
}

export function runDdl(s: Stmt, env: DdlEnv): void {
  const outer = instanceCollation;
  instanceCollation = serverCollation(env.state);
  try {
    runDdlStatement(s, env);
  } finally {
    instanceCollation = outer;
  }
}

function runDdlStatement(s: Stmt, env: DdlEnv): void {
  const st = env.state;
  const now = env.clock.now();
  switch (s.t) {
    case 'createMasterKey': {
      requireMaster(env, 'the database master key');
      if (st.masterKey) throw sqlError(15578);
      const password = text(env, s.password);
      if (!complexEnough(password))
        throw new SqlError(
          15118,
          'Password validation failed. The password does not meet the operating system policy requirements because it is not complex enough.',
        );
      st.masterKey = { createdAt: now };
      return;
    }
    case 'dropMasterKey': {
      requireMaster(env, 'the database master key');
      if (!st.masterKey)
        throw new SqlError(
          15151,
          'Cannot drop the master key because it does not exist or you do not have permission.',
        );
      if (st.certificates.some((c) => c.pvtKeyEncryptionType === 'MK'))
        throw new SqlError(15580, 'Cannot drop master key because certificate is encrypted by it.');
      st.masterKey = null;
      return;
    }
    case 'createCert': {
      requireMaster(env, 'certificates');
      if (st.certificates.some((c) => same(c.name, s.name))) throw sqlError(15232, s.name);
      if (s.binary) {
        const blob = env.eval(s.binary);
        if (!Buffer.isBuffer(blob.v)) throw sqlError(15468);
        let thumb: Buffer;
        try {
          thumb = parseCertificate(blob.v).thumbprint;
        } catch {
          throw sqlError(15468);
        }
        if (st.certificates.some((c) => c.thumbprint.equals(thumb))) throw sqlError(15232, s.name);
        if (s.privateKey) {
          // the private key, in PVK format, must be the certificate's; it is then kept under the master key
          // (or the ENCRYPTION BY PASSWORD password) as one SQL Server made itself
          const bits = env.eval(s.privateKey.binary);
          const invalid = () =>
            new SqlError(15297, 'The certificate, asymmetric key, or private key data is invalid.');
          if (!Buffer.isBuffer(bits.v)) throw invalid();
          let read: ReturnType<typeof privateKeyFromPvk>;
          try {
            read = privateKeyFromPvk(bits.v);
          } catch {
            throw invalid();
          }
          if (read.encrypted) {
            if (!s.privateKey.decryption) throw invalid();
            throw new SqlError(
              15297,
              'The certificate, asymmetric key, or private key data is invalid. (The stand-in reads unencrypted PVK only.)',
            );
          }
          if (!keyMatchesCertificate(read.key, blob.v)) throw invalid();
          if (!s.privateKey.encryption && !st.masterKey) throw sqlError(15581);
          const cert = importCertificate(st, s.name, blob.v);
          cert.pvtKeyEncryptionType = 'MK';
          cert.privateKeyPem = read.key.export({ type: 'pkcs1', format: 'pem' }).toString();
          return;
        }
        importCertificate(st, s.name, blob.v);
        return;
      }
      if (!st.masterKey) throw sqlError(15581);
      const subject = text(env, s.subject!);
      const start = s.startDate
        ? (convert(env.eval(s.startDate), T.datetime).v as Date)
        : new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
      const expiry = s.expiryDate
        ? (convert(env.eval(s.expiryDate), T.datetime).v as Date)
        : new Date(start.getTime() + 365 * 86_400_000);
      if (expiry.getTime() <= start.getTime())
        throw new SqlError(15297, 'The certificate, asymmetric key, or private key data is invalid.');
      createServerCertificate(st, s.name, subject, start, expiry);
      // approximate number: SQL Server warns (severity 10) when the new certificate is already expired
      if (expiry.getTime() < now.getTime())
        env.info(15559, 'Warning: The certificate you created is expired.');
      return;
    }
    case 'dropCert': {
      requireMaster(env, 'certificates');
      const i = st.certificates.findIndex((c) => same(c.name, s.name));
      if (i < 0) throw sqlError(15151, 'drop', 'certificate', s.name);
      if (st.endpoint?.certificateName && same(st.endpoint.certificateName, s.name))
        throw new SqlError(
          15352,
          'The certificate cannot be dropped because one or more entities are either signed or encrypted using it. To drop the certificate, you must remove the signature or encryption.',
        );
      st.certificates.splice(i, 1);
      return;
    }
    case 'createEndpoint': {
      if (st.endpoint) throw sqlError(7862);
      const spec = s.spec;
      const auth = spec.auth ?? { windows: 'NEGOTIATE' as const, certificate: null, certificateFirst: false };
      if (auth.certificate && !st.certificates.some((c) => same(c.name, auth.certificate!)))
        throw sqlError(15151, 'find', 'certificate', auth.certificate);
      if (spec.port === undefined) throw sqlError(102, ')');
      st.endpoint = {
        endpointId: nextEndpointId(st),
        name: s.name,
        state: spec.state ?? 'STOPPED',
        port: spec.port,
        listenerIp: spec.listenerIp ?? 'ALL',
        role: spec.role ?? 'ALL',
        windowsAuth: auth.windows,
        certificateName: auth.certificate,
        certificateFirst: auth.certificateFirst,
        encryption: spec.encryption?.mode ?? 'REQUIRED',
        algorithms: spec.encryption?.algorithms ?? ['AES'],
      };
      return;
    }
    case 'alterEndpoint': {
      const e = st.endpoint;
      if (!e || !same(e.name, s.name)) throw sqlError(15151, 'alter', 'endpoint', s.name);
      const spec = s.spec;
      if (spec.auth?.certificate && !st.certificates.some((c) => same(c.name, spec.auth!.certificate!)))
        throw sqlError(15151, 'find', 'certificate', spec.auth.certificate);
      if (spec.state) e.state = spec.state;
      if (spec.port !== undefined) e.port = spec.port;
      if (spec.listenerIp) e.listenerIp = spec.listenerIp;
      if (spec.role) e.role = spec.role;
      if (spec.auth) {
        e.windowsAuth = spec.auth.windows;
        e.certificateName = spec.auth.certificate;
        e.certificateFirst = spec.auth.certificateFirst;
      }
      if (spec.encryption) {
        e.encryption = spec.encryption.mode;
        e.algorithms = spec.encryption.algorithms;
      }
      return;
    }
    case 'dropEndpoint': {
      if (!st.endpoint || !same(st.endpoint.name, s.name)) throw sqlError(15151, 'drop', 'endpoint', s.name);
      st.endpoint = null;
      return;
    }
    case 'createAg':
      createAg(s, env);
      return;
    case 'alterAg':
      alterAg(s, env);
      return;
    case 'dropAg': {
      if (!st.hadrEnabled) throw sqlError(35221);
      const ag = findAg(st, s.name);
      if (!ag) throw sqlError(15151, 'drop', 'availability group', s.name);
      if (ag.isDistributed) env.onDistributedAgCommand?.({ kind: 'DROP', dag: ag, state: st });
      st.availabilityGroups = st.availabilityGroups.filter((g) => g !== ag);
      st.databaseReplicaStates = st.databaseReplicaStates.filter((r) => r.groupId !== ag.groupId);
      st.seedings = st.seedings.filter((r) => r.groupId !== ag.groupId);
      return;
    }
    case 'alterDbRecovery': {
      const db = env.database(s.db);
      if (!db) throw sqlError(911, s.db);
      if (same(db.name, 'tempdb'))
        throw new SqlError(5058, "Option 'RECOVERY' cannot be set in database 'tempdb'.");
      if (s.model !== 'FULL' && st.availabilityGroups.some((g) => g.databases.some((d) => same(d, db.name))))
        throw new SqlError(
          1468,
          `The operation cannot be performed on database "${db.name}" because it is involved in a database mirroring session or an availability group. Some operations are not allowed on a database that is participating in a database mirroring session or in an availability group.`,
        );
      db.recoveryModel = s.model;
      return;
    }
    case 'backup':
      backup(s, env);
      return;
    default:
      throw sqlError(102, '');
  }
}

function createAg(s: Stmt & { t: 'createAg' }, env: DdlEnv): void {
  const st = env.state;
  if (!st.hadrEnabled) throw sqlError(35221);
  if (findAg(st, s.name)) throw sqlError(41042, s.name);
  const now = env.clock.now();
  const clusterOpt = s.withOptions.CLUSTER_TYPE;
  const clusterType = clusterOpt === undefined ? 'WSFC' : String(clusterOpt).toUpperCase();
  if (clusterType !== 'NONE' && clusterType !== 'WSFC' && clusterType !== 'EXTERNAL')
    throw sqlError(102, String(clusterOpt));
  if (s.distributed) {
    if (s.replicas.length !== 2)
      throw new SqlError(
        19456,
        `A distributed availability group must have exactly two member availability groups; '${s.name}' names ${s.replicas.length}.`,
      );
    const localIndex = s.replicas.findIndex((r) => {
      const g = findAg(st, r.name);
      return g !== undefined && !g.isDistributed;
    });
    if (localIndex < 0) throw sqlError(15151, 'find', 'availability group', s.replicas[0]!.name);
    const memberAg = findAg(st, s.replicas[localIndex]!.name)!;
    const memberLocal = memberAg.replicas.find((r) => r.isLocal);
    const replicas = s.replicas.map((r, i) => {
      const rep = replicaFrom(r, i === localIndex, 'LISTENER_URL');
      if (i === localIndex) {
        rep.role = memberLocal?.role === 'SECONDARY' ? 'SECONDARY' : 'PRIMARY';
        rep.connectedState = 'CONNECTED';
        rep.synchronizationHealth = 'HEALTHY';
      }
      return rep;
    });
    const dag: SimAvailabilityGroup = {
      groupId: newGuid(),
      name: s.name,
      isDistributed: true,
      clusterType: 'NONE',
      databases: [],
      replicas,
      createAnyDatabaseGranted: false,
      createDate: now,
    };
    st.availabilityGroups.push(dag);
    const local = replicas[localIndex]!;
    for (const dbName of memberAg.databases) {
      const db = env.database(dbName);
      if (!db) continue;
      st.databaseReplicaStates.push({
        groupId: dag.groupId,
        replicaId: local.replicaId,
        databaseName: db.name,
        isLocal: true,
        isPrimaryReplica: local.role === 'PRIMARY',
        synchronizationState: local.role === 'PRIMARY' ? 'SYNCHRONIZED' : 'NOT SYNCHRONIZING',
        synchronizationHealth: 'HEALTHY',
        lastHardenedLsn: db.currentLsn,
        lastCommitLsn: db.currentLsn,
        lastCommitTime: now,
        logSendQueueSizeKb: null,
        redoQueueSizeKb: null,
        secondaryLagSeconds: null,
      });
    }
    return;
  }
  const localIndex = s.replicas.findIndex((r) => same(r.name, st.serverName));
  if (localIndex < 0)
    throw new SqlError(
      35237,
      `None of the specified replicas for availability group ${s.name} maps to the instance of SQL Server to which you are connected. Reenter the command, specifying this server instance to host one of the replicas. This replica will be the initial primary replica.`,
    );
  const dbs = s.databases.map((d) => checkDatabaseForAg(env, d, s.name));
  const ag: SimAvailabilityGroup = {
    groupId: newGuid(),
    name: s.name,
    isDistributed: false,
    clusterType: clusterType as SimAvailabilityGroup['clusterType'],
    databases: dbs.map((d) => d.name),
    replicas: s.replicas.map((r, i) => replicaFrom(r, i === localIndex, 'ENDPOINT_URL')),
    createAnyDatabaseGranted: false,
    createDate: now,
  };
  st.availabilityGroups.push(ag);
  for (const db of dbs) addDatabaseReplicaState(env, ag, db);
}

function alterAg(s: Stmt & { t: 'alterAg' }, env: DdlEnv): void {
  const st = env.state;
  if (!st.hadrEnabled) throw sqlError(35221);
  const ag = findAg(st, s.name);
  if (!ag) throw sqlError(15151, 'alter', 'availability group', s.name);
  const act = s.action;
  const local = ag.replicas.find((r) => r.isLocal);
  const dagOnly = (): void => {
    if (!ag.isDistributed) throw sqlError(47104, ag.name);
  };
  switch (act.a) {
    case 'grantCreateAnyDatabase':
    case 'denyCreateAnyDatabase':
      if (ag.isDistributed) throw sqlError(102, 'GRANT');
      ag.createAnyDatabaseGranted = act.a === 'grantCreateAnyDatabase';
      return;
    case 'failover': {
      if (!ag.isDistributed)
        throw new SqlError(
          47122,
          `Cannot failover availability group '${ag.name}' with CLUSTER_TYPE = NONE: only forced failover (FORCE_FAILOVER_ALLOW_DATA_LOSS) is supported for it.`,
        );
      const v = st.version;
      if (v.year < 2022 || (v.year === 2022 && v.cu < 13))
        throw sqlError(
          41142,
          ag.name,
          'A planned failover of a distributed availability group needs SQL Server 2022 CU13 or later; use FORCE_FAILOVER_ALLOW_DATA_LOSS.',
        );
      if (!local || local.role !== 'PRIMARY')
        throw sqlError(
          41142,
          ag.name,
          'The planned failover of a distributed availability group must run on its global primary.',
        );
      const notSync = ag.replicas.find((r) => r.availabilityMode !== 'SYNCHRONOUS_COMMIT');
      if (notSync)
        throw sqlError(
          41142,
          ag.name,
          `Availability group '${notSync.replicaServerName}' is not in SYNCHRONOUS_COMMIT mode; set both members to SYNCHRONOUS_COMMIT first.`,
        );
      const remote = ag.replicas.find((r) => !r.isLocal);
      if (!remote || remote.connectedState !== 'CONNECTED')
        throw sqlError(41142, ag.name, 'The remote availability group is not connected.');
      env.onDistributedAgCommand?.({ kind: 'FAILOVER', dag: ag, state: st });
      local.role = 'SECONDARY';
      remote.role = 'PRIMARY';
      for (const r of st.databaseReplicaStates)
        if (r.groupId === ag.groupId && r.isLocal) r.isPrimaryReplica = false;
      return;
    }
    case 'forceFailover': {
      dagOnly();
      if (local?.role === 'PRIMARY') throw sqlError(41122, ag.name);
      env.onDistributedAgCommand?.({ kind: 'FORCE_FAILOVER_ALLOW_DATA_LOSS', dag: ag, state: st });
      if (local) local.role = 'PRIMARY';
      for (const r of st.databaseReplicaStates)
        if (r.groupId === ag.groupId && r.isLocal) r.isPrimaryReplica = true;
      return;
    }
    case 'setRole': {
      dagOnly();
      env.onDistributedAgCommand?.({ kind: 'SET_ROLE_SECONDARY', dag: ag, state: st });
      if (local) local.role = 'SECONDARY';
      for (const r of st.databaseReplicaStates)
        if (r.groupId === ag.groupId && r.isLocal) r.isPrimaryReplica = false;
      return;
    }
    case 'modifyAg': {
      dagOnly();
      const modes = act.members.map((m) => {
        const rep = ag.replicas.find((r) => same(r.replicaServerName, m.name));
        if (!rep) throw sqlError(15151, 'find', 'availability group', m.name);
        return {
          rep,
          memberAg: rep.replicaServerName,
          availabilityMode: mode(m.options.AVAILABILITY_MODE, rep.availabilityMode),
        };
      });
      env.onDistributedAgCommand?.({
        kind: 'MODIFY_AVAILABILITY_MODE',
        dag: ag,
        state: st,
        modes: modes.map(({ memberAg, availabilityMode }) => ({ memberAg, availabilityMode })),
      });
      for (const m of modes) m.rep.availabilityMode = m.availabilityMode;
      return;
    }
    case 'modifyReplica': {
      if (ag.isDistributed) throw sqlError(102, 'REPLICA');
      const rep = ag.replicas.find((r) => same(r.replicaServerName, act.replica.name));
      if (!rep)
        throw new SqlError(
          35224,
          `Could not find the availability replica '${act.replica.name}' in availability group '${ag.name}'.`,
        );
      const o = act.replica.options;
      if (o.AVAILABILITY_MODE !== undefined)
        rep.availabilityMode = mode(o.AVAILABILITY_MODE, rep.availabilityMode);
      if (o.FAILOVER_MODE !== undefined)
        rep.failoverMode = String(o.FAILOVER_MODE) === 'AUTOMATIC' ? 'AUTOMATIC' : 'MANUAL';
      if (o.SEEDING_MODE !== undefined)
        rep.seedingMode = String(o.SEEDING_MODE) === 'AUTOMATIC' ? 'AUTOMATIC' : 'MANUAL';
      if (o.ENDPOINT_URL !== undefined) rep.endpointUrl = String(o.ENDPOINT_URL);
      if (typeof o.SESSION_TIMEOUT === 'number') rep.sessionTimeout = o.SESSION_TIMEOUT;
      return;
    }
    case 'addDatabase': {
      if (ag.isDistributed) throw sqlError(102, 'ADD');
      const db = checkDatabaseForAg(env, act.db, ag.name);
      ag.databases.push(db.name);
      addDatabaseReplicaState(env, ag, db);
      return;
    }
    case 'removeDatabase': {
      if (ag.isDistributed) throw sqlError(102, 'REMOVE');
      const i = ag.databases.findIndex((d) => same(d, act.db));
      if (i < 0) throw new SqlError(35217, `Database '${act.db}' is not in availability group '${ag.name}'.`);
      const [removed] = ag.databases.splice(i, 1);
      st.databaseReplicaStates = st.databaseReplicaStates.filter(
        (r) => !(r.groupId === ag.groupId && same(r.databaseName, removed!)),
      );
      return;
    }
  }
}

function backup(s: Stmt & { t: 'backup' }, env: DdlEnv): void {
  const db = env.database(s.db);
  if (!db) throw sqlError(911, s.db);
  const what = `BACKUP ${s.kind}`;
  if (same(db.name, 'tempdb')) {
    env.error(new SqlError(3147, 'Backup and restore operations are not allowed on database tempdb.'));
    throw sqlError(3013, what);
  }
  const devices = s.disks.map((d) => text(env, d));
  const now = env.clock.now();
  const pages = db.files.filter((f) => f.type !== 'LOG').reduce((n, f) => n + f.sizePages, 0);
  if (s.kind === 'LOG') {
    if (db.recoveryModel === 'SIMPLE') {
      env.error(sqlError(4208));
      throw sqlError(3013, what);
    }
    if (!db.backups.some((b) => b.type === 'D' && !b.isCopyOnly)) {
      env.error(sqlError(4214));
      throw sqlError(3013, what);
    }
  }
  const copyOnly = s.options.COPY_ONLY === true;
  const seconds = s.kind === 'DATABASE' ? (env.state.backupSeconds ?? 0) : 0;
  if (seconds > 0 && env.lasts) {
    // a long backup: msdb records it, and the client hears of it, when it has finished
    env.lasts(new Date(now.getTime() + seconds * 1000), () =>
      record(s, env, db, devices, now, seconds, copyOnly, pages),
    );
    return;
  }
  record(s, env, db, devices, now, 0, copyOnly, pages);
}

function record(
  s: Stmt & { t: 'backup' },
  env: DdlEnv,
  db: SimDatabase,
  devices: string[],
  now: Date,
  seconds: number,
  copyOnly: boolean,
  pages: number,
): void {
  const first = db.currentLsn;
  db.currentLsn += 1000n;
  const finish = new Date(now.getTime() + Math.max(1, seconds) * 1000);
  const took = seconds > 0 ? seconds.toFixed(3) : s.kind === 'DATABASE' ? '0.105' : '0.011';
  db.backups.push({
    type: s.kind === 'DATABASE' ? 'D' : 'L',
    isCopyOnly: copyOnly,
    startDate: now,
    finishDate: finish,
    firstLsn: first,
    lastLsn: db.currentLsn,
    physicalDeviceName: devices[0] ?? '',
  });
  if (s.kind === 'LOG' && !copyOnly) db.logUsedBytes = Math.floor(db.logSizeBytes * 0.02);
  const logPages = Math.max(1, Math.round(db.logUsedBytes / 8192 / 10));
  if (s.kind === 'DATABASE') {
    env.info(
      4035,
      `Processed ${pages} pages for database '${db.name}', file '${db.files[0]!.name}' on file 1.`,
    );
    env.info(
      4035,
      `Processed ${logPages} pages for database '${db.name}', file '${db.files.find((f) => f.type === 'LOG')!.name}' on file 1.`,
    );
    env.info(
      3014,
      `BACKUP DATABASE successfully processed ${pages + logPages} pages in ${took} seconds (${(((pages + logPages) * 8) / 1024 / Number(took)).toFixed(3)} MB/sec).`,
    );
  } else {
    env.info(
      4035,
      `Processed ${logPages} pages for database '${db.name}', file '${db.files.find((f) => f.type === 'LOG')!.name}' on file 1.`,
    );
    env.info(
      3014,
      `BACKUP LOG successfully processed ${logPages} pages in ${took} seconds (${((logPages * 8) / 1024 / Number(took)).toFixed(3)} MB/sec).`,
    );
  }
}
