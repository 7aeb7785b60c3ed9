import { StreamAbandonedError, StreamIdleTimeoutError, StreamTruncatedError } from '../errors/stream-errors.js';
import { unrefTimer } from '../core/clock.js';
import { isResilienceError } from '../errors/resilience-error.js';
import { whenCollected } from '../responses/collected-streams.js';
import type { StreamGuardHooks, StreamGuardSettings } from './stream-guard-hooks.js';
import type { UpstreamFailure } from './stream-recovery.js';
import { alignEvents } from './event-aligned-reader.js';

/**
 * How far a guarded stream reads ahead of its caller, in bytes (about what undici buffers of a body that
 * nobody reads). An answer that fits (most chat answers are a few KB) is read to its end as it arrives,
 * so its connection, bulkhead slot and rate-limit reservation are given back at once, whether or not
 * the caller has read it yet.
 */
export const READ_AHEAD_BYTES = 64 * 1024;

/** What the guard has learned from the events read so far (see `guardStream`). */
export interface StreamProgress {
  /**
   * Scans bytes read from the upstream. Returns the error of an `error` event that a recovery may replace
   * (one read after the first chunk while `hooks.recovery` is set): its bytes are not handed on.
   */
  take(bytes: Uint8Array): unknown;
  /** The terminal event (`[DONE]`, `response.completed`...) has been read. */
  readonly terminal: boolean;
  /** Events read so far. */
  readonly chunks: number;
  /** An error event read after the first chunk: what went wrong, however the stream then ends. */
  readonly failure: unknown;
  /** Makes `error` carry what the stream has delivered so far (`partialOutputOf`). */
  keep(error: unknown): void;
  /** The stream has ended: what it received is let go, unless a failure carries it. */
  release(): void;
  /** A failure was recovered from: the stream goes on, and what arrives is kept again. */
  recovered(): void;
}

type Read = ReadableStreamReadResult<Uint8Array>;
interface Waiter {
  readonly resolve: (result: Read) => void;
  readonly reject: (error: unknown) => void;
}

const DONE: Read = Object.freeze({ done: true, value: undefined });
const noop = () => undefined;

/**
 * The source of a guarded body once the stream is committed. It reads the upstream ahead of its caller,
 * up to {@link READ_AHEAD_BYTES}, and answers the caller's reads from what it holds, so the stream's
 * upstream part ends when the upstream does: its terminal event (the rest is not waited for, even if
 * the server keeps the socket open), its end (a truncation), a reset, or a stall. The bookkeeping
 * (`hooks.onEnd`) runs then, once; the caller still reads every chunk received, then the end (done, or
 * the error saying why it ended).
 *
 * One timer (unref'd: it never keeps a process alive) watches that something moves on the stream: a
 * chunk from the upstream, or a read by the caller. When nothing has moved for `idle` ms:
 * - while the caller waits for a chunk, the upstream stalled (`StreamIdleTimeoutError`);
 * - otherwise nobody is reading a stream that is not progressing on its own (the upstream is silent, or
 *   has filled the read-ahead and waits for the caller): it is abandoned (`StreamAbandonedError`).
 *
 * With `hooks.recovery` set, a reset, an early end, a stall or an `error` event after the first chunk asks it
 * for a new upstream that continues the stream (a background response's resume, a chat continuation), and
 * the stream goes on from it; the watch waits meanwhile (the recovery bounds its own time). The stream ends
 * as it would have without one when the recovery gives none.
 *
 * The caller stopping it (`break`, `stream.controller.abort()`, the caller's signal, cancelling the body)
 * drops what it had not read and ends it at once; so does garbage collection of the body. Nothing here
 * holds the body strongly, so that a body nobody references can be collected while its socket is open.
 */
export class GuardedSource {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #progress: StreamProgress;
  readonly #settings: StreamGuardSettings;
  readonly #hooks: StreamGuardHooks;
  /** The SDK's request signal, held weakly: the SDK's stream iterator keeps the body's reader in a listener on it. */
  readonly #signal: WeakRef<AbortSignal>;
  /** Chunks read ahead, as the upstream's own read results (handed to the caller as they are). */
  #queue: Array<ReadableStreamReadValueResult<Uint8Array>>;
  #queued = 0;
  #waiters: Waiter[] = [];
  #reading = false;
  /** The upstream part is over and its bookkeeping done; `#endError` is what the caller gets after the queue. */
  #ended = false;
  #endError: unknown;
  /** The body has been closed, errored or cancelled. */
  #bodyEnded = false;
  #body: WeakRef<ReadableStreamDefaultController<Uint8Array>> | undefined;
  #timer: unknown;
  /** When something last moved on the stream (a chunk arrived, the caller read), while `idle` is on. */
  #movedAt = 0;
  #forget: () => void = noop;
  /** A recovery is under way (`hooks.recovery`): nothing is read, and the watch waits. */
  #recovering = false;
  /** Aborted when the stream ends during a recovery. */
  #recoveryAbort: AbortController | undefined;
  /** Counts the upstreams read (a recovery starts a new one); a read of an earlier one is stale. */
  #upstream = 0;
  /** The upstream the read under way reads. */
  #readingUpstream = 0;

  constructor(
    reader: ReadableStreamDefaultReader<Uint8Array>,
    held: Uint8Array[],
    progress: StreamProgress,
    settings: StreamGuardSettings,
    hooks: StreamGuardHooks,
    signal: AbortSignal,
  ) {
    this.#reader = reader;
    this.#queue = held.map((value) => ({ done: false, value }));
    for (const bytes of held) this.#queued += bytes.byteLength;
    this.#progress = progress;
    this.#settings = settings;
    this.#hooks = hooks;
    this.#signal = new WeakRef(signal);
    if (signal.aborted) {
      this.#onAbort();
      return;
    }
    signal.addEventListener('abort', this.#onAbort, { once: true });
    if (settings.idle !== undefined) {
      this.#movedAt = hooks.clock.now();
      this.#watch(settings.idle);
    }
    if (progress.terminal) this.#complete();
    else this.#pump();
  }

  /** The body's controller (held weakly), through which the body is closed or errored when it ends. */
  attach(controller: ReadableStreamDefaultController<Uint8Array>): void {
    if (this.#bodyEnded) this.#endController(controller);
    else this.#body = new WeakRef(controller);
  }

  /** Ends the stream if `body` is garbage-collected before its upstream part is over. */
  watch(body: object): void {
    if (!this.#ended) this.#forget = whenCollected(body, this);
  }

  /** The caller's next read: a held chunk, the next one to arrive, or the end. */
  read(): Promise<Read> {
    if (this.#settings.idle !== undefined) this.#movedAt = this.#hooks.clock.now();
    if (this.#queue.length > 0) {
      const result = this.#queue.shift()!;
      this.#queued -= result.value.byteLength;
      this.#pump();
      return Promise.resolve(result);
    }
    if (this.#ended) return this.#readAfterEnd();
    return new Promise<Read>((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** The caller cancelled the body: what it had not read is dropped, and the upstream let go. */
  cancel(reason: unknown): Promise<void> {
    // The body is cancelled already: it must not be closed again.
    this.#body = undefined;
    this.#drop();
    this.#endBody();
    if (this.#ended) return Promise.resolve();
    this.#end(undefined, this.#hooks.callerAbort());
    return this.#reader.cancel(reason).catch(noop);
  }

  /** The body was garbage-collected before the upstream part was over. */
  collected(): void {
    if (this.#ended) return;
    this.#drop();
    this.#hooks.onAbandoned(this.#progress.chunks, 'collected');
    this.#stop(this.#kept(new StreamAbandonedError(this.#progress.chunks, 'collected')));
  }

  /** The SDK's request controller aborted: the caller's `break`, `stream.controller.abort()` or signal. */
  readonly #onAbort = () => {
    const reason: unknown = this.#signal.deref()?.reason;
    this.#drop();
    this.#stop(reason, this.#hooks.callerAbort());
    this.#endBody();
  };

  /** Reads the upstream unless a read is under way, the stream has ended, or the read-ahead is full. */
  #pump(): void {
    if (this.#reading || this.#ended || this.#recovering || this.#queued >= READ_AHEAD_BYTES) return;
    this.#reading = true;
    this.#readingUpstream = this.#upstream;
    this.#reader.read().then(this.#onRead, this.#onReadError);
  }

  readonly #onRead = (result: Read) => {
    this.#reading = false;
    if (this.#ended || this.#stale()) return;
    if (result.done) {
      this.#truncated();
      return;
    }
    if (this.#settings.idle !== undefined) this.#movedAt = this.#hooks.clock.now();
    let recoverable: unknown;
    try {
      recoverable = this.#progress.take(result.value);
    } catch (error) {
      // Nothing awaits this read's promise: a failure here ends the stream rather than going unhandled.
      this.#stop(error);
      return;
    }
    if (recoverable !== undefined) {
      this.#reader.cancel().catch(noop);
      this.#recover('error_event', this.#kept(recoverable), (error) => this.#end(error));
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(result);
    else {
      this.#queue.push(result);
      this.#queued += result.value.byteLength;
    }
    if (this.#progress.terminal) this.#complete();
    else this.#pump();
  };

  readonly #onReadError = (cause: unknown) => {
    this.#reading = false;
    if (this.#ended || this.#stale()) return;
    // A recovered upstream that cannot go on faithfully (a resume that skips events) fails with its own error.
    if (isResilienceError(cause)) {
      this.#end(this.#kept(cause));
      return;
    }
    const error = this.#kept(this.#hooks.connectionError(`Connection lost mid-stream after ${this.#progress.chunks} chunk(s).`, cause));
    if (this.#hooks.recovery) this.#recover('reset', error, (lost) => this.#end(lost));
    else this.#end(error);
  };

  /**
   * A read of an upstream that a recovery has replaced: ignored (the new one is read once this read is over,
   * as only one read is under way at a time).
   */
  #stale(): boolean {
    if (this.#readingUpstream === this.#upstream) return false;
    this.#pump();
    return true;
  }

  /**
   * Asks `hooks.recovery` for an upstream that continues the stream after `failure` (`error`, what the caller
   * would get); the stream goes on from it, or ends with `giveUp(error)` when there is none.
   */
  #recover(failure: UpstreamFailure, error: unknown, giveUp: (error: unknown) => void): void {
    this.#recovering = true;
    this.#upstream++;
    const abort = (this.#recoveryAbort = new AbortController());
    const settled = () => {
      this.#recovering = false;
      this.#recoveryAbort = undefined;
    };
    this.#hooks.recovery!.recover(error, failure, abort.signal).then(
      (reader) => {
        settled();
        if (this.#ended) {
          reader?.cancel().catch(noop);
          return;
        }
        if (!reader) {
          giveUp(error);
          return;
        }
        // One event a read, as the first upstream's (see `alignEvents`): an `error` event held back is then
        // never read together with events the caller must still get.
        this.#reader = alignEvents(reader);
        this.#progress.recovered();
        if (this.#settings.idle !== undefined) this.#movedAt = this.#hooks.clock.now();
        this.#pump();
      },
      (rejection: unknown) => {
        settled();
        if (!this.#ended) this.#end(this.#kept(rejection));
      },
    );
  }

  /** The terminal event arrived: the rest of the upstream is not waited for. */
  #complete(): void {
    this.#reader.cancel().catch(noop);
    this.#end(undefined);
  }

  /** The upstream ended without its terminal event. */
  #truncated(): void {
    const { chunks } = this.#progress;
    const error = this.#kept(new StreamTruncatedError(chunks));
    const end = (cause: unknown) => {
      this.#hooks.onTruncated(this.#progress.chunks);
      // Ended quietly only when it was cut (a recovery's own error, such as a cancellation, is raised).
      this.#end(this.#settings.onTruncated === 'end' && cause === error ? undefined : cause);
    };
    if (this.#hooks.recovery) this.#recover('truncated', error, end);
    else end(error);
  }

  /** Arms the watch for `ms`; it re-arms itself for as long as things move. */
  #watch(ms: number): void {
    const { clock } = this.#hooks;
    this.#timer = clock.setTimeout(this.#onWatch, ms);
    unrefTimer(this.#timer);
  }

  readonly #onWatch = () => {
    this.#timer = undefined;
    if (this.#ended) return;
    const idle = this.#settings.idle!;
    const quiet = this.#hooks.clock.now() - this.#movedAt;
    if (quiet < idle || this.#recovering) {
      this.#watch(this.#recovering ? idle : idle - quiet);
      return;
    }
    const { chunks } = this.#progress;
    if (this.#waiters.length > 0) {
      const stalled = this.#kept(new StreamIdleTimeoutError(chunks, idle));
      const end = (error: unknown) => {
        this.#hooks.onStall(chunks);
        this.#stop(error);
      };
      if (this.#hooks.recovery) {
        this.#reader.cancel(stalled).catch(noop);
        this.#recover('stall', stalled, end);
        this.#watch(idle);
      } else end(stalled);
    } else {
      this.#hooks.onAbandoned(chunks, 'unread');
      this.#stop(this.#kept(new StreamAbandonedError(chunks, 'unread', idle)));
    }
  };

  /** Ends the upstream part with `error` and lets go of the upstream. */
  #stop(error: unknown, outcome: unknown = error): void {
    if (this.#ended) return;
    this.#end(error, outcome);
    this.#reader.cancel(error).catch(noop);
  }

  /**
   * Ends the upstream part once: the caller gets `error` (`undefined`: done) after what it has not read;
   * the bookkeeping gets `outcome`, or the error event read before it (what went wrong, even when the
   * SDK then aborts the request).
   */
  #end(error: unknown, outcome: unknown = error): void {
    if (this.#ended) return;
    this.#ended = true;
    // An error of ours reaches the caller built on the client's own SDK copy (the object stays the same).
    this.#endError = this.#hooks.onSdkCopy(error);
    if (this.#timer !== undefined) this.#hooks.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#recoveryAbort?.abort();
    this.#forget();
    // A listener left on a signal of `AbortSignal.any()` would keep that signal, and all it holds, alive.
    this.#signal.deref()?.removeEventListener('abort', this.#onAbort);
    this.#progress.release();
    // Reads waiting (the queue is empty) get the end now.
    if (this.#waiters.length > 0) this.#endBody();
    this.#hooks.onEnd(this.#progress.failure ?? outcome);
  }

  /** `error`, carrying what the stream delivered before it (`partialOutputOf`). */
  #kept<E>(error: E): E {
    this.#progress.keep(error);
    return error;
  }

  /** Drops what the caller had not read. */
  #drop(): void {
    this.#queue = [];
    this.#queued = 0;
  }

  /** A read of a body whose upstream part is over and whose chunks have all been read. */
  #readAfterEnd(): Promise<Read> {
    this.#endBody();
    return this.#endError === undefined ? Promise.resolve(DONE) : Promise.reject(this.#endError);
  }

  /** Closes (or errors) the body and settles the reads waiting; whoever reads it sees the same end. */
  #endBody(): void {
    if (this.#bodyEnded) return;
    this.#bodyEnded = true;
    const error = this.#endError;
    const body = this.#body?.deref();
    this.#body = undefined;
    if (body) this.#endController(body);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) {
      if (error === undefined) waiter.resolve(DONE);
      else waiter.reject(error);
    }
  }

  #endController(body: ReadableStreamDefaultController<Uint8Array>): void {
    try {
      if (this.#endError === undefined) body.close();
      else body.error(this.#endError);
    } catch {
      // already closed
    }
  }
}
