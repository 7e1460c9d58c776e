import { migrateLinkChecks } from '../checks/migrate-link.js';
import type { Operation } from '../operation.js';
import { deleteLink } from '../steps/delete-link.js';
import { dropAvailabilityGroup } from '../steps/drop-availability-group.js';
import { dropDistributedAvailabilityGroup } from '../steps/drop-distributed-availability-group.js';
import { dropInstanceCertificate } from '../steps/drop-instance-certificate.js';
import { failOver } from '../steps/fail-over.js';
import { synchronousCommit } from '../steps/synchronous-commit.js';
import { untrustSqlServerCertificate } from '../steps/untrust-sqlserver-certificate.js';
import { verifyRoles } from '../steps/verify-roles.js';
import { waitForFirstBackup } from '../steps/wait-for-first-backup.js';
import { waitForLinkDeleted } from '../steps/wait-for-link-deleted.js';
import { waitForLsn } from '../steps/wait-for-lsn.js';

/**
 * migrateLink: the migration as one operation — a planned failover to the instance (LSNs equal and stable first),
 * its roles verified, the instance's first full backup awaited, then the link dropped (and, when asked, the SQL
 * Server objects nothing else needs).
 */
export const migrateLink: Operation = {
  name: 'migrateLink',
  title: 'Migrate the database to the instance',
  checks: migrateLinkChecks,
  notes: () => [
    "the failover path follows SQL Server's version and CU read at run time (SQL Server 2016-2022 CU12: set to secondary, then ARM failover ForcedAllowDataLoss once the LSNs match)",
    "the link is dropped only after the instance's first full backup of the database",
  ],
  steps: [
    synchronousCommit,
    waitForLsn,
    failOver,
    verifyRoles,
    waitForFirstBackup,
    deleteLink,
    waitForLinkDeleted,
    dropDistributedAvailabilityGroup,
    dropAvailabilityGroup,
    dropInstanceCertificate,
    untrustSqlServerCertificate,
  ],
};
