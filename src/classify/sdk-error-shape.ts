import { isBrokenCircuitError, isBulkheadRejectedError, isTaskCancelledError } from 'cockatiel';
import type { ErrorKind } from '../errors/error-kind.js';
import type { HeadersLike } from './retry-hint.js';

/**
 * What classification needs from an error, read by duck typing so that errors from a second copy of
 * the SDK (CJS next to ESM, issue openai-node#1512) or from an OpenAI-compatible provider classify the
 * same as our own copy's.
 */
export interface ErrorShape {
  status: number | undefined;
  code: string | undefined;
  type: string | undefined;
  /**
   * An HTTP status that a provider put in the error's `code` instead of a string (OpenRouter reports a
   * failure during generation as `{"error":{"code":502,...}}`, in a stream or in a 200's body).
   */
  codeStatus: number | undefined;
  message: string;
  headers: HeadersLike | undefined;
  /** Constructor names up the prototype chain, e.g. `['RateLimitError', 'APIError', 'OpenAIError', 'Error']`. */
  classNames: string[];
}

export function readErrorShape(error: unknown): ErrorShape {
  const record = (typeof error === 'object' && error !== null ? error : {}) as Record<string, any>;
  const body = typeof record['error'] === 'object' && record['error'] !== null ? record['error'] : {};
  return {
    status: typeof record['status'] === 'number' ? record['status'] : undefined,
    code: stringOrUndefined(record['code'] ?? body.code),
    type: stringOrUndefined(record['type'] ?? body.type),
    codeStatus: statusOrUndefined(record['code'] ?? body.code),
    message: typeof record['message'] === 'string' ? record['message'] : safeString(error),
    headers: typeof record['headers'] === 'object' && record['headers'] !== null ? record['headers'] : undefined,
    classNames: classNamesOf(error),
  };
}

/** `String(value)`, except for values that cannot be converted (`Object.create(null)`, a throwing `toString`). */
function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function statusOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 400 && value <= 599 ? value : undefined;
}

function classNamesOf(error: unknown): string[] {
  const names: string[] = [];
  for (let proto = error; typeof proto === 'object' && proto !== null; proto = Object.getPrototypeOf(proto)) {
    const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string' && names.at(-1) !== name) names.push(name);
    if (names.length > 8) break;
  }
  return names;
}

const CONNECTION_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH',
  'ENETUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED',
]);
const TIMEOUT_CODES = new Set([
  'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);

/** Kinds that do not depend on an HTTP status: aborts, transport failures and cockatiel's own errors. */
export function transportKind(error: unknown, shape: ErrorShape): ErrorKind | undefined {
  const names = shape.classNames;
  if (names.includes('APIUserAbortError') || (error as { name?: unknown })?.name === 'AbortError') return 'aborted';
  if (names.includes('APIConnectionTimeoutError') || isTaskCancelledError(error)) return 'timeout';
  if (isBrokenCircuitError(error)) return 'circuit_open';
  if (isBulkheadRejectedError(error)) return 'bulkhead_full';
  const causeCode = networkCode(error);
  if (causeCode && TIMEOUT_CODES.has(causeCode)) return 'timeout';
  if (names.includes('APIConnectionError')) return 'connection';
  if (causeCode && CONNECTION_CODES.has(causeCode)) return 'connection';
  // undici reports a reset mid-body as `TypeError: terminated` and a refused connect as `fetch failed`.
  if (error instanceof TypeError && /^(terminated|fetch failed|network error)/i.test(shape.message)) {
    return 'connection';
  }
  return undefined;
}

/** The `code` of the error or of anything in its `cause` chain. */
function networkCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (CONNECTION_CODES.has(code) || TIMEOUT_CODES.has(code))) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
