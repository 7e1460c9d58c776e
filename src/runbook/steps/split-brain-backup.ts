import { backupFile } from '../../link/names.js';
import * as sql from '../../sql/statements.js';
import type { LinkContext } from '../context.js';
import { defineStep, report } from '../step.js';
import { readSqlSide } from './link-sides.js';

/** The tail-log backup's file: beside the request's other backups, stamped with the moment the request was made. */
export function tailLogFile(l: LinkContext): string {
  const at = typeof l.parameters.requestedAt === 'string' ? l.parameters.requestedAt : '';
  const stamp = at.replace(/[^0-9]/g, '').slice(0, 14);
  return backupFile(l.request, 'log').replace(/_log\.trn$/, `_tail_${stamp || 'now'}.trn`);
}

interface TailObservation {
  /** SQL Server's side no longer claims the primary role (already demoted: the backup came before). */
  demoted: boolean;
  taken: boolean;
}

/**
 * split-brain-backup: before SQL Server gives up the primary role, the tail of its log ("Troubleshoot issues with the
 * link", split brain: back up the original primary first — a tail-log backup on SQL Server), so what it committed
 * since the split can be recovered. Done once the file is in msdb's backup history.
 */
export const splitBrainBackup = defineStep<TailObservation>({
  id: 'split-brain-backup',
  scope: 'database',
  target: 'sqlserver',
  include: (l) => l.parameters.demote === 'SqlServer',
  title: (l) => `Tail-log backup of ${l.request.database} on SQL Server before it is demoted`,
  render: (l) => ({ tsql: { backup: sql.tailLogBackup(l.request.database, tailLogFile(l)) } }),
  async inspect(io) {
    const side = await readSqlSide(io);
    const rows = await (
      await io.sql()
    ).query(
      [
        'SELECT COUNT(*) AS n FROM msdb.dbo.backupset b',
        '  JOIN msdb.dbo.backupmediafamily m ON m.media_set_id = b.media_set_id',
        " WHERE b.database_name = @db AND b.type = 'L' AND m.physical_device_name = @file",
      ].join('\n'),
      { db: io.request.database, file: tailLogFile(io.link) },
    );
    return { demoted: side?.role !== 'PRIMARY', taken: Number(rows[0]?.n ?? 0) > 0 };
  },
  needed: (o) => !o.demoted && !o.taken,
  found: (o) => [o.taken ? 'the tail-log backup is in msdb' : "SQL Server's side is no longer primary"],
  async act(io) {
    const out = report(this.id);
    await io.run(this.render(io.link).tsql!.backup!, {}, { timeoutMs: 0 });
    out.changed.push(`tail-log backup of ${io.request.database} to ${tailLogFile(io.link)}`);
    out.details = { backupFile: tailLogFile(io.link) };
    return out;
  },
});
