import * as arm from '../../azure/arm-requests.js';
import { ArmError } from '../../azure/errors.js';
import { chooseLinkName, deriveNames, sameName } from '../../link/names.js';
import type { PreflightProblem } from '../../link/status.js';
import * as catalog from '../../sql/catalog.js';
import { SqlStepError } from '../../sql/session.js';
import { defineCheck, type PreflightIo } from '../preflight.js';
import { requireSysadmin } from './create-link.js';
import { failoverParameters } from '../steps/failover-path.js';
import {
  primaryOf,
  readArmSide,
  readSqlSide,
  linkRequests,
  type ArmSide,
  type SqlSide,
} from '../steps/link-sides.js';

/**
 * Checks shared by the operations on an existing link (drop, failover, split brain): the instance and SQL Server
 * reachable, the link's name as SQL Server knows it, both sides' view of the link, split brain. Reads only.
 */

/** What preflight read of the link on both sides, once per preflight. */
export interface LinkSides {
  azure: ArmSide | undefined;
  sql: SqlSide | undefined;
}

const sidesRead = new WeakMap<PreflightIo, Promise<LinkSides | undefined>>();

function problem(check: string, e: unknown): PreflightProblem {
  if (e instanceof ArmError)
    return {
      check,
      target: e.service === 'keyvault' ? 'keyvault' : 'azure',
      code: e.code,
      message: e.message,
      advice: e.advice,
    };
  if (e instanceof SqlStepError)
    return {
      check,
      target: 'sqlserver',
      code: String(e.number ?? 'Connection'),
      message: e.message,
      advice: e.advice,
    };
  return {
    check,
    target: 'sqlserver',
    message: (e as Error).message,
    advice: 'see the logs, fix the cause and re-run',
  };
}

/** Both sides' view of the link (undefined when a side could not be read: that failure is reported once). */
export function linkSides(io: PreflightIo): Promise<LinkSides | undefined> {
  let read = sidesRead.get(io);
  if (!read) {
    read = (async () => {
      try {
        const azure = await readArmSide(io);
        const sql = unreachable.has(io) ? undefined : await readSqlSide(io);
        return { azure, sql };
      } catch (e) {
        const p = problem('link-state', e);
        io.fail(p.check, p.target, p.message, p.advice, p.code);
        return undefined;
      }
    })();
    sidesRead.set(io, read);
  }
  return read;
}

/**
 * A forced failover to the instance is disaster recovery: SQL Server may be gone. Only then may preflight go on
 * without it (the failover and its report use what the instance says).
 */
export function sqlServerOptional(io: Pick<PreflightIo, 'link'>): boolean {
  const p = failoverParameters(io.link);
  return p !== undefined && p.allowDataLoss && p.to === 'ManagedInstance';
}

/** Preflights that found SQL Server unreachable where it is optional. */
const unreachable = new WeakSet<PreflightIo>();

/** The instance and SQL Server answer; facts for the steps (FQDN, @@SERVERNAME, version and build, the endpoint). */
export const reachableCheck = defineCheck({
  id: 'reachable',
  async run(io) {
    await io.instance();
    if (sqlServerOptional(io)) {
      try {
        await catalog.readServerInfo(await io.sql());
      } catch (e) {
        unreachable.add(io);
        io.warn(
          'sqlserver-reachable',
          'sqlserver',
          `SQL Server did not answer (${(e as Error).message}): the forced failover goes on with the instance alone`,
          'once SQL Server is back, both sides may be PRIMARY: resolve the split brain (POST /api/links/resolve-split-brain)',
        );
        return;
      }
    }
    const info = await io.server();
    if (!info) return;
    requireSysadmin(io, info);
    io.facts.endpoint = await catalog.readEndpoint(await io.sql());
  },
});

/** The link's name on SQL Server: the request's, else the DAG that links this database's AG to this instance. */
export const linkNameCheck = defineCheck({
  id: 'link-name',
  async run(io) {
    if (unreachable.has(io) || !(await io.server())) return;
    const r = io.request;
    const requested = deriveNames({
      database: r.database,
      serverName: r.sqlServer.serverName,
      names: r.names,
    });
    const fqdn = r.managedInstance.fqdn ?? io.facts.fqdn;
    const link = chooseLinkName(
      requested.link,
      r.names?.link !== undefined,
      io.facts.names?.availabilityGroup ?? requested.availabilityGroup,
      await io.groups(),
      fqdn,
    );
    if (link !== requested.link) io.facts.names = { ...io.facts.names, link };
    // the AG on SQL Server is the DAG's local member (the runbook reuses a database's existing AG)
    const groups = await io.groups();
    const dag = groups.find((g) => g.isDistributed && sameName(g.name, link));
    const member = dag?.replicas.find((m) =>
      groups.some((g) => !g.isDistributed && sameName(g.name, m.replicaServerName)),
    );
    if (member && !sameName(member.replicaServerName, requested.availabilityGroup))
      io.facts.names = { ...io.facts.names, availabilityGroup: member.replicaServerName };
  },
});

/** "Troubleshoot issues with the link": both sides PRIMARY is split brain; nothing but its resolution may run. */
export const splitBrainCheck = defineCheck({
  id: 'split-brain',
  reads: linkRequests,
  async run(io) {
    const sides = await linkSides(io);
    if (!sides || primaryOf(sides.sql, sides.azure) !== 'both') return;
    const message = `split brain: SQL Server and ${io.request.managedInstance.name} are both PRIMARY for link ${io.link.names.link}`;
    if (overrides(io).includes('split-brain'))
      io.warn(
        'split-brain',
        'sqlserver',
        `overridden: ${message}`,
        'the request overrode this check (override: split-brain)',
      );
    else
      io.fail(
        'split-brain',
        'sqlserver',
        message,
        'resolve it first: POST /api/links/resolve-split-brain naming the side to demote (its backup is taken first)',
        'SplitBrain',
      );
  },
});

/** The checks the request asked to override (`override: ["first-backup"]`). */
export function overrides(io: { parameters: Readonly<Record<string, unknown>> }): string[] {
  const o = io.parameters.override;
  return Array.isArray(o) ? o.map(String) : [];
}

/** The managed database's earliest restore point: the instance's first full backup of it (ARM `earliestRestorePoint`). */
export async function instanceFirstBackup(io: PreflightIo): Promise<string | undefined> {
  const request = arm.getManagedDatabase(io.link.mi, io.request.database);
  const response = await io.arm.call(
    request,
    `reading database ${io.request.database} on ${io.link.mi.name}`,
  );
  return (response.json as { properties?: { earliestRestorePoint?: string } } | undefined)?.properties
    ?.earliestRestorePoint;
}

export const existingLinkChecks = [reachableCheck, linkNameCheck, splitBrainCheck];
