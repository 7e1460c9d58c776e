import * as catalog from '../../sql/catalog.js';
import * as sql from '../../sql/statements.js';
import { linkContext, type LinkContext } from '../context.js';
import { defineStep, report, StepProblem, type Rendered } from '../step.js';

/** An endpoint milink can use as it is: started, on the requested port, certificate authentication, AES. */
function ready(l: LinkContext, e: catalog.EndpointInfo): boolean {
  return (
    e.started &&
    e.port === l.request.sqlServer.endpointPort &&
    e.certificateName !== null &&
    e.encryptionRequiredOrSupported &&
    e.algorithms.includes('AES')
  );
}

/**
 * An existing endpoint on another port than the request's: changing its port would break the availability groups
 * that use it, so milink refuses (preflight, before any change, and this step).
 */
export function endpointPortProblem(
  l: LinkContext,
  e: catalog.EndpointInfo | null | undefined,
): StepProblem | undefined {
  if (!e || e.port === l.request.sqlServer.endpointPort) return undefined;
  const moved = sql.endpointUrl(l.request.sqlServer.endpointAddress, e.port);
  return new StepProblem(
    'sqlserver',
    'EndpointPort',
    `SQL Server's mirroring endpoint ${e.name} listens on ${e.port}, not ${l.request.sqlServer.endpointPort}`,
    `set sqlServer.endpointPort to ${e.port} (changing the port would break the availability groups that use it); partnerEndpoint would be ${moved}`,
  );
}

/** mirroring-endpoint: create the endpoint, or alter an existing one to certificate authentication and AES. */
export const mirroringEndpoint = defineStep<{ endpoint: catalog.EndpointInfo | null; ready: boolean }>({
  id: 'mirroring-endpoint',
  scope: 'sqlserver',
  target: 'sqlserver',
  title: (l) =>
    `Mirroring endpoint on port ${l.request.sqlServer.endpointPort}, certificate authentication and AES`,
  render(l): Rendered {
    const existing = l.facts.endpoint;
    if (!existing)
      return {
        tsql: { create: sql.createEndpoint(l.request.sqlServer.endpointPort, l.names.certificateRef) },
      };
    if (ready(l, existing)) return {};
    return {
      tsql: {
        alter: sql.alterEndpoint({
          name: existing.name,
          port: existing.port,
          // An endpoint that already authenticates with a certificate keeps it: the instance trusts that one.
          certificate: existing.certificateName ?? l.names.certificateRef,
          windowsAuth: existing.windowsAuth,
          keepRc4: existing.algorithms.includes('RC4'),
        }),
      },
    };
  },
  async inspect(io) {
    const endpoint = await catalog.readEndpoint(await io.sql());
    return { endpoint, ready: endpoint !== null && ready(io.link, endpoint) };
  },
  needed: (o) => !o.ready,
  found: (o) => [
    `endpoint ${o.endpoint!.name} on ${o.endpoint!.port}: started, certificate authentication, AES`,
  ],
  async act(io, { endpoint }) {
    const out = report(this.id);
    const problem = endpointPortProblem(io.link, endpoint);
    if (problem) throw problem;
    // Decide with what is there now (a re-run after a crash sees the endpoint this step created).
    const [batch] = Object.values(this.render(linkContext(io.request, { ...io.facts, endpoint })).tsql ?? {});
    if (batch) await io.run(batch);
    out.changed.push(
      endpoint
        ? `altered endpoint ${endpoint.name} to certificate authentication and AES (Windows authentication kept: ${endpoint.windowsAuth ?? 'none'})`
        : `created endpoint ${sql.DEFAULT_ENDPOINT_NAME} on ${io.request.sqlServer.endpointPort}`,
    );
    return out;
  },
});
