import { splitBrainChecks } from '../checks/split-brain.js';
import type { Operation } from '../operation.js';
import { demoteInstance, demoteSqlServer } from '../steps/demote.js';
import { splitBrainBackup } from '../steps/split-brain-backup.js';
import { verifyRoles } from '../steps/verify-roles.js';

/**
 * resolveSplitBrain ("Troubleshoot issues with the link"): both sides PRIMARY after a forced failover; the side the
 * request names is backed up first, then demoted; the roles are verified on both sides (one primary, the link
 * connected and healthy again).
 */
export const resolveSplitBrain: Operation = {
  name: 'resolveSplitBrain',
  title: 'Resolve split brain',
  checks: splitBrainChecks,
  notes: () => [
    'preflight requires both sides PRIMARY (split brain); the demoted side gives up what it committed since the split, after its backup',
  ],
  steps: [splitBrainBackup, demoteSqlServer, demoteInstance, verifyRoles],
};
