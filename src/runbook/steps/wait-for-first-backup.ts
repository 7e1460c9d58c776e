import * as arm from '../../azure/arm-requests.js';
import { ArmError } from '../../azure/errors.js';
import { defineStep } from '../step.js';

interface BackupObservation {
  /** The managed database's earliest restore point: the instance's first full backup of it. */
  restorePoint?: string;
}

/**
 * wait-for-first-backup: after a failover to the instance, the instance's first full backup of the database
 * ("Troubleshoot issues with the link", Database unavailable after server restart: drop the link only after it).
 * ARM shows it as the managed database's `earliestRestorePoint`; looked at between durable timers.
 */
export const waitForFirstBackup = defineStep<BackupObservation>({
  id: 'wait-for-first-backup',
  scope: 'database',
  target: 'azure',
  wait: true,
  title: (l) => `Wait for ${l.mi.name}'s first full backup of ${l.request.database}`,
  render: (l) => ({ arm: { look: arm.getManagedDatabase(l.mi, l.request.database) } }),
  async inspect(io) {
    const request = this.render(io.link).arm!.look!;
    const response = await io.arm.send(request);
    if (response.status >= 400)
      throw ArmError.fromResponse(
        response.status,
        response.json,
        `reading database ${io.request.database} on ${io.link.mi.name}`,
        request,
      );
    const restorePoint = (response.json as { properties?: { earliestRestorePoint?: string } } | undefined)
      ?.properties?.earliestRestorePoint;
    return restorePoint ? { restorePoint } : {};
  },
  needed: (o) => o.restorePoint === undefined,
  progress: (o) => ({ firstFullBackup: o.restorePoint ?? 'not yet' }),
  overdue: (_o, hours) => ({
    target: 'azure',
    code: 'FirstFullBackupMissing',
    message: `the instance had not taken its first full backup ${hours} h after the failover; the link was not dropped`,
    advice:
      "check the instance's backups in the portal; re-run the migration once the database shows an earliest restore point",
  }),
  found: (o) => [`first full backup present (restorable from ${o.restorePoint})`],
});
