import { defineCheck } from '../preflight.js';
import { primaryOf } from '../steps/link-sides.js';
import { instanceFirstBackup, linkNameCheck, linkSides, reachableCheck } from './lifecycle.js';

/**
 * Before resolving split brain ("Troubleshoot issues with the link"): both sides PRIMARY (or the named side already
 * demoted: a re-run), and the backup of the side to demote possible first — a tail-log backup on SQL Server (it
 * needs the request's backupPath); on the instance milink has no T-SQL session for a COPY_ONLY backup, so it
 * requires the instance's automatic backups (an earliest restore point) and says so.
 */
export const splitBrainStateCheck = defineCheck({
  id: 'split-brain-state',
  async run(io) {
    const demote = io.parameters.demote;
    const sides = await linkSides(io);
    if (!sides) return;
    if (!sides.azure || !sides.sql) {
      io.fail(
        'link',
        sides.azure ? 'sqlserver' : 'azure',
        `link ${io.link.names.link} is not on both sides`,
        'check names.link in the request',
        'LinkNotFound',
      );
      return;
    }
    const primary = primaryOf(sides.sql, sides.azure);
    const keep = demote === 'SqlServer' ? 'ManagedInstance' : 'SqlServer';
    if (primary === keep) return; // already resolved this way: nothing to do
    if (primary !== 'both') {
      io.fail(
        'split-brain',
        'sqlserver',
        `no split brain on link ${io.link.names.link}: the primary is ${primary}`,
        'nothing to resolve; to change roles use POST /api/links/failover',
        'NoSplitBrain',
      );
      return;
    }
    if (demote === 'SqlServer' && !io.request.backupPath)
      io.fail(
        'backup-path',
        'sqlserver',
        'request.backupPath is needed: SQL Server takes a tail-log backup before it is demoted',
        "give backupPath (a folder SQL Server's service account can write)",
      );
    if (demote === 'ManagedInstance') {
      const restorePoint = await instanceFirstBackup(io).catch(() => undefined);
      if (!restorePoint)
        io.fail(
          'instance-backup',
          'azure',
          `${io.request.managedInstance.name} has no backup of ${io.request.database} yet (no earliest restore point)`,
          'take a COPY_ONLY backup on the instance (BACKUP DATABASE … TO URL … WITH COPY_ONLY) or wait for its first automatic full backup, then re-run',
          'InstanceBackupMissing',
        );
      else
        io.warn(
          'instance-backup',
          'azure',
          `the instance's side is kept by its automatic backups (restorable from ${restorePoint}); milink takes no COPY_ONLY backup there (no T-SQL session to the instance)`,
          'take a COPY_ONLY backup on the instance first if you need a file of what it committed since the split',
        );
    }
  },
});

export const splitBrainChecks = [reachableCheck, linkNameCheck, splitBrainStateCheck];
