/**
 * The local host: milink's registered functions (HTTP, queue, timer triggers; orchestrations; activities)
 * running on one machine with no Azure, driven by durable-functions' own replay engine.
 */
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvocationContext, invocationContextFor } from './sdk.js';
import { Cron } from 'croner';
import type { VirtualClock } from '../sim/clock.js';
import { loadApp, installCapture, type Registration } from './capture.js';
import { makeClock } from './clock.js';
import { Engine, type ReplayTrace, type Status } from './engine.js';
import { bindDurableClient, createRequestHandler, durableClientBinding } from './http.js';
import { decodeMessage, Queues, startAzurite, type Azurite, type MessageEncoding } from './queues.js';
import { InstanceStore } from './store.js';

export type { Status, ReplayTrace } from './engine.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface LocalHostOptions {
  /** The app's entry module (default `<repo>/src/index.ts`). */
  entry?: string;
  stateDir: string;
  clock?: 'real' | { scale: number; originMs?: number } | VirtualClock;
  /** 0 (default) chooses a free port. */
  port?: number;
  queues?: 'azurite-memory' | 'azurite-disk' | false;
  /** Set in process.env before the entry loads. */
  env?: Record<string, string>;
  maxConcurrentActivities?: number;
  functionKey?: string;
  /** host.json to read (default `<repo>/host.json`). */
  hostJson?: string;
  /** Overrides host.json's extensions.queues.maxDequeueCount. */
  maxDequeueCount?: number;
  /** Overrides host.json's extensions.queues.visibilityTimeout (how long a failed message stays hidden). */
  queueVisibilityTimeoutMs?: number;
  /** Real milliseconds between queue polls when a queue is empty (default 250). */
  queuePollMs?: number;
  log?: (line: string) => void;
  /** Receives every orchestrator replay's result (tests, benchmarks). */
  trace?: (t: ReplayTrace) => void;
  /** Virtual clock: called each time the host moves it (e.g. `() => estate.advance()`). */
  onClockAdvance?: (now: Date) => void;
}

export interface LocalHost {
  baseUrl: string;
  functionKey: string;
  storageConnectionString?: string;
  functions: string[];
  hubName: string;
  client: {
    startNew(name: string, opts?: { instanceId?: string; input?: unknown }): Promise<string>;
    getStatus(id: string, opts?: { showHistory?: boolean }): Promise<Status | undefined>;
    waitForCompletion(id: string, opts: { timeoutMs: number }): Promise<Status>;
    raiseEvent(id: string, name: string, data?: unknown): Promise<void>;
    terminate(id: string, reason: string): Promise<void>;
    purge(id: string): Promise<number>;
  };
  queues: {
    send(queue: string, body: unknown): Promise<void>;
    receiveAll(queue: string): Promise<unknown[]>;
    peek(queue: string): Promise<unknown[]>;
  };
  fireTimer(name: string): Promise<void>;
  /** Resolves when nothing is runnable (on a virtual clock with auto-advance: no durable timer pending either). */
  idle(): Promise<void>;
  /** Virtual clock only: stop/allow moving time to the next durable timer when idle (default allowed). */
  setAutoAdvance(on: boolean): void;
  /** Virtual clock only: move time forward by `ms` and fire what became due. */
  advance(ms: number): void;
  /** The host's current time (virtual, scaled or real). */
  now(): Date;
  stats: Engine['stats'];
  close(): Promise<void>;
}

const TERMINAL = ['Completed', 'Failed', 'Terminated'];

/** A .NET TimeSpan text (`[d.]hh:mm:ss[.fff]`) in milliseconds. */
export function timeSpanMs(text: string): number {
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`not a TimeSpan: '${text}'`);
  const [, d, h, min, sec, frac] = m;
  return (
    ((Number(d ?? 0) * 24 + Number(h)) * 60 + Number(min)) * 60_000 +
    Number(sec) * 1000 +
    (frac ? Math.round(Number(`0.${frac}`) * 1000) : 0)
  );
}

interface HostJson {
  extensions?: {
    durableTask?: { hubName?: string; maxConcurrentActivityFunctions?: number };
    queues?: {
      maxDequeueCount?: number;
      batchSize?: number;
      visibilityTimeout?: string;
      messageEncoding?: string;
    };
  };
}

export async function startLocalHost(opts: LocalHostOptions): Promise<LocalHost> {
  installCapture();
  const log = opts.log ?? ((line: string) => console.log(line));
  const hostJsonPath = opts.hostJson ?? join(REPO_ROOT, 'host.json');
  const hostJson: HostJson = existsSync(hostJsonPath)
    ? (JSON.parse(readFileSync(hostJsonPath, 'utf8')) as HostJson)
    : {};
  const hubName = hostJson.extensions?.durableTask?.hubName ?? 'TestHubName';
  const maxDequeueCount = opts.maxDequeueCount ?? hostJson.extensions?.queues?.maxDequeueCount ?? 5;
  const batchSize = hostJson.extensions?.queues?.batchSize ?? 16;
  const encoding: MessageEncoding =
    hostJson.extensions?.queues?.messageEncoding === 'none' ? 'none' : 'base64';
  const retryVisibilitySeconds = Math.round(
    (opts.queueVisibilityTimeoutMs ??
      timeSpanMs(hostJson.extensions?.queues?.visibilityTimeout ?? '00:00:00')) / 1000,
  );
  const functionKey = opts.functionKey ?? randomBytes(24).toString('base64url');
  const clock = makeClock(opts.clock);

  // HTTP first, so the port is known before the entry loads
  const routing: {
    handler?: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
  } = {};
  const server: Server = createServer((req, res) => {
    if (routing.handler) routing.handler(req, res);
    else res.writeHead(503).end();
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => ok());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const baseUrl = `http://127.0.0.1:${port}`;

  let azurite: Azurite | undefined;
  let queues: Queues | undefined;
  try {
    if (opts.queues) {
      azurite = await startAzurite({
        location: join(opts.stateDir, 'azurite'),
        inMemory: opts.queues === 'azurite-memory',
      });
      queues = new Queues(azurite.connectionString, encoding);
    }
  } catch (err) {
    server.close();
    throw err;
  }

  process.env.WEBSITE_HOSTNAME ??= `127.0.0.1:${port}`;
  if (azurite) process.env.AzureWebJobsStorage = azurite.connectionString;
  for (const [k, v] of Object.entries(opts.env ?? {})) process.env[k] = v;

  const registrations = await loadApp(opts.entry ?? join(REPO_ROOT, 'src', 'index.ts'));
  const store = new InstanceStore(opts.stateDir);
  const engine = new Engine({
    registrations,
    store,
    clock,
    maxConcurrentActivities:
      opts.maxConcurrentActivities ?? hostJson.extensions?.durableTask?.maxConcurrentActivityFunctions ?? 8,
    log,
    ...(opts.trace ? { trace: opts.trace } : {}),
    ...(opts.onClockAdvance ? { onClockAdvance: opts.onClockAdvance } : {}),
    activityOutputs: (reg, context, returned) => writeQueueOutputs(reg, context, returned),
  });
  const binding = durableClientBinding(baseUrl, hubName, functionKey);
  routing.handler = createRequestHandler({
    engine,
    registrations,
    functionKey,
    hubName,
    baseUrl: () => baseUrl,
    log,
  });
  engine.resume();

  const newContext = (reg: Registration, triggerMetadata?: Record<string, unknown>): InvocationContext => {
    const context = invocationContextFor(reg, reg.name, log, triggerMetadata);
    bindDurableClient(reg, context, binding);
    return context;
  };

  // ---- queue triggers ----
  let closing = false;
  const pollers: Promise<void>[] = [];
  const wakeups = new Set<() => void>();
  const sleep = (ms: number): Promise<void> =>
    new Promise((r) => {
      const t = setTimeout(() => {
        wakeups.delete(wake);
        r();
      }, ms);
      const wake = (): void => {
        clearTimeout(t);
        wakeups.delete(wake);
        r();
      };
      wakeups.add(wake);
    });

  const writeQueueOutputs = async (
    reg: Registration,
    context: InvocationContext,
    returned?: unknown,
  ): Promise<void> => {
    if (!queues) return;
    const outputs = [...reg.extraOutputs, ...(reg.returnBinding ? [reg.returnBinding] : [])];
    for (const out of outputs) {
      if (out.type !== 'queue') continue;
      const value = out === reg.returnBinding ? returned : context.extraOutputs.get(out.name);
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value])
        await queues.send(String(out.queueName), item);
    }
  };

  // a message sent through LocalHost.queues keeps the host busy (for idle()) until a poll round of its queue
  // that started after the send has finished and drained what the queue showed (a round that took a full batch
  // leaves messages for the next one)
  const rounds = new Map<string, { started: number; waiters: { after: number; done: () => void }[] }>();
  const roundsOf = (queue: string) => {
    let r = rounds.get(queue);
    if (!r) rounds.set(queue, (r = { started: 0, waiters: [] }));
    return r;
  };
  const pollQueue = async (reg: Registration): Promise<void> => {
    if (!queues) return;
    const name = String(reg.trigger.queueName);
    const q = await queues.queue(name);
    const pollMs = opts.queuePollMs ?? 250;
    const round = roundsOf(name);
    const perRound = Math.min(32, batchSize);
    while (!closing) {
      let got = 0;
      const thisRound = ++round.started;
      try {
        const res = await q.receiveMessages({
          numberOfMessages: perRound,
          visibilityTimeout: 600,
        });
        got = res.receivedMessageItems.length;
        await Promise.all(
          res.receivedMessageItems.map((m) =>
            engine.track(async () => {
              const poison = async (): Promise<void> => {
                await queues!.queue(`${name}-poison`);
                await queues!.service.getQueueClient(`${name}-poison`).sendMessage(m.messageText);
                await q.deleteMessage(m.messageId, m.popReceipt);
                log(
                  `[${reg.name}] message ${m.messageId} moved to ${name}-poison after ${m.dequeueCount} attempts`,
                );
              };
              if (m.dequeueCount > maxDequeueCount) return poison();
              const { raw, value } = decodeMessage(m.messageText, encoding);
              const context = newContext(reg, {
                id: m.messageId,
                queueTrigger: raw,
                dequeueCount: m.dequeueCount,
                insertionTime: m.insertedOn.toISOString(),
                expirationTime: m.expiresOn.toISOString(),
                nextVisibleTime: m.nextVisibleOn.toISOString(),
                popReceipt: m.popReceipt,
              });
              try {
                const returned = await reg.handler(value, context);
                await writeQueueOutputs(reg, context, returned);
                await q.deleteMessage(m.messageId, m.popReceipt);
              } catch (err) {
                log(`[${reg.name}] failed (dequeue count ${m.dequeueCount}): ${(err as Error).message}`);
                if (m.dequeueCount >= maxDequeueCount) return poison();
                await q.updateMessage(m.messageId, m.popReceipt, undefined, retryVisibilitySeconds);
              }
            }),
          ),
        );
      } catch (err) {
        if (!closing) log(`[${reg.name}] queue poll error: ${(err as Error).message}`);
      }
      if (got < perRound) {
        const finished = round.waiters.filter((w) => w.after < thisRound);
        round.waiters = round.waiters.filter((w) => w.after >= thisRound);
        for (const w of finished) w.done();
      }
      if (got === 0 && !closing && round.waiters.length === 0) await sleep(pollMs);
    }
  };
  const queueTriggers = new Set(
    registrations.filter((r) => r.kind === 'queue').map((r) => String(r.trigger.queueName)),
  );
  if (queues) for (const reg of registrations.filter((r) => r.kind === 'queue')) pollers.push(pollQueue(reg));

  // ---- timer triggers ----
  const timerRegs = new Map(registrations.filter((r) => r.kind === 'timer').map((r) => [r.name, r]));
  const crons = new Map<string, Cron>();
  const timerHandles = new Set<ReturnType<typeof setTimeout>>();
  const runTimer = async (
    reg: Registration,
    scheduled: Date | undefined,
    cron: Cron | undefined,
  ): Promise<void> => {
    const now = clock.now();
    const timer = {
      isPastDue: scheduled !== undefined && now.getTime() - scheduled.getTime() > 60_000,
      schedule: { adjustForDST: false },
      scheduleStatus: {
        last: (scheduled ?? now).toISOString(),
        next: (cron?.nextRun(now) ?? now).toISOString(),
        lastUpdated: now.toISOString(),
      },
    };
    await engine.track(async () => {
      const context = newContext(reg);
      const returned = await reg.handler(timer, context);
      await writeQueueOutputs(reg, context, returned);
    });
  };
  for (const reg of timerRegs.values()) {
    const cron = new Cron(String(reg.trigger.schedule), { timezone: 'UTC', paused: true });
    crons.set(reg.name, cron);
    if (clock.virtual) continue; // on a virtual clock timers fire only through fireTimer()
    const arm = (): void => {
      if (closing) return;
      const next = cron.nextRun(clock.now());
      if (!next) return;
      const h = setTimeout(
        () => {
          timerHandles.delete(h);
          if (clock.now().getTime() < next.getTime()) return arm();
          void runTimer(reg, next, cron)
            .catch((err: unknown) => log(`[${reg.name}] timer failed: ${(err as Error).message}`))
            .finally(arm);
        },
        Math.min(clock.realDelayUntil(next), 2 ** 31 - 1),
      );
      timerHandles.add(h);
    };
    arm();
  }

  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`${what} is not available: start the host with queues enabled`);
    return v;
  };

  return {
    baseUrl,
    functionKey,
    hubName,
    ...(azurite ? { storageConnectionString: azurite.connectionString } : {}),
    functions: registrations.map((r) => r.name),
    client: {
      startNew: async (name, o) => engine.startNew(name, o?.instanceId, o?.input),
      getStatus: async (id, o) => engine.getStatus(id, o?.showHistory ?? false),
      waitForCompletion: (id, o) =>
        new Promise<Status>((ok, fail) => {
          const check = (): boolean => {
            const s = engine.getStatus(id);
            if (s && TERMINAL.includes(s.runtimeStatus)) {
              clearTimeout(timer);
              off();
              ok(s);
              return true;
            }
            return false;
          };
          const timer = setTimeout(() => {
            off();
            fail(new Error(`instance ${id} did not complete within ${o.timeoutMs} ms`));
          }, o.timeoutMs);
          const off = engine.onChange((rec) => {
            if (rec.instanceId === id) check();
          });
          check();
        }),
      raiseEvent: async (id, name, data) => {
        const r = engine.raiseEvent(id, name, data);
        if (r === 'notFound') throw new Error(`No instance with ID '${id}' found.`);
      },
      terminate: async (id, reason) => {
        const r = engine.terminate(id, reason);
        if (r === 'notFound') throw new Error(`No instance with ID '${id}' found.`);
      },
      purge: async (id) => engine.purge(id),
    },
    queues: {
      send: async (queue, body) => {
        await need(queues, 'queues').send(queue, body);
        if (!queueTriggers.has(queue) || closing) return;
        const round = roundsOf(queue);
        void engine.track(
          () => new Promise<void>((done) => round.waiters.push({ after: round.started, done })),
        );
        for (const w of [...wakeups]) w();
      },
      receiveAll: (queue) => need(queues, 'queues').receiveAll(queue),
      peek: (queue) => need(queues, 'queues').peek(queue),
    },
    fireTimer: async (name) => {
      const reg = timerRegs.get(name);
      if (!reg)
        throw new Error(`no timer function named '${name}' (timers: ${[...timerRegs.keys()].join(', ')})`);
      await runTimer(reg, undefined, crons.get(name));
    },
    idle: () => engine.idle(),
    setAutoAdvance: (on) => {
      engine.autoAdvance = on;
    },
    advance: (ms) => engine.advance(ms),
    now: () => clock.now(),
    stats: engine.stats,
    close: async () => {
      closing = true;
      for (const w of [...wakeups]) w();
      for (const r of rounds.values()) for (const w of r.waiters.splice(0)) w.done();
      for (const h of timerHandles) clearTimeout(h);
      await Promise.allSettled(pollers);
      engine.close();
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
      await azurite?.stop();
    },
  };
}
