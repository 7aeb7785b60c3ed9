import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { chatCompletion } from '../../src/testing/index.js';

/** One request the upstream holds until the test answers it. */
export interface HeldRequest {
  readonly receivedAt: number;
  /** Writes the whole answer at once (synchronously, into the socket). */
  answer(status: number, headers: Record<string, string>, body: unknown): void;
}

/**
 * An OpenAI-compatible upstream on loopback, written apart from the fault server so that a test decides
 * when and how each request is answered: `hold` keeps requests until `answer()`, otherwise each gets
 * `respond(request)` at once. Closed after each test.
 */
export interface HeldUpstream {
  readonly url: string;
  /** Requests received so far, answered or not. */
  readonly received: HeldRequest[];
  /** Requests not answered yet (only while `hold` is on). */
  readonly held: HeldRequest[];
  hold: boolean;
  /** How requests are answered while `hold` is off. @default a chat completion with no rate-limit headers */
  respond: (request: HeldRequest) => void;
}

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((close) => close()));
});

export function rateLimitBody(message = 'Rate limit reached for requests.'): unknown {
  return { error: { message, type: 'requests', param: null, code: 'rate_limit_exceeded' } };
}

export const okBody = () => chatCompletion({ id: 'chatcmpl-held', model: 'gpt-4.1-mini' });

export async function heldUpstream(): Promise<HeldUpstream> {
  const upstream: HeldUpstream = {
    url: '',
    received: [],
    held: [],
    hold: false,
    respond: (request) => request.answer(200, {}, okBody()),
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const request: HeldRequest = {
        receivedAt: Date.now(),
        answer(status, headers, body) {
          const text = JSON.stringify(body);
          res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
          res.end(text);
        },
      };
      upstream.received.push(request);
      if (upstream.hold) upstream.held.push(request);
      else upstream.respond(request);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (upstream as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  open.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return upstream;
}
