/**
 * Issue 6, "Done when": every preflight failure and every injected fault (ARM 429/5xx, a dropped SQL connection,
 * a SQL error on a step, Key Vault 5xx) ends either in success after retry or in a failed status naming the
 * step, the error and the advice.
 *
 * Faults on steps run each on a fresh estate (the step's statement must really be needed); preflight cases share
 * one estate: each mutates it, runs, checks that nothing was executed, and restores it.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadApp } from '../../local/host/capture.js';
import type { EstateSpec } from '../../local/sim/estate/estate.js';
import type { SimAvailabilityGroup } from '../../local/sim/sqlserver/model.js';
import { serverVersion } from '../../local/sim/sqlserver/state.js';
import { armAdvice } from '../../src/azure/errors.js';
import { loadSettings } from '../../src/config.js';
import { sqlAdvice } from '../../src/sql/errors.js';
import { repoRoot } from '../helpers/runbook.js';
import { changesIn, demoRequest, demoSpec, startBed, type Bed } from './harness.js';

const beds: Bed[] = [];

/**
 * The retry budget a failing request gets, from milink's settings (defaults): the client's own tries (the ARM
 * pipeline's first try and retries, the SQL session's tries) for each of the runner's tries of the step.
 */
const DEFAULTS = loadSettings({ MILINK_KEYVAULT_URL: 'https://kv.example' });
const ARM_TRIES = (DEFAULTS.MILINK_AZURE_RETRY_ATTEMPTS + 1) * DEFAULTS.MILINK_STEP_ATTEMPTS;
const SQL_TRIES = DEFAULTS.MILINK_SQL_RETRY_ATTEMPTS * DEFAULTS.MILINK_STEP_ATTEMPTS;

/** Test-side hooks run just before an activity of the app starts (to inject a fault after preflight). */
const before: Record<string, () => void> = {};
let unwrap: Array<() => void> = [];

beforeAll(async () => {
  for (const reg of (await loadApp(join(repoRoot, 'src/index.ts'))).filter((r) => r.kind === 'activity')) {
    const original = reg.handler;
    reg.handler = (input, context) => {
      // runStep runs any runbook step: hooks are keyed by the step it runs
      before[(input as { step?: string }).step ?? reg.name]?.();
      return original(input, context);
    };
    unwrap.push(() => (reg.handler = original));
  }
});

afterAll(async () => {
  for (const u of unwrap) u();
  unwrap = [];
  await Promise.allSettled(beds.map((b) => b.close()));
});

async function bed(spec?: EstateSpec): Promise<Bed> {
  const b = await startBed(spec ? { spec } : {});
  beds.push(b);
  return b;
}

async function run(b: Bed, request: unknown = demoRequest()): Promise<any> {
  const posted = await b.api('POST', '/api/links', request);
  expect(posted.status, posted.text).toBe(202);
  return b.finish(posted.json.instanceId as string);
}

function sqlbox(b: Bed) {
  return b.estate.sqlServers.get('SQLBOX1')!;
}

/** Successful executions of statements matching `pattern` on SQLBOX1. */
function ran(b: Bed, pattern: RegExp): number {
  return sqlbox(b).journal.filter((e) => pattern.test(e.text) && !e.dropped && e.errorNumbers.length === 0)
    .length;
}

function expectSucceeded(status: any): void {
  expect(status.runtimeStatus, JSON.stringify(status, null, 2)).toBe('Completed');
  expect(status.phase).toBe('succeeded');
  expect(status.output.health.healthy).toBe(true);
}

function expectFailed(status: any, step: string, code: string, advice: string | RegExp): void {
  expect(status.runtimeStatus, JSON.stringify(status, null, 2)).toBe('Failed');
  expect(status.phase).toBe('failed');
  expect(status.error.step).toBe(step);
  expect(status.error.code, JSON.stringify(status.error)).toBe(code);
  expect(status.error.message.length).toBeGreaterThan(10);
  if (typeof advice === 'string') expect(status.error.advice).toBe(advice);
  else expect(status.error.advice).toMatch(advice);
  if (step !== 'preflight')
    expect(status.steps.find((s: { id: string }) => s.id === step)?.state, JSON.stringify(status.steps)).toBe(
      'failed',
    );
}

const LINK_PUT = { method: 'PUT', path: '/distributedAvailabilityGroups/DAG1_SalesDb' };
const TRUST_PUT = { method: 'PUT', path: '/serverTrustCertificates/' };

describe('injected faults end in success after retry or in a failed status with step, error and advice', () => {
  it('ARM 429 with Retry-After on the link PUT: retried after the time the service asked for, then healthy', async () => {
    const b = await bed();
    const times: Array<{ at: number; what: string }> = [];
    const injected = b.estate.armFaults.injected;
    const pushFault = injected.push.bind(injected);
    injected.push = (...f) => {
      for (const x of f) times.push({ at: Date.now(), what: `fault ${x.method} ${x.path}` });
      return pushFault(...f);
    };
    const journal = b.estate.arm.journal;
    const pushEntry = journal.push.bind(journal);
    journal.push = (...e) => {
      for (const x of e) times.push({ at: Date.now(), what: `${x.method} ${x.status} ${x.path}` });
      return pushEntry(...e);
    };
    b.estate.armFaults.throttle(1, 1, LINK_PUT);
    expectSucceeded(await run(b));
    const throttled = times.find((t) => t.what.startsWith('fault PUT') && t.what.includes('DAG1_SalesDb'));
    const accepted = times.find((t) => /^PUT 20\d .*DAG1_SalesDb$/.test(t.what));
    expect(throttled && accepted, JSON.stringify(times)).toBeTruthy();
    expect(accepted!.at - throttled!.at).toBeGreaterThanOrEqual(950);
    expect(b.estate.arm.journal.filter((r) => r.method === 'PUT' && r.path.includes('DAG1')).length).toBe(1);
  });

  it('ARM 429 that never ends (on the trust upload): failed at trust-sqlserver-certificate with TooManyRequests; a re-run after it stops succeeds', async () => {
    const b = await bed();
    const stop = b.estate.armFaults.throttle(100, 0, TRUST_PUT);
    const status = await run(b);
    expectFailed(status, 'trust-sqlserver-certificate', 'TooManyRequests', armAdvice('TooManyRequests'));
    expect(b.estate.armFaults.injected.length).toBe(ARM_TRIES);
    stop();
    expectSucceeded(await run(b));
  });

  it('ARM 503 twice on reading the instance certificate: retried, then healthy', async () => {
    const b = await bed();
    b.estate.armFaults.fail(2, 503, { method: 'GET', path: '/endpointCertificates/' });
    expectSucceeded(await run(b));
    expect(b.estate.armFaults.injected.map((f) => f.kind)).toEqual(['error', 'error']);
  });

  it('ARM 500 on every link PUT: failed at create-link with InternalServerError and advice; a re-run after it stops succeeds', async () => {
    const b = await bed();
    const stop = b.estate.armFaults.fail(100, 500, LINK_PUT);
    const status = await run(b);
    expectFailed(status, 'create-link', 'InternalServerError', armAdvice('InternalServerError'));
    expect(status.error.target).toBe('azure');
    expect(b.estate.links.all()).toHaveLength(0);
    stop();
    expectSucceeded(await run(b));
  }, 30_000);

  it('an ARM connection dropped without an answer (listing the trusted certificates): retried, then healthy, one trust', async () => {
    const b = await bed();
    b.estate.armFaults.drop(1, { method: 'GET', path: /\/serverTrustCertificates$/ });
    expectSucceeded(await run(b));
    expect(b.estate.armFaults.injected.map((f) => f.kind)).toEqual(['drop']);
    expect(b.estate.instances.all()[0]!.serverTrustCertificates.size).toBe(1);
  });

  it('a SQL connection dropped while CREATE ENDPOINT is sent: retried on a new connection, the endpoint created once', async () => {
    const b = await bed();
    sqlbox(b).faults.dropOnText.push({ pattern: 'CREATE ENDPOINT', remaining: 1 });
    sqlbox(b).faults.dropNextConnections = 1;
    expectSucceeded(await run(b));
    expect(sqlbox(b).journal.filter((e) => e.dropped && /CREATE ENDPOINT/.test(e.text))).toHaveLength(1);
    expect(ran(b, /CREATE ENDPOINT/)).toBe(1);
  });

  it('a SQL connection dropped on every try of CREATE AVAILABILITY GROUP: failed at availability-group with advice', async () => {
    const b = await bed();
    sqlbox(b).faults.dropOnText.push({ pattern: 'CREATE AVAILABILITY GROUP [AG_SalesDb]' });
    const status = await run(b);
    expectFailed(status, 'availability-group', 'Connection', /connection dropped/);
    expect(status.error.target).toBe('sqlserver');
    expect(sqlbox(b).journal.filter((e) => e.dropped).length).toBe(SQL_TRIES);
    sqlbox(b).faults.dropOnText.length = 0;
    expectSucceeded(await run(b));
    expect(ran(b, /CREATE AVAILABILITY GROUP \[AG_SalesDb\]/)).toBe(1);
  });

  it('a deadlock (1205) on CREATE CERTIFICATE: retried, the certificate created once', async () => {
    const b = await bed();
    sqlbox(b).faults.errorOnText.push({
      pattern: 'CREATE CERTIFICATE [Cert_SQLBOX1_endpoint]',
      number: 1205,
      message: 'Transaction (Process ID 61) was deadlocked on lock resources with another process.',
      remaining: 1,
    });
    expectSucceeded(await run(b));
    expect(sqlbox(b).journal.filter((e) => e.errorNumbers.includes(1205))).toHaveLength(1);
    expect(ran(b, /CREATE CERTIFICATE \[Cert_SQLBOX1_endpoint\]/)).toBe(1);
  });

  it('SQL error 19405 on the DAG statement: failed at distributed-availability-group naming 19405 and its advice', async () => {
    const b = await bed();
    sqlbox(b).faults.errorOnText.push({ pattern: 'CREATE AVAILABILITY GROUP [DAG1_SalesDb]', number: 19405 });
    const status = await run(b);
    expectFailed(status, 'distributed-availability-group', '19405', sqlAdvice(19405));
    expect(status.error.message).toContain('19405');
    expect(
      status.steps.filter((s: { state: string }) => s.state === 'done').map((s: { id: string }) => s.id),
    ).toContain('availability-group');
    sqlbox(b).faults.errorOnText.length = 0;
    expectSucceeded(await run(b));
  });

  it('Key Vault 500 twice: retried, then healthy', async () => {
    const b = await bed();
    b.estate.keyVaultFaults.fail(2, 500, { path: '/secrets/' });
    expectSucceeded(await run(b));
    expect(b.estate.keyVaultFaults.injected).toHaveLength(2);
  });

  it('Key Vault 503 on every read of the master key secret: preflight stops before any change, target keyvault, with advice', async () => {
    // milink reads a secret once per operation (preflight reads the master key's, the step reuses it), so a vault
    // that does not answer for it stops the run in preflight, before anything changes
    const b = await bed();
    b.estate.keyVaultFaults.fail(100, 503, { path: '/secrets/sqlbox1-master-key' });
    const status = await run(b);
    expectFailed(status, 'preflight', 'ServiceUnavailable', /Key Vault/);
    expect(status.error.target).toBe('keyvault');
    expect(status.failures.map((f: { check: string }) => f.check)).toEqual(['master-key-secret']);
    // the first try and the pipeline's retries (MILINK_AZURE_RETRY_ATTEMPTS, default)
    expect(b.estate.keyVaultFaults.injected.length).toBe(DEFAULTS.MILINK_AZURE_RETRY_ATTEMPTS + 1);
    expect(changesIn(sqlbox(b).journal)).toHaveLength(0);
    b.estate.keyVaultFaults.clear();
    expectSucceeded(await run(b));
  }, 30_000);
});

// ---------------------------------------------------------------- every step names itself

interface StepFault {
  step: string;
  /** A SQL Server error on the first statement containing this text… */
  sql?: string;
  /** …or an ARM error answer. */
  arm?: { method: string; path: string | RegExp; status: number; code: string };
  spec?: (spec: EstateSpec) => void;
}

const STEP_FAULTS: StepFault[] = [
  {
    step: 'prepare-database',
    sql: 'SET RECOVERY FULL',
    spec: (spec) => {
      spec.sqlServers[0]!.databases![0]!.recoveryModel = 'SIMPLE';
    },
  },
  { step: 'master-key', sql: 'CREATE MASTER KEY' },
  { step: 'sqlserver-certificate', sql: 'CREATE CERTIFICATE [Cert_SQLBOX1_endpoint]' },
  {
    step: 'trust-sqlserver-certificate',
    arm: { method: 'PUT', path: '/serverTrustCertificates/', status: 400, code: 'InvalidPublicBlob' },
  },
  {
    step: 'export-instance-certificate',
    arm: { method: 'GET', path: '/endpointCertificates/', status: 403, code: 'AuthorizationFailed' },
  },
  { step: 'import-instance-certificate', sql: 'CREATE CERTIFICATE [mi-prod.' },
  { step: 'import-root-certificates', sql: 'CREATE CERTIFICATE [MicrosoftPKI]' },
  { step: 'validate-instance-certificate', sql: 'sp_validate_certificate_ca_chain' },
  { step: 'mirroring-endpoint', sql: 'CREATE ENDPOINT' },
  { step: 'availability-group', sql: 'CREATE AVAILABILITY GROUP [AG_SalesDb]' },
  { step: 'distributed-availability-group', sql: 'CREATE AVAILABILITY GROUP [DAG1_SalesDb]' },
  {
    step: 'create-link',
    arm: {
      method: 'PUT',
      path: '/distributedAvailabilityGroups/DAG1_SalesDb',
      status: 409,
      code: 'OperationCanNotStartDueToMiLink',
    },
  },
  {
    step: 'wait-for-link',
    arm: {
      method: 'GET',
      path: /distributedAvailabilityGroupsAzureAsyncOperation/,
      status: 403,
      code: 'AuthorizationFailed',
    },
  },
  { step: 'verify-connection', sql: 'FROM\n    sys.dm_hadr_availability_replica_states rs' },
  { step: 'first-log-backup', sql: 'BACKUP LOG' },
];

describe('an error on any step fails that step, with its code and advice', () => {
  for (const f of STEP_FAULTS) {
    it(`${f.step}: ${f.sql ? `SQL error 15247 on ${f.sql.replace(/\s+/g, ' ')}` : `ARM ${f.arm!.status} ${f.arm!.code}`}`, async () => {
      const spec = demoSpec();
      f.spec?.(spec);
      const b = await bed(spec);
      if (f.sql)
        sqlbox(b).faults.errorOnText.push({
          pattern: f.sql.includes('\n') ? new RegExp(f.sql.replace(/[[\].*+?()]/g, '\\$&')) : f.sql,
          number: 15247,
        });
      else
        b.estate.armFaults.fail(1000, f.arm!.status, {
          method: f.arm!.method,
          path: f.arm!.path,
          code: f.arm!.code,
        });
      const status = await run(b);
      if (f.sql) {
        expectFailed(status, f.step, '15247', sqlAdvice(15247));
        expect(status.error.target).toBe('sqlserver');
      } else {
        expectFailed(status, f.step, f.arm!.code, armAdvice(f.arm!.code));
        expect(status.error.target).toBe('azure');
      }
      // steps before the failed one are done, the others pending; verify-connection is checked on every look
      // at the link, so when it fails the wait for the link has not ended
      const order = status.steps.map((s: { id: string }) => s.id) as string[];
      const at = order.indexOf(f.step);
      const unfinished = f.step === 'verify-connection' ? ['wait-for-link'] : [];
      for (const s of status.steps as Array<{ id: string; state: string }>)
        expect(s.state, `${s.id} with ${f.step} failed`).toBe(
          s.id === f.step
            ? 'failed'
            : order.indexOf(s.id) < at && !unfinished.includes(s.id)
              ? 'done'
              : 'pending',
        );
      expect(status.current).toBeUndefined();
    });
  }
});

// ---------------------------------------------------------------- preflight

function preflightSpec(): EstateSpec {
  const spec = demoSpec();
  const box = spec.sqlServers[0]!;
  box.databases = [
    ...(box.databases ?? []),
    { name: 'TwoLogs', recoveryModel: 'FULL', fullBackup: true, logFiles: 2 },
    { name: 'Stream', recoveryModel: 'FULL', fullBackup: true, filestream: true },
    { name: 'InMem', recoveryModel: 'FULL', fullBackup: true, memoryOptimized: true },
    { name: 'SimpleDb', recoveryModel: 'SIMPLE', sizeMb: 50 },
  ];
  spec.sqlServers.push({
    serverName: 'SQLBOX2',
    host: 'sqlbox2.contoso.local',
    endpointAddress: '10.0.0.6',
    version: 2022,
    cu: 13,
    logins: [{ name: 'milink_admin', password: 'Sim-Only-Box2!pw', serverRoles: ['sysadmin'] }],
    databases: [{ name: 'SalesDb', recoveryModel: 'FULL', fullBackup: true }],
    endpoint: { name: 'Hadr_endpoint', port: 5023, windowsAuth: 'NEGOTIATE' },
  });
  spec.keyVault.secrets['sqlbox2-login'] = 'Sim-Only-Box2!pw';
  spec.keyVault.secrets['sqlbox2-master-key'] = 'Sim-Only-Box2#mk';
  return spec;
}

describe('preflight: every failure reported together with advice, nothing executed', () => {
  let b: Bed;
  beforeAll(async () => {
    b = await bed(preflightSpec());
  });

  const mi = () => b.estate.instances.all()[0]!;
  const box = () => sqlbox(b).state;

  /** Runs a request that preflight must stop; checks that neither SQL Server nor ARM was changed. */
  async function stopped(request: any, checks: string[]): Promise<any> {
    const marks = [...b.estate.sqlServers.values()].map((s) => s.journal.length);
    const armMark = b.estate.arm.journal.length;
    const status = await run(b, request);
    expect(status.runtimeStatus, JSON.stringify(status, null, 2)).toBe('Failed');
    expect(status.phase).toBe('failed');
    expect(status.error.step).toBe('preflight');
    expect(status.error.advice.length).toBeGreaterThan(5);
    const failures = status.failures as Array<{ check: string; message: string; advice: string }>;
    expect(failures.map((f) => f.check).sort(), JSON.stringify(failures, null, 2)).toEqual(
      [...checks].sort(),
    );
    for (const f of failures) {
      expect(f.message.length).toBeGreaterThan(5);
      expect(f.advice.length).toBeGreaterThan(5);
    }
    expect(status.error.message).toContain(`${failures.length} preflight check(s) failed`);
    for (const f of failures) expect(status.error.message).toContain(f.message);
    expect(status.steps.filter((s: { state: string }) => s.state === 'done')).toEqual([]);
    [...b.estate.sqlServers.values()].forEach((s, i) =>
      expect(changesIn(s.journal.slice(marks[i])).map((e) => e.text)).toEqual([]),
    );
    expect(b.estate.arm.journal.slice(armMark).filter((r) => r.method !== 'GET')).toEqual([]);
    return status;
  }

  it('login not in sysadmin', async () => {
    const roles = box().logins[0]!.serverRoles;
    box().logins[0]!.serverRoles = [];
    try {
      const s = await stopped(demoRequest(), ['sysadmin']);
      expect(s.failures[0].advice).toMatch(/sysadmin/);
    } finally {
      box().logins[0]!.serverRoles = roles;
    }
  });

  it('Always On (HADR) disabled', async () => {
    box().hadrEnabled = false;
    try {
      const s = await stopped(demoRequest(), ['hadr']);
      expect(s.failures[0].advice).toMatch(/Configuration Manager/);
    } finally {
      box().hadrEnabled = true;
    }
  });

  it('SQL Server 2019 below CU20', async () => {
    const version = box().version;
    box().version = serverVersion(2019, 15);
    try {
      const s = await stopped(demoRequest(), ['version']);
      expect(s.failures[0].message).toMatch(/15\.0\.4198/);
      expect(s.failures[0].advice).toMatch(/CU20/);
    } finally {
      box().version = version;
    }
  });

  it('database missing', async () => {
    const s = await stopped(demoRequest({ database: 'NoSuchDb' }), ['database']);
    expect(s.failures[0].message).toMatch(/NoSuchDb does not exist/);
  });

  it('two log files', async () => {
    const s = await stopped(demoRequest({ database: 'TwoLogs' }), ['database']);
    expect(s.failures[0].code).toBe('ManagedInstanceLinkSourceDbHasMultipleLogFiles');
  });

  it('FILESTREAM', async () => {
    const s = await stopped(demoRequest({ database: 'Stream' }), ['database']);
    expect(s.failures[0].code).toBe('ManagedInstanceLinkSourceDbHasFilestream');
  });

  it('memory-optimized filegroup', async () => {
    const s = await stopped(demoRequest({ database: 'InMem' }), ['database']);
    expect(s.failures[0].code).toBe('ManagedInstanceLinkSourceDbHasHekatonFile');
  });

  it('collation mismatch', async () => {
    const collation = box().collation;
    box().collation = 'Latin1_General_100_CI_AS_SC';
    try {
      const s = await stopped(demoRequest(), ['collation']);
      expect(s.failures[0].message).toMatch(/Latin1_General_100_CI_AS_SC/);
    } finally {
      box().collation = collation;
    }
  });

  it('instance not Ready', async () => {
    mi().state = 'Stopped';
    try {
      const s = await stopped(demoRequest(), ['instance-ready']);
      expect(s.failures[0].message).toMatch(/Stopped/);
    } finally {
      mi().state = 'Ready';
    }
  });

  it('update policy Always-up-to-date with failoverMode Manual', async () => {
    mi().databaseFormat = 'AlwaysUpToDate';
    try {
      const s = await stopped(demoRequest({ failoverMode: 'Manual' }), ['update-policy']);
      expect(s.failures[0].advice).toMatch(/update policy/);
    } finally {
      mi().databaseFormat = 'SQLServer2022';
    }
  });

  it('name clash: the availability group name is taken by another group on SQL Server', async () => {
    const clash: SimAvailabilityGroup = {
      groupId: '3F2504E0-4F89-11D3-9A0C-0305E82C3301',
      name: 'AG_SalesDb',
      isDistributed: false,
      clusterType: 'NONE',
      databases: [],
      replicas: [],
      createAnyDatabaseGranted: false,
      createDate: new Date('2026-01-01T00:00:00Z'),
    };
    box().availabilityGroups.push(clash);
    try {
      const s = await stopped(demoRequest(), ['names-free']);
      expect(s.failures[0].advice).toMatch(/names\.availabilityGroup/);
    } finally {
      box().availabilityGroups.splice(box().availabilityGroups.indexOf(clash), 1);
    }
  });

  it('the mirroring endpoint listens on another port', async () => {
    const s = await stopped(
      demoRequest({
        sqlServer: {
          ...demoRequest().sqlServer,
          host: 'sqlbox2.contoso.local',
          endpointAddress: '10.0.0.6',
          loginSecret: 'sqlbox2-login',
          masterKeySecret: 'sqlbox2-master-key',
        },
      }),
      ['endpoint-port'],
    );
    expect(s.failures[0].advice).toMatch(/endpointPort to 5023/);
  });

  it('login failure: the secret holds a wrong password', async () => {
    const store = b.estate.keyVault.secrets;
    const right = store.get('sqlbox1-login')!.version.value;
    store.set('sqlbox1-login', 'not-the-password');
    try {
      const s = await stopped(demoRequest(), ['sqlserver-login']);
      expect(s.failures[0].code).toBe('18456');
      expect(s.failures[0].advice).toBe(sqlAdvice(18456));
    } finally {
      store.set('sqlbox1-login', right);
    }
  });

  it('missing Key Vault secrets: the login secret, the master key secret', async () => {
    const login = await stopped(
      demoRequest({ sqlServer: { ...demoRequest().sqlServer, loginSecret: 'no-such-login' } }),
      ['sqlserver-login'],
    );
    expect(login.failures[0].target).toBe('keyvault');
    expect(login.failures[0].advice).toMatch(/create the secret no-such-login/);
    const masterKey = await stopped(
      demoRequest({ sqlServer: { ...demoRequest().sqlServer, masterKeySecret: 'no-such-master-key' } }),
      ['master-key-secret'],
    );
    expect(masterKey.failures[0].target).toBe('keyvault');
    expect(masterKey.failures[0].advice).toMatch(/create the secret no-such-master-key/);
  });

  it('several problems at once are all listed, each with its advice', async () => {
    box().hadrEnabled = false;
    const roles = box().logins[0]!.serverRoles;
    box().logins[0]!.serverRoles = [];
    const collation = box().collation;
    box().collation = 'Latin1_General_100_CI_AS_SC';
    mi().state = 'Updating';
    try {
      const s = await stopped(demoRequest({ database: 'TwoLogs' }), [
        'instance-ready',
        'sysadmin',
        'hadr',
        'collation',
        'database',
      ]);
      expect(new Set(s.failures.map((f: { advice: string }) => f.advice)).size).toBe(5);
    } finally {
      box().hadrEnabled = true;
      box().logins[0]!.serverRoles = roles;
      box().collation = collation;
      mi().state = 'Ready';
    }
  });

  it('SIMPLE recovery is a warning, not a failure: prepare-database sets FULL and takes a full backup', async () => {
    const status = await run(b, demoRequest({ database: 'SimpleDb' }));
    expectSucceeded(status);
    expect(status.warnings.map((w: { check: string }) => w.check)).toContain('recovery-model');
    expect(ran(b, /ALTER DATABASE \[SimpleDb\] SET RECOVERY FULL/)).toBe(1);
    expect(ran(b, /BACKUP DATABASE \[SimpleDb\]/)).toBe(1);
  });
});

/** The documented limit of links per managed instance (importing preflight.ts here would register it early). */
const LINKS_PER_INSTANCE = 100;

describe('preflight: the instance at its link limit', () => {
  it(`${LINKS_PER_INSTANCE} links on the instance: link-count failure, nothing executed`, async () => {
    const b = await bed();
    const mi = b.estate.instances.all()[0]!;
    for (let i = 0; i < LINKS_PER_INSTANCE; i++) {
      const put = b.estate.links.put(mi, `DAG_Fill${i}`, {
        properties: {
          partnerAvailabilityGroupName: `AG_Fill${i}`,
          instanceAvailabilityGroupName: `AG_Fill${i}_MI`,
          partnerEndpoint: 'TCP://10.0.0.4:5022',
          instanceLinkRole: 'Secondary',
          failoverMode: 'None',
          seedingMode: 'Automatic',
          databases: [{ databaseName: `Fill${i}` }],
        },
      });
      expect(put.status, JSON.stringify(put)).toBeLessThan(300);
    }
    const mark = sqlbox(b).journal.length;
    const status = await run(b);
    expect(status.runtimeStatus).toBe('Failed');
    expect(status.error.step).toBe('preflight');
    expect(status.failures.map((f: { check: string }) => f.check)).toEqual(['link-count']);
    expect(status.failures[0].advice).toMatch(/drop links/);
    expect(changesIn(sqlbox(b).journal.slice(mark))).toEqual([]);
  });
});
