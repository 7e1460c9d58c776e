import { backupFile } from '../../link/names.js';
import * as catalog from '../../sql/catalog.js';
import * as sql from '../../sql/statements.js';
import { defineStep, report, StepProblem } from '../step.js';

/** prepare-database: FULL recovery and a full backup that starts the log chain (SQL Server as initial primary). */
export const prepareDatabase = defineStep<catalog.DatabaseInfo | undefined>({
  id: 'prepare-database',
  scope: 'database',
  target: 'sqlserver',
  include: (l) => l.sqlPrimary,
  title: (l) => `Full recovery and a full backup for ${l.request.database}`,
  render: (l) => ({
    tsql: {
      recovery: sql.setRecoveryFull(l.request.database),
      backup: sql.fullBackup(l.request.database, backupFile(l.request, 'full')),
    },
  }),
  inspect: async (io) => catalog.readDatabase(await io.sql(), io.request.database),
  needed: (db) => !db || db.recoveryModel !== 'FULL' || !db.hasFullBackup,
  found: () => ['FULL recovery', 'a full backup in FULL recovery'],
  async act(io, db) {
    const out = report(this.id);
    if (!db)
      throw new StepProblem(
        'sqlserver',
        'DatabaseNotFound',
        `database ${io.request.database} does not exist`,
        'check the database name',
      );
    const batches = this.render(io.link).tsql!;
    const switched = db.recoveryModel !== 'FULL';
    if (switched) {
      await io.run(batches.recovery!);
      out.changed.push(`recovery model ${db.recoveryModel} -> FULL`);
    } else out.found.push('FULL recovery');
    // a switch to FULL recovery starts no log chain by itself: the full backup does
    if (!db.hasFullBackup || switched) {
      // a full backup lasts as long as the database is big: no client-side limit (the function's timeout bounds it)
      await io.run(batches.backup!, {}, { timeoutMs: 0 });
      out.changed.push(`full backup to ${backupFile(io.request, 'full')}`);
    }
    return out;
  },
});
