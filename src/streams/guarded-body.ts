/** The next piece of a guarded body, as `ReadableStreamDefaultReader.read()` answers it. */
export type GuardedRead = () => Promise<ReadableStreamReadResult<Uint8Array>>;

/** How a guarded body is told it started, and was cancelled. */
export interface GuardedBodySource {
  /** `controller` is the body's own: the guard closes or errors the body through it when it ends. */
  readonly start: (controller: ReadableStreamDefaultController<Uint8Array>) => void;
  readonly cancel: (reason: unknown) => Promise<void>;
}

/**
 * The body of a guarded stream: a `ReadableStream` whose every read goes through `read` (the stream
 * guard's own next-chunk function). Its `getReader()` and async iterator (`for await`, `values()`) call
 * `read` directly instead of going through the stream's queue and pull: the SDK reads a stream's body one
 * of these two ways (openai 7.57 with `getReader()`, earlier versions with `for await`), and passing each
 * chunk on through a second queue cost 25–40 µs of the ~180 µs `resilient()` added to a 50-chunk stream
 * (`npm run bench overhead`).
 *
 * What reads the stream without those (`pipeTo`, `tee`) goes through its own pull, which calls `read` too,
 * so every way of reading sees the same guarded bytes. Its high-water mark is 0: the stream
 * pulls only for a read, never ahead of one, so that no chunk waits in its queue while a direct reader
 * reads. Readers and iterators take the stream's own lock, so that only one reads at a time.
 */
export class GuardedBody extends ReadableStream<Uint8Array> {
  readonly #read: GuardedRead;

  constructor(read: GuardedRead, source: GuardedBodySource) {
    super(
      {
        start: source.start,
        // The guard closes or errors the body itself when it ends (see `GuardedBodySource.start`).
        pull: (controller) =>
          read().then(
            (result) => {
              if (!result.done) controller.enqueue(result.value);
            },
            () => undefined,
          ),
        cancel: source.cancel,
      },
      { highWaterMark: 0 },
    );
    this.#read = read;
  }

  override getReader(): ReadableStreamDefaultReader<Uint8Array>;
  override getReader(options: { mode: 'byob' }): ReadableStreamBYOBReader;
  override getReader(options?: { mode?: 'byob' }): ReadableStreamReader<Uint8Array> {
    // A `byob` reader is refused by the stream itself (it is not a byte stream), with its own error.
    if (options?.mode !== undefined) return super.getReader(options as { mode: 'byob' });
    return new GuardedReader(super.getReader(), this.#read);
  }

  // Not in TypeScript's DOM types, but on every runtime's `ReadableStream` (Node, browsers, Deno, Bun).
  values(options?: { preventCancel?: boolean }): AsyncIterableIterator<Uint8Array> {
    return iterate(this.getReader() as GuardedReader, options?.preventCancel === true);
  }

  [Symbol.asyncIterator](options?: { preventCancel?: boolean }): AsyncIterableIterator<Uint8Array> {
    return this.values(options);
  }
}

/**
 * What a stream's own async iterator does, over `reader`: the lock is released when the stream ends or
 * fails, and leaving the loop early (`break`, `return()`) cancels the stream unless `preventCancel`.
 */
function iterate(reader: GuardedReader, preventCancel: boolean): AsyncIterableIterator<Uint8Array> {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    reader.releaseLock();
  };
  return {
    next: () =>
      released
        ? Promise.resolve({ done: true, value: undefined })
        : reader.read().then(
          (result) => {
            if (result.done) release();
            return result;
          },
          (error: unknown) => {
            release();
            throw error;
          },
        ),
    return: async (value?: unknown) => {
      if (!released) {
        const cancelled = preventCancel ? undefined : reader.cancel(value);
        release();
        await cancelled;
      }
      return { done: true, value };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** A default reader of a guarded body: the stream's own reader holds the lock, `read` answers the reads. */
class GuardedReader implements ReadableStreamDefaultReader<Uint8Array> {
  readonly #lock: ReadableStreamDefaultReader<Uint8Array>;
  readonly #read: GuardedRead;
  #released = false;

  constructor(lock: ReadableStreamDefaultReader<Uint8Array>, read: GuardedRead) {
    this.#lock = lock;
    this.#read = read;
  }

  /** Settles when the body ends, as the stream's own reader's does (the guard closes or errors the stream). */
  get closed(): Promise<undefined> {
    return this.#lock.closed as Promise<undefined>;
  }

  read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    if (this.#released) return Promise.reject(new TypeError('Invalid state: the reader has been released.'));
    return this.#read();
  }

  cancel(reason?: unknown): Promise<void> {
    return this.#lock.cancel(reason);
  }

  releaseLock(): void {
    this.#released = true;
    this.#lock.releaseLock();
  }
}
