/**
 * The estate's control API: what a test or `milink local` does to the estate that no client of SQL Server or
 * Azure could — run a write workload against a database, put a link into trouble, read what only the
 * estate knows (each replica's count of committed transactions, the instance's own backups).
 *
 * In-process it is `estate.control`; a launched estate serves the same calls over HTTPS
 * (`connection.control`: POST <url>/<method> with `{ "args": [...] }` and the bearer token), and
 * `connectControl(connection)` is a client with the same methods.
 */
import { request } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../clock.js';
import { armError, listenHttps, readBody, sendJson, type HttpsListener } from '../azure/https.js';
import type { InstanceRegistry } from '../azure/instances.js';
import { instanceFullBackups } from './failover.js';
import type { LinkEngine } from './links.js';
import type { LinkRef, TroubleEngine, TroubleKind, TroubleReport, TroubleRequest } from './trouble.js';
import type {
  ReplicationTuning,
  WorkloadEngine,
  WorkloadReport,
  WorkloadSettings,
  WorkloadTarget,
} from './workload.js';

export interface InstanceBackupRow {
  database_name: string;
  type: 'D';
  backup_start_date: string;
  backup_finish_date: string;
}

/** The calls of the control API (in-process they return values; the client returns promises of the same). */
export interface EstateControlApi {
  startWorkload(target: WorkloadTarget, settings: WorkloadSettings): WorkloadReport;
  stopWorkload(target: WorkloadTarget): WorkloadReport;
  tuneReplication(target: WorkloadTarget, tuning: Partial<ReplicationTuning>): WorkloadReport;
  workload(target: WorkloadTarget): WorkloadReport;
  workloads(): WorkloadReport[];
  setTrouble(request: TroubleRequest): TroubleReport;
  clearTrouble(kind: TroubleKind, link: LinkRef): TroubleReport[];
  troubles(): TroubleReport[];
  /** The instance's full backups of a database (its msdb.dbo.backupset rows of type 'D'). */
  instanceBackups(instance: string, database: string): InstanceBackupRow[];
}

export type Promised<T> = {
  [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<R> : never;
};

const METHODS: ReadonlyArray<keyof EstateControlApi> = [
  'startWorkload',
  'stopWorkload',
  'tuneReplication',
  'workload',
  'workloads',
  'setTrouble',
  'clearTrouble',
  'troubles',
  'instanceBackups',
];

export function createControl(opts: {
  clock: Clock;
  links: LinkEngine;
  instances: InstanceRegistry;
  workload: WorkloadEngine;
  trouble: TroubleEngine;
}): EstateControlApi {
  const { workload, trouble } = opts;
  const fresh = <T>(f: () => T): T => {
    opts.links.advance();
    return f();
  };
  return {
    startWorkload: (t, s) => fresh(() => workload.start(t, s)),
    stopWorkload: (t) => fresh(() => workload.stop(t)),
    tuneReplication: (t, tuning) => fresh(() => workload.tune(t, tuning)),
    workload: (t) => fresh(() => workload.report(t)),
    workloads: () => fresh(() => workload.all()),
    setTrouble: (r) => trouble.set(r),
    clearTrouble: (k, l) => trouble.clear(k, l),
    troubles: () => trouble.list(),
    instanceBackups: (instance, database) =>
      fresh(() => {
        const mi = opts.instances.all().find((m) => m.name.toLowerCase() === String(instance).toLowerCase());
        if (!mi) throw new Error(`no managed instance named '${instance}'`);
        const db = mi.databases.get(String(database).toLowerCase());
        if (!db) return [];
        return instanceFullBackups(db, opts.clock.now()).map((b) => ({
          database_name: db.name,
          type: b.type,
          backup_start_date: b.startDate.toISOString(),
          backup_finish_date: b.finishDate.toISOString(),
        }));
      }),
  };
}

export interface RunningControl {
  url: string;
  close(): Promise<void>;
}

/** Serves the control API over HTTPS: POST /<method> { "args": [...] } with `Authorization: Bearer <token>`. */
export async function serveControl(
  api: EstateControlApi,
  tls: { certPem: string; keyPem: string },
  token: string,
): Promise<RunningControl> {
  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const text = await readBody(req);
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    if (bearer !== token)
      return sendJson(res, 401, armError('AuthenticationFailed', 'A valid bearer token is required.'));
    const method = decodeURIComponent(
      new URL(req.url ?? '/', 'https://127.0.0.1').pathname.replace(/^\/+/, ''),
    );
    if ((req.method ?? '').toUpperCase() !== 'POST' || !METHODS.includes(method as keyof EstateControlApi)) {
      return sendJson(res, 404, armError('UnknownControlMethod', `POST one of: ${METHODS.join(', ')}.`));
    }
    let args: unknown[];
    try {
      const body = text ? (JSON.parse(text) as { args?: unknown }) : {};
      args = Array.isArray(body.args) ? body.args : [];
    } catch {
      return sendJson(
        res,
        400,
        armError('InvalidRequestContent', 'The body must be JSON: { "args": [...] }.'),
      );
    }
    try {
      const fn = api[method as keyof EstateControlApi] as (...a: unknown[]) => unknown;
      sendJson(res, 200, { result: fn(...args) ?? null });
    } catch (err) {
      sendJson(res, 400, armError('ControlRequestFailed', err instanceof Error ? err.message : String(err)));
    }
  };
  const listener: HttpsListener = await listenHttps(tls, handler);
  return { url: listener.url, close: () => listener.close() };
}

/** A client of a launched estate's control API, from its connection file. */
export function connectControl(connection: {
  control?: { url: string; token: string };
  caCertPem: string;
}): Promised<EstateControlApi> {
  const control = connection.control;
  if (!control) throw new Error('the estate connection has no control endpoint');
  const call = (method: string, args: unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ args });
      const req = request(
        `${control.url}/${method}`,
        {
          method: 'POST',
          ca: connection.caCertPem,
          headers: {
            Authorization: `Bearer ${control.token}`,
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(body),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
                result?: unknown;
                error?: { message?: string };
              };
              if (res.statusCode === 200) resolve(parsed.result);
              else reject(new Error(parsed.error?.message ?? `control answered ${res.statusCode}`));
            } catch (err) {
              reject(err instanceof Error ? err : new Error(String(err)));
            }
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return Object.fromEntries(
    METHODS.map((m) => [m, (...args: unknown[]) => call(m, args)]),
  ) as unknown as Promised<EstateControlApi>;
}
