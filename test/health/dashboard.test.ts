/**
 * The dashboard in real headless Chromium (Debian's chromium, driven by playwright-core): it renders the
 * seeded problems at desktop and phone width, escapes hostile names, and a screenshot is written to
 * test/.artifacts/. Skipped with a message when chromium is absent, unless MILINK_REQUIRE_BROWSER=1.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeHtml, renderDashboard, sparkline } from '../../src/health/dashboard.js';
import { buildReport, type HealthReport } from '../../src/health/report.js';
import { thresholds } from '../../src/health/thresholds.js';
import { armDb0, AT, db0, healthyArmLink, healthyInput, healthyServer } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser) {
  const message = `dashboard browser tests: ${CHROMIUM} is absent (apt-get install -y chromium)`;
  if (process.env.MILINK_REQUIRE_BROWSER === '1')
    throw new Error(`${message}; MILINK_REQUIRE_BROWSER=1 requires it`);
  console.warn(`${message}: skipped`);
}
const ARTIFACTS = join(import.meta.dirname, '../.artifacts');
const t = thresholds();
const HOSTILE = `<img src=x onerror="window.__xss=1">`;

/** Five nights: a healthy link, one whose lag grows then disconnects (41973), log filling, cert expiring, an unmanaged hostile name. */
function nights(): HealthReport[] {
  const reports: HealthReport[] = [];
  let previous: HealthReport | null = null;
  for (let n = 0; n < 5; n++) {
    const input = healthyInput(({ input, server, arm }) => {
      // a second managed link on the same server: lag grows every night
      const dag2 = structuredClone(server.dags[0]!);
      dag2.name = 'DAG1_Orders';
      dag2.databases[0]!.name = 'Orders';
      dag2.databases[0]!.remote!.secondaryLagSeconds = [5, 20, 45, 70, 140][n]!;
      dag2.databases[0]!.logUsedPercent = n === 4 ? 93 : 30;
      dag2.databases[0]!.logReuseWait = 'LOG_BACKUP';
      server.dags.push(dag2);
      const arm2 = healthyArmLink();
      arm2.name = 'DAG1_Orders';
      armDb0(arm2).databaseName = 'Orders';
      input.instances[0]!.links!.push(arm2);
      input.inventory.push({
        instance: 'mi-prod',
        linkName: 'DAG1_Orders',
        sqlServer: 'SQLBOX1',
        database: 'Orders',
      });
      // the SalesDb link loses the instance's trust on the last night
      if (n === 4) {
        server.dags[0]!.remote!.connectedState = 'DISCONNECTED';
        server.dags[0]!.remote!.lastConnectError = {
          number: 41973,
          description: 'certificate not found',
          at: AT,
        };
        armDb0(arm).connectedState = 'DISCONNECTED';
      }
      db0(server).remote!.secondaryLagSeconds = 2 + n;
      server.certificates[0]!.expiryDate = new Date(
        Date.parse(AT) + (9 - n) * 86_400_000 + 3_600_000,
      ).toISOString();
      server.traceFlag12381 = n === 4;
      // an unmanaged link with a hostile name, and an unreachable second server
      input.instances[0]!.links!.push({ ...healthyArmLink(), name: HOSTILE });
      input.inventory.push({
        instance: 'mi-prod',
        linkName: 'DAG1_Hr',
        sqlServer: 'SQLBOX2',
        database: 'Hr',
      });
      input.servers.push({
        sqlServer: 'SQLBOX2',
        error: { message: 'Failed to connect to sqlbox2:1433 in 15000ms', code: 'ETIMEOUT' },
      });
      input.at = new Date(Date.parse(AT) + n * 86_400_000).toISOString();
    });
    previous = buildReport(input, { thresholds: t, previous });
    reports.push(previous);
  }
  return reports;
}

describe('dashboard HTML', () => {
  it('escapes every value', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const html = renderDashboard(nights().at(-1)!);
    expect(html).not.toContain(HOSTILE);
    expect(html).toContain(escapeHtml(HOSTILE));
    expect(html).not.toMatch(/<link |src="http|href="http/); // self-contained
  });
  it('draws a sparkline with a gap for a night without a value', () => {
    const svg = sparkline([
      { date: '2026-12-01', value: 1 },
      { date: '2026-12-02', value: 3 },
      { date: '2026-12-03', value: null },
      { date: '2026-12-04', value: 2 },
    ]);
    expect(svg.match(/<polyline /g)).toHaveLength(1);
    expect(svg).toContain('<circle cx');
    expect(svg).toContain('2026-12-03: n/a');
  });
  it('shows no finding and no trend for a healthy report without history', () => {
    const html = renderDashboard(buildReport(healthyInput(), { thresholds: t }));
    expect(html).toContain('No findings tonight.');
    expect(healthyServer().dags).toHaveLength(1);
  });
});

describe.skipIf(!haveBrowser)('dashboard in headless Chromium', () => {
  let server: Server;
  let url = '';
  let context: BrowserContext;
  let page: Page;
  let profile = '';
  const reports = nights();
  const tonight = reports.at(-1)!;

  beforeAll(async () => {
    const html = renderDashboard(tonight, { previous: reports.slice(0, -1) });
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/api/health/dashboard`;
    profile = mkdtempSync(join(tmpdir(), 'milink-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, '.gitignore'), '*\n');
  });
  afterAll(async () => {
    await context?.close();
    await new Promise((resolve) => server?.close(resolve));
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('renders the seeded problems, by severity, with trends and the certificate timeline', async () => {
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(url);
    expect(await page.title()).toBe(`milink — link health · ${tonight.date}`);
    const findings = page.locator('#findings');
    await expect.poll(() => findings.innerText()).toContain('The link is disconnected');
    const text = await findings.innerText();
    expect(text).toContain('41973');
    expect(text).toContain("re-upload SQL Server's endpoint certificate");
    expect(text).toMatch(/The secondary is 140 s behind/);
    expect(text).toMatch(/The log of Orders is 93 % full/);
    expect(text).toMatch(/Trace flag 12381 is on/);
    expect(text).toMatch(/SQL Server SQLBOX2 could not be read/);
    expect(await page.locator('h3.sev-head').allInnerTexts()).toEqual(
      ['critical', 'warning', 'info'].map((s) => expect.stringMatching(new RegExp(`^${s} \\(\\d+\\)$`, 'i'))),
    );
    // the Orders link's lag over five nights, as a sparkline
    const orders = page.locator('#links tr.link', { hasText: 'DAG1_Orders' });
    expect(await orders.locator('svg.spark title').textContent()).toBe(
      [
        '2026-12-01: 5 s',
        '2026-12-02: 20 s',
        '2026-12-03: 45 s',
        '2026-12-04: 70 s',
        '2026-12-05: 140 s',
      ].join('\n'),
    );
    expect(await page.locator('#links tr.link', { hasText: 'DAG1_SalesDb' }).innerText()).toMatch(
      /disconnected/,
    );
    expect(await page.locator('#certificates').innerText()).toMatch(/Cert_SQLBOX1[\s\S]*5 days left/);
    // the hostile unmanaged link is text, not markup
    expect(await page.locator('#unmanaged').innerText()).toContain(HOSTILE);
    // browser-side expressions as text: the project's TypeScript has no DOM library
    expect(await page.evaluate('typeof window.__xss')).toBe('undefined');
    expect(errors).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
  });

  it('filters by severity', async () => {
    await page.goto(url);
    await page.locator('.filters button[data-severity="info"]').click();
    expect(await page.locator('li.finding.info').first().isVisible()).toBe(false);
    expect(await page.locator('li.finding.critical').first().isVisible()).toBe(true);
  });

  it('is readable on a phone: no sideways scrolling, links as cards', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(url);
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await page.locator('table.links thead').first().isVisible()).toBe(false);
    const card = page.locator('#links tr.link', { hasText: 'DAG1_Orders' });
    const lagCell = card.locator('td[data-label="Lag"]');
    expect(await lagCell.innerText()).toContain('140 s');
    expect(
      await page.evaluate(
        `getComputedStyle([...document.querySelectorAll('#links tr.link')].find((tr) => tr.textContent.includes('DAG1_Orders')).querySelector('td[data-label="Lag"]'), '::before').content`,
      ),
    ).toBe('"Lag"');
    expect(await page.locator('#findings').innerText()).toContain('The link is disconnected');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-phone.png'), fullPage: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-phone-top.png') });
    await page.locator('#links').screenshot({ path: join(ARTIFACTS, 'dashboard-phone-links.png') });
  });
});
