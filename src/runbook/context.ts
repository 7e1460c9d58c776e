import type { InstanceRef } from '../azure/arm-requests.js';
import { resolveNames, type ResolvedNames } from '../link/names.js';
import type { LinkRequest } from '../link/request.js';
import type { SqlText } from '../sql/quote.js';
import * as sql from '../sql/statements.js';
import type { EstateFacts } from './step.js';

/**
 * What every step renders from: the request and the facts read so far, with the names resolved. Values not yet
 * known (the instance FQDN, @@SERVERNAME) are sqlcmd variables, so the same rendering serves the reviewable script.
 */
export interface LinkContext {
  request: LinkRequest;
  facts: EstateFacts;
  names: ResolvedNames;
  mi: InstanceRef;
  /** SQL Server is the initial primary (it seeds the instance). */
  sqlPrimary: boolean;
  fqdn: SqlText;
  serverName: SqlText;
  /** How the SQL Server is named to people: @@SERVERNAME when known, else the host. */
  serverLabel: string;
  version: number | undefined;
  /** SQL Server's mirroring endpoint as the instance reaches it: TCP://address:port. */
  partnerEndpoint: string;
  /** The certificate the endpoint authenticates with: an existing endpoint keeps its own. */
  endpointCertificate: string | undefined;
  endpointCertificateRef: SqlText;
  /** The operation's own parameters (drop's options, failover's direction, …); {} for createLink. */
  parameters: Readonly<Record<string, unknown>>;
}

export function linkContext(
  request: LinkRequest,
  facts: EstateFacts = {},
  parameters: Readonly<Record<string, unknown>> = {},
): LinkContext {
  const names = resolveNames(request, facts);
  const endpointCertificate = facts.endpoint?.certificateName ?? names.certificate;
  return {
    request,
    facts,
    names,
    mi: request.managedInstance,
    sqlPrimary: request.initialPrimary === 'SqlServer',
    fqdn: request.managedInstance.fqdn ?? facts.fqdn ?? sql.variables.instanceFqdn,
    serverName: request.sqlServer.serverName ?? facts.serverName ?? sql.variables.sqlServerName,
    serverLabel: request.sqlServer.serverName ?? facts.serverName ?? request.sqlServer.host,
    version: request.sqlServer.version ?? facts.version,
    partnerEndpoint: sql.endpointUrl(request.sqlServer.endpointAddress, request.sqlServer.endpointPort),
    endpointCertificate,
    endpointCertificateRef: endpointCertificate ?? sql.variables.certificateName,
    parameters,
  };
}

/** A value known at run time (the activities), as opposed to a sqlcmd variable left for the script's reader. */
export function known(text: SqlText): string {
  if (typeof text !== 'string')
    throw new Error(`${text.reference} is not known yet: preflight reads it before any step runs`);
  return text;
}
