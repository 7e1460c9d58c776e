import { failoverLinkChecks } from '../checks/failover-link.js';
import type { Operation } from '../operation.js';
import { failOver } from '../steps/fail-over.js';
import { asynchronousCommit, synchronousCommit } from '../steps/synchronous-commit.js';
import { verifyRoles } from '../steps/verify-roles.js';
import { waitForLsn } from '../steps/wait-for-lsn.js';

/**
 * failoverLink ("Fail over link"): planned — synchronous commit, last_hardened_lsn equal and stable on both sides,
 * the failover by the path SQL Server's version and CU allow, the roles verified on both sides, asynchronous commit
 * again; forced (allowDataLoss) — the failover, recording how far behind the new primary was, and its role.
 */
export const failoverLink: Operation = {
  name: 'failoverLink',
  title: 'Fail the link over',
  checks: failoverLinkChecks,
  steps: [synchronousCommit, waitForLsn, failOver, verifyRoles, asynchronousCommit],
};
