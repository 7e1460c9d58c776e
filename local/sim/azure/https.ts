/** A small HTTPS listener shared by the ARM and Key Vault stand-ins. */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface HttpsListener {
  server: Server;
  port: number;
  /** https://127.0.0.1:<port> */
  url: string;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export async function listenHttps(
  tls: { certPem: string; keyPem: string },
  handler: Handler,
): Promise<HttpsListener> {
  const sockets = new Set<Socket>();
  const server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    handler(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'application/json; charset=utf-8' });
        res.end(
          JSON.stringify({
            error: { code: 'InternalServerError', message: err instanceof Error ? err.message : String(err) },
          }),
        );
      } else {
        res.destroy();
      }
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `https://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(body === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' }),
    'x-ms-request-id': cryptoRandomId(),
    ...headers,
  });
  res.end(text);
}

let counter = 0;
function cryptoRandomId(): string {
  counter += 1;
  return `00000000-0000-4000-8000-${counter.toString(16).padStart(12, '0')}`;
}

/** The ARM / Key Vault error shape. */
export function armError(
  code: string,
  message: string,
  details?: Array<{ code: string; message: string; target?: string }>,
): {
  error: {
    code: string;
    message: string;
    details?: Array<{ code: string; message: string; target?: string }>;
  };
} {
  return { error: { code, message, ...(details ? { details } : {}) } };
}
