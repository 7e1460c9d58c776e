import { createLinkChecks } from '../checks/create-link.js';
import type { Operation } from '../operation.js';
import { availabilityGroup } from '../steps/availability-group.js';
import { createLink as createLinkStep } from '../steps/create-link.js';
import { distributedAvailabilityGroup } from '../steps/distributed-availability-group.js';
import { exportInstanceCertificate } from '../steps/export-instance-certificate.js';
import { exportSqlServerCertificate } from '../steps/export-sqlserver-certificate.js';
import { firstLogBackup } from '../steps/first-log-backup.js';
import { importInstanceCertificate } from '../steps/import-instance-certificate.js';
import { importRootCertificates } from '../steps/import-root-certificates.js';
import { masterKey } from '../steps/master-key.js';
import { mirroringEndpoint } from '../steps/mirroring-endpoint.js';
import { prepareDatabase } from '../steps/prepare-database.js';
import { readManagedInstance } from '../steps/read-managed-instance.js';
import { sqlServerCertificate } from '../steps/sqlserver-certificate.js';
import { trustSqlServerCertificate } from '../steps/trust-sqlserver-certificate.js';
import { validateInstanceCertificate } from '../steps/validate-instance-certificate.js';
import { verifyConnection } from '../steps/verify-connection.js';
import { waitForLink } from '../steps/wait-for-link.js';

/** createLink: the runbook, from the instance's properties to the first log backup after seeding. */
export const createLink: Operation = {
  name: 'createLink',
  title: 'Create the link',
  checks: createLinkChecks,
  steps: [
    readManagedInstance,
    prepareDatabase,
    masterKey,
    sqlServerCertificate,
    exportSqlServerCertificate,
    trustSqlServerCertificate,
    exportInstanceCertificate,
    importInstanceCertificate,
    importRootCertificates,
    validateInstanceCertificate,
    mirroringEndpoint,
    availabilityGroup,
    distributedAvailabilityGroup,
    createLinkStep,
    waitForLink,
    verifyConnection,
    firstLogBackup,
  ],
};
