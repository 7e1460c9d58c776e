/** A stand-in server (state + listener) starts well under a second, and answers its first query. */
import { performance } from 'node:perf_hooks';
import { expect, it } from 'vitest';
import { VirtualClock } from '../../../local/sim/clock.js';
import { createServerState, startSqlServer } from '../../../local/sim/sqlserver/index.js';
import { connect, SA } from './helpers.js';

it('starts in well under a second, even with an endpoint certificate to make', async () => {
  const clock = new VirtualClock();
  const timings: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const state = createServerState(
      {
        serverName: `FAST${i}`,
        version: 2019,
        logins: [SA],
        databases: Array.from({ length: 20 }, (_, k) => ({ name: `db${k}`, fullBackup: true })),
        endpoint: { name: 'Hadr_endpoint', port: 5022, certificateName: `Cert_FAST${i}_endpoint` },
      },
      clock,
    );
    const server = await startSqlServer({ state, clock });
    timings.push(performance.now() - t0);
    const pool = await connect(server);
    const r = await pool.request().query('SELECT COUNT(*) AS n FROM sys.databases');
    expect(r.recordset).toEqual([{ n: 24 }]);
    await pool.close();
    await server.close();
  }
  // the first start pays for one native RSA key generation; later starts reuse the key pool
  expect(Math.max(...timings)).toBeLessThan(500);
  expect(timings[2]!).toBeLessThan(100);
});
