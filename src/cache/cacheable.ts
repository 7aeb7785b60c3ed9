/** What a `cacheable(request)` rule sees. */
export interface CacheableRequest {
  readonly method: string;
  /** API path, e.g. `/chat/completions`. */
  readonly path: string;
  readonly model: string | undefined;
  readonly stream: boolean;
  readonly body: unknown;
}

const ALWAYS = new Set(['/embeddings', '/moderations']);
const GENERATION = new Set(['/chat/completions', '/completions', '/responses']);

/**
 * The default rule: cache only what gives the same answer twice.
 * - `POST /embeddings` and `/moderations`: always.
 * - `POST /chat/completions`, `/completions`, `/responses`: only when sampling is pinned
 *   (`temperature: 0`, or a `seed`), and not for `background` responses (their first answer is
 *   an unfinished job) or chat completions with `store: true` (storing is the point of the call).
 * - `GET /models` and `/models/{id}`.
 * Everything else (files, uploads, audio, images, batches, ...) is not cached.
 */
export function defaultCacheable(request: CacheableRequest): boolean {
  if (request.method === 'GET') return request.path === '/models' || request.path.startsWith('/models/');
  if (request.method !== 'POST') return false;
  const body = request.body as Record<string, unknown> | null | undefined;
  if (typeof body !== 'object' || body === null) return false;
  if (ALWAYS.has(request.path)) return true;
  if (!GENERATION.has(request.path)) return false;
  if (body['background'] === true) return false;
  if (request.path === '/chat/completions' && body['store'] === true) return false;
  return body['temperature'] === 0 || typeof body['seed'] === 'number';
}
