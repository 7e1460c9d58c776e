/**
 * The nightly health report: versioned JSON (zod schema, exported as JSON Schema in
 * docs/health-report.schema.json), built from the sweep's inputs and the checks' findings, carrying each
 * link's trend (lag of the last nights) forward from the previous report.
 */
import { z } from 'zod';
import { listenerHost } from './batch.js';
import {
  CHECK_IDS,
  isSeeding,
  linkViews,
  runChecks,
  runningSeeding,
  SEVERITIES,
  type Finding,
  type LinkView,
} from './checks.js';
import { redactSecrets, type PreviousLinkState, type SweepInput } from './inputs.js';
import { thresholdsSchema, type Thresholds } from './thresholds.js';

export const SCHEMA_VERSION = 1;
/** Nights of lag history kept per link. */
export const DEFAULT_TREND_NIGHTS = 14;

const severity = z.enum(SEVERITIES as unknown as ['critical', 'warning', 'info']);
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const isoTime = z.iso.datetime({ offset: true });

export const findingSchema = z.strictObject({
  checkId: z.enum(CHECK_IDS),
  severity,
  link: z
    .string()
    .nullable()
    .describe('`<instance>/<linkName>`, or null for a server or instance as a whole'),
  target: z
    .string()
    .describe('what was checked: the link, sqlserver:<name>, instance:<name>, or a certificate'),
  value: z.union([z.string(), z.number(), z.boolean(), z.null()]),
  threshold: z.union([z.string(), z.number(), z.null()]),
  code: z.string().nullable().describe('SQL error number or ARM code behind the finding'),
  message: z.string(),
  advice: z.string(),
  source: z.string().describe('where the rule comes from (health-checks.md source abbreviations)'),
});

const trendPoint = z.strictObject({ date: isoDate, value: z.number().nullable() });

export const linkSummarySchema = z.strictObject({
  key: z.string(),
  instance: z.string(),
  linkName: z.string(),
  managed: z.boolean(),
  sqlServer: z.string().nullable(),
  database: z.string().nullable(),
  state: z
    .enum(['healthy', 'seeding', 'degraded', 'disconnected', 'failed', 'missing', 'unknown'])
    .describe('the link in one word, from its worst finding and what both sides report'),
  worstSeverity: severity.nullable(),
  replicaState: z.string().nullable().describe('ARM databases[].replicaState'),
  sqlServerRole: z.string().nullable(),
  instanceRole: z.string().nullable(),
  connectedState: z.string().nullable(),
  synchronizationHealth: z.string().nullable(),
  lagSeconds: z.number().nullable(),
  logUsedPercent: z.number().nullable(),
  lastLogBackupAgeHours: z.number().nullable(),
  seeding: z
    .strictObject({
      operationId: z.string().nullable(),
      transferredBytes: z.number().nullable(),
      databaseSizeBytes: z.number().nullable(),
      progress: z.string().nullable(),
    })
    .nullable(),
  trend: z.strictObject({ lagSeconds: z.array(trendPoint) }),
});

export const certificateSummarySchema = z.strictObject({
  kind: z.enum(['sqlserver-endpoint', 'instance-on-sqlserver', 'sqlserver-as-seen-by-instance']),
  where: z.string().describe('sqlserver:<name> or the link key'),
  name: z.string(),
  expiryDate: isoTime,
  daysLeft: z.number(),
});

export const healthReportSchema = z.strictObject({
  schemaVersion: z.literal(SCHEMA_VERSION),
  date: isoDate.describe('the night the sweep ran (UTC)'),
  generatedAt: isoTime,
  thresholds: thresholdsSchema,
  summary: z.strictObject({
    links: z.number().int(),
    managed: z.number().int(),
    unmanaged: z.number().int(),
    healthy: z.number().int(),
    critical: z.number().int(),
    warning: z.number().int(),
    info: z.number().int(),
  }),
  servers: z.array(
    z.strictObject({
      sqlServer: z.string(),
      reachable: z.boolean(),
      version: z.string().nullable(),
      traceFlag12381: z.boolean().nullable(),
      error: z.string().nullable(),
    }),
  ),
  instances: z.array(
    z.strictObject({
      instance: z.string(),
      reachable: z.boolean(),
      links: z.number().int().nullable(),
      updatePolicy: z.string().nullable(),
      error: z.string().nullable(),
    }),
  ),
  links: z.array(linkSummarySchema),
  certificates: z.array(certificateSummarySchema),
  findings: z.array(findingSchema),
});

export type HealthReport = z.infer<typeof healthReportSchema>;
export type LinkSummary = z.infer<typeof linkSummarySchema>;
export type CertificateSummary = z.infer<typeof certificateSummarySchema>;

// The checks' Finding and the schema's must stay one shape (a compile-time check both ways).
const _findingFits: (f: Finding) => z.infer<typeof findingSchema> = (f) => f;
const _findingBack: (f: z.infer<typeof findingSchema>) => Finding = (f) => f;
void _findingFits;
void _findingBack;

/** The report's JSON Schema (draft 2020-12), as written to docs/health-report.schema.json. */
export function healthReportJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://github.com/milink/milink/docs/health-report.schema.json',
    title: `milink health report, schema version ${SCHEMA_VERSION}`,
    ...z.toJSONSchema(healthReportSchema, { io: 'output' }),
  };
}

/** Parses a stored report; throws a ZodError naming the field that does not fit. */
export function parseHealthReport(json: unknown): HealthReport {
  return healthReportSchema.parse(json);
}

/** What the checks need from a previous report (seeding progress per link). */
export function previousLinkStates(report: HealthReport | null | undefined): PreviousLinkState[] {
  return (report?.links ?? []).map((l) => ({
    link: l.key,
    seedingOperationId: l.seeding?.operationId ?? null,
    seedingTransferredBytes: l.seeding?.transferredBytes ?? null,
    seedingProgress: l.seeding?.progress ?? null,
  }));
}

const rank = (s: Finding['severity']) => SEVERITIES.indexOf(s);

function worst(findings: Finding[]): Finding['severity'] | null {
  return findings.reduce<Finding['severity'] | null>(
    (w, f) => (w === null || rank(f.severity) < rank(w) ? f.severity : w),
    null,
  );
}

function linkState(v: LinkView, own: Finding[]): LinkSummary['state'] {
  const ids = new Set(own.map((f) => f.checkId));
  if (ids.has('link-missing-on-instance') || ids.has('dag-missing-on-sqlserver')) return 'missing';
  if (ids.has('replica-state') || own.some((f) => f.checkId === 'seeding' && f.value === 'FAILED'))
    return 'failed';
  if (ids.has('connection')) return 'disconnected';
  if (!v.arm && !v.dag) return 'unknown';
  if (isSeeding(v)) return 'seeding';
  if (own.some((f) => f.severity !== 'info' && f.checkId !== 'unmanaged-link')) return 'degraded';
  return 'healthy';
}

function lagOf(v: LinkView): number | null {
  const sql = v.db?.remote?.secondaryLagSeconds ?? null;
  const arm =
    v.arm?.properties.instanceLinkRole === 'Primary'
      ? Math.max(
          v.armDatabase?.instanceSendReplicationLagSeconds ?? 0,
          v.armDatabase?.instanceRedoReplicationLagSeconds ?? 0,
        )
      : null;
  if (sql === null && arm === null) return null;
  return Math.max(sql ?? 0, arm ?? 0);
}

const DAY_MS = 86_400_000;

export interface BuildReportOptions {
  thresholds: Thresholds;
  /** The previous night's report, for trends and seeding progress. */
  previous?: HealthReport | null;
  trendNights?: number;
}

/** Runs the checks and assembles tonight's report (validated against its schema before it is returned). */
export function buildReport(input: SweepInput, opts: BuildReportOptions): HealthReport {
  const previous = opts.previous ?? null;
  const nights = opts.trendNights ?? DEFAULT_TREND_NIGHTS;
  const withPrevious: SweepInput = { ...input, previous: input.previous ?? previousLinkStates(previous) };
  const findings = runChecks(withPrevious, opts.thresholds);
  const date = input.at.slice(0, 10);
  const views = linkViews(input);
  const prevLinks = new Map((previous?.links ?? []).map((l) => [l.key, l]));

  const links: LinkSummary[] = views.map((v) => {
    const own = findings.filter((f) => f.link === v.key);
    const lag = lagOf(v);
    const history = (prevLinks.get(v.key)?.trend.lagSeconds ?? []).filter((p) => p.date < date);
    const seeding = runningSeeding(v.db);
    const armSeeding = /seeding/i.test(v.armDatabase?.replicaState ?? '');
    return {
      key: v.key,
      instance: v.instance,
      linkName: v.linkName,
      managed: v.managed,
      sqlServer: v.sqlServer,
      database: v.database,
      state: linkState(v, own),
      worstSeverity: worst(own),
      replicaState: v.armDatabase?.replicaState ?? null,
      sqlServerRole: v.dag?.local?.role ?? null,
      instanceRole: v.arm?.properties.instanceLinkRole ?? null,
      connectedState: v.dag?.remote?.connectedState ?? v.armDatabase?.connectedState ?? null,
      synchronizationHealth:
        v.armDatabase?.synchronizationHealth ?? v.dag?.remote?.synchronizationHealth ?? null,
      lagSeconds: lag,
      logUsedPercent: v.db?.logUsedPercent ?? null,
      lastLogBackupAgeHours: v.db?.lastLogBackup ? Math.round(v.db.lastLogBackup.ageMinutes / 6) / 10 : null,
      seeding:
        seeding || armSeeding
          ? {
              operationId: seeding?.operationId ?? null,
              transferredBytes: seeding?.transferredBytes ?? null,
              databaseSizeBytes: seeding?.databaseSizeBytes ?? null,
              progress: v.armDatabase?.seedingProgress ?? null,
            }
          : null,
      trend: { lagSeconds: [...history, { date, value: lag }].slice(-nights) },
    };
  });

  const certificates: CertificateSummary[] = [];
  const days = (expiry: string, at: string) => Math.floor((Date.parse(expiry) - Date.parse(at)) / DAY_MS);
  for (const s of input.servers) {
    const o = s.observation;
    if (!o) continue;
    const hosts = new Set(o.dags.map((d) => listenerHost(d.remote?.endpointUrl ?? null)));
    for (const c of o.certificates) {
      if (!c.expiryDate) continue;
      const kind = c.isEndpointCertificate
        ? 'sqlserver-endpoint'
        : !c.privateKey && hosts.has(c.name.toLowerCase())
          ? 'instance-on-sqlserver'
          : null;
      if (kind)
        certificates.push({
          kind,
          where: `sqlserver:${s.sqlServer}`,
          name: c.name,
          expiryDate: c.expiryDate,
          daysLeft: days(c.expiryDate, o.observedAt),
        });
    }
  }
  for (const v of views) {
    const p = v.armDatabase?.partnerAuthCertValidity;
    if (!p?.expiryDate) continue;
    const expiry = new Date(p.expiryDate).toISOString();
    certificates.push({
      kind: 'sqlserver-as-seen-by-instance',
      where: v.key,
      name: p.certificateName ?? '',
      expiryDate: expiry,
      daysLeft: days(expiry, input.at),
    });
  }
  certificates.sort((a, b) => a.daysLeft - b.daysLeft || a.where.localeCompare(b.where));

  const count = (s: Finding['severity']) => findings.filter((f) => f.severity === s).length;
  const report: HealthReport = {
    schemaVersion: SCHEMA_VERSION,
    date,
    generatedAt: new Date(input.at).toISOString(),
    thresholds: opts.thresholds,
    summary: {
      links: links.length,
      managed: links.filter((l) => l.managed).length,
      unmanaged: links.filter((l) => !l.managed).length,
      healthy: links.filter((l) => l.state === 'healthy').length,
      critical: count('critical'),
      warning: count('warning'),
      info: count('info'),
    },
    servers: input.servers.map((s) => ({
      sqlServer: s.sqlServer,
      reachable: !s.error && !!s.observation,
      version: s.observation?.version.productVersion ?? null,
      traceFlag12381: s.observation?.traceFlag12381 ?? null,
      error: s.error ? redactSecrets(s.error.message) : null,
    })),
    instances: input.instances.map((i) => ({
      instance: i.instance,
      reachable: !i.error && !!i.links,
      links: i.links?.length ?? null,
      updatePolicy: i.databaseFormat ?? null,
      error: i.error ? redactSecrets(i.error.message) : null,
    })),
    links,
    certificates,
    findings,
  };
  return healthReportSchema.parse(report);
}

/** A few lines for a terminal: the night's counts and every critical and warning finding. */
export function formatSummary(report: HealthReport, maxLines = 20): string {
  const s = report.summary;
  const head =
    `health ${report.date}: ${s.links} links (${s.healthy} healthy, ${s.unmanaged} unmanaged); ` +
    `${s.critical} critical, ${s.warning} warning, ${s.info} info`;
  const serious = report.findings.filter((f) => f.severity !== 'info');
  const lines = serious
    .slice(0, maxLines)
    .map((f) => `  ${f.severity.padEnd(8)} ${f.link ?? f.target}: ${f.message}`);
  if (serious.length > maxLines) lines.push(`  … and ${serious.length - maxLines} more`);
  return [head, ...lines].join('\n');
}
