import { instanceCertificatesCheck } from '../checks/server-certificates.js';
import type { Operation } from '../operation.js';
import { refreshInstanceCertificates as refreshStep } from '../steps/refresh-instance-certificates.js';

/**
 * refreshInstanceCertificates: the chain of every instance certificate a SQL Server holds for its links, validated;
 * what fails re-imported (instance certificate by FQDN, then the roots). Runs under the SQL Server's id (`cert-…`),
 * so it never overlaps a rotation of the same server.
 */
export const refreshInstanceCertificates: Operation = {
  name: 'refreshInstanceCertificates',
  title: "Refresh the instances' certificates on SQL Server",
  identity: 'caller',
  checks: [instanceCertificatesCheck],
  steps: [refreshStep],
};
