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
  notes: (l) => [
    'the failover path follows SQL Server\'s version and CU read at run time: this plan shows it for SQL Server 2022 CU13+ unless the facts say otherwise ("Fail over link"); before CU13 SQL Server is set to secondary, then ARM failover ForcedAllowDataLoss runs once the LSNs match',
    `a planned failover starts only once last_hardened_lsn is equal on both sides and unchanged for ${typeof l.parameters.lsnStableSeconds === 'number' ? l.parameters.lsnStableSeconds : 30} s`,
  ],
  steps: [synchronousCommit, waitForLsn, failOver, verifyRoles, asynchronousCommit],
};
