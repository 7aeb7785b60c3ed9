import { isResilienceError } from '../errors/resilience-error.js';
import { DEFAULT_ACTIONS, NEVER_RETRIED, type ErrorKind, type RecoveryAction } from '../errors/error-kind.js';
import { headerValue, readRetryHint, type RetryHint } from './retry-hint.js';
import { readErrorShape, transportKind, type ErrorShape } from './sdk-error-shape.js';

/** The result of {@link classify}. */
export interface Classification {
  /** What went wrong. */
  readonly kind: ErrorKind;
  /** What the retry policy does about it, after `x-should-retry` and your `actions` overrides. */
  readonly action: RecoveryAction;
  /** HTTP status, when the server answered. */
  readonly status?: number | undefined;
  /** OpenAI's error `code` (`rate_limit_exceeded`, `insufficient_quota`, `context_length_exceeded` ...). */
  readonly code?: string | undefined;
  /** When the server said to try again (`retry-after-ms`, `retry-after`, `x-ratelimit-reset-*`). */
  readonly hint?: RetryHint | undefined;
}

export interface ClassifyOptions {
  /** Overrides of the default action per kind. `aborted`, `deadline_exceeded` and `budget_exceeded` are never retried. */
  readonly actions?: Partial<Record<ErrorKind, RecoveryAction>> | undefined;
  /** The current time, for `retry-after` HTTP dates. @default Date.now() */
  readonly now?: number | undefined;
}

/**
 * Turns any thrown value into a {@link Classification}: what kind of failure it is and what to do about
 * it. Pure apart from reading the clock for HTTP-date hints. Works on errors from any copy of the
 * `openai` SDK (it reads `status`, `code`, `type`, headers and class names, not `instanceof`).
 *
 * @example
 * ```ts
 * try { await ai.chat.completions.create(params) }
 * catch (error) { if (classify(error).kind === 'quota_exhausted') alertBilling() }
 * ```
 */
export function classify(error: unknown, options: ClassifyOptions = {}): Classification {
  const shape = readErrorShape(error);
  const kind = kindOf(error, shape);
  const serverSays = headerValue(shape.headers, 'x-should-retry');
  let action = options.actions?.[kind] ?? DEFAULT_ACTIONS[kind];
  if (serverSays === 'true') action = 'retry';
  if (serverSays === 'false') action = 'fail';
  if (NEVER_RETRIED.has(kind)) action = 'fail';

  const hint = readRetryHint(shape.headers, {
    now: options.now ?? Date.now(),
    rateLimitType: kind === 'rate_limited' ? (shape.type ?? '') : undefined,
  });
  return { kind, action, status: shape.status, code: shape.code, hint };
}

function kindOf(error: unknown, shape: ErrorShape): ErrorKind {
  if (isResilienceError(error)) return error.kind;
  const fromTransport = transportKind(error, shape);
  if (fromTransport) return fromTransport;
  if (shape.status !== undefined) return kindOfStatus(shape);
  // Errors sent inside a stream (`data: {"error": ...}`) carry no status: read their code and type, or
  // the HTTP status a provider gave as their code (OpenRouter: `"code": 502`).
  if (shape.codeStatus !== undefined) return kindOfStatus({ ...shape, status: shape.codeStatus });
  return kindOfCode(shape) ?? 'unknown';
}

const CONTEXT_LENGTH_MESSAGE = /maximum context length|context[_ ]length[_ ]exceeded|context window/i;

function kindOfStatus(shape: ErrorShape): ErrorKind {
  const { status = 0 } = shape;
  switch (status) {
    case 400:
      return isContextLength(shape) ? 'context_length_exceeded' : 'bad_request';
    case 401:
      return 'authentication';
    case 402:
      return 'quota_exhausted';
    case 403:
      return 'permission_denied';
    case 404:
      return 'not_found';
    case 408:
      return 'request_timeout';
    case 409:
      return 'conflict';
    case 413:
      return isContextLength(shape) ? 'context_length_exceeded' : 'bad_request';
    case 422:
      return 'unprocessable';
    case 429:
      return isQuota(shape) ? 'quota_exhausted' : isResourceUnavailable(shape) ? 'resource_unavailable' : 'rate_limited';
    case 503:
    case 529:
      return 'overloaded';
  }
  if (status >= 500) return 'server_error';
  if (status >= 400) return 'bad_request';
  return 'unknown';
}

function kindOfCode(shape: ErrorShape): ErrorKind | undefined {
  const code = shape.code ?? shape.type;
  if (code === 'rate_limit_exceeded') return 'rate_limited';
  if (code === 'insufficient_quota') return 'quota_exhausted';
  if (code === 'resource_unavailable') return 'resource_unavailable';
  if (code === 'context_length_exceeded') return 'context_length_exceeded';
  if (code === 'server_error' || code === 'internal_error') return 'server_error';
  if (code === 'overloaded_error' || code === 'service_unavailable') return 'overloaded';
  return undefined;
}

function isQuota(shape: ErrorShape): boolean {
  return (
    shape.code === 'insufficient_quota' ||
    shape.type === 'insufficient_quota' ||
    /exceeded your current quota/i.test(shape.message)
  );
}

const RESOURCE_UNAVAILABLE_MESSAGE = /resource[_ ]unavailable/i;

/**
 * A 429 that says capacity for the request's tier is unavailable (OpenAI's flex processing: "429 Resource
 * Unavailable", not charged), not that the caller went over a rate limit: read from its code or message.
 */
function isResourceUnavailable(shape: ErrorShape): boolean {
  return shape.code === 'resource_unavailable' || shape.type === 'resource_unavailable' || RESOURCE_UNAVAILABLE_MESSAGE.test(shape.message);
}

function isContextLength(shape: ErrorShape): boolean {
  return shape.code === 'context_length_exceeded' || CONTEXT_LENGTH_MESSAGE.test(shape.message);
}
