/** A header name as `Headers` accepts it (an HTTP token). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * The headers of a response answered from the cache: its stored pairs (lower-case names, as a `Headers`
 * lists them) and the header saying where it came from. `get()` and `has()`, all the SDK asks of a cache
 * hit, read the pairs as they are; anything else (iterating, `getSetCookie()`, changing them) first
 * builds them into this object's own `Headers` list and then behaves as any `Headers` does.
 *
 * Building a `Headers` checks every name and value again: for the 21 headers of an OpenAI answer that
 * costs about a fifth of a cache hit (`npm run bench cache`), spent on every hit, for headers that were
 * checked when the answer arrived and that a caller rarely reads. The pairs are the record's, shared by
 * every hit and never changed: a change goes to the hit's own list.
 */
export class ReplayedHeaders extends Headers {
  readonly #pairs: ReadonlyArray<readonly [string, string]>;
  readonly #extra: readonly [string, string];
  #built = false;

  /** `pairs`: as a `Headers` iterates them (lower-case names, one pair per value of `set-cookie`). */
  constructor(pairs: ReadonlyArray<readonly [string, string]>, extra: readonly [name: string, value: string]) {
    super();
    this.#pairs = pairs;
    this.#extra = extra;
  }

  override get(name: string): string | null {
    if (!this.#built && TOKEN.test(name)) {
      const key = name.toLowerCase();
      if (key === this.#extra[0]) return this.#extra[1];
      let value: string | null = null;
      for (const [stored, storedValue] of this.#pairs) {
        if (stored === key) value = value === null ? storedValue : `${value}, ${storedValue}`;
      }
      return value;
    }
    this.#build();
    return super.get(name);
  }

  override has(name: string): boolean {
    if (!this.#built && TOKEN.test(name)) {
      const key = name.toLowerCase();
      return key === this.#extra[0] || this.#pairs.some(([stored]) => stored === key);
    }
    this.#build();
    return super.has(name);
  }

  override append(name: string, value: string): void {
    this.#build();
    super.append(name, value);
  }

  override set(name: string, value: string): void {
    this.#build();
    super.set(name, value);
  }

  override delete(name: string): void {
    this.#build();
    super.delete(name);
  }

  override getSetCookie(): string[] {
    this.#build();
    return super.getSetCookie();
  }

  override forEach(callback: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    this.#build();
    super.forEach(callback, thisArg);
  }

  override entries(): HeadersIterator<[string, string]> {
    this.#build();
    return super.entries();
  }

  override keys(): HeadersIterator<string> {
    this.#build();
    return super.keys();
  }

  override values(): HeadersIterator<string> {
    this.#build();
    return super.values();
  }

  override [Symbol.iterator](): HeadersIterator<[string, string]> {
    this.#build();
    return super.entries();
  }

  /** As Node prints a `Headers` (its own printer reads the list, which must be built first). */
  [INSPECT](...args: unknown[]): unknown {
    this.#build();
    const inspect = (Headers.prototype as unknown as Record<symbol, ((...args: unknown[]) => unknown) | undefined>)[INSPECT];
    return inspect ? inspect.apply(this, args) : this;
  }

  /** Builds this object's own `Headers` list from the pairs, once. */
  #build(): void {
    if (this.#built) return;
    this.#built = true;
    for (const [name, value] of this.#pairs) super.append(name, value);
    super.set(this.#extra[0], this.#extra[1]);
  }
}
