/**
 * Account capacity of the fault server: OpenAI-like requests-per-minute and tokens-per-minute limits
 * enforced with token buckets (optionally also over a shorter window), an optional concurrency cap,
 * random failures and latency. Refills run on the real clock (`performance.now()`) unless
 * `capacity.clock` is given; meant for benchmarks and realistic tests.
 *
 * @module
 */

import { TokenBucket, formatResetDuration, seededRandom } from './account-bucket.js';
import { validate, type AdmissionOptions } from './capacity-options.js';
import type { ReceivedRequest } from './received-request.js';
import type { Fault } from './fault-types.js';
import { estimateTokens } from './openai-bodies.js';
import { faults } from './faults.js';
import { DEFAULT_RATE_LIMIT_HEADERS } from './routes.js';

export { TokenBucket, formatResetDuration, seededRandom } from './account-bucket.js';
export type { AdmissionOptions, CapacityOptions, FaultServerStats, LatencyOption, RandomFailureOptions } from './capacity-options.js';

const numberField = (body: Record<string, unknown>, ...names: string[]): number | undefined => {
  for (const name of names) {
    const value = body[name];
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  }
  return undefined;
};

/** The token cost of a request: prompt tokens (characters / 4) plus `max_tokens` (default 16). */
export function tokenCost(r: ReceivedRequest): number {
  const body = r.body !== null && typeof r.body === 'object' ? (r.body as Record<string, unknown>) : {};
  const prompt = body['messages'] ?? body['input'] ?? body['prompt'];
  const promptTokens = prompt === undefined ? 0 : estimateTokens(prompt);
  return promptTokens + (numberField(body, 'max_tokens', 'max_completion_tokens', 'max_output_tokens') ?? 16);
}

function modelOf(r: ReceivedRequest): string {
  const model = r.body !== null && typeof r.body === 'object' ? (r.body as Record<string, unknown>)['model'] : undefined;
  return typeof model === 'string' ? model : 'gpt-4o';
}

/** One limit of the account: its bucket (which the headers count) and, optionally, its shorter window. */
interface AccountLimit {
  readonly type: 'requests' | 'tokens';
  readonly bucket: TokenBucket;
  readonly short: TokenBucket | undefined;
}

/** OpenAI's 429 for a request `bucket` (of `limit`) refuses for `wait` ms, with the account's `headers`. */
function rateLimitedBy(
  refusal: { limit: AccountLimit; bucket: TokenBucket; wait: number },
  cost: number,
  model: string,
  headers: Record<string, string>,
  t: number,
): Fault {
  const { limit, bucket, wait } = refusal;
  const { type } = limit;
  const retryAfterMs = Math.max(1, Math.ceil(wait));
  headers['retry-after-ms'] = String(retryAfterMs);
  headers['retry-after'] = String(Math.ceil(retryAfterMs / 1000));
  const used = Math.min(bucket.limit, Math.round(bucket.limit * (1 - Math.max(0, bucket.level(t)) / bucket.capacity)));
  const per = type === 'requests' ? 'requests per min (RPM)' : 'tokens per min (TPM)';
  const message =
    `Rate limit reached for ${model} in organization org-xxx on ${per}: Limit ${bucket.limit}, Used ${used}, ` +
    `Requested ${type === 'requests' ? 1 : cost}. Please try again in ${formatResetDuration(retryAfterMs)}. ` +
    'Visit https://platform.openai.com/account/rate-limits to learn more.';
  return faults.rateLimited({ type, message, headers });
}

/** What to do with one unscripted request. */
export type Admission =
  | { kind: 'admit'; headers: Record<string, string>; latencyMs: number; release: () => void }
  | { kind: 'reject'; fault: Fault; reason: 'rateLimited' | 'overloaded' | 'randomFailures' };

/**
 * Builds the admission logic of the fault server for unscripted requests: the concurrency cap (503),
 * then the capacity buckets (429), then random failures (5xx, no capacity consumed), else admission
 * (capacity consumed, rate-limit headers computed, latency drawn).
 */
export function createAdmission(
  o: AdmissionOptions,
  now?: () => number,
  label = 'startFaultServer',
): (r: ReceivedRequest) => Admission {
  validate(o, label);
  const clock = o.capacity?.clock;
  const time = now ?? (clock ? () => clock.now() : () => performance.now());
  const burst = o.capacity?.burstSeconds ?? 1;
  const short = o.capacity?.shortWindowSeconds;
  const limitOf = (type: 'requests' | 'tokens', perMinute: number | undefined): AccountLimit | undefined =>
    perMinute === undefined
      ? undefined
      : { type, bucket: new TokenBucket(perMinute, burst, time()), short: short === undefined ? undefined : new TokenBucket(perMinute, short, time()) };
  const requests = limitOf('requests', o.capacity?.requestsPerMinute);
  const tokens = limitOf('tokens', o.capacity?.tokensPerMinute);
  const maxConcurrent = o.capacity?.maxConcurrent;
  const failureRandom = o.randomFailures?.seed !== undefined ? seededRandom(o.randomFailures.seed) : Math.random;
  const latencyRandom = o.randomFailures?.seed !== undefined ? seededRandom(o.randomFailures.seed ^ 0x5bd1e995) : Math.random;
  let inFlight = 0;

  const drawLatency = (): number => {
    const l = o.latencyMs;
    if (l === undefined) return 0;
    if (typeof l === 'number') return l;
    if (l.slowShare !== undefined && l.slowMs !== undefined && latencyRandom() < l.slowShare) return l.slowMs;
    return l.min + latencyRandom() * (l.max - l.min);
  };

  /** The rate-limit headers of both limits as they stand at `t` (the `burstSeconds` buckets). */
  const headersAt = (t: number): Record<string, string> => {
    const h: Record<string, string> = { ...DEFAULT_RATE_LIMIT_HEADERS };
    for (const limit of [requests, tokens]) {
      if (!limit) continue;
      const { type, bucket } = limit;
      h[`x-ratelimit-limit-${type}`] = String(bucket.limit);
      h[`x-ratelimit-remaining-${type}`] = String(Math.max(0, Math.floor(bucket.level(t))));
      h[`x-ratelimit-reset-${type}`] = formatResetDuration(bucket.timeUntilFull(t));
    }
    return h;
  };

  return (r) => {
    if (maxConcurrent !== undefined && inFlight >= maxConcurrent) {
      return { kind: 'reject', reason: 'overloaded', fault: faults.overloaded() };
    }
    const t = time();
    const cost = tokens ? tokenCost(r) : 0;
    if (requests) {
      if (tokens && cost > tokens.bucket.limit) {
        const message =
          `Request too large for ${modelOf(r)} in organization org-xxx on tokens per min (TPM): Limit ${tokens.bucket.limit}, ` +
          `Requested ${cost}. The input or output tokens must be reduced in order to run successfully. ` +
          'Visit https://platform.openai.com/account/rate-limits to learn more.';
        return { kind: 'reject', reason: 'rateLimited', fault: faults.rateLimited({ type: 'tokens', message, headers: headersAt(t) }) };
      }
      // The longest wait of any bucket refuses the request: the limit's own, or its shorter window.
      let refusal: { limit: AccountLimit; bucket: TokenBucket; wait: number } | undefined;
      for (const [limit, amount] of [[requests, 1], [tokens, cost]] as const) {
        for (const bucket of limit ? [limit.bucket, limit.short] : []) {
          const wait = bucket?.waitFor(amount, t) ?? 0;
          if (wait > (refusal?.wait ?? 0)) refusal = { limit: limit!, bucket: bucket!, wait };
        }
      }
      if (refusal) return { kind: 'reject', reason: 'rateLimited', fault: rateLimitedBy(refusal, cost, modelOf(r), headersAt(t), t) };
    }
    const rf = o.randomFailures;
    if (rf && rf.rate > 0 && failureRandom() < rf.rate) {
      return { kind: 'reject', reason: 'randomFailures', fault: faults.serverError(rf.status ?? 500) };
    }
    for (const [limit, amount] of [[requests, 1], [tokens, cost]] as const) {
      limit?.bucket.take(amount, t);
      limit?.short?.take(amount, t);
    }
    inFlight++;
    let released = false;
    return {
      kind: 'admit',
      headers: requests ? headersAt(t) : {},
      latencyMs: drawLatency(),
      release: () => {
        if (!released) inFlight--;
        released = true;
      },
    };
  };
}
