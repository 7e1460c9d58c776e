/** A stand-in server (state + listener) starts in well under a second, and answers its first query. */
import { performance } from 'node:perf_hooks';
import { expect, it } from 'vitest';
import { VirtualClock } from '../../../local/sim/clock.js';
import { createServerState, startSqlServer, type ServerSpec } from '../../../local/sim/sqlserver/index.js';
import { connect, SA } from './helpers.js';

async function timedStart(spec: ServerSpec): Promise<number> {
  const clock = new VirtualClock();
  const t0 = performance.now();
  const server = await startSqlServer({ state: createServerState(spec, clock), clock });
  const elapsed = performance.now() - t0;
  const pool = await connect(server);
  const r = await pool.request().query('SELECT COUNT(*) AS n FROM sys.databases');
  expect(r.recordset).toEqual([{ n: 4 + (spec.databases?.length ?? 0) }]);
  await pool.close();
  await server.close();
  return elapsed;
}

const databases = Array.from({ length: 20 }, (_, k) => ({ name: `db${k}`, fullBackup: true }));

it('starts in well under a second', async () => {
  for (let i = 0; i < 3; i++) {
    expect(await timedStart({ serverName: `FAST${i}`, version: 2019, logins: [SA], databases })).toBeLessThan(
      250,
    );
  }
});

it('starts in under a second even when it must make its endpoint certificate (RSA-2048)', async () => {
  const elapsed = await timedStart({
    serverName: 'FASTCERT',
    version: 2022,
    logins: [SA],
    databases,
    endpoint: { name: 'Hadr_endpoint', port: 5022, certificateName: 'Cert_FASTCERT_endpoint' },
  });
  expect(elapsed).toBeLessThan(1000);
});
