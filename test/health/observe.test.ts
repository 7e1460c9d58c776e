/**
 * The sweep's two reads with real transports: the health batch through mssql (a server that answers, one
 * that is down, one that fails the batch) and the instance's link list over HTTPS (answering, 5xx, paged).
 * A sweep with one SQL Server unreachable and one instance answering 5xx completes and reports both.
 */
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import sql from 'mssql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChecks } from '../../src/health/checks.js';
import {
  observeInstance,
  observeServer,
  unreachable,
  type ArmPageReader,
  type BatchRunner,
} from '../../src/health/observe.js';
import { thresholds } from '../../src/health/thresholds.js';
import { healthEstate, PASSWORD, type HealthEstate } from './estate.js';
import { healthyArmLink } from './fixtures.js';

let h: HealthEstate;
const pools: sql.ConnectionPool[] = [];
beforeAll(async () => {
  h = await healthEstate([{ name: 'SQLBOX1', databases: ['SalesDb'] }]);
  await h.createLink('SQLBOX1', {
    database: 'SalesDb',
    ag: 'AG_SalesDb',
    instanceAg: 'AG_SalesDb_MI',
    dag: 'DAG1_SalesDb',
    port: 5022,
  });
  h.clock.advance(60_000);
});
afterAll(async () => {
  for (const p of pools) await p.close().catch(() => {});
  await h?.close();
});

function runner(port: number): BatchRunner {
  const pool = new sql.ConnectionPool({
    server: '127.0.0.1',
    port,
    user: 'milink_admin',
    password: PASSWORD,
    database: 'master',
    options: { encrypt: false, trustServerCertificate: true },
    connectionTimeout: 3000,
    requestTimeout: 5000,
  });
  pools.push(pool);
  return async (text) => {
    if (!pool.connected) await pool.connect();
    return pool.request().batch(text);
  };
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 1));
    });
  });
}

/** GET over HTTPS trusting the estate's CA, no retries: what ARM answered, as the sweep would see it. */
function armReader(path: string): ArmPageReader {
  const { endpoint, token } = h.estate.connection.arm;
  return (nextLink) =>
    new Promise((resolve, reject) => {
      const url = nextLink ?? `${endpoint}${path}?api-version=2025-01-01`;
      const req = httpsRequest(
        url,
        { ca: h.estate.connection.caCertPem, headers: { authorization: `Bearer ${token}` } },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => {
            if ((res.statusCode ?? 0) >= 400) {
              const code = JSON.parse(body || '{}')?.error?.code;
              reject(
                Object.assign(new Error(`ARM answered ${res.statusCode}${code ? ` ${code}` : ''}`), {
                  statusCode: res.statusCode,
                }),
              );
            } else resolve(JSON.parse(body));
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
}

describe('the sweep reads', () => {
  it('observe a server that answers and an instance that lists its links', async () => {
    const server = await observeServer('SQLBOX1', runner(h.estate.sqlServers.get('SQLBOX1')!.port));
    expect(server.error).toBeUndefined();
    expect(server.observation?.dags.map((d) => d.name)).toEqual(['DAG1_SalesDb']);
    const instance = await observeInstance(
      'mi-prod',
      armReader(`${h.hand.miPath}/distributedAvailabilityGroups`),
      async () => 'SQLServer2022',
    );
    expect(instance).toMatchObject({ instance: 'mi-prod', databaseFormat: 'SQLServer2022' });
    expect(instance.links?.map((l) => l.name)).toEqual(['DAG1_SalesDb']);
  });

  it('a server that is down and an instance answering 503 become findings; the sweep completes', async () => {
    const down = await observeServer('SQLBOX9', runner(await closedPort()));
    expect(down.observation).toBeUndefined();
    expect(down.error?.code).toMatch(/^E[A-Z]+$/); // a driver code (ESOCKET / ETIMEOUT)
    const undo = h.estate.armFaults.fail(5, 503, { path: 'distributedAvailabilityGroups' });
    const failing = await observeInstance(
      'mi-prod',
      armReader(`${h.hand.miPath}/distributedAvailabilityGroups`),
    );
    undo();
    expect(failing).toMatchObject({ instance: 'mi-prod', error: { code: '503' } });
    const findings = runChecks(
      {
        at: h.clock.now().toISOString(),
        inventory: [
          { instance: 'mi-prod', linkName: 'DAG1_SalesDb', sqlServer: 'SQLBOX9', database: 'SalesDb' },
        ],
        servers: [down],
        instances: [failing],
      },
      thresholds(),
    );
    expect(findings.map((f) => [f.checkId, f.target])).toEqual([
      ['instance-unreachable', 'instance:mi-prod'],
      ['sqlserver-unreachable', 'sqlserver:SQLBOX9'],
    ]);
  });

  it('a batch that fails on the server is an error with its number', async () => {
    const running = h.estate.sqlServers.get('SQLBOX1')!;
    running.faults.errorOnText.push({ pattern: 'DBCC SQLPERF', number: 1205, remaining: 1 });
    const r = await observeServer('SQLBOX1', runner(running.port));
    expect(r.error).toMatchObject({ code: '1205' });
  });

  it('follows nextLink over every page, and a failing page fails the whole list', async () => {
    const pages: Record<string, { value: unknown[]; nextLink?: string }> = {
      first: { value: [healthyArmLink()], nextLink: 'https://arm/p2' },
      'https://arm/p2': { value: [{ ...healthyArmLink(), name: 'B' }], nextLink: 'https://arm/p3' },
      'https://arm/p3': { value: [{ ...healthyArmLink(), name: 'C' }] },
    };
    const seen: Array<string | undefined> = [];
    const ok = await observeInstance('mi-prod', async (next) => {
      seen.push(next);
      return pages[next ?? 'first']!;
    });
    expect(seen).toEqual([undefined, 'https://arm/p2', 'https://arm/p3']);
    expect(ok.links?.map((l) => l.name)).toEqual(['DAG1_SalesDb', 'B', 'C']);
    const broken = await observeInstance('mi-prod', async (next) => {
      if (next === 'https://arm/p3')
        throw Object.assign(new Error('Service Unavailable'), { statusCode: 503 });
      return pages[next ?? 'first']!;
    });
    expect(broken).toEqual({ instance: 'mi-prod', error: { message: 'Service Unavailable', code: '503' } });
  });

  it('keeps credentials out of the error it reports', () => {
    expect(unreachable(new Error('connect failed: Server=x;Password=S3cr3t!;'))).toEqual({
      message: 'connect failed: Server=x;Password=[redacted];',
    });
  });
});
