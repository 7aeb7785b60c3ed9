/**
 * The {@link ReceivedRequest} record of the fault server and the fault fetch, and path normalization.
 * Web-standard APIs only (used in browsers by the fault fetch).
 *
 * @module
 */

/** One request as received by the fault server (or the fault fetch). */
export interface ReceivedRequest {
  method: string;
  /** Normalized path (no query, no `/v1`, `/openai` or `/openai/deployments/<name>` prefix), e.g. `/chat/completions`. */
  path: string;
  /** Full path as received, including the query. */
  rawPath: string;
  query: Record<string, string>;
  /** Header values by lower-case name (repeated headers joined with `, `). */
  headers: Record<string, string>;
  /** Parsed JSON for JSON requests, else the raw string (`''` when empty); multipart is left as a string. */
  body: unknown;
  /** Server receive time, `Date.now()`. */
  receivedAt: number;
  /** Azure deployment name, for `/openai/deployments/<name>/...` paths. */
  deployment?: string;
  /** The `x-request-id` the server answers this request with (`req_<n>`, unless a fault overrides it). */
  requestId: string;
}

/** `decodeURIComponent` that returns the input unchanged on malformed escapes. */
export function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Splits a request path into the normalized route path and the Azure deployment, if any. */
export function normalizePath(rawPath: string): { path: string; deployment?: string } {
  const pathname = rawPath.split('?')[0] ?? '';
  const azure = /^\/openai\/deployments\/([^/]+)(\/.*)?$/.exec(pathname);
  if (azure) return { path: azure[2] ?? '/', deployment: safeDecode(azure[1]!) };
  for (const prefix of ['/v1', '/openai']) {
    if (pathname === prefix) return { path: '/' };
    if (pathname.startsWith(`${prefix}/`)) return { path: pathname.slice(prefix.length) };
  }
  return { path: pathname || '/' };
}

/** Whether a `requestsTo` / `enqueueFor` matcher selects the normalized `path`. */
export function matches(matcher: string | RegExp, path: string): boolean {
  if (typeof matcher === 'string') return normalizePath(matcher).path === path;
  matcher.lastIndex = 0;
  return matcher.test(path);
}

/** Whether two matchers are the same (so `enqueueFor` appends to one queue). */
export function sameMatcher(a: string | RegExp, b: string | RegExp): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a.source === b.source && a.flags === b.flags;
}

function parseBody(text: string, contentType: string | undefined): unknown {
  if (text === '' || !contentType?.includes('json')) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A request as seen by a transport (the node:http server or the fault fetch), body already read. */
export interface RawRequest {
  method: string;
  /** Path as received, including the query (e.g. `/v1/models?limit=2`). */
  rawPath: string;
  /** Header values by lower-case name (repeated headers joined with `, `). */
  headers: Record<string, string>;
  /** The body decoded as UTF-8 (`''` when there is none). */
  text: string;
}

/** Builds the {@link ReceivedRequest} record of a request whose body has been read. */
export function toReceived(raw: RawRequest, seq: number, receivedAt: number): ReceivedRequest {
  const { rawPath, headers } = raw;
  const { path, deployment } = normalizePath(rawPath);
  const search = rawPath.includes('?') ? rawPath.slice(rawPath.indexOf('?')) : '';
  const query = Object.fromEntries(new URLSearchParams(search));
  const received: ReceivedRequest = {
    method: raw.method,
    path,
    rawPath,
    query,
    headers,
    body: parseBody(raw.text, headers['content-type']),
    receivedAt,
    requestId: `req_${seq}`,
  };
  if (deployment !== undefined) received.deployment = deployment;
  return received;
}
