import * as catalog from '../../sql/catalog.js';
import { sqlAdvice } from '../../sql/errors.js';
import * as sql from '../../sql/statements.js';
import { defineStep, StepProblem, type StepIo } from '../step.js';

/** The instance's replica of the DAG as SQL Server sees it (undefined: no such replica yet). */
export async function readConnection(io: StepIo): Promise<catalog.LinkConnection | undefined> {
  return catalog.readLinkConnection(await io.sql(), verifyConnection.render(io.link).tsql!.query!);
}

/** verify-connection: SQL Server shows the instance replica CONNECTED (the runbook's verification query). */
export const verifyConnection = defineStep<{ connection?: catalog.LinkConnection }>({
  id: 'verify-connection',
  scope: 'link',
  target: 'sqlserver',
  title: (l) => `SQL Server ${l.serverLabel} shows the instance replica CONNECTED`,
  render: (l) => ({ tsql: { query: sql.linkConnectionQuery(l.names.link) } }),
  async inspect(io) {
    const connection = await readConnection(io);
    return connection ? { connection } : {};
  },
  needed: (o) => o.connection?.connectedState !== 'CONNECTED',
  found: (o) => [`the instance replica is ${o.connection!.connectedState}`],
  // Nothing to do but report: the connection is the link's to make, and the error says why it is not.
  async act(io, o) {
    const number = o.connection?.lastConnectErrorNumber ?? undefined;
    throw new StepProblem(
      'sqlserver',
      number ? String(number) : 'NotConnected',
      `SQL Server does not show ${io.link.mi.name}'s replica of ${io.link.names.link} connected (${o.connection?.connectedState ?? 'no replica'})${o.connection?.lastConnectError ? `: ${o.connection.lastConnectError}` : ''}`,
      sqlAdvice(number),
    );
  },
});
