import { dropLinkChecks } from '../checks/drop-link.js';
import type { Operation } from '../operation.js';
import { deleteLink } from '../steps/delete-link.js';
import { dropAvailabilityGroup } from '../steps/drop-availability-group.js';
import { dropDistributedAvailabilityGroup } from '../steps/drop-distributed-availability-group.js';
import { dropInstanceCertificate } from '../steps/drop-instance-certificate.js';
import { untrustSqlServerCertificate } from '../steps/untrust-sqlserver-certificate.js';
import { waitForLinkDeleted } from '../steps/wait-for-link-deleted.js';

/**
 * dropLink: the link on the instance, then the DAG on SQL Server ("Fail over link", "Configure link with scripts"),
 * then, when asked and nothing else needs them, the AG and the certificates of the pair.
 */
export const dropLink: Operation = {
  name: 'dropLink',
  title: 'Drop the link',
  checks: dropLinkChecks,
  notes: (l) => [
    `preflight refuses while ${l.request.database} is primary on ${l.mi.name} without the instance's first full backup (override: first-backup), and during split brain`,
    'steps whose objects are already gone do nothing at run time; the AG and certificates stay while another link uses them',
  ],
  steps: [
    deleteLink,
    waitForLinkDeleted,
    dropDistributedAvailabilityGroup,
    dropAvailabilityGroup,
    dropInstanceCertificate,
    untrustSqlServerCertificate,
  ],
};
