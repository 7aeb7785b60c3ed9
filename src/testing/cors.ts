/**
 * CORS for the fault server, so that a page in a browser (another origin, e.g. a test page served from
 * `http://127.0.0.1:<other port>`) can call it with the SDK's `dangerouslyAllowBrowser: true`.
 *
 * With `cors: true`, every response carries `Access-Control-Allow-Origin: *` and
 * `Access-Control-Expose-Headers: *` (so the SDK can read `x-request-id`, `retry-after(-ms)`,
 * `x-ratelimit-*` and `x-should-retry`), and a preflight (`OPTIONS` with `Access-Control-Request-Method`)
 * is answered at once with 204. A preflight is not a request of the API: it is not recorded in
 * `requests`, not counted in `stats()` and consumes no scripted fault.
 *
 * `Access-Control-Allow-Headers` echoes the browser's `Access-Control-Request-Headers` instead of `*`:
 * the wildcard never covers `Authorization`, which the SDK always sends.
 *
 * Only type imports from `node:*`: the module graph of `openai-resilient/testing` loads in browsers.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http';

/** The CORS option of `startFaultServer` (see {@link FaultServerOptions}). */
export interface CorsServerOptions {
  /**
   * Answer browsers' CORS preflights and allow every origin, so a page in a browser can call the
   * server. Preflights are not recorded and consume no scripted fault. @default false
   */
  cors?: boolean | undefined;
}

const ALLOW_METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';

/**
 * Adds the CORS headers to `res` (merged into the `writeHead` of whatever answers it later) and answers
 * a preflight. Returns `true` when it answered the request (a preflight: the caller must not handle it
 * further), `false` when the request goes on to the fault script as usual.
 */
export function handleCors(req: IncomingMessage, res: ServerResponse): boolean {
  res.setHeader('access-control-allow-origin', '*');
  res.setHeader('access-control-expose-headers', '*');
  const requestedMethod = req.headers['access-control-request-method'];
  if (req.method !== 'OPTIONS' || requestedMethod === undefined) return false;
  const headers: Record<string, string> = {
    'access-control-allow-methods': ALLOW_METHODS,
    'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '*',
    'access-control-max-age': '600',
    'content-length': '0',
  };
  // Chromium's Private Network Access asks this when a less private origin calls loopback.
  if (req.headers['access-control-request-private-network'] === 'true') {
    headers['access-control-allow-private-network'] = 'true';
  }
  req.resume(); // a preflight has no body; drain anything sent anyway
  res.writeHead(204, headers);
  res.end();
  return true;
}
