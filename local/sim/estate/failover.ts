/**
 * Failover rules the service documents ("Fail over link", "Update policy", "Troubleshoot issues with the
 * link"), shared by the ARM and T-SQL paths of the link engine: the refusals of a planned failover while the
 * secondary is behind, the update-policy rule for the instance as primary, and the instance's first full
 * backup some time after it becomes primary.
 */
import type { ManagedInstanceSim, MiDatabase } from '../azure/instances.js';
import type { SimServerState } from '../sqlserver/model.js';
import { LinkErrorCodes, type LinkProblem } from './truth.js';

/**
 * Queues above which the service refuses a planned failover (409 …LogSendQueueSizeTooBig /
 * …RedoQueueSizeTooBig). The documents name the refusals, not the sizes: these are the stand-in's choice.
 */
export const PLANNED_FAILOVER_LIMITS = { logSendQueueKb: 10 * 1024, redoQueueKb: 10 * 1024 };

/** Simulated seconds between the instance becoming primary and its first full backup finishing. */
export const FIRST_FULL_BACKUP_SECONDS = 300;

export interface InstanceBackup {
  /** msdb.dbo.backupset.type */
  type: 'D';
  startDate: Date;
  finishDate: Date;
}

/** The instance takes its own full backup of a database some time after it becomes primary ("Fail over link"). */
export function scheduleFirstFullBackup(
  db: MiDatabase,
  promotedAt: Date,
  seconds = FIRST_FULL_BACKUP_SECONDS,
): void {
  const finish = new Date(promotedAt.getTime() + seconds * 1000);
  const start = new Date(finish.getTime() - Math.min(seconds, 60) * 1000);
  db.fullBackups = [...(db.fullBackups ?? []), { startDate: start, finishDate: finish }];
}

/** The instance's full backups of a database that have finished by `now` (what its msdb.dbo.backupset holds). */
export function instanceFullBackups(db: MiDatabase, now: Date): InstanceBackup[] {
  return (db.fullBackups ?? [])
    .filter((b) => b.finishDate.getTime() <= now.getTime())
    .map((b) => ({ type: 'D' as const, startDate: b.startDate, finishDate: b.finishDate }));
}

/**
 * "Update policy": the instance as primary replicates to (and fails back to) SQL Server only when its update
 * policy matches SQL Server's version — SQL Server 2022 ↔ "SQL Server 2022", 2025 ↔ "SQL Server 2025";
 * with Always-up-to-date, a link from SQL Server works, but after a failover to the instance there is no
 * replication and no failback.
 */
export function updatePolicyProblem(mi: ManagedInstanceSim, server: SimServerState): LinkProblem | null {
  const wanted =
    server.version.year === 2025 ? 'SQLServer2025' : server.version.year === 2022 ? 'SQLServer2022' : null;
  if (mi.databaseFormat === wanted) return null;
  return {
    code: LinkErrorCodes.connectivity,
    message: `Managed instance '${mi.name}' uses the ${mi.databaseFormat} update policy: with the instance as primary, the database can replicate to SQL Server ${server.version.year} only under the ${wanted ?? 'matching'} update policy.`,
  };
}
