import * as arm from '../../azure/arm-requests.js';
import { defineStep, report, type StepReport } from '../step.js';
import { linkRequests, readArmSide } from './link-sides.js';

/**
 * delete-link: `DELETE distributedAvailabilityGroups/{link}` on the instance ("Fail over link": replication stops,
 * both copies become independent read/write databases). A link already gone is done (the service answers 404 /
 * 204). The deletion is a long-running operation that wait-for-link-deleted follows.
 */
export const deleteLink = defineStep<{ exists: boolean }>({
  id: 'delete-link',
  scope: 'link',
  target: 'azure',
  title: (l) => `Drop the link ${l.names.link} on ${l.mi.name}`,
  reads: linkRequests,
  render: (l) => ({ arm: { delete: arm.deleteLink(l.mi, l.names.link) } }),
  async inspect(io) {
    return { exists: (await readArmSide(io)) !== undefined };
  },
  needed: (o) => o.exists,
  found: () => ['the link is not on the instance'],
  async act(io): Promise<StepReport & { operation?: string }> {
    const out = report(this.id);
    const started = await io.arm.start(
      this.render(io.link).arm!.delete!,
      `dropping link ${io.link.names.link} on ${io.link.mi.name}`,
    );
    out.changed.push(`asked ${io.link.mi.name} to drop link ${io.link.names.link}`);
    return started.state && started.status === 'running' ? { ...out, operation: started.state } : out;
  },
});
