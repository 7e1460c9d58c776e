import * as arm from '../azure/arm-requests.js';
import { ArmError, armAdvice } from '../azure/errors.js';
import { linkProperties } from '../link/plan.js';
import type { StepReport } from '../link/status.js';
import * as catalog from '../sql/catalog.js';
import { sqlAdvice } from '../sql/errors.js';
import { defineActivity, StepContext, StepProblem } from './common.js';

/** Starting the link over ARM (one activity) and looking at it (later activities, between durable timers). */

export interface StartLinkResult extends StepReport {
  /** The creation's status URL when this run started it. */
  operationUrl?: string;
}

interface LinkDatabase {
  databaseName?: string;
  replicaState?: string;
  seedingProgress?: string;
  synchronizationHealth?: string;
  connectedState?: string;
  mostRecentLinkError?: string;
  instanceSendReplicationLagSeconds?: number;
  instanceRedoReplicationLagSeconds?: number;
  partnerAuthCertValidity?: { certificateName?: string; expiryDate?: string };
}

interface LinkResource {
  name?: string;
  properties?: Omit<Partial<arm.LinkProperties>, 'databases'> & {
    databases?: LinkDatabase[];
    partnerLinkRole?: string;
  };
}

export async function startLink(ctx: StepContext): Promise<StartLinkResult> {
  const out: StartLinkResult = { steps: ['create-link'], found: [], changed: [] };
  const mi = ctx.request.managedInstance;
  const name = ctx.statements.names.link;
  const existing = await ctx.azure.arm.send(arm.getLink(mi, name));
  const wanted = linkProperties(ctx.request, ctx.statements.names);
  if (existing.status === 200) {
    const props = (existing.json as LinkResource).properties;
    const same =
      props?.partnerAvailabilityGroupName?.toLowerCase() ===
        wanted.partnerAvailabilityGroupName.toLowerCase() &&
      props?.instanceAvailabilityGroupName?.toLowerCase() ===
        wanted.instanceAvailabilityGroupName.toLowerCase() &&
      (props?.databases ?? []).some((d) => d.databaseName === ctx.request.database);
    if (!same)
      throw new StepProblem(
        'azure',
        'LinkMismatch',
        `link ${name} exists on ${mi.name} with other availability groups or databases`,
        'choose another names.link, or drop that link first',
      );
    out.found.push(`link ${name} on ${mi.name}`);
    return out;
  }
  if (existing.status !== 404)
    throw ArmError.fromResponse(
      existing.status,
      existing.json,
      `reading link ${name}`,
      arm.getLink(mi, name),
    );
  const put = ctx.statements.createLink()[0]!;
  out.changed.push(`asked ${mi.name} to create link ${name}`);
  if (ctx.dryRun) {
    ctx.skipped.push(`${put.method} ${put.path}`);
    return out;
  }
  const response = await ctx.azure.arm.call(put, `creating link ${name} on ${mi.name}`);
  const operationUrl =
    response.headers.get('azure-asyncoperation') ?? response.headers.get('location') ?? undefined;
  if (operationUrl) out.operationUrl = operationUrl;
  return out;
}

export interface LinkObservation {
  /** The creation operation: InProgress, Succeeded, or none to follow. */
  operation: 'InProgress' | 'Succeeded' | 'None';
  exists: boolean;
  replicaState?: string;
  seedingProgress?: string;
  synchronizationHealth?: string;
  connectedState?: string;
  sendLagSeconds?: number;
  redoLagSeconds?: number;
  certificateExpiry?: string;
  /** SQL Server's view of the instance replica. */
  sqlServerConnectedState?: string;
  sqlServerLastError?: { number: number; message: string };
  seeding?: { transferredMb: number; databaseMb: number };
  /** Seeding done and the link CONNECTED and HEALTHY on both sides. */
  healthy: boolean;
}

const FAILED_STATES = /error|failed/i;

export async function observeLink(ctx: StepContext): Promise<LinkObservation> {
  ctx.step = 'wait-for-link';
  const mi = ctx.request.managedInstance;
  const name = ctx.statements.names.link;
  let operation: LinkObservation['operation'] = 'None';
  if (ctx.input.operationUrl) {
    const status = await ctx.azure.arm.send({ method: 'GET', url: ctx.input.operationUrl });
    // an answer that is not the operation's status (403, 400, 5xx after retries) is an error to report, not
    // "still in progress" until the deadline; a forgotten operation (404) leaves the link itself to look at
    if (status.status >= 400 && status.status !== 404)
      throw ArmError.fromResponse(status.status, status.json, `reading the creation of link ${name}`, {
        method: 'GET',
        path: new URL(ctx.input.operationUrl).pathname,
      });
    if (status.status !== 404) {
      const body = status.json as
        { status?: string; error?: { code?: string; message?: string } } | undefined;
      const state = body?.status ?? (status.status === 200 ? 'Succeeded' : 'InProgress');
      if (state === 'Failed' || state === 'Canceled') {
        const code = body?.error?.code ?? state;
        throw new StepProblem(
          'azure',
          code,
          `creating link ${name}: ${body?.error?.message ?? state}`,
          armAdvice(code),
        );
      }
      operation = state === 'Succeeded' ? 'Succeeded' : 'InProgress';
    }
  }
  const response = await ctx.azure.arm.send(arm.getLink(mi, name));
  const obs: LinkObservation = { operation, exists: response.status === 200, healthy: false };
  if (response.status === 200) {
    const db = ((response.json as LinkResource).properties?.databases ?? []).find(
      (d) => d.databaseName === ctx.request.database,
    );
    if (db) {
      Object.assign(obs, {
        replicaState: db.replicaState,
        seedingProgress: db.seedingProgress,
        synchronizationHealth: db.synchronizationHealth,
        connectedState: db.connectedState,
        sendLagSeconds: db.instanceSendReplicationLagSeconds,
        redoLagSeconds: db.instanceRedoReplicationLagSeconds,
        certificateExpiry: db.partnerAuthCertValidity?.expiryDate,
      });
      if (db.replicaState && FAILED_STATES.test(db.replicaState))
        throw new StepProblem(
          'azure',
          db.replicaState,
          `link ${name} is in state ${db.replicaState}: ${db.mostRecentLinkError ?? 'no detail'}`,
          armAdvice(db.mostRecentLinkError?.split(/[\s:]/)[0] ?? db.replicaState),
        );
    }
  } else if (response.status !== 404)
    throw ArmError.fromResponse(
      response.status,
      response.json,
      `reading link ${name}`,
      arm.getLink(mi, name),
    );

  ctx.step = 'verify-connection';
  const session = await ctx.sql();
  const connection = await catalog.readLinkConnection(session, ctx.statements.verifyConnection()[0]!);
  if (connection) {
    obs.sqlServerConnectedState = connection.connectedState;
    if (connection.lastConnectErrorNumber)
      obs.sqlServerLastError = {
        number: connection.lastConnectErrorNumber,
        message: connection.lastConnectError ?? '',
      };
  }
  const seeding = await catalog.readSeeding(session, ctx.request.database);
  if (seeding) obs.seeding = { transferredMb: seeding.transferredMb, databaseMb: seeding.databaseMb };
  obs.healthy =
    operation !== 'InProgress' &&
    obs.exists &&
    obs.connectedState === 'CONNECTED' &&
    obs.synchronizationHealth === 'HEALTHY' &&
    obs.replicaState !== undefined &&
    !/seeding/i.test(obs.replicaState) &&
    obs.sqlServerConnectedState === 'CONNECTED';
  return obs;
}

/** The advice for the error SQL Server shows on the instance replica (41973, 41974, …). */
export function connectionAdvice(number: number): string {
  return sqlAdvice(number);
}

defineActivity('startLink', 'create-link', startLink);
defineActivity('observeLink', 'wait-for-link', observeLink);
