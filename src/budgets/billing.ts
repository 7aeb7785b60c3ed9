import { classify } from '../classify/classify.js';

/** Refusals by this library's own policies: the attempt was never sent. */
const LOCAL_REFUSALS: ReadonlySet<string> = new Set(['circuit_open', 'bulkhead_full', 'bulkhead_timeout', 'load_shed', 'rate_limit_timeout', 'budget_exceeded']);

/** Connection failures that say the request never reached the server. */
const NOT_CONNECTED: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * Whether a failed attempt may have been billed, so that its budget reservation is kept rather than given
 * back. Not billed: an HTTP error answer (a 4xx, a 429, a 5xx: refused before any generation), a
 * connection that was never made (refused, unknown host), a refusal by this library's own policies.
 * Everything else may have been (a timeout after sending, a connection lost after it, a stream that had
 * started and failed, a call the caller aborted once sent): kept, to err on the side of the limit.
 */
export function mayHaveBeenBilled(error: unknown, started: boolean): boolean {
  if (started) return true;
  const { kind, status } = classify(error);
  if (status !== undefined && status >= 400) return false;
  if (LOCAL_REFUSALS.has(kind)) return false;
  if (kind === 'connection' && neverConnected(error)) return false;
  return true;
}

/** An error (or one of its causes) with a code that says no connection was made. */
function neverConnected(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_CONNECTED.has(code)) return true;
    const errors = (current as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.some((inner) => neverConnected(inner))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
