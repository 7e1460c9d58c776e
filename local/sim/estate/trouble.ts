/**
 * Trouble on demand: puts a link into one of the unhealthy states the documents describe ("Troubleshoot
 * issues with the link", "Best practices for maintaining the link", "Configure link with scripts", "Fail
 * over link"), by changing what really causes it in the estate — so every reading (the DMVs, DBCC, ARM)
 * follows from the cause, as it would on real servers, and the documented remedy is what clears it.
 */
import type { Clock } from '../clock.js';
import { issueInstanceEndpointCertificate } from '../azure/pki.js';
import type { InstanceRegistry } from '../azure/instances.js';
import type { LinkEngine, SimLink } from './links.js';
import { LinkErrorCodes, type LinkProblem } from './truth.js';
import type { WorkloadEngine, WorkloadTarget } from './workload.js';

/** A link: the managed instance's name and the link's (distributed availability group's) name. */
export interface LinkRef {
  instance: string;
  name: string;
}

export type TroubleRequest =
  /** The log of the primary database fills up (as an open transaction with no log backup would). */
  | { kind: 'logFull'; link: LinkRef }
  /** The secondary can harden and redo only `secondaryTps` transactions a second under a workload of `transactionsPerSecond`. */
  | { kind: 'lagHigh'; link: LinkRef; transactionsPerSecond?: number; secondaryTps?: number }
  /** The connection drops with SQL Server error `errorNumber` until cleared. */
  | { kind: 'disconnected'; link: LinkRef; errorNumber: number; description?: string }
  /** Seeding stops making progress until cleared. */
  | { kind: 'seedingStuck'; link: LinkRef }
  /** Trace flag 12381 is turned on on the link's SQL Server (and left on). */
  | { kind: 'traceFlag12381'; link: LinkRef }
  /** The certificate SQL Server's endpoint authenticates with expires in `days` days. */
  | { kind: 'certificateExpiring'; link: LinkRef; days: number }
  /** The certificate SQL Server's endpoint authenticates with has expired. */
  | { kind: 'certificateExpired'; link: LinkRef }
  /**
   * The instance's certificate that SQL Server holds no longer validates: the instance has rotated its
   * endpoint certificate and the copy in SQL Server's master has expired.
   */
  | { kind: 'chainInvalid'; link: LinkRef }
  /** Both sides hold the primary role, as after a forced failover while the old primary kept running. */
  | { kind: 'splitBrain'; link: LinkRef };

export type TroubleKind = TroubleRequest['kind'];

export interface TroubleReport {
  kind: TroubleKind;
  link: LinkRef;
  since: string;
  /** What was changed in the estate, in words. */
  effect: string;
}

/** What the error numbers of the troubleshooting article mean (its words, shortened). */
const MEANINGS: Record<number, string> = {
  41962: 'The link was not initiated within 5 minutes.',
  41973: "The SQL Server endpoint certificate isn't imported into the managed instance.",
  41974: "The managed instance's endpoint certificate isn't imported into SQL Server.",
  41976: "The availability group isn't responding.",
  41977: "The target database isn't responsive.",
  41986: 'The connection failed or the secondary replica is unresponsive.',
  47521: "The secondary replica didn't receive the request.",
};

const eqi = (a: string | undefined, b: string | undefined) =>
  (a ?? '').toLowerCase() === (b ?? '').toLowerCase();

export class TroubleEngine {
  private readonly active: Array<TroubleReport & { linkObject: SimLink }> = [];
  private readonly disconnects = new Map<SimLink, LinkProblem>();
  private readonly stalled = new Map<SimLink, number>();

  constructor(
    private readonly opts: {
      clock: Clock;
      links: LinkEngine;
      instances: InstanceRegistry;
      workload: WorkloadEngine;
    },
  ) {}

  private resolve(ref: LinkRef): SimLink {
    if (!ref || typeof ref.instance !== 'string' || typeof ref.name !== 'string')
      throw new Error('a link is named by { instance, name }');
    const link = this.opts.links
      .all()
      .find((l) => eqi(l.mi.name, ref.instance) && eqi(l.name, ref.name) && !l.canceledAt);
    if (!link) throw new Error(`no link '${ref.name}' on managed instance '${ref.instance}'`);
    return link;
  }

  private targetOf(link: SimLink): WorkloadTarget {
    return link.sqlRole === 'Primary' && link.server
      ? { server: link.server.serverName, database: link.props.databaseName }
      : { instance: link.mi.name, database: link.props.databaseName };
  }

  private endpointCertificate(link: SimLink) {
    const s = link.server?.state;
    const name = s?.endpoint?.certificateName;
    const cert = name ? s?.certificates.find((c) => eqi(c.name, name)) : undefined;
    if (!cert) throw new Error(`link '${link.name}' has no SQL Server endpoint certificate`);
    return cert;
  }

  set(req: TroubleRequest): TroubleReport {
    this.opts.links.advance();
    const link = this.resolve(req.link);
    const now = this.opts.clock.now();
    const server = link.server;
    let effect: string;
    switch (req.kind) {
      case 'logFull': {
        if (!server) throw new Error(`link '${link.name}' has no SQL Server yet`);
        const target = { server: server.serverName, database: link.props.databaseName };
        this.opts.workload.fillLog(target);
        effect = `the log of '${link.props.databaseName}' on ${server.serverName} is full`;
        break;
      }
      case 'lagHigh': {
        const target = this.targetOf(link);
        const tps = req.transactionsPerSecond ?? 200;
        const slow = req.secondaryTps ?? tps / 4;
        if (!(slow >= 0 && slow < tps)) throw new Error('secondaryTps must be below transactionsPerSecond');
        const current = this.opts.workload.report(target);
        if (!current.running) this.opts.workload.start(target, { transactionsPerSecond: tps });
        this.opts.workload.tune(target, { hardenCapacityTps: slow, redoCapacityTps: slow });
        effect = `a workload of ${current.running ? current.transactionsPerSecond : tps} tx/s; the secondary keeps up with ${slow} tx/s`;
        break;
      }
      case 'disconnected': {
        const n = Number(req.errorNumber);
        if (!Number.isInteger(n) || n <= 0) throw new Error('errorNumber must be a positive integer');
        const meaning = req.description ?? MEANINGS[n] ?? 'The connection to the remote replica was lost.';
        this.disconnects.set(link, {
          code: LinkErrorCodes.connectivity,
          message: meaning,
          sqlError: { number: n, description: `Connection attempt failed with error: '${n}'. ${meaning}` },
        });
        effect = `the connection drops with error ${n}`;
        break;
      }
      case 'seedingStuck': {
        if (link.phase !== 'Seeding' && link.phase !== 'Creating')
          throw new Error(`link '${link.name}' is not seeding (${link.phase})`);
        this.stalled.set(link, now.getTime());
        effect = 'seeding makes no progress';
        break;
      }
      case 'traceFlag12381': {
        if (!server) throw new Error(`link '${link.name}' has no SQL Server yet`);
        if (!server.state.traceFlags.includes(12381)) server.state.traceFlags.push(12381);
        effect = `trace flag 12381 is on on ${server.serverName}`;
        break;
      }
      case 'certificateExpiring':
      case 'certificateExpired': {
        const cert = this.endpointCertificate(link);
        const days = req.kind === 'certificateExpiring' ? Number(req.days) : 0;
        if (req.kind === 'certificateExpiring' && !(days > 0)) throw new Error('days must be positive');
        cert.expiryDate =
          req.kind === 'certificateExpired'
            ? new Date(now.getTime() - 1000)
            : new Date(now.getTime() + days * 86_400_000);
        effect = `certificate '${cert.name}' expires ${cert.expiryDate.toISOString()}`;
        break;
      }
      case 'chainInvalid': {
        const mi = link.mi;
        const copy = server?.state.certificates.find((c) => eqi(c.name, mi.fqdn));
        if (!copy) throw new Error(`SQL Server holds no certificate named '${mi.fqdn}'`);
        copy.expiryDate = new Date(now.getTime() - 1000);
        mi.endpointCertificate = issueInstanceEndpointCertificate(
          mi.fqdn,
          `${mi.subscriptionId}/${mi.name}/rotated-${now.getTime()}`.toLowerCase(),
          now,
        );
        effect = `the instance rotated its endpoint certificate; SQL Server's copy '${copy.name}' expired`;
        break;
      }
      case 'splitBrain': {
        if (link.phase === 'Creating' || link.phase === 'Failed')
          throw new Error(`link '${link.name}' is not established`);
        const miDb = link.mi.databases.get(link.props.databaseName.toLowerCase());
        if (miDb) miDb.status = 'Online';
        const sqlDb = server?.state.databases.find((d) => eqi(d.name, link.props.databaseName));
        if (sqlDb) sqlDb.state = 'ONLINE';
        link.sqlRole = 'Primary';
        link.instanceRole = 'Primary';
        effect = 'both SQL Server and the managed instance hold the primary role';
        break;
      }
      default:
        throw new Error(`unknown trouble '${(req as { kind?: unknown }).kind as string}'`);
    }
    const report = {
      kind: req.kind,
      link: { instance: link.mi.name, name: link.name },
      since: now.toISOString(),
      effect,
    };
    const i = this.active.findIndex((t) => t.kind === req.kind && t.linkObject === link);
    if (i >= 0) this.active.splice(i, 1);
    this.active.push({ ...report, linkObject: link });
    this.opts.links.advance();
    return report;
  }

  /** Ends a trouble that has no documented remedy of its own (disconnected, seedingStuck, lagHigh). */
  clear(kind: TroubleKind, ref: LinkRef): TroubleReport[] {
    this.opts.links.advance();
    const link = this.resolve(ref);
    switch (kind) {
      case 'disconnected':
        this.disconnects.delete(link);
        break;
      case 'seedingStuck':
        this.stepTo(this.opts.clock.now());
        this.stalled.delete(link);
        break;
      case 'lagHigh': {
        const target = this.targetOf(link);
        this.opts.workload.tune(target, { hardenCapacityTps: 5000, redoCapacityTps: 5000 });
        break;
      }
      default:
        throw new Error(
          `'${kind}' is cleared by its documented remedy (a log backup, DBCC TRACEOFF, a certificate rotation, re-importing the instance certificate, SET (ROLE = SECONDARY)), not by the control API`,
        );
    }
    const i = this.active.findIndex((t) => t.kind === kind && t.linkObject === link);
    if (i >= 0) this.active.splice(i, 1);
    this.opts.links.advance();
    return this.list();
  }

  list(): TroubleReport[] {
    return this.active.map(({ linkObject: _l, ...r }) => r);
  }

  injectedProblem(link: SimLink): LinkProblem | undefined {
    return this.disconnects.get(link);
  }

  /** Holds stalled seedings where they are: their timeline moves with the clock. */
  stepTo(at: Date): void {
    const t = at.getTime();
    for (const [link, last] of this.stalled) {
      const shift = t - last;
      if (shift <= 0) continue;
      this.stalled.set(link, t);
      if (link.phase !== 'Seeding' || !link.seedStart || !link.seedEnd) continue;
      link.seedStart = new Date(link.seedStart.getTime() + shift);
      link.seedEnd = new Date(link.seedEnd.getTime() + shift);
      if (link.catchupEnd) link.catchupEnd = new Date(link.catchupEnd.getTime() + shift);
    }
  }
}
