import * as arm from '../../azure/arm-requests.js';
import { ArmError } from '../../azure/errors.js';
import { asLinkResource } from '../../azure/link-resource.js';
import { sameName } from '../../link/names.js';
import type { LinkContext } from '../context.js';
import { defineStep, report, StepProblem, type StepReport } from '../step.js';

export function linkProperties(l: LinkContext): arm.LinkProperties {
  return {
    partnerAvailabilityGroupName: l.names.availabilityGroup,
    instanceAvailabilityGroupName: l.names.instanceAvailabilityGroup,
    partnerEndpoint: l.partnerEndpoint,
    instanceLinkRole: l.sqlPrimary ? 'Secondary' : 'Primary',
    failoverMode: l.request.failoverMode,
    seedingMode: 'Automatic',
    databases: [{ databaseName: l.request.database }],
  };
}

/** A step that starts a long-running ARM operation reports the poller's state so the wait can follow it. */
export interface StartedReport extends StepReport {
  operation?: string;
}

/** create-link: `PUT distributedAvailabilityGroups` — the instance then creates its side and starts seeding. */
export const createLink = defineStep<{ exists: boolean }>({
  id: 'create-link',
  scope: 'link',
  target: 'azure',
  title: (l) =>
    `Create the link ${l.names.link} on ${l.mi.name} (instance ${l.sqlPrimary ? 'secondary' : 'primary'})`,
  reads: (l) => ({ link: arm.getLink(l.mi, l.names.link) }),
  render: (l) => ({ arm: { create: arm.putLink(l.mi, l.names.link, linkProperties(l)) } }),
  async inspect(io) {
    const request = this.reads!(io.link).link!;
    const existing = await io.arm.send(request);
    if (existing.status === 404) return { exists: false };
    if (existing.status >= 400)
      throw ArmError.fromResponse(
        existing.status,
        existing.json,
        `reading link ${io.link.names.link}`,
        request,
      );
    const props = asLinkResource(existing.json)?.properties;
    const wanted = linkProperties(io.link);
    const same =
      sameName(props?.partnerAvailabilityGroupName, wanted.partnerAvailabilityGroupName) &&
      sameName(props?.instanceAvailabilityGroupName, wanted.instanceAvailabilityGroupName) &&
      (props?.databases ?? []).some((d) => sameName(d.databaseName, io.request.database));
    if (!same)
      throw new StepProblem(
        'azure',
        'LinkMismatch',
        `link ${io.link.names.link} exists on ${io.link.mi.name} with other availability groups or databases`,
        'choose another names.link, or drop that link first',
      );
    return { exists: true };
  },
  needed: (o) => !o.exists,
  found: () => ['the link exists on the instance'],
  async act(io): Promise<StartedReport> {
    const out = report(this.id);
    const put = this.render(io.link).arm!.create!;
    const started = await io.arm.start(put, `creating link ${io.link.names.link} on ${io.link.mi.name}`);
    out.changed.push(`asked ${io.link.mi.name} to create link ${io.link.names.link}`);
    return started.state ? { ...out, operation: started.state } : out;
  },
});
