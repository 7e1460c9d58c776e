/**
 * A second, independent TDS client: FreeTDS `tsql` (Debian freetds-bin). Skipped when tsql is not
 * installed, unless MILINK_REQUIRE_TSQL=1 (CI), where its absence fails the test.
 */
import { execFile, execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../local/sim/clock.js';
import {
  createServerState,
  startSqlServer,
  type RunningSqlServer,
} from '../../../local/sim/sqlserver/index.js';
import { SA } from './helpers.js';

function hasTsql(): boolean {
  try {
    execFileSync('tsql', ['-C'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

const available = hasTsql();
const required = process.env.MILINK_REQUIRE_TSQL === '1';

if (!available && required) {
  it('FreeTDS tsql is installed (MILINK_REQUIRE_TSQL=1)', () => {
    throw new Error(
      'MILINK_REQUIRE_TSQL=1 but `tsql` was not found: install FreeTDS (apt-get install -y freetds-bin)',
    );
  });
}

function tsql(
  server: RunningSqlServer,
  user: string,
  password: string,
  input: string,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'tsql',
      ['-H', server.host, '-p', String(server.port), '-U', user, '-P', password],
      { env: { ...process.env, TDSVER: '7.4' }, timeout: 20_000 },
      (err, stdout, stderr) => {
        if (err && !stdout) reject(err);
        else resolve({ stdout, stderr });
      },
    );
    child.stdin!.end(input);
  });
}

describe.skipIf(!available)('FreeTDS tsql against the stand-in', () => {
  let server: RunningSqlServer;
  beforeAll(async () => {
    const clock = new VirtualClock();
    server = await startSqlServer({
      state: createServerState(
        {
          serverName: 'FREETDS01',
          version: 2022,
          logins: [SA],
          databases: [{ name: 'Orders', fullBackup: true }],
        },
        clock,
      ),
      clock,
    });
  });
  afterAll(() => server?.close());

  it('logs in with TDS 7.4 and runs queries', async () => {
    const { stdout } = await tsql(
      server,
      SA.name,
      SA.password,
      "SELECT @@SERVERNAME AS srv, name, recovery_model_desc FROM sys.databases WHERE name = N'Orders'\ngo\nSELECT COUNT(*) AS n FROM sys.databases\ngo\nexit\n",
    );
    expect(stdout).toMatch(/FREETDS01\s+Orders\s+FULL/);
    expect(stdout).toMatch(/\n5\s*\n/);
    const texts = server.journal.map((j) => j.text);
    expect(texts.some((t) => t.includes("WHERE name = N'Orders'"))).toBe(true);
  });

  it('reports a wrong password as a failed login', async () => {
    const { stdout, stderr } = await tsql(server, SA.name, 'wrong', 'SELECT 1\ngo\nexit\n');
    expect(stdout + stderr).toMatch(/Login failed for user 'sa'|18456/);
  });
});
