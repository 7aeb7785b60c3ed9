import { BrokenCircuitError, BulkheadRejectedError, TaskCancelledError } from 'cockatiel';
import OpenAI, { type APIError as SdkAPIError } from 'openai';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ACTIONS,
  DeadlineExceededError,
  ERROR_KINDS,
  MalformedResponseError,
  classify,
  type ErrorKind,
  type RecoveryAction,
} from '../../src/index.js';

/** A real SDK error, built the way the SDK builds one from a response. */
function apiError(
  status: number,
  fields: { message?: string; type?: string | null; code?: string | null; param?: string | null } = {},
  headers: Record<string, string> = {},
): SdkAPIError {
  const message = fields.message ?? `status ${status}`;
  return OpenAI.APIError.generate(
    status,
    { error: { message, type: fields.type ?? null, code: fields.code ?? null, param: fields.param ?? null } },
    message,
    new Headers(headers),
  );
}

function causedBy(code: string, message = 'fetch failed'): TypeError {
  return Object.assign(new TypeError(message), { cause: Object.assign(new Error('x'), { code }) });
}

interface Row {
  name: string;
  error: () => unknown;
  kind: ErrorKind;
  action: RecoveryAction;
}

const rows: Row[] = [
  { name: '429 rate_limit_exceeded', error: () => apiError(429, { code: 'rate_limit_exceeded', type: 'requests' }), kind: 'rate_limited', action: 'retry' },
  { name: '429 insufficient_quota (code)', error: () => apiError(429, { code: 'insufficient_quota' }), kind: 'quota_exhausted', action: 'fail' },
  { name: '429 insufficient_quota (type)', error: () => apiError(429, { type: 'insufficient_quota' }), kind: 'quota_exhausted', action: 'fail' },
  { name: '429 insufficient_quota (message only)', error: () => apiError(429, { message: 'You exceeded your current quota, please check your plan and billing details.' }), kind: 'quota_exhausted', action: 'fail' },
  { name: '429 Resource Unavailable (flex, message only)', error: () => apiError(429, { message: 'Resource Unavailable' }), kind: 'resource_unavailable', action: 'retry' },
  { name: '429 resource_unavailable (code)', error: () => apiError(429, { code: 'resource_unavailable', message: 'try later' }), kind: 'resource_unavailable', action: 'retry' },
  { name: '500', error: () => apiError(500, { type: 'server_error' }), kind: 'server_error', action: 'retry' },
  { name: '502', error: () => apiError(502), kind: 'server_error', action: 'retry' },
  { name: '504', error: () => apiError(504), kind: 'server_error', action: 'retry' },
  { name: '503', error: () => apiError(503, { message: 'The engine is currently overloaded, please try again later.' }), kind: 'overloaded', action: 'retry' },
  { name: '529', error: () => apiError(529), kind: 'overloaded', action: 'retry' },
  { name: '408', error: () => apiError(408), kind: 'request_timeout', action: 'retry' },
  { name: '409', error: () => apiError(409), kind: 'conflict', action: 'retry' },
  { name: '400', error: () => apiError(400, { type: 'invalid_request_error', message: "Invalid value for 'messages'." }), kind: 'bad_request', action: 'fail' },
  { name: '400 context_length_exceeded (code)', error: () => apiError(400, { code: 'context_length_exceeded', param: 'messages', message: 'Too long.' }), kind: 'context_length_exceeded', action: 'fail' },
  { name: '400 context length (message only)', error: () => apiError(400, { message: "This model's maximum context length is 8192 tokens" }), kind: 'context_length_exceeded', action: 'fail' },
  { name: '401', error: () => apiError(401, { code: 'invalid_api_key' }), kind: 'authentication', action: 'fail' },
  { name: '402', error: () => apiError(402), kind: 'quota_exhausted', action: 'fail' },
  { name: '403', error: () => apiError(403), kind: 'permission_denied', action: 'fail' },
  { name: '404', error: () => apiError(404, { code: 'model_not_found' }), kind: 'not_found', action: 'fail' },
  { name: '422', error: () => apiError(422), kind: 'unprocessable', action: 'fail' },
  { name: '418', error: () => apiError(418), kind: 'bad_request', action: 'fail' },
  { name: 'APIConnectionError', error: () => new OpenAI.APIConnectionError({ message: 'Connection error.' }), kind: 'connection', action: 'retry' },
  { name: 'APIConnectionTimeoutError', error: () => new OpenAI.APIConnectionTimeoutError(), kind: 'timeout', action: 'retry' },
  { name: 'APIUserAbortError', error: () => new OpenAI.APIUserAbortError(), kind: 'aborted', action: 'fail' },
  { name: 'DOMException AbortError', error: () => new DOMException('This operation was aborted', 'AbortError'), kind: 'aborted', action: 'fail' },
  { name: "undici 'terminated'", error: () => new TypeError('terminated'), kind: 'connection', action: 'retry' },
  { name: "'fetch failed' caused by ECONNREFUSED", error: () => causedBy('ECONNREFUSED'), kind: 'connection', action: 'retry' },
  { name: 'cause code UND_ERR_HEADERS_TIMEOUT', error: () => causedBy('UND_ERR_HEADERS_TIMEOUT'), kind: 'timeout', action: 'retry' },
  { name: 'APIConnectionError caused by UND_ERR_HEADERS_TIMEOUT', error: () => new OpenAI.APIConnectionError({ cause: causedBy('UND_ERR_HEADERS_TIMEOUT') }), kind: 'timeout', action: 'retry' },
  { name: "cockatiel's TaskCancelledError", error: () => new TaskCancelledError('timed out'), kind: 'timeout', action: 'retry' },
  { name: "cockatiel's BrokenCircuitError", error: () => new BrokenCircuitError(), kind: 'circuit_open', action: 'fail' },
  { name: "cockatiel's BulkheadRejectedError", error: () => new BulkheadRejectedError(2, 0), kind: 'bulkhead_full', action: 'fail' },
  { name: 'DeadlineExceededError', error: () => new DeadlineExceededError(1000, 2), kind: 'deadline_exceeded', action: 'fail' },
  { name: 'MalformedResponseError', error: () => new MalformedResponseError('HTML under application/json', new Response('<html>', { status: 200 })), kind: 'malformed_response', action: 'retry' },
  { name: 'a plain Error', error: () => new Error('x'), kind: 'unknown', action: 'fail' },
  { name: 'a string', error: () => 'x', kind: 'unknown', action: 'fail' },
  { name: 'undefined', error: () => undefined, kind: 'unknown', action: 'fail' },
  { name: 'null', error: () => null, kind: 'unknown', action: 'fail' },
  { name: 'an object without a prototype', error: () => Object.create(null), kind: 'unknown', action: 'fail' },
  { name: 'mid-stream SSE error (no status, code server_error)', error: () => new OpenAI.APIError(undefined, { code: 'server_error', message: 'x' }, 'x', undefined), kind: 'server_error', action: 'retry' },
  { name: "OpenRouter's in-band error (no status, code 502)", error: () => new OpenAI.APIError(undefined, { code: 502, message: 'Provider returned error' }, 'x', undefined), kind: 'server_error', action: 'retry' },
  { name: "OpenRouter's in-band error (no status, code 429)", error: () => new OpenAI.APIError(undefined, { code: 429, message: 'Rate limit exceeded' }, 'x', undefined), kind: 'rate_limited', action: 'retry' },
  { name: "OpenRouter's in-band error (no status, code 402)", error: () => new OpenAI.APIError(undefined, { code: 402, message: 'Insufficient credits' }, 'x', undefined), kind: 'quota_exhausted', action: 'fail' },
  { name: 'a numeric code that is not an HTTP error status', error: () => new OpenAI.APIError(undefined, { code: 7, message: 'x' }, 'x', undefined), kind: 'unknown', action: 'fail' },
];

describe('classify(): the error table', () => {
  it.each(rows)('$name → $kind / $action', ({ error, kind, action }) => {
    expect(classify(error())).toMatchObject({ kind, action });
  });

  it('classifies the real SDK classes it is given (sanity check of the fixtures)', () => {
    expect(apiError(429)).toBeInstanceOf(OpenAI.RateLimitError);
    expect(apiError(400)).toBeInstanceOf(OpenAI.BadRequestError);
    expect(apiError(503)).toBeInstanceOf(OpenAI.InternalServerError);
  });

  it('returns the status and the OpenAI error code', () => {
    expect(classify(apiError(429, { code: 'rate_limit_exceeded', type: 'tokens' }))).toMatchObject({
      status: 429,
      code: 'rate_limit_exceeded',
    });
    expect(classify(apiError(400, { code: 'context_length_exceeded' }))).toMatchObject({ status: 400, code: 'context_length_exceeded' });
    const connection = classify(new OpenAI.APIConnectionError({ message: 'x' }));
    expect(connection.status).toBeUndefined();
    expect(connection.code).toBeUndefined();
  });

  it('reads status-less stream errors by their type when they have no code', () => {
    expect(classify(new OpenAI.APIError(undefined, { type: 'overloaded_error', message: 'x' }, 'x', undefined)).kind).toBe('overloaded');
    expect(classify(new OpenAI.APIError(undefined, { code: 'rate_limit_exceeded', message: 'x' }, 'x', undefined)).kind).toBe('rate_limited');
    expect(classify(new OpenAI.APIError(undefined, { code: 'something_else', message: 'x' }, 'x', undefined)).kind).toBe('unknown');
  });
});

describe('classify(): errors from another copy of the SDK (duck typing)', () => {
  it('classifies a plain object with status, error body and record headers', () => {
    const error = { status: 429, error: { code: 'insufficient_quota' }, headers: { 'retry-after': '2' }, message: 'x' };
    expect(classify(error)).toMatchObject({
      kind: 'quota_exhausted',
      action: 'fail',
      status: 429,
      code: 'insufficient_quota',
      hint: { delay: 2000, source: 'retry-after' },
    });
  });

  it('classifies a foreign RateLimitError class and reads its hint from plain-record headers', () => {
    class APIError extends Error {
      status = 429;
      code: string | undefined;
      type: string | undefined;
      headers: Record<string, string>;
      constructor(message: string, code: string, type: string, headers: Record<string, string>) {
        super(message);
        this.code = code;
        this.type = type;
        this.headers = headers;
      }
    }
    class RateLimitError extends APIError {}
    const error = new RateLimitError('Rate limit reached', 'rate_limit_exceeded', 'tokens', {
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': '1.5s',
      'x-ratelimit-reset-requests': '20ms',
    });
    expect(error).not.toBeInstanceOf(OpenAI.APIError);
    expect(classify(error)).toMatchObject({
      kind: 'rate_limited',
      action: 'retry',
      status: 429,
      code: 'rate_limit_exceeded',
      hint: { delay: 1500, source: 'x-ratelimit-reset-tokens' },
    });
  });

  it('reads plain-record headers whatever the case of their names', () => {
    const error = { status: 503, headers: { 'Retry-After': '3' }, message: 'x' };
    expect(classify(error).hint).toEqual({ delay: 3000, source: 'retry-after' });
  });
});

describe('classify(): x-should-retry and action overrides', () => {
  it('x-should-retry: true turns a 400 into retry', () => {
    expect(classify(apiError(400))).toMatchObject({ kind: 'bad_request', action: 'fail' });
    expect(classify(apiError(400, {}, { 'x-should-retry': 'true' }))).toMatchObject({ kind: 'bad_request', action: 'retry' });
  });

  it('x-should-retry: false turns a 500 into fail', () => {
    expect(classify(apiError(500, {}, { 'x-should-retry': 'false' }))).toMatchObject({ kind: 'server_error', action: 'fail' });
  });

  it('x-should-retry wins over an `actions` override', () => {
    expect(classify(apiError(500, {}, { 'x-should-retry': 'false' }), { actions: { server_error: 'retry' } }).action).toBe('fail');
    expect(classify(apiError(400, {}, { 'x-should-retry': 'true' }), { actions: { bad_request: 'fail' } }).action).toBe('retry');
  });

  it('`actions` overrides the default action of a kind, and only of that kind', () => {
    const actions = { quota_exhausted: 'retry', server_error: 'fail' } as const;
    expect(classify(apiError(429, { code: 'insufficient_quota' }), { actions }).action).toBe('retry');
    expect(classify(apiError(500), { actions }).action).toBe('fail');
    expect(classify(apiError(400), { actions }).action).toBe('fail');
    expect(classify(apiError(429, { code: 'rate_limit_exceeded' }), { actions }).action).toBe('retry');
  });

  it('aborted and deadline_exceeded stay fail, whatever the overrides or the server say', () => {
    const actions = { aborted: 'retry', deadline_exceeded: 'retry' } as const;
    expect(classify(new OpenAI.APIUserAbortError(), { actions }).action).toBe('fail');
    expect(classify(new DOMException('aborted', 'AbortError'), { actions }).action).toBe('fail');
    expect(classify(new DeadlineExceededError(1000, 1), { actions }).action).toBe('fail');

    const abortWithHeader = Object.assign(new DOMException('aborted', 'AbortError'), {
      headers: new Headers({ 'x-should-retry': 'true' }),
    });
    expect(classify(abortWithHeader)).toMatchObject({ kind: 'aborted', action: 'fail' });
    const deadlineWithHeader = Object.assign(new DeadlineExceededError(1000, 1), {
      headers: { 'x-should-retry': 'true' },
    });
    expect(classify(deadlineWithHeader)).toMatchObject({ kind: 'deadline_exceeded', action: 'fail' });
  });
});

describe('classify(): retry hints', () => {
  const now = 1_700_000_000_000;

  it('reads retry-after-ms, fractional values included', () => {
    expect(classify(apiError(429, { code: 'rate_limit_exceeded' }, { 'retry-after-ms': '1234.5' })).hint).toEqual({
      delay: 1234.5,
      source: 'retry-after-ms',
    });
  });

  it('prefers retry-after-ms over retry-after', () => {
    const hint = classify(apiError(429, {}, { 'retry-after-ms': '300', 'retry-after': '30' })).hint;
    expect(hint).toEqual({ delay: 300, source: 'retry-after-ms' });
  });

  it('reads retry-after in seconds', () => {
    expect(classify(apiError(503, {}, { 'retry-after': '7' })).hint).toEqual({ delay: 7000, source: 'retry-after' });
  });

  it('reads retry-after as an HTTP date relative to the `now` option', () => {
    const headers = { 'retry-after': new Date(now + 9000).toUTCString() };
    expect(classify(apiError(429, {}, headers), { now }).hint).toEqual({ delay: 9000, source: 'retry-after' });
    expect(classify(apiError(429, {}, headers), { now: now + 4000 }).hint).toEqual({ delay: 5000, source: 'retry-after' });
    // A date in the past means "now", never a negative wait.
    expect(classify(apiError(429, {}, headers), { now: now + 60_000 }).hint).toEqual({ delay: 0, source: 'retry-after' });
  });

  it('picks x-ratelimit-reset-tokens for an error of type tokens', () => {
    const headers = { 'x-ratelimit-reset-requests': '1.5s', 'x-ratelimit-reset-tokens': '6m0s' };
    expect(classify(apiError(429, { code: 'rate_limit_exceeded', type: 'tokens' }, headers)).hint).toEqual({
      delay: 360_000,
      source: 'x-ratelimit-reset-tokens',
    });
    expect(classify(apiError(429, { code: 'rate_limit_exceeded', type: 'requests' }, headers)).hint).toEqual({
      delay: 1500,
      source: 'x-ratelimit-reset-requests',
    });
  });

  it('picks the exhausted limit (x-ratelimit-remaining-*: 0) when the type is unknown', () => {
    const base = { 'x-ratelimit-reset-requests': '2s', 'x-ratelimit-reset-tokens': '45s' };
    const requestsGone = { ...base, 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-remaining-tokens': '29000' };
    expect(classify(apiError(429, { code: 'rate_limit_exceeded' }, requestsGone)).hint).toEqual({
      delay: 2000,
      source: 'x-ratelimit-reset-requests',
    });
    const tokensGone = { ...base, 'x-ratelimit-remaining-requests': '2', 'x-ratelimit-remaining-tokens': '0' };
    expect(classify(apiError(429, { code: 'rate_limit_exceeded' }, tokensGone)).hint).toEqual({
      delay: 45_000,
      source: 'x-ratelimit-reset-tokens',
    });
  });

  it('ignores x-ratelimit-reset-* for kinds other than rate_limited', () => {
    const headers = { 'x-ratelimit-reset-requests': '2s', 'x-ratelimit-remaining-requests': '0' };
    expect(classify(apiError(500, {}, headers)).hint).toBeUndefined();
    expect(classify(apiError(429, { code: 'insufficient_quota' }, headers)).hint).toBeUndefined();
    expect(classify(apiError(429, { code: 'rate_limit_exceeded' }, headers)).hint).toEqual({
      delay: 2000,
      source: 'x-ratelimit-reset-requests',
    });
  });

  it('has no hint when the server gave none', () => {
    expect(classify(apiError(500)).hint).toBeUndefined();
    expect(classify(new OpenAI.APIConnectionError({ message: 'x' })).hint).toBeUndefined();
  });
});

describe('DEFAULT_ACTIONS and ERROR_KINDS', () => {
  it('give every kind exactly one valid action', () => {
    expect(new Set(ERROR_KINDS).size).toBe(ERROR_KINDS.length);
    expect([...ERROR_KINDS].sort()).toEqual(Object.keys(DEFAULT_ACTIONS).sort());
    for (const kind of ERROR_KINDS) expect(['retry', 'fail']).toContain(DEFAULT_ACTIONS[kind]);
  });

  it('cover every kind classify() returns in the table above', () => {
    for (const row of rows) {
      expect(ERROR_KINDS).toContain(row.kind);
      expect(classify(row.error()).action).toBe(DEFAULT_ACTIONS[row.kind]);
    }
  });

  it('are frozen', () => {
    expect(Object.isFrozen(DEFAULT_ACTIONS)).toBe(true);
    expect(Object.isFrozen(ERROR_KINDS)).toBe(true);
  });

  it('keep the never-retried kinds at fail', () => {
    expect(DEFAULT_ACTIONS.aborted).toBe('fail');
    expect(DEFAULT_ACTIONS.deadline_exceeded).toBe('fail');
  });
});
