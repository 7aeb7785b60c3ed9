/** The next piece of a guarded body, as `ReadableStreamDefaultReader.read()` answers it. */
export type GuardedRead = () => Promise<ReadableStreamReadResult<Uint8Array>>;

/**
 * Gives the guarded body `stream` a `getReader()` and an async iterator (`for await`, `values()`) that
 * read through `read` (the stream guard's own next-chunk function) directly, instead of through the
 * stream's queue and pull. The SDK reads a stream's body one of these two ways (openai 7.57 with
 * `getReader()`, earlier versions with `for await`), and passing each chunk on through a second
 * `ReadableStream` cost about 25 µs of the ~180 µs `resilient()` added to a 50-chunk stream
 * (`npm run bench overhead`).
 *
 * The stream itself is unchanged and reads through `read` too, so everything else (`pipeTo`, `tee`,
 * `new Response(body)`) sees the same guarded bytes. Both take the stream's own lock, so that only one
 * reader reads at a time, as with any stream.
 */
export function readDirectly(stream: ReadableStream<Uint8Array>, read: GuardedRead): void {
  const getReader = stream.getReader;
  const getGuardedReader = (options?: { mode?: 'byob' }) => {
    // A `byob` reader is refused by the stream itself (it is not a byte stream), with its own error.
    if (options?.mode !== undefined) return getReader.call(stream, options as { mode: 'byob' });
    return new GuardedReader((getReader as () => ReadableStreamDefaultReader<Uint8Array>).call(stream), read);
  };
  const values = (options?: { preventCancel?: boolean }) => iterate(getGuardedReader() as GuardedReader, options?.preventCancel === true);
  for (const [key, value] of [['getReader', getGuardedReader], ['values', values], [Symbol.asyncIterator, values]] as const) {
    Object.defineProperty(stream, key, { configurable: true, writable: true, value });
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
