import { armAdvice } from '../../azure/errors.js';
import * as arm from '../../azure/arm-requests.js';
import { defineStep, StepProblem } from '../step.js';
import { linkRequests, readArmSide } from './link-sides.js';

interface DeletionObservation {
  operation: 'InProgress' | 'Succeeded' | 'None';
  operationState?: string;
  gone: boolean;
}

/** wait-for-link-deleted: the link's deletion on the instance, looked at between durable timers until it is gone. */
export const waitForLinkDeleted = defineStep<DeletionObservation>({
  id: 'wait-for-link-deleted',
  scope: 'link',
  target: 'azure',
  wait: true,
  title: (l) => `Wait until ${l.mi.name} has dropped the link ${l.names.link}`,
  render: (l) => ({ arm: { look: linkRequests(l).link } }),
  async inspect(io) {
    const name = io.link.names.link;
    const obs: DeletionObservation = { operation: 'None', gone: false };
    if (io.operation) {
      const seen = await io.arm.lookAgain(
        arm.deleteLink(io.link.mi, name),
        `dropping link ${name}`,
        io.operation,
      );
      if (seen.status === 'failed' || seen.status === 'canceled') {
        const code = seen.error?.code ?? (seen.status === 'failed' ? 'Failed' : 'Canceled');
        throw new StepProblem(
          'azure',
          code,
          `dropping link ${name}: ${seen.error?.message ?? seen.status}`,
          armAdvice(code),
        );
      }
      if (seen.status === 'running') {
        obs.operation = 'InProgress';
        if (seen.state) obs.operationState = seen.state;
      } else if (seen.status === 'succeeded') obs.operation = 'Succeeded';
    }
    obs.gone = (await readArmSide(io)) === undefined;
    return obs;
  },
  needed: (o) => !o.gone,
  progress: (o) => ({ link: o.gone ? 'dropped' : 'dropping', operation: o.operation }),
  overdue: (o, hours) => ({
    target: 'azure',
    code: 'LinkDeleteDeadline',
    message: `the link was still on the instance after ${hours} h (operation ${o.operation})`,
    advice: 'look at the link in the portal (az sql mi link show), then re-run the drop',
  }),
  found: () => ['the link is gone from the instance'],
});
