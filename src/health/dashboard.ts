/**
 * The health dashboard: one self-contained HTML page rendered from a report (no build step, no external
 * resource; inline CSS and a few lines of inline JS for filtering). Every value from the report is
 * escaped. Readable on a phone: the link table becomes cards on narrow screens.
 */
import type { Severity } from './checks.js';
import type { CertificateSummary, HealthReport, LinkSummary } from './report.js';

/** HTML-escapes text for element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
const e = escapeHtml;

const SEVERITY_ORDER: Severity[] = ['critical', 'warning', 'info'];

/** Lag points of a link, tonight's trend merged with older reports' (by date, newest report wins). */
function lagTrend(link: LinkSummary, older: HealthReport[]): Array<{ date: string; value: number | null }> {
  const byDate = new Map<string, number | null>();
  for (const r of older)
    for (const p of r.links.find((l) => l.key === link.key)?.trend.lagSeconds ?? [])
      byDate.set(p.date, p.value);
  for (const p of link.trend.lagSeconds) byDate.set(p.date, p.value);
  return [...byDate.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([date, value]) => ({ date, value }));
}

/** An inline SVG sparkline; gaps where a night has no value. */
export function sparkline(
  points: Array<{ date: string; value: number | null }>,
  width = 120,
  height = 28,
): string {
  const values = points.map((p) => p.value).filter((v): v is number => v !== null);
  const title = points.map((p) => `${p.date}: ${p.value === null ? 'n/a' : `${p.value} s`}`).join('\n');
  if (values.length === 0)
    return `<svg class="spark" width="${width}" height="${height}" role="img" aria-label="no lag data"><title>${e(title || 'no data')}</title></svg>`;
  const max = Math.max(...values, 1);
  const step = points.length > 1 ? (width - 4) / (points.length - 1) : 0;
  const x = (i: number) => (2 + i * step).toFixed(1);
  const y = (v: number) => (height - 2 - (v / max) * (height - 4)).toFixed(1);
  const segments: string[][] = [[]];
  points.forEach((p, i) => {
    if (p.value === null) segments.push([]);
    else segments[segments.length - 1]!.push(`${x(i)},${y(p.value)}`);
  });
  const lines = segments
    .filter((s) => s.length > 0)
    .map((s) =>
      s.length === 1
        ? `<circle cx="${s[0]!.split(',')[0]}" cy="${s[0]!.split(',')[1]}" r="1.8"/>`
        : `<polyline points="${s.join(' ')}"/>`,
    )
    .join('');
  const last = points.length - 1;
  const lastValue = points[last]?.value;
  const dot =
    lastValue !== null && lastValue !== undefined
      ? `<circle class="now" cx="${x(last)}" cy="${y(lastValue)}" r="2.5"/>`
      : '';
  return `<svg class="spark" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="lag over ${points.length} nights"><title>${e(title)}</title>${lines}${dot}</svg>`;
}

function badge(text: string, kind: string): string {
  return `<span class="badge ${e(kind)}">${e(text)}</span>`;
}

function stateKind(state: LinkSummary['state']): string {
  return state === 'healthy'
    ? 'ok'
    : state === 'seeding'
      ? 'info'
      : state === 'degraded'
        ? 'warning'
        : state === 'unknown'
          ? 'muted'
          : 'critical';
}

function certKind(c: CertificateSummary, r: HealthReport): string {
  const d = r.thresholds.certificateDays;
  return c.daysLeft <= d.critical
    ? 'critical'
    : c.daysLeft <= d.warning
      ? 'warning'
      : c.daysLeft <= d.info
        ? 'info'
        : 'ok';
}

const CERT_KIND_LABEL: Record<CertificateSummary['kind'], string> = {
  'sqlserver-endpoint': 'SQL Server endpoint',
  'instance-on-sqlserver': 'instance certificate on SQL Server',
  'sqlserver-as-seen-by-instance': 'SQL Server certificate as the instance sees it',
};

function findingsSection(r: HealthReport): string {
  if (r.findings.length === 0) return '<p class="empty">No findings tonight.</p>';
  return SEVERITY_ORDER.map((sev) => {
    const fs = r.findings.filter((f) => f.severity === sev);
    if (fs.length === 0) return '';
    const items = fs
      .map(
        (f) => `<li class="finding ${e(sev)}" data-severity="${e(sev)}">
  <div class="fhead">${badge(sev, sev)} <b class="where">${e(f.link ?? f.target)}</b> <code>${e(f.checkId)}</code>${f.code ? ` <code>${e(f.code)}</code>` : ''}</div>
  <div class="msg">${e(f.message)}</div>
  <div class="advice">→ ${e(f.advice)}</div>
  <div class="meta">value ${e(f.value ?? '—')}${f.threshold !== null ? ` · threshold ${e(f.threshold)}` : ''} · ${e(f.source)}</div>
</li>`,
      )
      .join('\n');
    return `<h3 class="sev-head ${e(sev)}" data-severity="${e(sev)}">${e(sev)} (${fs.length})</h3>\n<ul class="findings">${items}</ul>`;
  }).join('\n');
}

function linksTable(r: HealthReport, links: LinkSummary[], older: HealthReport[]): string {
  if (links.length === 0) return '<p class="empty">No links.</p>';
  const rows = links
    .map((l) => {
      const trend = lagTrend(l, older);
      return `<tr class="link" data-severity="${e(l.worstSeverity ?? 'none')}">
  <td data-label="Link"><div class="v"><b>${e(l.linkName)}</b><div class="sub">${e(l.instance)}</div></div></td>
  <td data-label="SQL Server"><div class="v">${e(l.sqlServer ?? '—')}<div class="sub">${e(l.database ?? '')}</div></div></td>
  <td data-label="State"><div class="v">${badge(l.state, stateKind(l.state))}${l.replicaState ? `<div class="sub">${e(l.replicaState)}</div>` : ''}</div></td>
  <td data-label="Roles"><div class="v">${e(l.sqlServerRole ?? '?')} / ${e(l.instanceRole ?? '?')}</div></td>
  <td data-label="Lag"><div class="v">${l.lagSeconds === null ? '—' : `${e(l.lagSeconds)} s`} ${sparkline(trend)}</div></td>
  <td data-label="Log used"><div class="v">${l.logUsedPercent === null ? '—' : `${e(Math.round(l.logUsedPercent))} %`}</div></td>
  <td data-label="Last log backup"><div class="v">${l.lastLogBackupAgeHours === null ? '—' : `${e(l.lastLogBackupAgeHours)} h ago`}</div></td>
  <td data-label="Worst"><div class="v">${l.worstSeverity ? badge(l.worstSeverity, l.worstSeverity) : badge('none', 'ok')}</div></td>
</tr>`;
    })
    .join('\n');
  return `<table class="links"><thead><tr><th>Link</th><th>SQL Server</th><th>State</th><th>Roles (SQL / MI)</th><th>Lag (last nights)</th><th>Log used</th><th>Last log backup</th><th>Worst</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

function certificateTimeline(r: HealthReport): string {
  if (r.certificates.length === 0) return '<p class="empty">No certificates observed.</p>';
  const horizon = 365;
  const marks = [
    r.thresholds.certificateDays.critical,
    r.thresholds.certificateDays.warning,
    r.thresholds.certificateDays.info,
  ];
  const rows = r.certificates
    .map((c) => {
      const kind = certKind(c, r);
      const pct = Math.max(0, Math.min(100, (c.daysLeft / horizon) * 100));
      const label = c.daysLeft < 0 ? `expired ${-c.daysLeft} days ago` : `${c.daysLeft} days left`;
      return `<li class="cert ${e(kind)}">
  <div class="cert-name"><b>${e(c.name)}</b> <span class="sub">${e(CERT_KIND_LABEL[c.kind])} · ${e(c.where)} · ${e(c.expiryDate.slice(0, 10))}</span></div>
  <div class="bar" role="img" aria-label="${e(label)}"><span class="fill ${e(kind)}" style="width:${pct.toFixed(1)}%"></span>${marks
    .map(
      (m) =>
        `<span class="mark" style="left:${((m / horizon) * 100).toFixed(1)}%" title="${e(m)} days"></span>`,
    )
    .join('')}</div>
  <div class="days ${e(kind)}">${e(label)}</div>
</li>`;
    })
    .join('\n');
  return `<p class="sub">Bars show days left over the next year; marks at ${marks.map((m) => e(m)).join(', ')} days.</p><ul class="certs">${rows}</ul>`;
}

function reachability(r: HealthReport): string {
  const servers = r.servers
    .map(
      (s) =>
        `<li>${badge(s.reachable ? 'read' : 'unreachable', s.reachable ? 'ok' : 'critical')} SQL Server <b>${e(s.sqlServer)}</b>${s.version ? ` <span class="sub">${e(s.version)}</span>` : ''}${s.error ? ` <span class="sub">${e(s.error)}</span>` : ''}</li>`,
    )
    .join('');
  const instances = r.instances
    .map(
      (i) =>
        `<li>${badge(i.reachable ? 'listed' : 'unreachable', i.reachable ? 'ok' : 'critical')} instance <b>${e(i.instance)}</b>${i.links !== null ? ` <span class="sub">${e(i.links)} links</span>` : ''}${i.error ? ` <span class="sub">${e(i.error)}</span>` : ''}</li>`,
    )
    .join('');
  return `<ul class="plain">${servers}${instances}</ul>`;
}

const CSS = `
:root{--bg:#f6f7f9;--card:#fff;--ink:#1d2330;--sub:#5b6576;--line:#e1e5ec;--critical:#c62828;--warning:#b85c00;--info:#1565c0;--ok:#2e7d32;--muted:#757575}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--ink)}
header{padding:16px 20px;background:#1d2330;color:#fff}header h1{margin:0;font-size:20px}header .sub{color:#c9d1de}
main{padding:12px 20px 40px;max-width:1200px;margin:0 auto}section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 16px;margin:14px 0}
h2{font-size:17px;margin:4px 0 10px}h3{font-size:15px;margin:12px 0 6px;text-transform:capitalize}.sub{color:var(--sub);font-size:13px}
.tiles{display:flex;flex-wrap:wrap;gap:10px;margin-top:10px}.tile{background:#2b3344;border-radius:6px;padding:6px 12px;min-width:92px}.tile b{display:block;font-size:22px}
.tile.critical b{color:#ff8a80}.tile.warning b{color:#ffcc80}.tile.info b{color:#90caf9}.tile.ok b{color:#a5d6a7}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff;background:var(--muted);white-space:nowrap}
.badge.critical{background:var(--critical)}.badge.warning{background:var(--warning)}.badge.info{background:var(--info)}.badge.ok{background:var(--ok)}
ul.findings,ul.certs,ul.plain{list-style:none;margin:0;padding:0}.finding{border-left:4px solid var(--muted);padding:8px 10px;margin:6px 0;background:#fafbfc;border-radius:4px}
.finding.critical{border-color:var(--critical)}.finding.warning{border-color:var(--warning)}.finding.info{border-color:var(--info)}
.finding .msg{margin:4px 0}.finding .advice{color:#37474f}.finding .meta{color:var(--sub);font-size:12px;margin-top:4px}.where{word-break:break-all}td .v{overflow-wrap:anywhere}
code{font:12px ui-monospace,Menlo,Consolas,monospace;background:#eef1f5;padding:1px 4px;border-radius:3px}
table.links{width:100%;border-collapse:collapse}table.links th,table.links td{text-align:left;padding:7px 8px;border-bottom:1px solid var(--line);vertical-align:top}
table.links th{font-size:12px;color:var(--sub);font-weight:600}
.spark{vertical-align:middle;overflow:visible}.spark polyline{fill:none;stroke:var(--info);stroke-width:1.6}.spark circle{fill:var(--info)}.spark circle.now{fill:var(--ink)}
.cert{display:grid;grid-template-columns:minmax(0,2fr) minmax(0,3fr) auto;gap:10px;align-items:center;padding:6px 0;border-bottom:1px solid var(--line)}
.bar{position:relative;height:10px;background:#eef1f5;border-radius:5px;overflow:hidden}.bar .fill{position:absolute;left:0;top:0;bottom:0;background:var(--ok)}
.bar .fill.critical{background:var(--critical)}.bar .fill.warning{background:var(--warning)}.bar .fill.info{background:var(--info)}.bar .mark{position:absolute;top:0;bottom:0;width:1px;background:#90a4ae}
.days{font-size:13px;white-space:nowrap}.days.critical{color:var(--critical);font-weight:600}.days.warning{color:var(--warning)}
.filters{display:flex;flex-wrap:wrap;gap:8px;margin-bottom:8px}.filters button{border:1px solid var(--line);background:#fff;border-radius:14px;padding:3px 12px;font:inherit;cursor:pointer}
.filters button[aria-pressed=false]{opacity:.45}.filters input{flex:1 1 160px;min-width:0;padding:4px 8px;border:1px solid var(--line);border-radius:6px;font:inherit}
.empty{color:var(--sub)}.hidden{display:none!important}
@media (max-width:720px){main{padding:8px 10px 30px}section{padding:10px}
table.links thead{display:none}table.links,table.links tbody,table.links tr,table.links td{display:block;width:100%}
table.links tr{border:1px solid var(--line);border-radius:6px;margin:8px 0;padding:4px 8px}table.links td{border:0;padding:3px 0;display:flex;gap:8px;justify-content:space-between}
table.links td::before{content:attr(data-label);color:var(--sub);font-size:12px;flex:0 0 38%}
table.links td>.v{flex:1 1 auto;min-width:0;overflow-wrap:anywhere;text-align:right}
.cert{grid-template-columns:1fr;gap:4px}}
`;

// Filtering only hides and shows elements already on the page; it reads nothing from the report.
const JS = `
(function(){
  var active={critical:true,warning:true,info:true};
  var q=document.getElementById('q');
  function apply(){
    var text=(q.value||'').toLowerCase();
    document.querySelectorAll('[data-severity]').forEach(function(el){
      if(el.tagName==='BUTTON')return;
      var sev=el.getAttribute('data-severity');
      var bySev=!(sev in active)||active[sev];
      var byText=!text||el.tagName==='H3'||el.textContent.toLowerCase().indexOf(text)>=0;
      el.classList.toggle('hidden',!(bySev&&byText));
    });
  }
  document.querySelectorAll('.filters button').forEach(function(b){
    b.addEventListener('click',function(){var s=b.getAttribute('data-severity');active[s]=!active[s];b.setAttribute('aria-pressed',String(active[s]));apply();});
  });
  q.addEventListener('input',apply);
})();
`;

export interface DashboardOptions {
  /** Older reports (any order) whose lag values fill the sparklines beyond tonight's trend. */
  previous?: HealthReport[];
  title?: string;
}

/** Renders the dashboard page for a report. */
export function renderDashboard(report: HealthReport, opts: DashboardOptions = {}): string {
  const older = [...(opts.previous ?? [])].sort((a, b) => a.date.localeCompare(b.date));
  const title = opts.title ?? 'milink — link health';
  const s = report.summary;
  const managed = report.links.filter((l) => l.managed);
  const unmanaged = report.links.filter((l) => !l.managed);
  const tile = (n: number, label: string, kind: string) =>
    `<div class="tile ${e(kind)}"><b>${e(n)}</b><span>${e(label)}</span></div>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${e(title)} · ${e(report.date)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
  <h1>${e(title)}</h1>
  <div class="sub">Night of ${e(report.date)} · generated ${e(report.generatedAt)} · report schema v${e(report.schemaVersion)}</div>
  <div class="tiles">
    ${tile(s.links, 'links', 'all')}${tile(s.healthy, 'healthy', 'ok')}${tile(s.critical, 'critical', 'critical')}${tile(s.warning, 'warning', 'warning')}${tile(s.info, 'info', 'info')}${tile(s.unmanaged, 'unmanaged', 'info')}
  </div>
</header>
<main>
<section id="findings">
  <h2>Findings by severity</h2>
  <div class="filters">
    ${SEVERITY_ORDER.map((sev) => `<button type="button" data-severity="${sev}" aria-pressed="true">${sev}</button>`).join('')}
    <input id="q" type="search" placeholder="filter by link, server, check…" aria-label="filter">
  </div>
  ${findingsSection(report)}
</section>
<section id="links">
  <h2>Links (${e(managed.length)})</h2>
  ${linksTable(report, managed, older)}
</section>
<section id="certificates">
  <h2>Certificate expiry</h2>
  ${certificateTimeline(report)}
</section>
<section id="unmanaged">
  <h2>Unmanaged links (${e(unmanaged.length)})</h2>
  ${unmanaged.length ? `<p class="sub">On an instance but not in milink's inventory: adopt them (POST /api/links/adopt) or drop them.</p>${linksTable(report, unmanaged, older)}` : '<p class="empty">None: every link on the known instances is managed.</p>'}
</section>
<section id="sources">
  <h2>What was read</h2>
  ${reachability(report)}
</section>
</main>
<script>${JS}</script>
</body>
</html>
`;
}
