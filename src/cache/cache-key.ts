/**
 * Canonical JSON: object keys in sorted order, `undefined` members dropped, so that logically identical
 * requests serialise identically. Throws on values that are not plain data (a Blob, FormData, a stream),
 * which makes such requests uncacheable.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') {
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) throw new NotPlainDataError();
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
    return `{${members.join(',')}}`;
  }
  if (value === undefined) return 'null';
  throw new NotPlainDataError();
}

export class NotPlainDataError extends Error {}

/** SHA-256 of `text` as hex, with WebCrypto (Node, browsers and edge runtimes alike). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** What scopes a cache entry: the endpoint and account it was made for, never the API key itself. */
export interface CacheScope {
  readonly baseURL: string;
  readonly organization: string | null | undefined;
  readonly project: string | null | undefined;
  /** SHA-256 of the API key (or of its absence). */
  readonly keyFingerprint: string;
  /** The client's default headers and query (Azure's `api-version`, `OpenAI-Beta` headers...). */
  readonly defaults: unknown;
  readonly tenant: string | undefined;
}

/** The cache key of a request: a SHA-256 of its canonical form and its scope. */
export async function cacheKey(
  request: { method: string; path: string; query: unknown; body: unknown; headers: unknown },
  scope: CacheScope,
): Promise<string> {
  return sha256Hex(canonicalJson({ v: 1, ...request, scope }));
}
