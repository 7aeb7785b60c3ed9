/**
 * The demo's loopback "OpenAI": a tiny HTTP front that reads each request's `model` and forwards the
 * request, byte for byte, to the fault server that plays that model's backend at that moment. This is
 * what lets the demo script trouble for one model (a 503 storm, an exhausted quota) while the clients
 * talk to one `baseURL` with SDK defaults, exactly as they would talk to api.openai.com.
 *
 * @module
 */

import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pipeline } from 'node:stream';
import { normalizePath, type FaultServer } from '../testing/index.js';

/** What the router knows about a request when it picks a backend. */
export interface RoutedRequest {
  readonly method: string;
  /** Normalized API path, e.g. `/chat/completions`. */
  readonly path: string;
  readonly model: string | undefined;
  readonly stream: boolean;
}

/** Picks the backend of one request (and may script its answer there). */
export type Route = (request: RoutedRequest) => FaultServer;

/** A running router. */
export interface Router {
  /** Base URL for the SDK, e.g. `http://127.0.0.1:41234/v1`. */
  readonly url: string;
  /** Requests received so far: the upstream requests the clients made. */
  readonly requests: number;
  /** Destroys every connection (client side and backend side) and stops listening. Idempotent. */
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'host', 'content-length']);
const noop = (): void => {};

function endToEnd(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

function describe(req: IncomingMessage, body: Buffer): RoutedRequest {
  let json: unknown;
  try {
    json = body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
  } catch {
    json = undefined;
  }
  const fields = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
  return {
    method: req.method ?? 'GET',
    path: normalizePath(req.url ?? '/').path,
    model: typeof fields['model'] === 'string' ? fields['model'] : undefined,
    stream: fields['stream'] === true,
  };
}

/** Starts the router on `127.0.0.1` and an ephemeral port. */
export async function startRouter(route: Route): Promise<Router> {
  const agent = new Agent({ keepAlive: true });
  const sockets = new Set<Socket>();
  let requests = 0;
  let closing: Promise<void> | undefined;

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    requests++;
    const backend = route(describe(req, body));
    const upstream = httpRequest(
      {
        host: '127.0.0.1',
        port: backend.port,
        method: req.method,
        path: req.url,
        headers: { ...endToEnd(req.headers), 'content-length': String(body.length) },
        agent,
      },
      (answer) => {
        const headers = endToEnd(answer.headers);
        if (answer.headers['content-length'] !== undefined) headers['content-length'] = answer.headers['content-length'];
        res.writeHead(answer.statusCode ?? 502, headers);
        res.flushHeaders(); // an event stream's headers go out before its first event, as upstream
        // A backend that cuts the body mid-way cuts the client's too; a client that leaves frees the backend.
        pipeline(answer, res, (error) => {
          if (error) {
            upstream.destroy();
            res.destroy();
          }
        });
      },
    );
    upstream.on('error', () => res.destroy()); // a reset backend resets the client
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.end(body);
  };

  const server = createServer((req, res) => {
    req.on('error', noop);
    res.on('error', noop);
    const body: Buffer[] = [];
    req.on('data', (chunk: Buffer) => body.push(chunk));
    req.on('end', () => {
      if (closing || res.destroyed) return res.destroy();
      forward(req, res, Buffer.concat(body));
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', noop);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_error: Error, socket: Socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    get requests() {
      return requests;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
        agent.destroy();
      });
      return closing;
    },
  };
}
