import {
  databaseChecks,
  endpointCheck,
  instanceChecks,
  instanceLinkChecks,
  masterKeySecretCheck,
  nameChecks,
  sqlServerChecks,
  traceFlagCheck,
} from '../checks/create-link.js';
import type { Operation } from '../operation.js';
import type { StepScope } from '../step.js';
import { createLink } from './create-link.js';

/**
 * createLink split for a fleet (many databases of one SQL Server linked to one instance): what the SQL Server and
 * the instance share is made once, then each database gets what is its own. Both are createLink's own steps and
 * checks, chosen by scope, so the split cannot drift from the single-link operation.
 */
const SHARED: readonly StepScope[] = ['sqlserver', 'instance', 'pair'];

/** The SQL Server's and the pair's objects: master key, certificates both ways, roots, the endpoint. */
export const prepareLinkPair: Operation = {
  name: 'prepareLinkPair',
  title: 'Prepare a SQL Server and an instance for their links',
  identity: 'caller',
  checks: [instanceChecks, sqlServerChecks, masterKeySecretCheck, endpointCheck, traceFlagCheck],
  steps: createLink.steps.filter((s) => SHARED.includes(s.scope)),
};

/** One database's link, once its SQL Server and instance are prepared: its AG, the DAG, the link, the wait. */
export const linkDatabase: Operation = {
  name: 'linkDatabase',
  title: 'Link one database of a prepared SQL Server and instance',
  checks: [instanceChecks, sqlServerChecks, databaseChecks, nameChecks, instanceLinkChecks],
  steps: createLink.steps.filter((s) => s.preflight === true || !SHARED.includes(s.scope)),
};
