import { certificateRotationCheck } from '../checks/server-certificates.js';
import type { Operation } from '../operation.js';
import { dropOldCertificates } from '../steps/drop-old-certificates.js';
import { newEndpointCertificate } from '../steps/new-endpoint-certificate.js';
import { switchEndpointCertificate } from '../steps/switch-endpoint-certificate.js';
import { trustNewCertificate } from '../steps/trust-new-certificate.js';
import { untrustOldCertificates } from '../steps/untrust-old-certificates.js';
import { waitForNewCertificate } from '../steps/wait-for-new-certificate.js';

/**
 * rotateCertificate (BP "Rotate certificate", for a whole SQL Server): one endpoint certificate serves every link of
 * the SQL Server to every instance, so the new one is trusted by all of them before the endpoint switches, and the
 * old one goes only once every link is connected on the new one. Runs under the SQL Server's id (`cert-…`).
 */
export const rotateCertificate: Operation = {
  name: 'rotateCertificate',
  title: "Rotate SQL Server's endpoint certificate",
  identity: 'caller',
  checks: [certificateRotationCheck],
  steps: [
    newEndpointCertificate,
    trustNewCertificate,
    switchEndpointCertificate,
    waitForNewCertificate,
    untrustOldCertificates,
    dropOldCertificates,
  ],
};
