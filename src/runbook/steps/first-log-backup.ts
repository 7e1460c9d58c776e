import { backupFile } from '../../link/names.js';
import * as catalog from '../../sql/catalog.js';
import * as sql from '../../sql/statements.js';
import { defineStep, report } from '../step.js';

/** first-log-backup: the first log backup after seeding (SQL Server as primary, with `backupPath`). */
export const firstLogBackup = defineStep<{ taken: number }>({
  id: 'first-log-backup',
  scope: 'database',
  target: 'sqlserver',
  include: (l) => l.sqlPrimary && l.request.backupPath !== undefined,
  title: (l) => `First log backup of ${l.request.database} after seeding`,
  render: (l) => ({ tsql: { backup: sql.logBackup(l.request.database, backupFile(l.request, 'log')) } }),
  async inspect(io) {
    const session = await io.sql();
    // Done once a log backup finished after seeding did; a seeding that left no record counts from the DAG's creation.
    const seeding = await catalog.readSeeding(session, io.request.database);
    const from =
      seeding?.endTime ?? (await catalog.availabilityGroupCreated(session, io.link.names.link)) ?? io.since;
    if (!from) return { taken: 0 };
    return { taken: await catalog.logBackupsSince(session, io.request.database, from) };
  },
  needed: (o) => o.taken === 0,
  found: (o) => [`${o.taken} log backup(s) since seeding finished`],
  async act(io) {
    const out = report(this.id);
    // the log since the full backup may be large: no client-side limit (the function's timeout bounds it)
    await io.run(this.render(io.link).tsql!.backup!, {}, { timeoutMs: 0 });
    out.changed.push(`log backup to ${backupFile(io.request, 'log')}`);
    return out;
  },
});
