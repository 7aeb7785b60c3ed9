import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { faults, type Fault } from '../../src/testing/index.js';
import type { GiveUpEvent, RetryEvent } from '../../src/index.js';
import { chatParams, drive, harness, rejectionOf } from '../support/harness.js';

interface Row {
  name: string;
  fault: () => Fault;
  kind: string;
  requests: number;
  errorClass: abstract new (...args: any[]) => Error;
  delays?: number[];
}

// maxRetries 2 (3 attempts), initialDelay 500, no jitter: server_error waits 500 then 1000, overloaded 4x.
const rows: Row[] = [
  { name: '429 rate_limit_exceeded', fault: () => faults.rateLimited({ retryAfterMs: 250 }), kind: 'rate_limited', requests: 3, errorClass: OpenAI.RateLimitError, delays: [250, 250] },
  { name: '429 insufficient_quota', fault: () => faults.insufficientQuota(), kind: 'quota_exhausted', requests: 1, errorClass: OpenAI.RateLimitError },
  { name: '429 Resource Unavailable', fault: () => faults.resourceUnavailable(), kind: 'resource_unavailable', requests: 3, errorClass: OpenAI.RateLimitError, delays: [500, 1000] },
  { name: '500', fault: () => faults.serverError(500), kind: 'server_error', requests: 3, errorClass: OpenAI.InternalServerError, delays: [500, 1000] },
  { name: '502', fault: () => faults.serverError(502), kind: 'server_error', requests: 3, errorClass: OpenAI.InternalServerError, delays: [500, 1000] },
  { name: '504', fault: () => faults.serverError(504), kind: 'server_error', requests: 3, errorClass: OpenAI.InternalServerError, delays: [500, 1000] },
  { name: '503', fault: () => faults.overloaded(), kind: 'overloaded', requests: 3, errorClass: OpenAI.InternalServerError, delays: [2000, 4000] },
  { name: '529', fault: () => faults.status(529), kind: 'overloaded', requests: 3, errorClass: OpenAI.InternalServerError, delays: [2000, 4000] },
  { name: 'connection reset', fault: () => faults.reset(), kind: 'connection', requests: 3, errorClass: OpenAI.APIConnectionError, delays: [500, 1000] },
  { name: '409', fault: () => faults.conflict(), kind: 'conflict', requests: 3, errorClass: OpenAI.ConflictError, delays: [500, 1000] },
  { name: '408', fault: () => faults.requestTimeout(), kind: 'request_timeout', requests: 3, errorClass: OpenAI.APIError, delays: [500, 1000] },
  { name: '400 context_length_exceeded', fault: () => faults.contextLengthExceeded(), kind: 'context_length_exceeded', requests: 1, errorClass: OpenAI.BadRequestError },
  { name: '400', fault: () => faults.badRequest(), kind: 'bad_request', requests: 1, errorClass: OpenAI.BadRequestError },
  { name: '422', fault: () => faults.unprocessable(), kind: 'unprocessable', requests: 1, errorClass: OpenAI.UnprocessableEntityError },
  { name: '401', fault: () => faults.unauthorized(), kind: 'authentication', requests: 1, errorClass: OpenAI.AuthenticationError },
  { name: '403', fault: () => faults.forbidden(), kind: 'permission_denied', requests: 1, errorClass: OpenAI.PermissionDeniedError },
  { name: '404', fault: () => faults.notFound({ model: 'gpt-4.1-mini' }), kind: 'not_found', requests: 1, errorClass: OpenAI.NotFoundError },
];

describe('every row of the error table, end to end', () => {
  it.each(rows)('$name → $kind, $requests upstream request(s), the SDK error', async (row) => {
    const { server, clock, ai } = await harness();
    server.enqueue(row.fault(), row.fault(), row.fault());
    const retries: RetryEvent[] = [];
    const giveUps: GiveUpEvent[] = [];
    ai.resilience.on('retry', (event) => retries.push(event));
    ai.resilience.on('giveUp', (event) => giveUps.push(event));

    const error = await rejectionOf(drive(clock, ai.chat.completions.create(chatParams)));

    expect(error).toBeInstanceOf(row.errorClass);
    expect(server.requestsTo('/chat/completions')).toHaveLength(row.requests);
    expect(retries.map((event) => event.delay)).toEqual(row.delays ?? []);
    expect(retries.every((event) => event.kind === row.kind && event.model === 'gpt-4.1-mini')).toBe(true);
    expect(giveUps).toHaveLength(1);
    expect(giveUps[0]).toMatchObject({
      kind: row.kind,
      attempt: row.requests,
      model: 'gpt-4.1-mini',
      reason: row.requests === 1 ? 'not_retryable' : 'retries_exhausted',
    });
    expect(giveUps[0]!.error).toBe(error);
  });

  it('returns the SDK error intact: status, headers, code and request id', async () => {
    const { server, clock, ai } = await harness({ retry: { maxRetries: 0 } });
    server.enqueue(faults.insufficientQuota());
    const error = await rejectionOf(drive(clock, ai.chat.completions.create(chatParams)));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.status).toBe(429);
    expect(error.code).toBe('insufficient_quota');
    expect(error.requestID).toMatch(/^req_/);
    expect(error.headers.get('x-request-id')).toBe(error.requestID);
  });

  it('succeeds after transient failures, numbering attempts in x-stainless-retry-count', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(faults.serverError(500), faults.reset());
    const completion = await drive(clock, ai.chat.completions.create(chatParams));
    expect(completion.choices[0]!.message.content).toBeTypeOf('string');
    const requests = server.requestsTo('/chat/completions');
    expect(requests.map((request) => request.headers['x-stainless-retry-count'])).toEqual(['0', '1', '2']);
  });

  it('never lets the SDK retry underneath: one request per decided attempt', async () => {
    const { server, clock, ai } = await harness({ retry: false }, { maxRetries: 5 });
    server.enqueue(faults.serverError(500));
    await rejectionOf(drive(clock, ai.chat.completions.create(chatParams)));
    expect(server.requests).toHaveLength(1);
  });

  it('x-should-retry overrides the table both ways', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(
      faults.badRequest({ headers: { 'x-should-retry': 'true' } }),
      faults.serverError(500, { headers: { 'x-should-retry': 'false' } }),
    );
    const error = await rejectionOf(drive(clock, ai.chat.completions.create(chatParams)));
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(server.requests).toHaveLength(2);
  });

  it('per-kind overrides change the action', async () => {
    const { server, clock, ai } = await harness({ actions: { quota_exhausted: 'retry', server_error: 'fail' } });
    server.enqueue(faults.insufficientQuota(), faults.serverError(500));
    const error = await rejectionOf(drive(clock, ai.chat.completions.create(chatParams)));
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(server.requests).toHaveLength(2);
  });

  it('a per-request maxRetries overrides the policy for that request', async () => {
    const { server, clock, ai } = await harness();
    server.enqueue(...Array.from({ length: 6 }, () => faults.serverError(500)));
    await rejectionOf(drive(clock, ai.chat.completions.create(chatParams, { maxRetries: 4 })));
    expect(server.requests).toHaveLength(5);
    await rejectionOf(drive(clock, ai.chat.completions.create(chatParams, { maxRetries: 0 })));
    expect(server.requests).toHaveLength(6);
  });
});
