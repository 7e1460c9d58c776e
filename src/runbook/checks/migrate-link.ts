import { defineCheck } from '../preflight.js';
import { primaryOf } from '../steps/link-sides.js';
import { existingLinkChecks, linkSides } from './lifecycle.js';

/**
 * A migration's cut-over ("Fail over link", "Troubleshoot issues with the link"): the link on both sides with SQL
 * Server primary (or the instance primary already, or the link already dropped: a re-run). Any supported SQL Server
 * version: on 2016-2019 the failover to the instance is one-way, which a migration is.
 */
export const migrationCheck = defineCheck({
  id: 'migration',
  async run(io) {
    const sides = await linkSides(io);
    if (!sides) return;
    if (!sides.azure) return; // the link is dropped already: what is left is the SQL Server side's cleanup
    if (!sides.sql) {
      io.fail(
        'link',
        'sqlserver',
        `SQL Server has no distributed availability group ${io.link.names.link}`,
        'check names.link in the request',
        'LinkNotFound',
      );
      return;
    }
    const primary = primaryOf(sides.sql, sides.azure);
    if (primary === 'none')
      io.fail(
        'roles',
        'sqlserver',
        `neither side of ${io.link.names.link} is primary`,
        'look at the link on both sides before migrating',
      );
  },
});

export const migrateLinkChecks = [...existingLinkChecks, migrationCheck];
