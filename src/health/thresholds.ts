/**
 * The health checks' thresholds: one zod schema with documented defaults. Where Microsoft documents a
 * number it is the default (the source is named beside it, abbreviations from health-checks.md); where
 * it documents none, the default is ours and says so.
 */
import { z } from 'zod';

const seconds = z.number().int().min(0);
const percent = z.number().min(0).max(100);

export const thresholdsSchema = z
  .strictObject({
    lagSeconds: z
      .strictObject({
        /** No number in Microsoft docs (BP, FO say "high"); sp_Blitz check 268 uses 60 s. */
        warning: seconds.default(60),
        /** Ours: a quarter hour behind makes a planned failover likely to time out (TS). */
        critical: seconds.default(900),
      })
      .prefault({}),
    /** log_send_queue_size / redo_queue_size in KB. No documented number (BP: "consistently high"); ours: 1 GB / 10 GB. */
    queueKb: z
      .strictObject({
        warning: z.number().int().min(0).default(1_048_576),
        critical: z.number().int().min(0).default(10_485_760),
      })
      .prefault({}),
    logUsedPercent: z
      .strictObject({
        /** BP's example: 76 % "indicates" a log backup is due. */
        warning: percent.default(76),
        /** Ours, short of CFG's 100 % where replication stops. */
        critical: percent.default(90),
      })
      .prefault({}),
    /** BP: log backups "regularly" while SQL Server is primary, a daily job suggested: 24 h. */
    logBackupMaxAgeHours: z.number().positive().default(24),
    /** TS: creation is cancelled after 6 days of seeding; ours: warn after 2 days. */
    seedingDays: z
      .strictObject({ warning: z.number().positive().default(2), critical: z.number().positive().default(6) })
      .prefault({}),
    /** Days left on a certificate: info, warning, critical (issue 14: 30/14/7; BP "Rotate certificate"). */
    certificateDays: z
      .strictObject({
        info: z.number().int().min(0).default(30),
        warning: z.number().int().min(0).default(14),
        critical: z.number().int().min(0).default(7),
      })
      .prefault({}),
    /**
     * Automatic rotation (opt-in; absent: off): the nightly sweep starts rotateCertificate for a SQL Server whose
     * endpoint certificate has this many days left or fewer (issue 17; BP "Rotate certificate").
     */
    certificateRotationDays: z.number().int().min(1).max(365).optional(),
  })
  .prefault({});

export type Thresholds = z.infer<typeof thresholdsSchema>;

/** Thresholds from (partial) settings, defaults filled in; throws a ZodError naming a bad field. */
export function thresholds(input: unknown = {}): Thresholds {
  return thresholdsSchema.parse(input);
}
