/**
 * A second, independent TDS client: FreeTDS `tsql` (Debian freetds-bin). Skipped when tsql is not
 * installed, unless MILINK_REQUIRE_TSQL=1 (CI), where its absence fails the test.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../local/sim/clock.js';
import {
  createServerState,
  startSqlServer,
  type RunningSqlServer,
} from '../../../local/sim/sqlserver/index.js';
import type { SimReplica } from '../../../local/sim/sqlserver/model.js';
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

/** A DAG whose instance member failed to connect, written straight into the model (what the estate does). */
function addFailedDag(server: RunningSqlServer): void {
  const s = server.state;
  if (s.availabilityGroups.some((g) => g.name === 'DAG_Orders')) return;
  const replica = (name: string, url: string, isLocal: boolean): SimReplica => ({
    replicaId: randomUUID().toUpperCase(),
    replicaServerName: name,
    endpointUrl: url,
    availabilityMode: 'ASYNCHRONOUS_COMMIT',
    failoverMode: 'MANUAL',
    seedingMode: 'AUTOMATIC',
    sessionTimeout: 10,
    isLocal,
    role: isLocal ? 'PRIMARY' : 'SECONDARY',
    connectedState: isLocal ? 'CONNECTED' : 'DISCONNECTED',
    synchronizationHealth: 'NOT_HEALTHY',
    ...(isLocal
      ? {}
      : {
          lastConnectError: {
            number: 41976,
            description: 'Connection attempt failed',
            timestamp: new Date('2024-10-09T08:00:30.123Z'),
          },
        }),
  });
  s.availabilityGroups.push({
    groupId: randomUUID().toUpperCase(),
    name: 'DAG_Orders',
    isDistributed: true,
    clusterType: 'NONE',
    databases: [],
    replicas: [
      replica('AG_Orders', 'TCP://10.0.0.4:5022', true),
      replica('AG_Orders_MI', 'tcp://mi-prod.abc.database.windows.net:5022;Server=[mi-prod]', false),
    ],
    createAnyDatabaseGranted: false,
    createDate: new Date('2024-10-09T08:00:00Z'),
  });
}

function tsql(
  server: RunningSqlServer,
  user: string,
  password: string,
  input: string,
  tdsVersion = '7.4',
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'tsql',
      ['-H', server.host, '-p', String(server.port), '-U', user, '-P', password],
      { env: { ...process.env, TDSVER: tdsVersion }, timeout: 20_000 },
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

  // "Configure link with scripts" (Microsoft Learn), section "Verify the link": the query a DBA runs on
  // SQL Server until the instance's replica shows CONNECTED. FreeTDS speaks each TDS version's own token
  // layouts (MS-TDS: DONE row counts are 4 bytes before TDS 7.2, 8 bytes from 7.2; datetime2 and PLP
  // types need 7.2/7.3), so a stand-in that answers every client in the 7.4 shape fails 7.1 clients.
  const verification = `SELECT
    r.replica_server_name AS [Replica],
    r.endpoint_url AS [Endpoint],
    rs.connected_state_desc AS [Connected state],
    rs.last_connect_error_description AS [Last connection error],
    rs.last_connect_error_number AS [Last connection error No],
    rs.last_connect_error_timestamp AS [Last error timestamp]
FROM
    sys.dm_hadr_availability_replica_states rs
    JOIN sys.availability_replicas r
    ON rs.replica_id = r.replica_id
go
SELECT SYSUTCDATETIME() AS now2, CAST(N'${'x'.repeat(5000)}' AS nvarchar(max)) AS long_text, CERTENCODED(NULL) AS blob
go
exit
`;

  it.each(['7.1', '7.2', '7.3', '7.4'])(
    "runs the runbook's verification query with TDSVER=%s",
    async (version) => {
      addFailedDag(server);
      const { stdout, stderr } = await tsql(server, SA.name, SA.password, verification, version);
      expect(stderr + stdout).not.toMatch(/out of sync|Msg \d+/i);
      expect(stdout).toMatch(/AG_Orders\s+TCP:\/\/10\.0\.0\.4:5022\s+CONNECTED/);
      expect(stdout).toMatch(
        /AG_Orders_MI\s+tcp:\/\/mi-prod\S*\s+DISCONNECTED\s+Connection attempt failed\s+41976\s+/,
      );
      expect(stdout).toMatch(/\(2 rows affected\)/);
      expect(stdout).toMatch(/x{5000}/);
      expect(stdout).toMatch(/\(1 row affected\)/);
    },
  );

  it.each(['7.1', '7.4'])(
    'reads several result sets of one batch, one round trip, with TDSVER=%s',
    async (version) => {
      server.counters.reset();
      const { stdout, stderr } = await tsql(
        server,
        SA.name,
        SA.password,
        'SELECT name FROM sys.databases WHERE database_id <= 2 ORDER BY database_id; SELECT COUNT(*) AS n FROM sys.databases; DBCC TRACESTATUS(12381)\ngo\nexit\n',
        version,
      );
      // DBCC's own "execution completed" (2528) is an informational message (severity 0); no errors
      expect(stderr + stdout).not.toMatch(/out of sync|Msg \d+ \(severity (1[1-9]|2\d)/i);
      expect(stdout).toMatch(/master\s+tempdb/);
      expect(stdout).toMatch(/\(2 rows affected\)[\s\S]*\(1 row affected\)[\s\S]*12381\s+0\s+0\s+0/);
      // tsql's own session setup is counted too; the batch itself is one more round trip
      const setup = server.counters.roundTrips - 1;
      expect(server.counters.batches).toBe(setup + 1);
      expect(server.counters.resultSets).toBeGreaterThanOrEqual(3);
    },
  );

  it('reports a wrong password as a failed login', async () => {
    const { stdout, stderr } = await tsql(server, SA.name, 'wrong', 'SELECT 1\ngo\nexit\n');
    expect(stdout + stderr).toMatch(/Login failed for user 'sa'|18456/);
  });
});
