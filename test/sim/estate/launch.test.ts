/**
 * The launcher: the estate runs as its own process and is reached from this (second) process using only
 * the connection file: ARM through the SDK, Key Vault through the SDK, SQL Server through mssql with the
 * password read from Key Vault.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import sql from 'mssql';
import { SqlManagementClient } from '@azure/arm-sql';
import { SecretClient } from '@azure/keyvault-secrets';
import { launchEstate, readConnectionFile, type LaunchedEstate } from '../../../local/sim/estate/launch.js';
import type { EstateConnection } from '../../../local/sim/estate/estate.js';
import { repoRoot } from '../../helpers/runbook.js';
import { StaticToken } from '../azure/harness.js';

const demo = resolve(repoRoot, 'local/sim/estates/demo.json');
const dir = mkdtempSync(join(tmpdir(), 'milink-estate-'));
const toStop: LaunchedEstate[] = [];
const pidsToKill: number[] = [];

afterAll(async () => {
  for (const e of toStop) await e.stop();
  for (const pid of pidsToKill) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Whether a process runs (a zombie waiting to be reaped counts as gone). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

async function waitFor(check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function reachable(conn: EstateConnection): Promise<boolean> {
  const client = new SqlManagementClient(
    new StaticToken(conn.arm.token),
    conn.managedInstances[0]?.subscriptionId ?? '',
    {
      endpoint: conn.arm.endpoint,
      tlsOptions: { ca: conn.caCertPem },
      retryOptions: { maxRetries: 0 },
    },
  );
  try {
    const mi = await client.managedInstances.get('rg-data', 'mi-prod');
    return mi.name === 'mi-prod';
  } catch {
    return false;
  }
}

describe('estate launcher', () => {
  it('runs the demo estate in its own process, reachable with only the connection file', async () => {
    const file = join(dir, 'demo.json');
    const estate = await launchEstate({ estateFile: demo, connectionFile: file });
    toStop.push(estate);
    expect(estate.pid).not.toBe(process.pid);
    const conn = await readConnectionFile(file);
    expect(conn).toEqual(estate.connection);
    expect(JSON.stringify(conn)).not.toContain('Sim-Only-Passw0rd');
    expect(conn.sqlServers[0]).toMatchObject({
      serverName: 'SQLBOX1',
      host: 'sqlbox1.contoso.local',
      endpointAddress: '10.0.0.4',
      address: '127.0.0.1',
    });

    const client = new SqlManagementClient(
      new StaticToken(conn.arm.token),
      '00000000-0000-0000-0000-000000000001',
      {
        endpoint: conn.arm.endpoint,
        tlsOptions: { ca: conn.caCertPem },
      },
    );
    const mi = await client.managedInstances.get('rg-data', 'mi-prod');
    expect(mi.fullyQualifiedDomainName).toBe(conn.managedInstances[0]?.fqdn);

    const secrets = new SecretClient(conn.keyVault.url, new StaticToken(conn.keyVault.token), {
      tlsOptions: { ca: conn.caCertPem },
      disableChallengeResourceVerification: true,
    });
    const password = (await secrets.getSecret('sqlbox1-login')).value ?? '';
    expect(password.length).toBeGreaterThan(0);

    const server = conn.sqlServers[0];
    const pool = await new sql.ConnectionPool({
      server: server?.address ?? '127.0.0.1',
      port: server?.port ?? 0,
      user: 'milink_admin',
      password,
      options: { encrypt: false, trustServerCertificate: true },
    }).connect();
    try {
      const r = await pool.request().query('SELECT @@SERVERNAME AS name');
      expect(r.recordset[0]?.name).toBe('SQLBOX1');
    } finally {
      await pool.close();
    }

    await estate.stop();
    expect(isAlive(estate.pid)).toBe(false);
    expect(existsSync(file)).toBe(false);
  });

  it('dies with a killed parent by default, and outlives it when detached', async () => {
    const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const launchUrl = pathToFileURL(resolve(repoRoot, 'local/sim/estate/launch.ts')).href;
    const startParent = (detached: boolean, connectionFile: string) => {
      const code = `import { launchEstate } from ${JSON.stringify(launchUrl)};
const e = await launchEstate({ estateFile: ${JSON.stringify(demo)}, connectionFile: ${JSON.stringify(connectionFile)}, detached: ${detached} });
process.stdout.write(JSON.stringify({ pid: e.pid }) + '\\n');
setInterval(() => {}, 1000);`;
      const parent = spawn(process.execPath, ['--import', loader, '--input-type=module', '-e', code], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      if (parent.pid) pidsToKill.push(parent.pid);
      return new Promise<{ parent: typeof parent; estatePid: number }>((res, rej) => {
        let out = '';
        parent.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const line = out.split('\n').find((l) => l.startsWith('{'));
          if (line) {
            const estatePid = (JSON.parse(line) as { pid: number }).pid;
            pidsToKill.push(estatePid);
            res({ parent, estatePid });
          }
        });
        parent.once('exit', (c) => rej(new Error(`parent exited early (${c})`)));
      });
    };

    const tiedFile = join(dir, 'tied.json');
    const tied = await startParent(false, tiedFile);
    const tiedConn = await readConnectionFile(tiedFile);
    expect(await reachable(tiedConn)).toBe(true);
    tied.parent.kill('SIGKILL');
    await waitFor(() => !isAlive(tied.estatePid));

    const freeFile = join(dir, 'detached.json');
    const free = await startParent(true, freeFile);
    const freeConn = await readConnectionFile(freeFile);
    free.parent.kill('SIGKILL');
    await waitFor(() => free.parent.exitCode !== null || free.parent.signalCode !== null);
    expect(isAlive(free.estatePid)).toBe(true);
    expect(await reachable(freeConn)).toBe(true);
    process.kill(free.estatePid, 'SIGTERM');
    await waitFor(() => !isAlive(free.estatePid));
    expect(existsSync(freeFile)).toBe(false);
  });
});
