import { canonicalJson, sha256Hex } from '../core/fingerprint.js';

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

/** What a cache key is computed from, besides the scope. */
export interface CacheKeyRequest {
  readonly method: string;
  readonly path: string;
  readonly query: unknown;
  readonly body: unknown;
  readonly headers: unknown;
}

/**
 * The cache key of a request: a SHA-256 of the canonical form of `{ v: 1, ...request, scope }`. The
 * scope may come already in canonical form (it is the same for every call of a client view).
 */
export async function cacheKey(request: CacheKeyRequest, scope: CacheScope | { readonly canonical: string }): Promise<string> {
  const scopeJson = 'canonical' in scope ? scope.canonical : canonicalJson(scope);
  // The members in sorted order, as canonicalJson() would write them.
  const { body, headers, method, path, query } = request;
  const members = [['body', body], ['headers', headers], ['method', method], ['path', path], ['query', query]] as const;
  let json = '{';
  for (const [name, member] of members) if (member !== undefined) json += `"${name}":${canonicalJson(member)},`;
  return sha256Hex(`${json}"scope":${scopeJson},"v":1}`);
}
