import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import sql from 'mssql';
import { VirtualClock } from '../../../local/sim/clock.js';
import { startEstate } from '../../../local/sim/estate/estate.js';
import { EstateSpecError, parseEstateSpec } from '../../../local/sim/estate/spec.js';
import { repoRoot } from '../../helpers/runbook.js';

const estateFile = (name: string) =>
  JSON.parse(readFileSync(resolve(repoRoot, 'local/sim/estates', name), 'utf8')) as unknown;

describe('estate descriptions', () => {
  it('accepts the shipped estates', () => {
    const demo = parseEstateSpec(estateFile('demo.json'));
    expect(demo.sqlServers[0]).toMatchObject({
      serverName: 'SQLBOX1',
      version: 2022,
      host: 'sqlbox1.contoso.local',
      endpointAddress: '10.0.0.4',
    });
    expect(demo.sqlServers[0]?.databases?.[0]).toMatchObject({
      name: 'SalesDb',
      recoveryModel: 'FULL',
      fullBackup: true,
      sizeMb: 200,
    });
    expect(demo.sqlServers[0]?.logins[0]).toMatchObject({ name: 'milink_admin', serverRoles: ['sysadmin'] });
    expect(demo.keyVault.secrets['sqlbox1-login']).toBe(demo.sqlServers[0]?.logins[0]?.password);
    expect(Object.keys(demo.keyVault.secrets)).toContain('sqlbox1-master-key');
    const old = parseEstateSpec(estateFile('sql2019.json'));
    expect(old.sqlServers[0]).toMatchObject({ version: 2019 });
    expect(old.sqlServers[0]?.cu).toBeGreaterThanOrEqual(20);
  });

  it('names every problem with its path', () => {
    const bad = {
      sqlServers: [
        { serverName: 'A', host: 'a.local', endpointAddress: '10.0.0.1', version: 2021, logins: [] },
      ],
      managedInstances: [{ subscriptionId: 'nope', resourceGroup: 'rg', name: 'Bad_Name' }],
      keyVault: { secrets: {} },
    };
    try {
      parseEstateSpec(bad);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(EstateSpecError);
      const problems = (e as EstateSpecError).problems.join('\n');
      expect(problems).toContain('sqlServers.0.version');
      expect(problems).toContain('sqlServers.0.logins');
      expect(problems).toContain('managedInstances.0.subscriptionId');
      expect(problems).toContain('managedInstances.0.name');
    }
    const twice = estateFile('demo.json') as { sqlServers: unknown[] };
    twice.sqlServers.push(twice.sqlServers[0]);
    expect(() => parseEstateSpec(twice)).toThrow(/defined twice/);
  });

  it('starts the SQL Server 2019 estate with its version', async () => {
    const estate = await startEstate(parseEstateSpec(estateFile('sql2019.json')), {
      clock: new VirtualClock(),
    });
    try {
      const target = estate.connection.sqlServers[0];
      const pool = await new sql.ConnectionPool({
        server: '127.0.0.1',
        port: target?.port ?? 0,
        user: 'milink_admin',
        password: estate.keyVault.secrets.get('sqlbox19-login')?.version.value ?? '',
        options: { encrypt: false, trustServerCertificate: true },
      }).connect();
      try {
        const r = await pool
          .request()
          .query(`SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS v`);
        expect(String(r.recordset[0]?.v)).toMatch(/^15\./);
      } finally {
        await pool.close();
      }
    } finally {
      await estate.close();
    }
  });
});
