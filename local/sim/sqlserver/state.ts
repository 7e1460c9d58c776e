/**
 * Building the state of one simulated SQL Server from a short spec. The objects returned are the plain
 * mutable objects of model.ts: the interpreter changes them as statements run, the estate changes replica
 * and seeding states, and every catalog view is computed from them when queried.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { makeCertificate, parseCertificate } from './certs.js';
import type {
  RecoveryModel,
  SimBackup,
  SimCertificate,
  SimDatabase,
  SimDatabaseFile,
  SimFilegroup,
  SimServerState,
  SimServerVersion,
} from './model.js';

export type SqlServerYear = 2016 | 2017 | 2019 | 2022 | 2025;

export interface ServerSpec {
  serverName: string;
  version: SqlServerYear;
  /** Cumulative update; 0 = RTM. Defaults to a build recent enough for the link. */
  cu?: number;
  edition?: string;
  hadrEnabled?: boolean;
  collation?: string;
  traceFlags?: number[];
  logins: Array<{ name: string; password: string; serverRoles?: string[] }>;
  databases?: Array<{
    name: string;
    recoveryModel?: RecoveryModel;
    fullBackup?: boolean;
    copyOnlyBackupOnly?: boolean;
    logFiles?: number;
    filestream?: boolean;
    memoryOptimized?: boolean;
    sizeMb?: number;
    /** The database's own collation (defaults to the instance's). */
    collation?: string;
  }>;
  endpoint?: {
    name: string;
    port: number;
    windowsAuth?: 'NTLM' | 'KERBEROS' | 'NEGOTIATE';
    certificateName?: string;
    encryption?: 'DISABLED' | 'SUPPORTED' | 'REQUIRED';
    algorithms?: Array<'AES' | 'RC4'>;
  };
}

const MAJOR: Record<SqlServerYear, number> = { 2016: 13, 2017: 14, 2019: 15, 2022: 16, 2025: 17 };
const DEFAULT_CU: Record<SqlServerYear, number> = { 2016: 0, 2017: 31, 2019: 20, 2022: 13, 2025: 0 };
/** Known builds (ProductVersion) by year and CU; others are derived. */
const KNOWN_BUILDS: Partial<Record<SqlServerYear, Record<number, string>>> = {
  2016: { 0: '13.0.6300.2' },
  2017: { 31: '14.0.3456.2' },
  2019: { 15: '15.0.4198.2', 20: '15.0.4312.2' },
  2022: { 0: '16.0.1000.6', 10: '16.0.4095.4', 13: '16.0.4125.3' },
  2025: { 0: '17.0.1000.7' },
};

export function serverVersion(year: SqlServerYear, cu?: number): SimServerVersion {
  const c = cu ?? DEFAULT_CU[year];
  const major = MAJOR[year];
  const productVersion = KNOWN_BUILDS[year]?.[c] ?? `${major}.0.${c === 0 ? 1000 : 4000 + c * 10}.1`;
  return { major, year, cu: c, productVersion };
}

/** SERVERPROPERTY('ProductLevel'): SQL Server 2016 link builds are SP3; later versions ship RTM + CUs. */
export function productLevel(v: SimServerVersion): string {
  return v.year === 2016 ? 'SP3' : 'RTM';
}

export function productUpdateLevel(v: SimServerVersion): string | null {
  return v.cu > 0 ? `CU${v.cu}` : null;
}

/** Counters SQL Server keeps internally (ids are not reused after a drop). */
interface Counters {
  certificate: number;
  endpoint: number;
  database: number;
  lsn: bigint;
}
const counters = new WeakMap<SimServerState, Counters>();

function countersOf(state: SimServerState): Counters {
  let c = counters.get(state);
  if (!c) {
    c = {
      certificate: Math.max(255, ...state.certificates.map((x) => x.certificateId)),
      endpoint: Math.max(65535, state.endpoint?.endpointId ?? 0),
      database: Math.max(4, ...state.databases.map((d) => d.databaseId)),
      lsn: 0n,
    };
    counters.set(state, c);
  }
  return c;
}

export function nextCertificateId(state: SimServerState): number {
  const c = countersOf(state);
  c.certificate = Math.max(c.certificate, ...state.certificates.map((x) => x.certificateId)) + 1;
  return c.certificate;
}

export function nextEndpointId(state: SimServerState): number {
  const c = countersOf(state);
  c.endpoint += 1;
  return c.endpoint;
}

export function nextDatabaseId(state: SimServerState): number {
  const c = countersOf(state);
  c.database = Math.max(c.database, ...state.databases.map((d) => d.databaseId)) + 1;
  return c.database;
}

/** A new certificate made on the server (CREATE CERTIFICATE … WITH SUBJECT): self-signed, key under the master key. */
export function createServerCertificate(
  state: SimServerState,
  name: string,
  subject: string,
  startDate: Date,
  expiryDate: Date,
): SimCertificate {
  // CREATE CERTIFICATE makes a new key pair: never one another certificate of this server holds
  const made = makeCertificate({
    subject,
    notBefore: startDate,
    notAfter: expiryDate,
    avoidKeysOf: state.certificates.filter((c) => c.pvtKeyEncryptionType === 'MK').map((c) => c.der),
  });
  const parsed = parseCertificate(made.der);
  const cert: SimCertificate = {
    certificateId: nextCertificateId(state),
    name,
    subject: parsed.subject,
    issuerName: parsed.issuerName,
    startDate: parsed.startDate,
    expiryDate: parsed.expiryDate,
    der: made.der,
    thumbprint: parsed.thumbprint,
    pvtKeyEncryptionType: 'MK',
    privateKeyPem: made.privateKeyPem,
    issuerRegistrations: [],
  };
  state.certificates.push(cert);
  return cert;
}

/** A certificate imported from its DER (CREATE CERTIFICATE … FROM BINARY): public key only. */
export function importCertificate(state: SimServerState, name: string, der: Buffer): SimCertificate {
  const parsed = parseCertificate(der);
  const cert: SimCertificate = {
    certificateId: nextCertificateId(state),
    name,
    subject: parsed.subject,
    issuerName: parsed.issuerName,
    startDate: parsed.startDate,
    expiryDate: parsed.expiryDate,
    der: Buffer.from(der),
    thumbprint: parsed.thumbprint,
    pvtKeyEncryptionType: 'NA',
    issuerRegistrations: [],
  };
  state.certificates.push(cert);
  return cert;
}

/** The DER of a certificate by name (case-insensitive, as in a CI collation), or null. */
export function certificateDer(state: SimServerState, name: string): Buffer | null {
  const c = state.certificates.find((x) => x.name.toLowerCase() === name.toLowerCase());
  return c ? Buffer.from(c.der) : null;
}

const PAGE = 8192;

export function makeDatabase(
  state: SimServerState,
  spec: NonNullable<ServerSpec['databases']>[number],
  databaseId: number,
  isSystem: boolean,
  clock: Clock,
): SimDatabase {
  const now = clock.now();
  const sizeMb = spec.sizeMb ?? 64;
  const filegroups: SimFilegroup[] = [{ dataSpaceId: 1, name: 'PRIMARY', type: 'FG', isDefault: true }];
  const files: SimDatabaseFile[] = [
    {
      fileId: 1,
      type: 'ROWS',
      name: spec.name,
      physicalName: `C:\\Program Files\\Microsoft SQL Server\\MSSQL\\DATA\\${spec.name}.mdf`,
      sizePages: Math.ceil((sizeMb * 1024 * 1024) / PAGE),
      dataSpaceId: 1,
    },
  ];
  const logFiles = Math.max(1, spec.logFiles ?? 1);
  const logSizeBytes = Math.max(8, Math.ceil(sizeMb / 4)) * 1024 * 1024;
  for (let i = 0; i < logFiles; i++) {
    files.push({
      fileId: i + 2,
      type: 'LOG',
      name: i === 0 ? `${spec.name}_log` : `${spec.name}_log${i + 1}`,
      physicalName: `C:\\Program Files\\Microsoft SQL Server\\MSSQL\\DATA\\${spec.name}_log${i === 0 ? '' : i + 1}.ldf`,
      sizePages: Math.ceil(logSizeBytes / logFiles / PAGE),
      dataSpaceId: 0,
    });
  }
  let nextFileId = files.length + 1;
  if (spec.filestream) {
    filegroups.push({ dataSpaceId: 2, name: 'FileStreamGroup', type: 'FD', isDefault: false });
    files.push({
      fileId: nextFileId++,
      type: 'FILESTREAM',
      name: `${spec.name}_fs`,
      physicalName: `C:\\Data\\${spec.name}_fs`,
      sizePages: 0,
      dataSpaceId: 2,
    });
  }
  if (spec.memoryOptimized) {
    const id = filegroups.length + 1;
    filegroups.push({ dataSpaceId: id, name: 'MemoryOptimizedGroup', type: 'FX', isDefault: false });
    files.push({
      fileId: nextFileId++,
      type: 'FILESTREAM',
      name: `${spec.name}_mod`,
      physicalName: `C:\\Data\\${spec.name}_mod`,
      sizePages: 0,
      dataSpaceId: id,
    });
  }
  const c = countersOf(state);
  c.lsn += 1000n;
  const currentLsn = 34_000_000_000_000_001n + c.lsn * 100_000n;
  const backups: SimBackup[] = [];
  const addFull = (copyOnly: boolean): void => {
    const start = new Date(now.getTime() - 3_600_000);
    backups.push({
      type: 'D',
      isCopyOnly: copyOnly,
      startDate: start,
      finishDate: new Date(start.getTime() + 60_000),
      firstLsn: currentLsn - 5000n,
      lastLsn: currentLsn - 1000n,
      physicalDeviceName: `C:\\Backup\\${spec.name}.bak`,
    });
  };
  if (spec.fullBackup) addFull(false);
  if (spec.copyOnlyBackupOnly) addFull(true);
  return {
    databaseId,
    name: spec.name,
    isSystem,
    state: 'ONLINE',
    recoveryModel: spec.recoveryModel ?? 'FULL',
    collation: spec.collation ?? state.collation,
    createDate: new Date(now.getTime() - 86_400_000),
    files,
    filegroups,
    logSizeBytes,
    logUsedBytes: Math.floor(logSizeBytes * 0.12),
    currentLsn,
    backups,
  };
}

export function createServerState(spec: ServerSpec, clock: Clock): SimServerState {
  const state: SimServerState = {
    serverName: spec.serverName,
    version: serverVersion(spec.version, spec.cu),
    edition: spec.edition ?? 'Enterprise Edition (64-bit)',
    hadrEnabled: spec.hadrEnabled ?? true,
    collation: spec.collation ?? 'SQL_Latin1_General_CP1_CI_AS',
    traceFlags: [...(spec.traceFlags ?? [])],
    logins: spec.logins.map((l) => ({
      name: l.name,
      password: l.password,
      serverRoles: (l.serverRoles ?? []).map((r) => r.toLowerCase()),
    })),
    masterKey: null,
    certificates: [],
    endpoint: null,
    availabilityGroups: [],
    databaseReplicaStates: [],
    seedings: [],
    databases: [],
  };
  const system: Array<[string, number, RecoveryModel]> = [
    ['master', 1, 'SIMPLE'],
    ['tempdb', 2, 'SIMPLE'],
    ['model', 3, 'FULL'],
    ['msdb', 4, 'SIMPLE'],
  ];
  for (const [name, id, recoveryModel] of system) {
    state.databases.push(
      makeDatabase(
        state,
        { name, recoveryModel, fullBackup: name !== 'tempdb', sizeMb: 16 },
        id,
        true,
        clock,
      ),
    );
  }
  for (const db of spec.databases ?? []) {
    state.databases.push(makeDatabase(state, db, nextDatabaseId(state), false, clock));
  }
  if (spec.endpoint) {
    const e = spec.endpoint;
    if (e.certificateName) {
      if (!state.masterKey) state.masterKey = { createdAt: clock.now() };
      if (!certificateDer(state, e.certificateName)) {
        const now = clock.now();
        createServerCertificate(
          state,
          e.certificateName,
          `Certificate for ${e.certificateName}`,
          now,
          new Date(now.getTime() + 365 * 86_400_000),
        );
      }
    }
    state.endpoint = {
      endpointId: nextEndpointId(state),
      name: e.name,
      state: 'STARTED',
      port: e.port,
      listenerIp: 'ALL',
      role: 'ALL',
      windowsAuth: e.windowsAuth ?? (e.certificateName ? null : 'NEGOTIATE'),
      certificateName: e.certificateName ?? null,
      certificateFirst: false,
      encryption: e.encryption ?? 'REQUIRED',
      algorithms: e.algorithms ?? ['AES'],
    };
  }
  return state;
}

export function newGuid(): string {
  return randomUUID().toUpperCase();
}

/**
 * Adds a user database (as the estate does when seeding creates one on SQL Server); `state` defaults to
 * ONLINE. Returns the new database.
 */
export function addDatabase(
  state: SimServerState,
  spec: NonNullable<ServerSpec['databases']>[number] & { state?: SimDatabase['state'] },
  clock: Clock,
): SimDatabase {
  if (state.databases.some((d) => d.name.toLowerCase() === spec.name.toLowerCase()))
    throw new Error(`database ${spec.name} already exists on ${state.serverName}`);
  const db = makeDatabase(state, spec, nextDatabaseId(state), false, clock);
  if (spec.state) db.state = spec.state;
  state.databases.push(db);
  return db;
}
