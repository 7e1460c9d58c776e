/**
 * Alerts across three nights (issue 14, docs/health.md "Alerts"): a link disconnected with 41986 ("Troubleshoot
 * issues with the link": the connection failed or the secondary is unresponsive) alerts once on the night it is
 * seen, stays silent the next night while unchanged, and sends "resolved" the night after it reconnects. Counted as
 * messages on the link-alerts queue and posts to the webhook (whose URL, holding a token, never shows).
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryServer, type Bed } from './harness.js';
import { adopt, advance, generatedLinks, nightlySweep, startHealthBed } from './health-bed.js';

const DAY = 24 * 3600_000;
const TOKEN = 'T0KEN-in-the-webhook-url-0123456789';
const links = generatedLinks(2, 1, 4);
const troubled = { instance: 'mi-01', name: 'DAG1_Db0001' };
const posts: any[] = [];
let hook: Server;
let bed: Bed;

/** The DBA's nightly log backups (BP: "regularly", a daily job), so only the seeded problem changes. */
async function logBackups(): Promise<void> {
  for (const l of links)
    await queryServer(
      bed,
      l.server,
      `BACKUP LOG [${l.database}] TO DISK = N'/var/opt/mssql/backup/${l.database}.trn'`,
    );
}

async function night(): Promise<{ alerts: any[]; output: any }> {
  await logBackups();
  const { output } = await nightlySweep(bed);
  return { alerts: await bed.host.queues.receiveAll('link-alerts'), output };
}

beforeAll(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      posts.push({ url: req.url, body: JSON.parse(body) });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  const port = (hook.address() as { port: number }).port;
  bed = await startHealthBed(
    { sqlServers: 2, instances: 1, links: 4 },
    {
      env: {
        MILINK_ALERT_WEBHOOK_URL: `http://127.0.0.1:${port}/hooks/${TOKEN}`,
        MILINK_DASHBOARD_URL: 'https://milink.example/api/health/dashboard',
      },
    },
  );
  await adopt(bed, links);
}, 120_000);
afterAll(async () => {
  await bed?.close();
  hook?.close();
});

describe('alerts from one night to the next', () => {
  it('night 1: the disconnected link alerts once, on the queue and the webhook', async () => {
    bed.estate.control.setTrouble({ kind: 'disconnected', link: troubled, errorNumber: 41986 });
    advance(bed, 10 * 60_000);
    const { alerts, output } = await night();
    expect(alerts).toEqual([
      expect.objectContaining({
        kind: 'new',
        checkId: 'connection',
        severity: 'critical',
        link: 'mi-01/DAG1_Db0001',
        code: '41986',
      }),
    ]);
    expect(output).toMatchObject({ alerts: 1, webhook: 'sent' });
    expect(posts).toHaveLength(1);
    expect(posts[0].url).toBe(`/hooks/${TOKEN}`);
    expect(posts[0].body.text).toContain('mi-01/DAG1_Db0001');
    expect(posts[0].body.text).toContain('https://milink.example/api/health/dashboard');
    expect(posts[0].body.summary).toMatch(/1 new/);
  });

  it('night 1 again (a sweep on demand the same night): nothing is sent twice', async () => {
    advance(bed, 60 * 60_000);
    const { alerts, output } = await night();
    expect(output.date).toBe('2026-11-22');
    expect(alerts).toEqual([]);
    expect(output).toMatchObject({ alerts: 0, webhook: 'nothing to send' });
    expect(posts).toHaveLength(1);
  });

  it('night 2: the same problem, unchanged, stays silent', async () => {
    advance(bed, DAY);
    const { alerts, output } = await night();
    expect(output.summary.critical).toBe(1);
    expect(alerts).toEqual([]);
    expect(output).toMatchObject({ alerts: 0, webhook: 'nothing to send' });
    expect(posts).toHaveLength(1);
  });

  it('night 3: the link reconnected, one "resolved"', async () => {
    bed.estate.control.clearTrouble('disconnected', troubled);
    advance(bed, DAY);
    const { alerts, output } = await night();
    expect(alerts).toEqual([
      expect.objectContaining({ kind: 'resolved', checkId: 'connection', link: 'mi-01/DAG1_Db0001' }),
    ]);
    expect(output.summary).toMatchObject({ critical: 0, warning: 0, healthy: 4 });
    expect(posts).toHaveLength(2);
    expect(posts[1].body.summary).toMatch(/1 resolved/);
  });

  it('keeps the webhook URL out of logs, statuses and reports', async () => {
    const nights = await bed.api('GET', '/api/health');
    const status = await bed.api('GET', '/api/health/sweep');
    for (const text of [bed.logs.join('\n'), nights.text, status.text]) expect(text).not.toContain(TOKEN);
  });

  it('a sweep asked for over HTTP answers with milink\u2019s own status URL, never the extension\u2019s system-key URLs', async () => {
    const started = await bed.api('POST', '/api/health/sweep');
    expect([202, 409]).toContain(started.status);
    expect(started.text).not.toMatch(/code=|systemKey|runtime\/webhooks/i);
    if (started.status === 202) {
      expect(started.json.statusUrl).toMatch(/\/api\/health\/sweep$/);
      await bed.host.idle();
    }
  });
});
