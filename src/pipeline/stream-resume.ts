import type { RequestInfo, SdkRequestOptions } from '../core/request-info.js';
import { ResponseCancelledError } from '../errors/stream-errors.js';
import { eventBase } from '../events/event-base.js';
import { eventName } from '../responses/event-role.js';
import type { SseEvent } from '../responses/sse-scanner.js';
import { alignEvents } from '../streams/event-aligned-reader.js';
import { resumedEvents, sequenceNumberOf } from '../streams/resumed-events.js';
import type { StreamRecovery, UpstreamFailure } from '../streams/stream-recovery.js';
import type { FollowUpLink } from './follow-up-link.js';
import { followUp } from './follow-up.js';
import type { PipelineContext } from './pipeline-context.js';

/**
 * The recovery of a background Responses stream (`responses.create({ background: true, stream: true })`,
 * or a `responses.retrieve(id, { stream: true })` of one), `undefined` for any other stream or when
 * `streaming.maxResumes` is 0.
 */
export function backgroundResume(
  ctx: PipelineContext,
  request: RequestInfo,
  working: SdkRequestOptions,
  link: FollowUpLink,
): StreamRecovery | undefined {
  if (ctx.options.streaming.maxResumes === 0 || working.stream !== true) return undefined;
  if (request.method === 'POST' && request.path === '/responses') {
    const { background } = (working.body ?? {}) as { background?: unknown };
    return background === true ? new BackgroundResume(ctx, request, link, undefined, -1) : undefined;
  }
  const retrieved = request.method === 'GET' ? /^\/responses\/([^/]+)$/.exec(request.path) : null;
  if (!retrieved) return undefined;
  const startingAfter = Number((working['query'] as { starting_after?: unknown } | undefined)?.starting_after ?? -1);
  return new BackgroundResume(ctx, request, link, decodeURIComponent(retrieved[1]!), Number.isInteger(startingAfter) ? startingAfter : -1);
}

/**
 * Resumes a background response's stream after the last event its caller received:
 * `GET /responses/{id}?stream=true&starting_after={sequence_number}`, through the same client (a pool's
 * member), after the protecting policies admit it and the retry budget has room, within the call's
 * deadline and at most `streaming.maxResumes` times. A stream that ended without its terminal event may
 * have been cancelled or failed server-side (the API sends no event for a cancellation): the response's
 * status is looked up first, and the stream ends with `ResponseCancelledError` or the response's error.
 */
class BackgroundResume implements StreamRecovery {
  readonly #ctx: PipelineContext;
  readonly #request: RequestInfo;
  readonly #link: FollowUpLink;
  /** The response's id, once known (from `response.created`, or the retrieved path). */
  #id: string | undefined;
  /** The sequence number of the last event handed on (`-1`: none yet). */
  #after: number;
  #resumes = 0;

  constructor(ctx: PipelineContext, request: RequestInfo, link: FollowUpLink, id: string | undefined, after: number) {
    this.#ctx = ctx;
    this.#request = request;
    this.#link = link;
    this.#id = id;
    this.#after = after;
  }

  readonly seen = (event: SseEvent): void => {
    const number = sequenceNumberOf(event.data);
    if (number !== undefined) this.#after = number;
    if (this.#id === undefined && eventName(event) === 'response.created') {
      const id = responseIdOf(event.data);
      if (id !== undefined) this.#id = id;
    }
  };

  readonly recover = async (
    error: unknown,
    failure: UpstreamFailure,
    signal: AbortSignal,
  ): Promise<ReadableStreamDefaultReader<Uint8Array> | undefined> => {
    const ctx = this.#ctx;
    const id = this.#id;
    if (id === undefined || this.#resumes >= ctx.options.streaming.maxResumes) return undefined;
    try {
      const resumed = await followUp(ctx, this.#request, this.#link, error, signal, async (scoped) => {
        this.#resumes++;
        if (failure === 'truncated') {
          const ended = await this.#endedServerSide(id, scoped);
          if (ended) throw ended;
        }
        const after = this.#after;
        ctx.shared.events.emit('streamResume', { ...eventBase(ctx, this.#request), responseId: id, after, resume: this.#resumes, failure });
        const { response } = await this.#link.send(this.#options(id, scoped, { stream: true, ...(after >= 0 ? { starting_after: after } : {}) }));
        this.#link.responded(response);
        return response.body ? resumedEvents(alignEvents(response.body.getReader()), after, response) : undefined;
      });
      return resumed?.value;
    } catch (caught) {
      // Ended server-side: the stream ends with why. Anything else (the resume refused or failed, the
      // deadline, the caller's abort): with the failure that asked for it, which carries what arrived.
      if (caught instanceof ResponseCancelledError || isResponseError(caught)) throw caught;
      return undefined;
    }
  };

  /** The response's error when it failed or was cancelled server-side, else `undefined` (`GET /responses/{id}`). */
  async #endedServerSide(id: string, signal: AbortSignal): Promise<Error | undefined> {
    const { response } = await this.#link.send(this.#options(id, signal, undefined));
    const body = (await response.json()) as { status?: unknown; error?: unknown };
    if (body.status === 'cancelled') return new ResponseCancelledError(id);
    if (body.status !== 'failed') return undefined;
    const error = typeof body.error === 'object' && body.error !== null ? body.error : { message: `Response ${id} failed.` };
    return markResponseError(new this.#ctx.sdk.APIError(undefined, error, undefined, response.headers));
  }

  #options(id: string, signal: AbortSignal, query: Record<string, unknown> | undefined): SdkRequestOptions {
    const { working } = this.#link;
    return {
      method: 'get',
      path: `/responses/${encodeURIComponent(id)}`,
      ...(query ? { query, stream: true } : {}),
      ...(working.headers === undefined ? {} : { headers: working.headers }),
      signal,
      maxRetries: 0,
    };
  }
}

const RESPONSE_ERROR = Symbol('openai-resilient.responseError');

/** Marks the error of a response that failed server-side: the stream ends with it. */
function markResponseError(error: Error): Error {
  Object.defineProperty(error, RESPONSE_ERROR, { value: true });
  return error;
}

function isResponseError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[RESPONSE_ERROR] === true;
}

/** The `response.id` of a `response.created` event's data. */
function responseIdOf(data: string): string | undefined {
  try {
    const id = (JSON.parse(data) as { response?: { id?: unknown } }).response?.id;
    return typeof id === 'string' && id !== '' ? id : undefined;
  } catch {
    return undefined;
  }
}
