import * as arm from '../../azure/arm-requests.js';
import { asLinkResource } from '../../azure/link-resource.js';
import { sameName } from '../../link/names.js';
import { newCertificateName, servedInstances } from '../checks/server-certificates.js';
import { known } from '../context.js';
import { defineStep } from '../step.js';

export interface ReconnectObservation {
  certificate: string;
  links: Array<{
    instance: string;
    link: string;
    /** The SQL Server certificate the instance authenticated the link with (partnerAuthCertValidity). */
    seen?: string;
    expiryDate?: string;
    connected?: string;
    error?: string;
    /** Dropped while the rotation ran: no longer one of the SQL Server's links. */
    gone?: true;
  }>;
}

const onNew = (o: ReconnectObservation) =>
  o.links.filter((k) => k.gone || (sameName(k.seen, o.certificate) && k.connected === 'CONNECTED'));

/**
 * wait-for-new-certificate: every link of the SQL Server is CONNECTED and the instance shows the new certificate in
 * `partnerAuthCertValidity` — only then is the old certificate dropped and untrusted.
 */
export const waitForNewCertificate = defineStep<ReconnectObservation>({
  id: 'wait-for-new-certificate',
  scope: 'sqlserver',
  target: 'azure',
  wait: true,
  title: () => 'Wait until every link is connected on the new certificate',
  reads: (l) => ({ link: arm.getLink(l.mi, l.names.link) }),
  render: () => ({}),
  async inspect(io) {
    const certificate = known(newCertificateName(io.link));
    const links: ReconnectObservation['links'] = [];
    for (const mi of servedInstances(io.link)) {
      const names = io.facts.certificates?.instances.find((m) => sameName(m.name, mi.name))?.links ?? [];
      for (const name of names) {
        const answer = await io.arm.send(arm.getLink(mi, name));
        const db = answer.status < 400 ? asLinkResource(answer.json)?.properties?.databases?.[0] : undefined;
        links.push({
          instance: mi.name,
          link: name,
          ...(db?.partnerAuthCertValidity?.certificateName
            ? { seen: db.partnerAuthCertValidity.certificateName }
            : {}),
          ...(db?.partnerAuthCertValidity?.expiryDate
            ? { expiryDate: db.partnerAuthCertValidity.expiryDate }
            : {}),
          ...(db?.connectedState ? { connected: db.connectedState } : {}),
          ...(db?.mostRecentLinkError ? { error: db.mostRecentLinkError } : {}),
          ...(answer.status === 404 ? { gone: true as const } : {}),
        });
      }
    }
    return { certificate, links };
  },
  needed: (o) => onNew(o).length < o.links.length,
  found: (o) => [`${o.links.length} link(s) connected on ${o.certificate}`],
  progress: (o) => ({
    certificate: o.certificate,
    onNewCertificate: `${onNew(o).length}/${o.links.length}`,
    pending: o.links
      .filter((k) => !onNew(o).includes(k))
      .map(
        (k) =>
          `${k.instance}/${k.link}: ${k.connected ?? '?'} on ${k.seen ?? '?'}${k.error ? ` (${k.error})` : ''}`,
      ),
  }),
  overdue: (o, hours) => ({
    target: 'azure',
    code: 'LinksNotOnNewCertificate',
    message: `after ${hours} h, ${o.links.length - onNew(o).length} link(s) are not connected on ${o.certificate}`,
    advice:
      'the old certificate is still on SQL Server and still trusted: switch the endpoint back to it (ALTER ENDPOINT … CERTIFICATE [old]) if links are down, look at last_connect_error_number, then re-run',
  }),
});
