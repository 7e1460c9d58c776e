/**
 * Each check: a case that fires and a healthy (or just-under-threshold) case that does not. Sources are
 * health-checks.md's: TS troubleshoot, BP best practices, FO failover, CFG configure with scripts,
 * OV overview, EXT multi-database, UP update policy, DMV sys.dm_hadr_database_replica_states, SPEC the
 * ARM spec (DistributedAvailabilityGroups.json).
 */
import { describe, expect, it } from 'vitest';
import { runChecks, type CheckId, type Finding } from '../../src/health/checks.js';
import { thresholds } from '../../src/health/thresholds.js';
import type { SweepInput } from '../../src/health/inputs.js';
import { armDb0, AT, db0, FQDN, healthyArmLink, healthyInput, KEY } from './fixtures.js';

const t = thresholds();
const run = (input: SweepInput) => runChecks(input, t);
const of = (fs: Finding[], id: CheckId) => fs.filter((f) => f.checkId === id);
const one = (fs: Finding[], id: CheckId): Finding => {
  const found = of(fs, id);
  expect(found, `${id} in ${JSON.stringify(fs.map((f) => f.checkId))}`).toHaveLength(1);
  return found[0]!;
};
const daysFromAt = (days: number) => new Date(Date.parse(AT) + days * 86_400_000 + 3_600_000).toISOString();

describe('thresholds', () => {
  it('default to the documented numbers and accept overrides', () => {
    expect(t.logUsedPercent.warning).toBe(76); // BP example
    expect(t.certificateDays).toEqual({ info: 30, warning: 14, critical: 7 }); // issue 14, BP
    expect(t.lagSeconds.warning).toBe(60); // sp_Blitz 268 (no Microsoft number)
    expect(thresholds({ lagSeconds: { warning: 5 } }).lagSeconds).toEqual({ warning: 5, critical: 900 });
    expect(() => thresholds({ logUsedPercent: { warning: 120 } })).toThrow();
    expect(() => thresholds({ nope: 1 })).toThrow();
  });
});

describe('a healthy link', () => {
  it('gives no finding at all', () => {
    expect(run(healthyInput())).toEqual([]);
  });
});

describe('reachability (issue 14: a finding, not a failure)', () => {
  it('reports an unreachable SQL Server and an instance answering 5xx, and checks nothing else on them', () => {
    const fs = run(
      healthyInput(({ input }) => {
        input.servers = [
          { sqlServer: 'SQLBOX1', error: { message: 'Failed to connect in 15000ms', code: 'ETIMEOUT' } },
        ];
        input.instances = [{ instance: 'mi-prod', error: { message: 'InternalServerError', code: '500' } }];
      }),
    );
    expect(one(fs, 'sqlserver-unreachable')).toMatchObject({
      severity: 'critical',
      target: 'sqlserver:SQLBOX1',
      code: 'ETIMEOUT',
    });
    expect(one(fs, 'instance-unreachable')).toMatchObject({
      severity: 'critical',
      target: 'instance:mi-prod',
      code: '500',
    });
    expect(fs).toHaveLength(2);
  });
});

describe('presence', () => {
  it('reports a managed link missing on the instance or on SQL Server (FO, CFG)', () => {
    const gone = run(healthyInput(({ input }) => (input.instances[0]!.links = [])));
    expect(one(gone, 'link-missing-on-instance')).toMatchObject({ severity: 'critical', link: KEY });
    const noDag = run(healthyInput(({ server }) => (server.dags = [])));
    expect(one(noDag, 'dag-missing-on-sqlserver')).toMatchObject({ severity: 'critical', link: KEY });
  });
});

describe('connection (CFG, TS errors → remedy)', () => {
  it('fires on DISCONNECTED with 41973 and its remedy', () => {
    const fs = run(
      healthyInput(({ server, arm }) => {
        server.dags[0]!.remote!.connectedState = 'DISCONNECTED';
        server.dags[0]!.remote!.lastConnectError = { number: 41973, description: 'cert not found', at: AT };
        armDb0(arm).connectedState = 'DISCONNECTED';
        server.dags[0]!.remote!.synchronizationHealth = 'NOT_HEALTHY';
      }),
    );
    const f = one(fs, 'connection');
    expect(f).toMatchObject({
      severity: 'critical',
      code: '41973',
      value: 'DISCONNECTED',
      threshold: 'CONNECTED',
    });
    expect(f.advice).toMatch(/serverTrustCertificate/);
    expect(f.message).toMatch(/SQL Server and the instance/);
    expect(of(fs, 'synchronization-health')).toHaveLength(0); // one finding for one cause
  });
  it('reads the code from ARM mostRecentLinkError when only the instance sees it (41974)', () => {
    const f = one(
      run(
        healthyInput(({ arm }) => {
          armDb0(arm).connectedState = 'DISCONNECTED';
          armDb0(arm).mostRecentLinkError =
            'Connection failed, error 41974: certificate not found on SQL Server';
        }),
      ),
      'connection',
    );
    expect(f.code).toBe('41974');
    expect(f.advice).toMatch(/re-import the instance's endpoint certificate/);
  });
});

describe('synchronization health (TS) and state (DMV)', () => {
  it('NOT_HEALTHY is critical, PARTIALLY_HEALTHY a warning', () => {
    const not = one(
      run(healthyInput(({ server }) => (server.dags[0]!.remote!.synchronizationHealth = 'NOT_HEALTHY'))),
      'synchronization-health',
    );
    expect(not).toMatchObject({ severity: 'critical', value: 'NOT_HEALTHY', threshold: 'HEALTHY' });
    const part = one(
      run(healthyInput(({ arm }) => (armDb0(arm).synchronizationHealth = 'PARTIALLY_HEALTHY'))),
      'synchronization-health',
    );
    expect(part.severity).toBe('warning');
  });
  it('is not judged while seeding, nor on the secondary side', () => {
    expect(
      of(
        run(
          healthyInput(({ server }) => {
            server.dags[0]!.remote!.synchronizationHealth = 'NOT_HEALTHY';
            db0(server).seeding[0]!.state = 'SEEDING';
            db0(server).seeding[0]!.startedAt = AT;
          }),
        ),
        'synchronization-health',
      ),
    ).toHaveLength(0);
    expect(
      of(
        run(
          healthyInput(({ server }) => {
            server.dags[0]!.local!.role = 'SECONDARY';
            server.dags[0]!.remote!.synchronizationHealth = 'NOT_HEALTHY';
          }),
        ),
        'synchronization-health',
      ),
    ).toHaveLength(0);
  });
  it('NOT SYNCHRONIZING is a warning; suspended is critical with the resume statement', () => {
    expect(
      one(
        run(healthyInput(({ server }) => (db0(server).remote!.synchronizationState = 'NOT SYNCHRONIZING'))),
        'synchronization-state',
      ).severity,
    ).toBe('warning');
    const s = one(
      run(
        healthyInput(({ server }) => {
          db0(server).local!.isSuspended = true;
          db0(server).local!.suspendReason = 'SUSPEND_FROM_USER';
        }),
      ),
      'suspended',
    );
    expect(s).toMatchObject({ severity: 'critical', value: 'SUSPEND_FROM_USER' });
    expect(s.advice).toMatch(/SET HADR RESUME/);
  });
});

describe('replica state (TS, SPEC)', () => {
  it("fires on a …Error state with the error's remedy (41962 LinkInitError)", () => {
    const f = one(
      run(
        healthyInput(({ arm }) => {
          armDb0(arm).replicaState = 'LinkInitError';
          armDb0(arm).mostRecentLinkError = 'Error 41962: link not initiated within 5 minutes';
        }),
      ),
      'replica-state',
    );
    expect(f).toMatchObject({ severity: 'critical', value: 'LinkInitError', code: '41962' });
    expect(f.advice).toMatch(/network/);
  });
  it('ignores a stale mostRecentLinkError on a healthy link', () => {
    expect(
      run(healthyInput(({ arm }) => (armDb0(arm).mostRecentLinkError = 'Error 41986 last week'))),
    ).toEqual([]);
  });
});

describe('lag and queues (BP, FO; no documented number)', () => {
  it('warns at 60 s, critical at 900 s, silent below', () => {
    const at = (lag: number) =>
      of(run(healthyInput(({ server }) => (db0(server).remote!.secondaryLagSeconds = lag))), 'lag');
    expect(at(59)).toHaveLength(0);
    expect(at(60)[0]).toMatchObject({ severity: 'warning', value: 60, threshold: 60 });
    expect(at(1000)[0]).toMatchObject({ severity: 'critical', threshold: 900 });
  });
  it('reads ARM lag fields when the instance is primary', () => {
    const f = one(
      run(
        healthyInput(({ server, arm }) => {
          arm.properties.instanceLinkRole = 'Primary';
          server.dags[0]!.local!.role = 'SECONDARY';
          db0(server).remote = null;
          armDb0(arm).instanceRedoReplicationLagSeconds = 120;
        }),
      ),
      'lag',
    );
    expect(f).toMatchObject({ severity: 'warning', value: 120 });
  });
  it('flags a large redo queue and log send queue', () => {
    const fs = run(
      healthyInput(({ server }) => {
        db0(server).remote!.redoQueueKb = 2_000_000;
        db0(server).remote!.logSendQueueKb = 20_000_000;
      }),
    );
    expect(one(fs, 'redo-queue')).toMatchObject({ severity: 'warning', threshold: 1_048_576 });
    expect(one(fs, 'redo-queue').advice).toMatch(/more resources/);
    expect(one(fs, 'log-send-queue')).toMatchObject({ severity: 'critical' });
  });
});

describe('log space and reuse wait (CFG 100 %, BP 76 %)', () => {
  it('warns at 76 %, critical at 90 %, with advice by log_reuse_wait_desc', () => {
    const at = (p: number, wait = 'LOG_BACKUP') =>
      of(
        run(
          healthyInput(({ server }) => {
            db0(server).logUsedPercent = p;
            db0(server).logReuseWait = wait;
          }),
        ),
        'log-space',
      );
    expect(at(75.9)).toHaveLength(0);
    expect(at(76)[0]).toMatchObject({ severity: 'warning', code: 'LOG_BACKUP' });
    expect(at(76)[0]!.advice).toMatch(/log backup/);
    const full = at(100, 'AVAILABILITY_REPLICA')[0]!;
    expect(full).toMatchObject({ severity: 'critical', threshold: 90 });
    expect(full.advice).toMatch(/dm_hadr_database_replica_cluster_states/);
  });
});

describe('last log backup while SQL Server is primary (BP, EXT)', () => {
  it('warns when the last log backup is older than 24 h', () => {
    const f = one(
      run(
        healthyInput(
          ({ server }) =>
            (db0(server).lastLogBackup = { finishedAt: '2026-11-29T00:00:00Z', ageMinutes: 50 * 60 }),
        ),
      ),
      'log-backup-age',
    );
    expect(f).toMatchObject({ severity: 'warning', value: 50, threshold: 24 });
  });
  it('warns when there was never one a day after seeding, not before', () => {
    expect(
      of(run(healthyInput(({ server }) => (db0(server).lastLogBackup = null))), 'log-backup-age'),
    ).toHaveLength(1);
    expect(
      of(
        run(
          healthyInput(({ server }) => {
            db0(server).lastLogBackup = null;
            db0(server).seeding[0]!.completedAt = '2026-12-01T00:00:00Z';
          }),
        ),
        'log-backup-age',
      ),
    ).toHaveLength(0);
  });
  it('expects none while SQL Server is secondary', () => {
    expect(
      of(
        run(
          healthyInput(({ server }) => {
            server.dags[0]!.local!.role = 'SECONDARY';
            db0(server).lastLogBackup = null;
          }),
        ),
        'log-backup-age',
      ),
    ).toHaveLength(0);
  });
});

describe('seeding (TS)', () => {
  const seeding = (bytes: number, started = '2026-11-30T20:00:00Z') =>
    healthyInput(({ server, arm }) => {
      Object.assign(db0(server).seeding[0]!, {
        state: 'SEEDING',
        completedAt: null,
        transferredBytes: bytes,
        startedAt: started,
      });
      armDb0(arm).replicaState = 'Seeding';
    });
  it('fires when a seeding made no progress since the previous night, not when it did', () => {
    const prev = [
      { link: KEY, seedingOperationId: 'OP1', seedingTransferredBytes: 5000, seedingProgress: '10%' },
    ];
    const stalled = one(runChecks({ ...seeding(5000), previous: prev }, t), 'seeding');
    expect(stalled).toMatchObject({ severity: 'critical', value: 5000 });
    expect(of(runChecks({ ...seeding(9000), previous: prev }, t), 'seeding')).toHaveLength(0);
    expect(of(run(seeding(5000)), 'seeding')).toHaveLength(0); // first night: nothing to compare
  });
  it('warns after 2 days, critical at 6 (creation cancelled)', () => {
    expect(one(run(seeding(1, '2026-11-28T00:00:00Z')), 'seeding')).toMatchObject({ severity: 'warning' });
    expect(one(run(seeding(1, '2026-11-24T00:00:00Z')), 'seeding')).toMatchObject({
      severity: 'critical',
      threshold: 6,
    });
  });
  it('reports a failed seeding with error 1412 and its remedy', () => {
    const f = one(
      run(
        healthyInput(({ server }) =>
          Object.assign(db0(server).seeding[0]!, { state: 'FAILED', errorCode: 1412 }),
        ),
      ),
      'seeding',
    );
    expect(f).toMatchObject({ severity: 'critical', code: '1412' });
    expect(f.advice).toMatch(/drop and recreate the link/);
  });
});

describe('trace flag 12381 (TS)', () => {
  it('warns when it is on and nothing seeds, not while seeding', () => {
    expect(
      one(run(healthyInput(({ server }) => (server.traceFlag12381 = true))), 'trace-flag-12381').advice,
    ).toMatch(/TRACEOFF\(12381/);
    expect(
      of(
        run(
          healthyInput(({ server }) => {
            server.traceFlag12381 = true;
            Object.assign(db0(server).seeding[0]!, { state: 'SEEDING', startedAt: AT });
          }),
        ),
        'trace-flag-12381',
      ),
    ).toHaveLength(0);
  });
});

describe('split brain (TS)', () => {
  it('fires when both sides are PRIMARY', () => {
    expect(
      one(run(healthyInput(({ arm }) => (arm.properties.instanceLinkRole = 'Primary'))), 'split-brain')
        .severity,
    ).toBe('critical');
  });
  it('is silent after a clean failover (SQL Server SECONDARY, instance PRIMARY)', () => {
    expect(
      of(
        run(
          healthyInput(({ server, arm }) => {
            arm.properties.instanceLinkRole = 'Primary';
            server.dags[0]!.local!.role = 'SECONDARY';
          }),
        ),
        'split-brain',
      ),
    ).toHaveLength(0);
  });
});

describe('certificate expiry, 30/14/7 days (BP "Rotate certificate", TS)', () => {
  const endpointAt = (days: number) =>
    of(
      run(healthyInput(({ server }) => (server.certificates[0]!.expiryDate = daysFromAt(days)))),
      'endpoint-certificate-expiry',
    );
  it('on SQL Server: info at 30, warning at 14, critical at 7 and when expired; silent at 31', () => {
    expect(endpointAt(31)).toHaveLength(0);
    expect(endpointAt(30)[0]).toMatchObject({
      severity: 'info',
      threshold: 30,
      value: 30,
      target: 'sqlserver:SQLBOX1/certificate:Cert_SQLBOX1',
    });
    expect(endpointAt(14)[0]).toMatchObject({ severity: 'warning', threshold: 14 });
    expect(endpointAt(7)[0]).toMatchObject({ severity: 'critical', threshold: 7 });
    expect(endpointAt(-3)[0]!.message).toMatch(/expired/);
  });
  it('as the instance sees it (partnerAuthCertValidity)', () => {
    const f = one(
      run(
        healthyInput(
          ({ arm }) =>
            (armDb0(arm).partnerAuthCertValidity = {
              certificateName: 'Cert_SQLBOX1',
              expiryDate: daysFromAt(10),
            }),
        ),
      ),
      'partner-certificate-expiry',
    );
    expect(f).toMatchObject({ severity: 'warning', value: 10, link: KEY });
  });
});

describe("the instance's certificate chain on SQL Server (BP, CFG)", () => {
  it('warns when sp_validate_certificate_ca_chain fails, critical when the certificate is missing (41974)', () => {
    const bad = one(
      run(
        healthyInput(
          ({ server }) =>
            (server.certificates[1]!.chain = { valid: false, errorNumber: 15299, message: 'no root' }),
        ),
      ),
      'instance-certificate-chain',
    );
    expect(bad).toMatchObject({ severity: 'warning', target: `sqlserver:SQLBOX1/certificate:${FQDN}` });
    const missing = one(
      run(healthyInput(({ server }) => server.certificates.splice(1, 1))),
      'instance-certificate-chain',
    );
    expect(missing).toMatchObject({ severity: 'critical', code: '41974' });
  });
  it('is silent when the procedure does not exist on that version (2812)', () => {
    expect(
      run(
        healthyInput(
          ({ server }) =>
            (server.certificates[1]!.chain = { valid: false, errorNumber: 2812, message: 'not found' }),
        ),
      ),
    ).toEqual([]);
  });
});

describe('version (OV, FO) and update policy (UP)', () => {
  it('critical below 2022 CU10 with the instance as primary; info below CU13 for a two-way link', () => {
    expect(
      one(
        run(
          healthyInput(({ server, arm }) => {
            server.version.cu = 8;
            arm.properties.instanceLinkRole = 'Primary';
            server.dags[0]!.local!.role = 'SECONDARY';
          }),
        ),
        'version',
      ),
    ).toMatchObject({ severity: 'critical', threshold: '2022 CU10' });
    expect(one(run(healthyInput(({ server }) => (server.version.cu = 11))), 'version')).toMatchObject({
      severity: 'info',
      threshold: '2022 CU13',
    });
  });
  it('is silent for a one-way link on an older CU', () => {
    expect(
      of(
        run(
          healthyInput(({ server, arm }) => {
            server.version.cu = 5;
            arm.properties.failoverMode = 'None';
          }),
        ),
        'version',
      ),
    ).toHaveLength(0);
  });
  it('flags a two-way link to an AlwaysUpToDate instance, not a one-way one', () => {
    expect(
      one(
        run(healthyInput(({ input }) => (input.instances[0]!.databaseFormat = 'AlwaysUpToDate'))),
        'update-policy',
      ),
    ).toMatchObject({ severity: 'critical', threshold: 'SQLServer2022' });
    expect(
      of(
        run(
          healthyInput(({ input, arm }) => {
            input.instances[0]!.databaseFormat = 'AlwaysUpToDate';
            arm.properties.failoverMode = 'None';
          }),
        ),
        'update-policy',
      ),
    ).toHaveLength(0);
  });
});

describe('unmanaged links (issue 14)', () => {
  it('reports a link on the instance that the inventory does not hold', () => {
    const fs = run(
      healthyInput(({ input }) => input.instances[0]!.links!.push({ ...healthyArmLink(), name: 'HandMade' })),
    );
    expect(one(fs, 'unmanaged-link')).toMatchObject({ severity: 'info', link: 'mi-prod/HandMade' });
  });
});
