import type { RequestInfo, SdkRequestOptions } from '../core/request-info.js';
import { isPlainObject } from '../core/validate.js';
import { eventBase } from '../events/event-base.js';
import { chatContinuation } from '../streams/continuation/chat-continuation.js';
import { alignEvents } from '../streams/event-aligned-reader.js';
import type { StreamRecovery } from '../streams/stream-recovery.js';
import type { FollowUpLink } from './follow-up-link.js';
import { followUp } from './follow-up.js';
import type { PipelineContext } from './pipeline-context.js';

/**
 * The recovery of a Chat Completions stream with `streaming.continuation` on (see `chatContinuation`);
 * `undefined` for any other stream, and whenever the option is off: a stream then fails as it always has.
 *
 * The continuation request goes as a background stream's resume does (see `FollowUpLink`): to the same
 * client (a pool's member), through the breaker, the rate limiter and the bulkhead again (the failed
 * upstream's failure recorded first), when the retry budget has room, and within the call's deadline and
 * the attempt's time limit until its response.
 */
export function chatStreamContinuation(
  ctx: PipelineContext,
  request: RequestInfo,
  working: SdkRequestOptions,
  link: FollowUpLink,
): StreamRecovery | undefined {
  const setting = ctx.options.streaming.continuation;
  if (!setting || working.stream !== true || request.method !== 'POST' || request.path !== '/chat/completions') return undefined;
  const body = working.body;
  if (!isPlainObject(body)) return undefined;
  const { events } = ctx.shared;
  return chatContinuation({
    body,
    setting,
    send: (next, signal, error) => sendContinuation(ctx, request, link, next, signal, error),
    onContinued: (seam) => events.emit('streamContinued', { ...eventBase(ctx, request), ...seam }),
    onNotContinued: (reason, chunks, error) => events.emit('streamNotContinued', { ...eventBase(ctx, request), chunks, reason, error }),
  });
}

/** Sends the continuation request `body`; resolves to a reader of its whole events once its response arrived. */
async function sendContinuation(
  ctx: PipelineContext,
  request: RequestInfo,
  link: FollowUpLink,
  body: Record<string, unknown>,
  signal: AbortSignal,
  error: unknown,
): Promise<ReadableStreamDefaultReader<Uint8Array>> {
  const sent = await followUp(ctx, request, link, error, signal, async (scoped) => {
    const { working } = link;
    const { response } = await link.send({
      method: 'post',
      path: working.path,
      body,
      stream: true,
      ...(working.headers === undefined ? {} : { headers: working.headers }),
      signal: scoped,
      maxRetries: 0,
    });
    link.responded(response);
    if (!response.body) throw new ctx.sdk.APIConnectionError({ message: 'The continuation stream has no body.' });
    return alignEvents(response.body.getReader());
  });
  // Not sent (the deadline passed, the caller stopped, the retry budget is spent): the failure stands.
  if (!sent) throw signal.aborted ? signal.reason : error;
  return sent.value;
}
