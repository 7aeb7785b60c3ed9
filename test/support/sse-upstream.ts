import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { sseFrame } from '../../src/testing/index.js';

/** How a scripted stream ends after its frames: normally, with the socket cut, or never (held open). */
export type StreamEnd = 'end' | 'drop' | 'hold';

/** One stream answer: SSE frames (objects are JSON; `[DONE]` as is; `{ raw: text }` written as it is), then its end. */
export interface ScriptedStream {
  readonly frames: ReadonlyArray<unknown>;
  readonly end: StreamEnd;
}

/**
 * A loopback upstream writing exactly the SSE frames a test gives, for streams the fault server does not
 * make (tool calls, `n > 1`, refusals), cut at any frame with the fault server's own endings (`drop`:
 * the socket destroyed; `hold`: silent and open). Each request takes the next answer; closed after each test.
 */
export async function sseUpstream(...answers: ScriptedStream[]): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const sockets = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      requests++;
      const answer = answers.shift();
      if (!answer) {
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"script exhausted"}}');
        return;
      }
      sockets.add(res);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': `req_${requests}` });
      res.flushHeaders();
      res.write(answer.frames.map((frame) => frameOf(frame)).join(''), () => {
        if (answer.end === 'end') res.end();
        // No terminating chunk: the client sees the connection lost mid-body.
        else if (answer.end === 'drop') res.socket?.destroy();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push(async () => {
    for (const res of sockets) res.socket?.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, requests: () => requests };
}

/** A Responses event frame has its `event:` line, as the API sends it; `{ raw }` is written as it is (half an event). */
function frameOf(frame: unknown): string {
  if (typeof frame === 'string') return sseFrame(frame);
  const raw = (frame as { raw?: unknown }).raw;
  if (typeof raw === 'string') return raw;
  const type = (frame as { type?: unknown }).type;
  return sseFrame(frame, typeof type === 'string' ? type : undefined);
}

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((close) => close()));
});

/** A chat chunk of completion `id` with `choices`. */
export function chatChunk(choices: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'chatcmpl-partial', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4.1-mini', choices, ...extra };
}

/** One choice's delta in a chat chunk. */
export function delta(index: number, fields: Record<string, unknown>, finish: string | null = null): Record<string, unknown> {
  return { index, delta: fields, logprobs: null, finish_reason: finish };
}

/** A tool call delta of a chat chunk. */
export function toolCallDelta(index: number, fields: { id?: string; name?: string; arguments?: string }): Record<string, unknown> {
  const fn: Record<string, unknown> = {};
  if (fields.name !== undefined) fn['name'] = fields.name;
  if (fields.arguments !== undefined) fn['arguments'] = fields.arguments;
  return { index, ...(fields.id === undefined ? {} : { id: fields.id, type: 'function' }), function: fn };
}
