/**
 * Storage queues on Azurite (Microsoft's emulator, npm `azurite`), started by the host as a child process
 * on a port it chooses, and the queue trigger's rules: base64 messages, dequeue count, and a message whose
 * handler failed `maxDequeueCount` times moved to `<queue>-poison`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';

const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface Azurite {
  connectionString: string;
  port: number;
  stop(): Promise<void>;
}

export async function startAzurite(opts: { location: string; inMemory: boolean }): Promise<Azurite> {
  const require = createRequire(import.meta.url);
  // queues, tables and blobs: the host's storage account (the app keeps its inventory and reports there too)
  const script = join(dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'azurite.js');
  mkdirSync(opts.location, { recursive: true });
  const args = [
    ...['--queueHost', '127.0.0.1', '--queuePort', '0'],
    ...['--tableHost', '127.0.0.1', '--tablePort', '0'],
    ...['--blobHost', '127.0.0.1', '--blobPort', '0'],
    '--disableTelemetry',
    '--skipApiVersionCheck',
    '--loose',
  ];
  // in memory, Azurite refuses --location; it runs in the location directory so nothing lands elsewhere
  args.push(...(opts.inMemory ? ['--inMemoryPersistence'] : ['--location', opts.location]));
  // Azurite must not outlive the host, even one killed with SIGKILL: it watches its parent and exits
  const boot =
    `const parent = Number(process.env.MILINK_HOST_PID);` +
    `setInterval(() => { try { process.kill(parent, 0); } catch { process.exit(0); } }, 500).unref();` +
    `process.argv.splice(1, 0, ${JSON.stringify(script)});` +
    `require(${JSON.stringify(script)});`;
  const child: ChildProcess = spawn(process.execPath, ['-e', boot, '--', ...args], {
    cwd: opts.location,
    env: { ...process.env, MILINK_HOST_PID: String(process.pid) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ports = await new Promise<Record<'Queue' | 'Table' | 'Blob', number>>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      const found: Record<string, number> = {};
      for (const m of out.matchAll(
        /Azurite (Queue|Table|Blob) service is successfully listening at https?:\/\/[^:]+:(\d+)/g,
      ))
        found[m[1]!] = Number(m[2]);
      if (found.Queue && found.Table && found.Blob)
        resolve(found as Record<'Queue' | 'Table' | 'Blob', number>);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`azurite exited (${code}) before listening: ${out}`)));
    child.once('error', reject);
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    port: ports.Queue,
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};` +
      `QueueEndpoint=http://127.0.0.1:${ports.Queue}/${DEV_ACCOUNT};` +
      `TableEndpoint=http://127.0.0.1:${ports.Table}/${DEV_ACCOUNT};` +
      `BlobEndpoint=http://127.0.0.1:${ports.Blob}/${DEV_ACCOUNT};`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

/** host.json `extensions.queues.messageEncoding`: base64 (the default) or none. */
export type MessageEncoding = 'base64' | 'none';

export function encodeMessage(body: unknown, encoding: MessageEncoding): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return encoding === 'base64' ? Buffer.from(text, 'utf8').toString('base64') : text;
}

/** The Functions host decodes the message and hands the handler parsed JSON when the text is JSON, else the text. */
export function decodeMessage(text: string, encoding: MessageEncoding): { raw: string; value: unknown } {
  const raw = encoding === 'base64' ? Buffer.from(text, 'base64').toString('utf8') : text;
  try {
    return { raw, value: JSON.parse(raw) };
  } catch {
    return { raw, value: raw };
  }
}

export class Queues {
  readonly service: QueueServiceClient;
  private readonly created = new Set<string>();
  constructor(
    connectionString: string,
    readonly encoding: MessageEncoding,
  ) {
    this.service = QueueServiceClient.fromConnectionString(connectionString);
  }

  async queue(name: string): Promise<QueueClient> {
    const q = this.service.getQueueClient(name);
    if (!this.created.has(name)) {
      await q.createIfNotExists();
      this.created.add(name);
    }
    return q;
  }

  async send(name: string, body: unknown): Promise<void> {
    await (await this.queue(name)).sendMessage(encodeMessage(body, this.encoding));
  }

  async peek(name: string): Promise<unknown[]> {
    const res = await (await this.queue(name)).peekMessages({ numberOfMessages: 32 });
    return res.peekedMessageItems.map((m) => decodeMessage(m.messageText, this.encoding).value);
  }

  /** Takes every visible message off the queue and returns their decoded bodies. */
  async receiveAll(name: string): Promise<unknown[]> {
    const q = await this.queue(name);
    const out: unknown[] = [];
    for (;;) {
      const res = await q.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 30 });
      if (res.receivedMessageItems.length === 0) return out;
      for (const m of res.receivedMessageItems) {
        out.push(decodeMessage(m.messageText, this.encoding).value);
        await q.deleteMessage(m.messageId, m.popReceipt);
      }
    }
  }
}
