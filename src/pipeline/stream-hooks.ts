import type { PipelineContext } from './pipeline-context.js';
import type { RequestInfo } from '../core/request-info.js';
import { errorMemberOf } from '../classify/error-payload.js';
import { eventBase } from '../events/event-base.js';
import { statsScope } from '../stats/stats-scope.js';
import { onSdkCopy } from '../errors/sdk-copies.js';
import type { StreamGuardHooks } from '../streams/stream-guard-hooks.js';

/**
 * The stream guard's hooks for one attempt: the pipeline's clock, the SDK's error classes, events and
 * stats, and the attempt's own `onEnd` and `onUsage`.
 */
export function streamHooks(
  ctx: PipelineContext,
  request: RequestInfo,
  response: Response,
  { onEnd, onUsage, streamMode, onResponseId, recovery }: Pick<StreamGuardHooks, 'onEnd' | 'onUsage' | 'streamMode' | 'onResponseId' | 'recovery'>,
): StreamGuardHooks {
  const { events } = ctx.shared;
  return {
    clock: ctx.options.clock,
    connectionError: (message, cause) => new ctx.sdk.APIConnectionError({ message, cause: cause as Error }),
    onSdkCopy: (error) => onSdkCopy(error, ctx.sdk.OpenAIError),
    eventError: (event) => {
      let payload: unknown;
      try {
        payload = JSON.parse(event.data);
      } catch {
        payload = { message: event.data };
      }
      // As the SDK builds it: the payload's `error` member, else the payload itself (an `error` event of the
      // Responses API carries its code and message at the top level); `response.failed`, its `response.error`.
      const error = errorMemberOf(payload) ?? objectAt(objectAt(payload, 'response'), 'error') ?? payload;
      return new ctx.sdk.APIError(undefined, error as object, undefined, response.headers);
    },
    onStall: (chunks) => {
      const idle = ctx.options.streaming.idle!;
      ctx.shared.stats.streamEnded(statsScope(ctx, request), 'stall');
      events.emit('timeout', { ...eventBase(ctx, request), timeout: 'idle', limit: idle });
      events.emit('streamStall', { ...eventBase(ctx, request), chunks, idle });
    },
    onTruncated: (chunks) => {
      ctx.shared.stats.streamEnded(statsScope(ctx, request), 'truncated');
      events.emit('streamTruncated', { ...eventBase(ctx, request), chunks });
    },
    onAbandoned: (chunks, reason) => {
      ctx.shared.stats.streamEnded(statsScope(ctx, request), 'abandoned');
      events.emit('streamAbandoned', { ...eventBase(ctx, request), chunks, reason });
    },
    callerAbort: () => new ctx.sdk.APIUserAbortError(),
    onEnd,
    onUsage,
    hiddenUsage: request.usageHidden,
    streamMode,
    onResponseId,
    recovery,
  };
}

/** `value[key]` when it is an object. */
function objectAt(value: unknown, key: string): object | undefined {
  const member = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  return typeof member === 'object' && member !== null ? member : undefined;
}
