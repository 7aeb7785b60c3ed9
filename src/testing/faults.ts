/**
 * The {@link faults} builders: realistic OpenAI failures (bodies, codes and headers copied from the
 * real API) in the {@link Fault} script language of the fault server.
 *
 * @module
 */

import type {
  DelayFault,
  ErrorFault,
  ErrorOverrides,
  Fault,
  OkFault,
  PartialBodyFault,
  RateLimitOptions,
  ResetFault,
  StallFault,
  StreamFault,
  StreamOptions,
} from './fault-types.js';

export type {
  BackgroundOptions,
  DelayFault,
  ErrorFault,
  ErrorOverrides,
  Fault,
  OkFault,
  PartialBodyFault,
  RateLimitOptions,
  ResetFault,
  StallFault,
  StreamErrorPayload,
  StreamFault,
  StreamOptions,
} from './fault-types.js';

interface ErrorDefaults {
  message: string;
  type: string;
  code: string | null;
  param?: string | null;
}

function errorFault(status: number, d: ErrorDefaults, o: ErrorOverrides = {}, base: Record<string, string> = {}): ErrorFault {
  const headers: Record<string, string> = { ...base, ...o.headers };
  if (o.shouldRetry !== undefined) headers['x-should-retry'] = String(o.shouldRetry);
  const fault: ErrorFault = {
    kind: 'error',
    status,
    message: o.message ?? d.message,
    type: o.type ?? d.type,
    code: o.code !== undefined ? o.code : d.code,
    param: o.param !== undefined ? o.param : (d.param ?? null),
    headers,
  };
  if (o.body !== undefined) fault.body = o.body;
  return fault;
}

function humanDelay(o: RateLimitOptions, kind: 'requests' | 'tokens'): string {
  if (o.retryAfterMs !== undefined) return o.retryAfterMs < 1000 ? `${o.retryAfterMs}ms` : `${o.retryAfterMs / 1000}s`;
  if (o.retryAfterSeconds !== undefined) return `${o.retryAfterSeconds}s`;
  return (kind === 'requests' ? o.resetRequests : o.resetTokens) ?? '20s';
}

function rateLimited(o: RateLimitOptions = {}): ErrorFault {
  const kind = o.type ?? 'requests';
  const limitRequests = o.limitRequests ?? 3;
  const remainingRequests = o.remainingRequests ?? (kind === 'requests' ? 0 : 2);
  const limitTokens = o.limitTokens ?? 30000;
  const remainingTokens = o.remainingTokens ?? (kind === 'tokens' ? 0 : 29000);
  const h: Record<string, string> = {};
  if (!o.noRetryHeaders) {
    h['x-ratelimit-limit-requests'] = String(limitRequests);
    h['x-ratelimit-remaining-requests'] = String(remainingRequests);
    h['x-ratelimit-limit-tokens'] = String(limitTokens);
    h['x-ratelimit-remaining-tokens'] = String(remainingTokens);
  }
  if (o.limitRequests !== undefined) h['x-ratelimit-limit-requests'] = String(o.limitRequests);
  if (o.remainingRequests !== undefined) h['x-ratelimit-remaining-requests'] = String(o.remainingRequests);
  if (o.limitTokens !== undefined) h['x-ratelimit-limit-tokens'] = String(o.limitTokens);
  if (o.remainingTokens !== undefined) h['x-ratelimit-remaining-tokens'] = String(o.remainingTokens);
  if (o.resetRequests !== undefined) h['x-ratelimit-reset-requests'] = o.resetRequests;
  if (o.resetTokens !== undefined) h['x-ratelimit-reset-tokens'] = o.resetTokens;
  if (o.retryAfterMs !== undefined) h['retry-after-ms'] = String(o.retryAfterMs);
  if (o.retryAfterSeconds !== undefined) h['retry-after'] = String(o.retryAfterSeconds);
  else if (o.retryAfterDate !== undefined) h['retry-after'] = o.retryAfterDate.toUTCString();
  const per = kind === 'requests' ? 'requests per min (RPM)' : 'tokens per min (TPM)';
  const limit = kind === 'requests' ? limitRequests : limitTokens;
  const requested = kind === 'requests' ? 1 : 500;
  const message =
    `Rate limit reached for ${o.model ?? 'gpt-4o'} in organization org-xxx on ${per}: ` +
    `Limit ${limit}, Used ${limit}, Requested ${requested}. Please try again in ${humanDelay(o, kind)}. ` +
    'Visit https://platform.openai.com/account/rate-limits to learn more.';
  return errorFault(429, { message, type: kind, code: 'rate_limit_exceeded' }, { ...o, type: kind }, h);
}

const CAPTIVE_PORTAL_PAGE =
  '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Sign in to Wi-Fi</title></head>\n' +
  '<body><h1>Welcome</h1><p>Accept the terms of use to continue.</p><form method="post" action="/login">' +
  '<button type="submit">Connect</button></form></body></html>\n';

const SERVER_MESSAGES: Record<number, string> = {
  500: 'The server had an error while processing your request. Sorry about that!',
  502: 'Bad gateway.',
  504: 'Gateway timeout.',
};

/**
 * Builders for every {@link Fault}, with the bodies, codes and headers the real OpenAI API sends.
 * Every error builder accepts {@link ErrorOverrides} (including extra `headers` and `shouldRetry`).
 */
export const faults = {
  /** 429 `rate_limit_exceeded` with OpenAI's message and the rate-limit headers you ask for. */
  rateLimited,
  /** 429 `insufficient_quota` (not retryable: billing problem). */
  insufficientQuota: (o?: ErrorOverrides): ErrorFault =>
    errorFault(429, {
      message:
        'You exceeded your current quota, please check your plan and billing details. For more information on this error, ' +
        'read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
      type: 'insufficient_quota',
      code: 'insufficient_quota',
    }, o),
  /**
   * 429 Resource Unavailable: flex processing (`service_tier: 'flex'`) has no capacity for the request
   * now (OpenAI does not charge it). OpenAI documents the status and its name, not the body's fields: this
   * one names it in the message only, with no rate-limit headers.
   */
  resourceUnavailable: (o?: ErrorOverrides): ErrorFault =>
    errorFault(429, { message: 'Resource Unavailable: flex processing capacity is unavailable, please try again later.', type: 'invalid_request_error', code: null }, o),
  /** 5xx `server_error` (500, 502 or 504 messages; any status accepted). */
  serverError: (status = 500, o?: ErrorOverrides): ErrorFault =>
    errorFault(status, { message: SERVER_MESSAGES[status] ?? SERVER_MESSAGES[500]!, type: 'server_error', code: null }, o),
  /** 503 "The engine is currently overloaded, please try again later." */
  overloaded: (o?: ErrorOverrides): ErrorFault =>
    errorFault(503, { message: 'The engine is currently overloaded, please try again later.', type: 'server_error', code: null }, o),
  /** 400 `invalid_request_error`. */
  badRequest: (o?: ErrorOverrides): ErrorFault =>
    errorFault(400, { message: "Invalid value for 'messages'.", type: 'invalid_request_error', code: null }, o),
  /** 400 `context_length_exceeded` on `messages`. */
  contextLengthExceeded: (o?: ErrorOverrides): ErrorFault =>
    errorFault(400, {
      message:
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. " +
        'Please reduce the length of the messages.',
      type: 'invalid_request_error',
      code: 'context_length_exceeded',
      param: 'messages',
    }, o),
  /** 401 `invalid_api_key`. */
  unauthorized: (o?: ErrorOverrides): ErrorFault =>
    errorFault(401, {
      message:
        'Incorrect API key provided: sk-test. You can find your API key at https://platform.openai.com/account/api-keys.',
      type: 'invalid_request_error',
      code: 'invalid_api_key',
    }, o),
  /** 403 `unsupported_country_region_territory`. */
  forbidden: (o?: ErrorOverrides): ErrorFault =>
    errorFault(403, {
      message: 'Country, region, or territory not supported',
      type: 'request_forbidden',
      code: 'unsupported_country_region_territory',
    }, o),
  /** 404 `model_not_found`. */
  notFound: (o: ErrorOverrides & { model?: string } = {}): ErrorFault =>
    errorFault(404, {
      message: `The model \`${o.model ?? 'gpt-4o'}\` does not exist or you do not have access to it.`,
      type: 'invalid_request_error',
      code: 'model_not_found',
    }, o),
  /** 409 conflict. */
  conflict: (o?: ErrorOverrides): ErrorFault =>
    errorFault(409, { message: 'The request conflicts with the current state of the resource.', type: 'invalid_request_error', code: null }, o),
  /** 408 request timeout. */
  requestTimeout: (o?: ErrorOverrides): ErrorFault =>
    errorFault(408, { message: 'Request timed out.', type: 'timeout', code: null }, o),
  /** 422 unprocessable entity. */
  unprocessable: (o?: ErrorOverrides): ErrorFault =>
    errorFault(422, { message: 'Unprocessable Entity', type: 'invalid_request_error', code: null }, o),
  /** Any status with an OpenAI-shaped error body. */
  status: (status: number, o?: ErrorOverrides): ErrorFault =>
    errorFault(status, {
      message: `Simulated HTTP ${status} error.`,
      type: status >= 500 ? 'server_error' : 'invalid_request_error',
      code: null,
    }, o),
  /** Destroy the socket without answering. */
  reset: (): ResetFault => ({ kind: 'reset' }),
  /** Never answer. */
  stall: (): StallFault => ({ kind: 'stall' }),
  /** Headers and half of a JSON body, then silence (the body never completes). */
  stallBody: (): PartialBodyFault => ({ kind: 'partialBody', then: 'stall' }),
  /** Headers and half of a JSON body, then the socket is cut. */
  dropBody: (): PartialBodyFault => ({ kind: 'partialBody', then: 'drop' }),
  /** Wait `ms`, then behave as `then` (default: the route's normal success). */
  delay: (ms: number, then: Fault = { kind: 'ok' }): DelayFault => ({ kind: 'delay', ms, then }),
  /** Explicit success; without `body`, the route's default success. */
  ok: (body?: unknown, headers?: Record<string, string>, status?: number): OkFault => {
    const fault: OkFault = { kind: 'ok' };
    if (body !== undefined) fault.body = body;
    if (headers !== undefined) fault.headers = headers;
    if (status !== undefined) fault.status = status;
    return fault;
  },
  /**
   * A 2xx HTML page where the API answers JSON, as a proxy, a load balancer or a captive portal sends one
   * (`content-type: text/html`). The bare SDK hands its text over as the answer.
   */
  htmlPage: (status = 200): OkFault => ({ kind: 'ok', status, body: CAPTIVE_PORTAL_PAGE, headers: { 'content-type': 'text/html; charset=utf-8' } }),
  /** A streaming success, optionally stalling, dropping or erroring part-way. */
  stream: (opts: StreamOptions = {}): StreamFault => ({ ...opts, kind: 'stream' }),
} as const;
