import { armActionFor } from '../azure/arm-requests.js';
import { parseLinkRequest } from '../link/request.js';
import { linkContext } from './context.js';
import { operationRequests, type Operation } from './operation.js';
import { createLink } from './operations/create-link.js';
import { dropLink } from './operations/drop-link.js';
import { linkDatabase, prepareLinkPair } from './operations/link-fleet.js';
import { failoverLink } from './operations/failover-link.js';
import { migrateLink } from './operations/migrate-link.js';
import { resolveSplitBrain } from './operations/resolve-split-brain.js';
import { rotateCertificate } from './operations/rotate-certificate.js';
import { refreshInstanceCertificates } from './operations/refresh-instance-certificates.js';
import type { Step } from './step.js';

/** The operations milink registers. Everything else (steps by id, the ARM actions milink needs) derives from this list. */
export const OPERATIONS: readonly Operation[] = [
  createLink,
  dropLink,
  failoverLink,
  resolveSplitBrain,
  migrateLink,
  prepareLinkPair,
  rotateCertificate,
  refreshInstanceCertificates,
  linkDatabase,
];

export function operationNamed(name: string): Operation | undefined {
  return OPERATIONS.find((o) => o.name === name);
}

/** Every step of every registered operation, by id. */
export function stepById(id: string): Step<unknown> | undefined {
  for (const op of OPERATIONS) {
    const step = op.steps.find((s) => s.id === id);
    if (step) return step as Step<unknown>;
  }
  return undefined;
}

/** A request whose rendering names every request kind (both initial primaries are rendered). */
function sampleContexts() {
  const base = {
    sqlServer: {
      host: 'sql.example',
      endpointAddress: '10.0.0.1',
      login: 'l',
      loginSecret: 'login',
      masterKeySecret: 'mk',
      serverName: 'S',
    },
    managedInstance: {
      subscriptionId: '00000000-0000-0000-0000-000000000000',
      resourceGroup: 'r',
      name: 'm',
    },
    database: 'd',
    certificateExpiry: '2999-01-01',
    backupPath: '/b/',
  };
  const now = new Date(0);
  return [
    linkContext(parseLinkRequest({ ...base, initialPrimary: 'SqlServer' }, now)),
    linkContext(parseLinkRequest({ ...base, initialPrimary: 'ManagedInstance' }, now)),
  ];
}

/**
 * The Azure RBAC actions the registered operations need: every ARM request their steps render or read and their
 * checks read, plus reading the status of long-running operations. The custom role grants exactly these.
 */
export function armActionsUsed(): string[] {
  const actions = new Set<string>();
  for (const op of OPERATIONS)
    for (const link of sampleContexts())
      for (const request of operationRequests(op, link)) actions.add(armActionFor(request));
  return [...actions].sort();
}
