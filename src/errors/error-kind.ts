/**
 * What went wrong, independent of which SDK copy or provider raised it. Upstream kinds come from the
 * HTTP status, the error `code` and headers; library kinds come from this library's own errors.
 */
export type UpstreamErrorKind =
  | 'rate_limited'
  | 'resource_unavailable'
  | 'quota_exhausted'
  | 'server_error'
  | 'overloaded'
  | 'timeout'
  | 'connection'
  | 'conflict'
  | 'request_timeout'
  | 'context_length_exceeded'
  | 'bad_request'
  | 'unprocessable'
  | 'authentication'
  | 'permission_denied'
  | 'not_found'
  | 'malformed_response';

/** Failures that this library (or a cockatiel policy you composed in) originates. */
export type LibraryErrorKind =
  | 'deadline_exceeded'
  | 'circuit_open'
  | 'bulkhead_full'
  | 'bulkhead_timeout'
  | 'load_shed'
  | 'rate_limit_timeout'
  | 'budget_exceeded';

export type ErrorKind = UpstreamErrorKind | LibraryErrorKind | 'aborted' | 'unknown';

/**
 * What the retry policy does with a failed attempt of that kind.
 * - `retry`: try again after a wait (the server's hint when it gave one, otherwise backoff).
 * - `fail`: give up at once and hand the error to the caller.
 */
export type RecoveryAction = 'retry' | 'fail';

/** The default error-to-action table (README "Errors and what happens next"). */
export const DEFAULT_ACTIONS: Readonly<Record<ErrorKind, RecoveryAction>> = Object.freeze({
  rate_limited: 'retry',
  resource_unavailable: 'retry',
  quota_exhausted: 'fail',
  server_error: 'retry',
  overloaded: 'retry',
  timeout: 'retry',
  connection: 'retry',
  conflict: 'retry',
  request_timeout: 'retry',
  malformed_response: 'retry',
  context_length_exceeded: 'fail',
  bad_request: 'fail',
  unprocessable: 'fail',
  authentication: 'fail',
  permission_denied: 'fail',
  not_found: 'fail',
  deadline_exceeded: 'fail',
  circuit_open: 'fail',
  bulkhead_full: 'fail',
  bulkhead_timeout: 'fail',
  load_shed: 'fail',
  rate_limit_timeout: 'fail',
  budget_exceeded: 'fail',
  aborted: 'fail',
  unknown: 'fail',
});

/** Every kind, in table order. */
export const ERROR_KINDS = Object.freeze(Object.keys(DEFAULT_ACTIONS) as ErrorKind[]);

/**
 * Kinds that may never be set to `retry`: retrying them cannot help or would ignore the caller (a budget
 * refuses until its window moves on, and a retry would only spend what the budget is there to keep).
 */
export const NEVER_RETRIED: ReadonlySet<ErrorKind> = new Set<ErrorKind>(['aborted', 'deadline_exceeded', 'budget_exceeded']);
