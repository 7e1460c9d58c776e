import * as arm from '../../azure/arm-requests.js';
import { defineCheck } from '../preflight.js';
import { existingLinkChecks, instanceFirstBackup, linkSides, overrides } from './lifecycle.js';

/**
 * "Troubleshoot issues with the link" (Database unavailable after server restart): after a failover to the
 * instance, dropping the link before the instance's first full backup of the database can leave the database
 * unavailable after the instance's next restart. Refused unless the request overrides it (`override:
 * ["first-backup"]`), which the status then reports.
 */
export const firstBackupCheck = defineCheck({
  id: 'first-backup',
  reads: (l) => ({ database: arm.getManagedDatabase(l.mi, l.request.database) }),
  async run(io) {
    const sides = await linkSides(io);
    if (!sides?.azure || sides.azure.instanceRole !== 'Primary') return;
    let restorePoint: string | undefined;
    try {
      restorePoint = await instanceFirstBackup(io);
    } catch (e) {
      io.fail(
        'first-backup',
        'azure',
        (e as Error).message,
        'check that milink may read the managed database',
      );
      return;
    }
    if (restorePoint) return;
    const message = `${io.request.database} is primary on ${io.request.managedInstance.name} and the instance has not taken its first full backup of it yet`;
    if (overrides(io).includes('first-backup'))
      io.warn(
        'first-backup',
        'azure',
        `overridden: ${message}`,
        'the request overrode this check (override: first-backup): the database may be unavailable after the next restart of the instance until Microsoft mitigates it',
      );
    else
      io.fail(
        'first-backup',
        'azure',
        message,
        'wait for the first full backup (minutes after the failover; the managed database shows an earliest restore point), then re-run the drop; or override it with override: ["first-backup"]',
        'FirstFullBackupMissing',
      );
  },
});

export const dropLinkChecks = [...existingLinkChecks, firstBackupCheck];
