/**
 * Alerts from one night to the next: one message per new or changed finding, "resolved" for a finding
 * that is gone, nothing for one that is unchanged — so the same problem is not re-sent every night.
 * A finding about a server or instance that could not be read tonight is neither new nor resolved: it is
 * unknown, and its "resolved" waits until the source answers again.
 */
import { findingKey, type Finding, type Severity } from './checks.js';
import type { HealthReport } from './report.js';

/** The Storage queue every alert goes to, one message each. */
export const ALERT_QUEUE = 'link-alerts';

export type AlertKind = 'new' | 'changed' | 'resolved';

export interface Alert {
  kind: AlertKind;
  /** The finding's identity across nights (check + target). */
  key: string;
  /** The night of the report that raised the alert (YYYY-MM-DD). */
  date: string;
  /** Tonight's finding, or for "resolved" the last one seen. */
  finding: Finding;
  /** For "changed": the severity it had. */
  previousSeverity: Severity | null;
}

/** The JSON put on the `link-alerts` queue, one per alert. */
export interface AlertMessage {
  schemaVersion: 1;
  kind: AlertKind;
  key: string;
  date: string;
  checkId: Finding['checkId'];
  severity: Severity;
  previousSeverity: Severity | null;
  link: string | null;
  target: string;
  code: string | null;
  value: Finding['value'];
  threshold: Finding['threshold'];
  message: string;
  advice: string;
}

function unobserved(current: HealthReport, previous: HealthReport): (f: Finding) => boolean {
  const servers = new Set(current.servers.filter((s) => !s.reachable).map((s) => s.sqlServer.toLowerCase()));
  const instances = new Set(
    current.instances.filter((i) => !i.reachable).map((i) => i.instance.toLowerCase()),
  );
  const serverOf = new Map<string, string | null>();
  for (const l of [...previous.links, ...current.links]) serverOf.set(l.key, l.sqlServer);
  return (f) => {
    const target = f.target.toLowerCase();
    for (const s of servers)
      if (target === `sqlserver:${s}` || target.startsWith(`sqlserver:${s}/`)) return true;
    for (const i of instances) if (target === `instance:${i}`) return true;
    if (f.link === null) return false;
    const instance = f.link.split('/')[0]!.toLowerCase();
    const server = serverOf.get(f.link)?.toLowerCase();
    return instances.has(instance) || (server !== undefined && servers.has(server));
  };
}

/**
 * The alerts between two nights' reports (previous null on the first night: every finding is new).
 * Changed means another severity or another code; a value that moves within the same severity (lag 70 s
 * → 80 s) is the same problem and stays silent.
 */
export function diffReports(previous: HealthReport | null, current: HealthReport): Alert[] {
  const before = new Map((previous?.findings ?? []).map((f) => [findingKey(f), f]));
  const now = new Map(current.findings.map((f) => [findingKey(f), f]));
  const alerts: Alert[] = [];
  for (const [key, f] of now) {
    const old = before.get(key);
    if (!old) alerts.push({ kind: 'new', key, date: current.date, finding: f, previousSeverity: null });
    else if (old.severity !== f.severity || old.code !== f.code)
      alerts.push({ kind: 'changed', key, date: current.date, finding: f, previousSeverity: old.severity });
  }
  if (previous) {
    const unknown = unobserved(current, previous);
    for (const [key, f] of before)
      if (!now.has(key) && !unknown(f))
        alerts.push({ kind: 'resolved', key, date: current.date, finding: f, previousSeverity: f.severity });
  }
  return alerts;
}

export function alertMessage(a: Alert): AlertMessage {
  const f = a.finding;
  return {
    schemaVersion: 1,
    kind: a.kind,
    key: a.key,
    date: a.date,
    checkId: f.checkId,
    severity: f.severity,
    previousSeverity: a.previousSeverity,
    link: f.link,
    target: f.target,
    code: f.code,
    value: f.value,
    threshold: f.threshold,
    message: f.message,
    advice: f.advice,
  };
}

/** Slack mrkdwn and Teams text both read `&`, `<`, `>` as markup: escape them. */
function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const ICON: Record<AlertKind | Severity, string> = {
  critical: '🔴',
  warning: '🟠',
  info: '🔵',
  resolved: '✅',
  new: '',
  changed: '',
};

function line(a: Alert): string {
  const f = a.finding;
  const where = esc(f.link ?? f.target);
  if (a.kind === 'resolved')
    return `${ICON.resolved} *resolved* ${where}: ${esc(f.checkId)} (${esc(f.message)})`;
  const change = a.kind === 'changed' ? ` (was ${a.previousSeverity})` : '';
  return `${ICON[f.severity]} *${f.severity}*${change} ${where}: ${esc(f.message)}\n→ ${esc(f.advice)}`;
}

export interface WebhookBody {
  /** Slack's fallback and Teams' message text. */
  text: string;
  /** Teams' card summary (notification preview). */
  summary: string;
  /** Slack Block Kit. */
  blocks: Array<Record<string, unknown>>;
}

/**
 * One webhook post for a night's alerts, accepted by Slack incoming webhooks (`text` + `blocks`) and Teams
 * incoming webhooks (`text`, `summary`). Null when there is nothing to say.
 */
export function webhookBody(alerts: Alert[], opts: { dashboardUrl?: string } = {}): WebhookBody | null {
  if (alerts.length === 0) return null;
  const count = (k: AlertKind) => alerts.filter((a) => a.kind === k).length;
  const parts = [
    count('new') && `${count('new')} new`,
    count('changed') && `${count('changed')} changed`,
    count('resolved') && `${count('resolved')} resolved`,
  ].filter(Boolean);
  const summary = `milink health ${alerts[0]!.date}: ${parts.join(', ')}`;
  const order = (a: Alert) =>
    a.kind === 'resolved'
      ? 3
      : a.finding.severity === 'critical'
        ? 0
        : a.finding.severity === 'warning'
          ? 1
          : 2;
  const sorted = [...alerts].sort((a, b) => order(a) - order(b) || a.key.localeCompare(b.key));
  const lines = sorted.map(line);
  const url = opts.dashboardUrl ?? null;
  const text = [esc(summary), ...lines, ...(url ? [`Dashboard: ${url}`] : [])].join('\n\n');
  // Slack allows 50 blocks and 3000 characters per text section
  const shown = lines.slice(0, 45);
  const blocks: Array<Record<string, unknown>> = [
    { type: 'header', text: { type: 'plain_text', text: summary.slice(0, 150) } },
    ...shown.map((l) => ({ type: 'section', text: { type: 'mrkdwn', text: l.slice(0, 3000) } })),
  ];
  if (lines.length > shown.length)
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `… and ${lines.length - shown.length} more` }],
    });
  if (url)
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `<${url}|Open the dashboard>` }] });
  return { text, summary, blocks };
}
