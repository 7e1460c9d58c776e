import * as catalog from '../../sql/catalog.js';
import * as sql from '../../sql/statements.js';
import { defineStep, report } from '../step.js';

/** master-key: the database master key in master, if absent (its password from Key Vault). */
export const masterKey = defineStep<{ exists: boolean }>({
  id: 'master-key',
  scope: 'sqlserver',
  target: 'sqlserver',
  title: () => 'Database master key in master (if absent)',
  render: () => ({ tsql: { create: sql.createMasterKey() } }),
  inspect: async (io) => ({ exists: await catalog.hasMasterKey(await io.sql()) }),
  needed: (o) => !o.exists,
  found: () => ['master key in master'],
  async act(io) {
    const out = report(this.id);
    const secretName = io.request.sqlServer.masterKeySecret;
    const password = await io.secret(secretName);
    await io.run(this.render(io.link).tsql!.create!, { [sql.variables.masterKeyPassword.name]: password });
    out.changed.push(`master key created (password from Key Vault secret ${secretName})`);
    return out;
  },
});
