import * as arm from '../../azure/arm-requests.js';
import { ArmError, armAdvice } from '../../azure/errors.js';
import { asLinkResource } from '../../azure/link-resource.js';
import { sameName } from '../../link/names.js';
import * as catalog from '../../sql/catalog.js';
import { sqlAdvice } from '../../sql/errors.js';
import { defineStep, OwnedByStep, StepProblem } from '../step.js';
import { readConnection, verifyConnection } from './verify-connection.js';

/** One look at a link being created: the operation, ARM's view of the database, SQL Server's view of the replica. */
export interface LinkObservation {
  /** The creation operation: running, done, or none to follow. */
  operation: 'InProgress' | 'Succeeded' | 'None';
  /** The creation's poller state for the next look (while it runs). */
  operationState?: string;
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
  /** Looks since seeding finished without the link healthy yet (catching up). */
  catchupLooks?: number;
}

/**
 * The link's replica states that name a failed stage: the troubleshooting article's `…Error` states
 * (LinkInitError, LinkCreationError, …) and a failed operation.
 */
const FAILED_STATE = /Error$|Failed$/;

/** The pace of looks while the service creates the link. */
const CREATION_LOOK_SECONDS = 15;
/** Looks a second apart once seeding finished, before the pace slows (catch-up usually takes seconds). */
const CLOSE_CATCHUP_LOOKS = 10;

/** The leading error number or code of ARM's `mostRecentLinkError` text, for advice. */
function errorCode(text: string | undefined): string | undefined {
  return text?.match(/^\s*([A-Za-z0-9_]+)/)?.[1];
}

/** wait-for-link: seeding, catch-up, connected and healthy — looked at between durable timers. */
export const waitForLink = defineStep<LinkObservation>({
  id: 'wait-for-link',
  scope: 'link',
  target: 'azure',
  wait: true,
  title: () => 'Wait for the link: seeding, catch-up, healthy',
  render: (l) => ({ arm: { look: arm.getLink(l.mi, l.names.link) } }),
  async inspect(io) {
    const name = io.link.names.link;
    const look = this.render(io.link).arm!.look!;
    const obs: LinkObservation = { operation: 'None', exists: false, healthy: false };
    if (io.operation) {
      const put = { method: 'PUT' as const, path: look.path };
      const seen = await io.arm.lookAgain(put, `creating link ${name}`, io.operation);
      if (seen.status === 'failed' || seen.status === 'canceled') {
        const code = seen.error?.code ?? (seen.status === 'failed' ? 'Failed' : 'Canceled');
        throw new StepProblem(
          'azure',
          code,
          `creating link ${name}: ${seen.error?.message ?? seen.status}`,
          armAdvice(code),
        );
      }
      if (seen.status === 'running') {
        obs.operation = 'InProgress';
        if (seen.state) obs.operationState = seen.state;
      } else if (seen.status === 'succeeded') obs.operation = 'Succeeded';
    }
    const response = await io.arm.send(look);
    if (response.status >= 400 && response.status !== 404)
      throw ArmError.fromResponse(response.status, response.json, `reading link ${name}`, look);
    obs.exists = response.status === 200;
    const db = (asLinkResource(response.json)?.properties?.databases ?? []).find((d) =>
      sameName(d.databaseName, io.request.database),
    );
    if (obs.exists && db) {
      Object.assign(obs, {
        replicaState: db.replicaState,
        seedingProgress: db.seedingProgress,
        synchronizationHealth: db.synchronizationHealth,
        connectedState: db.connectedState,
        sendLagSeconds: db.instanceSendReplicationLagSeconds,
        redoLagSeconds: db.instanceRedoReplicationLagSeconds,
        certificateExpiry: db.partnerAuthCertValidity?.expiryDate,
      });
      if (db.replicaState && FAILED_STATE.test(db.replicaState)) {
        const code = errorCode(db.mostRecentLinkError) ?? db.replicaState;
        throw new StepProblem(
          'azure',
          db.replicaState,
          `link ${name} is in state ${db.replicaState}: ${db.mostRecentLinkError ?? 'no detail'}`,
          /^\d+$/.test(code) ? sqlAdvice(Number(code)) : armAdvice(code),
        );
      }
    }
    // SQL Server's side is read with verify-connection's own query: an error there is that step's
    const connection = await readConnection(io).catch((e: unknown) => {
      throw new OwnedByStep(verifyConnection.id, e);
    });
    if (connection) {
      obs.sqlServerConnectedState = connection.connectedState;
      if (connection.lastConnectErrorNumber)
        obs.sqlServerLastError = {
          number: connection.lastConnectErrorNumber,
          message: connection.lastConnectError ?? '',
        };
    }
    const seeding = await catalog.readSeeding(await io.sql(), io.request.database);
    if (seeding) obs.seeding = { transferredMb: seeding.transferredMb, databaseMb: seeding.databaseMb };
    const before = io.previous as LinkObservation | undefined;
    if (obs.seeding && obs.seeding.transferredMb >= obs.seeding.databaseMb && obs.seeding.databaseMb > 0)
      obs.catchupLooks = before?.catchupLooks !== undefined ? before.catchupLooks + 1 : 0;
    obs.healthy =
      obs.operation !== 'InProgress' &&
      obs.exists &&
      obs.connectedState === 'CONNECTED' &&
      obs.synchronizationHealth === 'HEALTHY' &&
      obs.replicaState !== undefined &&
      !/seeding|catch ?up/i.test(obs.replicaState) &&
      obs.sqlServerConnectedState === 'CONNECTED';
    return obs;
  },
  needed: (o) => !o.healthy,
  progress: (o) => ({
    ...(o.replicaState ? { replicaState: o.replicaState } : {}),
    ...(o.seedingProgress ? { seedingProgress: o.seedingProgress } : {}),
    ...(o.connectedState ? { connectedState: o.connectedState } : {}),
    ...(o.synchronizationHealth ? { synchronizationHealth: o.synchronizationHealth } : {}),
    ...(o.sqlServerConnectedState ? { sqlServerConnectedState: o.sqlServerConnectedState } : {}),
    ...(o.seeding ? { transferredMb: o.seeding.transferredMb, databaseMb: o.seeding.databaseMb } : {}),
  }),
  nextLook(o, previous, seconds) {
    // While the service creates the link (its operation runs, nothing seeds yet), look at a steady pace: creation
    // takes from seconds to minutes, and the link is expected within five (LinkInitError otherwise).
    const now = o.seeding;
    if (!now || now.databaseMb <= 0) return o.operation === 'InProgress' ? CREATION_LOOK_SECONDS : undefined;
    // Seeding moves at a rate two looks can measure: look again when it should end, then follow the catch-up
    // closely for a few seconds, and less often after. More than six hours from the end, look at nine tenths of the estimate and
    // estimate again (rates drift: compression, other links sharing the bandwidth).
    const then = previous?.seeding;
    const remaining = Math.max(now.databaseMb - now.transferredMb, 0);
    if (remaining === 0) {
      const catchingUp = (o.catchupLooks ?? 0) + 1;
      return catchingUp <= CLOSE_CATCHUP_LOOKS ? 1 : Math.min(Math.max(seconds, 1) * 2, 60);
    }
    if (!then || seconds <= 0) return 2;
    const rate = (now.transferredMb - then.transferredMb) / seconds;
    if (rate <= 0) return undefined;
    const eta = remaining / rate;
    return eta <= 6 * 3600 ? Math.ceil(eta) : Math.ceil(eta * 0.9);
  },
  overdue(o, hours) {
    const sqlError = o.sqlServerLastError;
    return {
      target: sqlError ? 'sqlserver' : 'azure',
      code: sqlError ? String(sqlError.number) : 'LinkDeadline',
      message: `the link was not healthy after ${hours} h (state ${o.replicaState ?? 'unknown'}, ${o.connectedState ?? 'not connected'})${sqlError ? `; SQL Server reports ${sqlError.number}: ${sqlError.message}` : ''}`,
      advice: sqlError
        ? sqlAdvice(sqlError.number)
        : 'check the link in the portal and the network paths between SQL Server and the instance, then re-run',
    };
  },
  found: (o) => [
    `link ${o.replicaState ?? ''} ${o.connectedState ?? ''} ${o.synchronizationHealth ?? ''}`
      .replace(/\s+/g, ' ')
      .trim(),
  ],
});
