/**
 * The health batch against the SQL Server stand-in through the real mssql driver, on links created by ARM
 * over the simulated estate: one round trip reads every DAG; the parser types what came back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HEALTH_BATCH,
  listenerHost,
  parseServerObservation,
  ObservationParseError,
} from '../../src/health/batch.js';
import { healthEstate, type HealthEstate } from './estate.js';

let h: HealthEstate;
const sales = {
  database: 'SalesDb',
  ag: 'AG_SalesDb',
  instanceAg: 'AG_SalesDb_MI',
  dag: 'DAG1_SalesDb',
  port: 5022,
};

beforeAll(async () => {
  h = await healthEstate([{ name: 'SQLBOX1', databases: ['SalesDb', 'HrDb'] }]);
  await h.createLink('SQLBOX1', sales);
  h.clock.advance(60_000);
});
afterAll(async () => h?.close());

describe('the health batch', () => {
  it('names no object: the text is a constant with no user name in it', () => {
    expect(HEALTH_BATCH).not.toMatch(/SalesDb|DAG1|AG_|mi-prod/);
    expect(HEALTH_BATCH).toMatch(/CAST\(drs\.last_hardened_lsn AS varchar\(32\)\)/);
  });

  it('reads every DAG of a server in one round trip and parses it', async () => {
    const running = h.estate.sqlServers.get('SQLBOX1')!;
    await h.query('SQLBOX1', 'SELECT 1 AS warm;'); // the pool's connection is open before counting
    const before = running.journal.length;
    const obs = parseServerObservation(await h.query('SQLBOX1', HEALTH_BATCH));
    expect(running.journal.slice(before).map((j) => j.text)).toEqual([HEALTH_BATCH]);

    expect(obs).toMatchObject({
      serverName: 'SQLBOX1',
      version: { major: 16, cu: 13 },
      traceFlag12381: false,
      endpoint: { state: 'STARTED', port: 5022, certificateName: 'Cert_SQLBOX1_endpoint' },
    });
    expect(obs.dags).toHaveLength(1);
    const dag = obs.dags[0]!;
    expect(dag).toMatchObject({
      name: 'DAG1_SalesDb',
      local: { memberName: 'AG_SalesDb', role: 'PRIMARY', isLocal: true },
      remote: { memberName: 'AG_SalesDb_MI', connectedState: 'CONNECTED', synchronizationHealth: 'HEALTHY' },
    });
    expect(listenerHost(dag.remote!.endpointUrl)).toBe(h.mi.fqdn.toLowerCase());
    const db = dag.databases.find((d) => d.name === 'SalesDb')!;
    expect(db).toMatchObject({
      recoveryModel: 'FULL',
      logReuseWait: 'AVAILABILITY_REPLICA',
      remote: { isLocal: false, synchronizationState: 'SYNCHRONIZING' },
      local: { isLocal: true, isPrimaryReplica: true },
    });
    expect(dag.databases.map((d) => d.name)).toEqual(['SalesDb']); // HrDb is in no AG
    expect(db.remote!.secondaryLagSeconds).toBeTypeOf('number');
    expect(db.logUsedPercent).toBeGreaterThan(0);
    expect(db.lastFullBackup?.ageMinutes).toBeGreaterThan(0);
    expect(db.seeding[0]).toMatchObject({ state: 'COMPLETED' });

    // LSNs keep every digit (numeric(25,0) is beyond a double's precision)
    const state = running.state.databaseReplicaStates.find((r) => r.databaseName === 'SalesDb' && r.isLocal)!;
    expect(db.local!.lastHardenedLsn).toBe(String(state.lastHardenedLsn));

    const endpointCert = obs.certificates.find((c) => c.isEndpointCertificate)!;
    expect(endpointCert).toMatchObject({ name: 'Cert_SQLBOX1_endpoint', privateKey: true, chain: null });
    const miCert = obs.certificates.find((c) => c.name.toLowerCase() === h.mi.fqdn.toLowerCase())!;
    expect(miCert.chain).toEqual({ valid: true });
  });

  it('sees trace flag 12381, a log backup, a broken chain and a disconnected partner with its error', async () => {
    const running = h.estate.sqlServers.get('SQLBOX1')!;
    await h.query('SQLBOX1', 'DBCC TRACEON(12381, -1);');
    await h.query('SQLBOX1', "BACKUP LOG [SalesDb] TO DISK = N'C:\\backup\\SalesDb.trn';");
    const roots = running.state.certificates.filter((c) => /PKI$/.test(c.name));
    const saved = roots.map((c) => [...c.issuerRegistrations]);
    for (const c of roots) c.issuerRegistrations = [];
    h.mi.serverTrustCertificates.clear(); // the instance no longer trusts SQL Server: 41973
    h.clock.advance(30_000);
    try {
      const obs = parseServerObservation(await h.query('SQLBOX1', HEALTH_BATCH));
      expect(obs.traceFlag12381).toBe(true);
      const db = obs.dags[0]!.databases[0]!;
      expect(db.lastLogBackup?.ageMinutes).toBeGreaterThanOrEqual(0);
      const miCert = obs.certificates.find((c) => c.name.toLowerCase() === h.mi.fqdn.toLowerCase())!;
      expect(miCert.chain).toMatchObject({ valid: false, errorNumber: 15299 });
      expect(obs.dags[0]!.remote).toMatchObject({
        connectedState: 'DISCONNECTED',
        lastConnectError: { number: 41973 },
      });
    } finally {
      await h.query('SQLBOX1', 'DBCC TRACEOFF(12381, -1);');
      roots.forEach((c, i) => (c.issuerRegistrations = saved[i]!));
    }
  });

  it('refuses result sets that are not the batch', () => {
    expect(() => parseServerObservation([[{ a: 1 }]])).toThrow(ObservationParseError);
    expect(() => parseServerObservation('nope')).toThrow(ObservationParseError);
  });
});
