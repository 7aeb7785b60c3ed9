/**
 * Account capacity of the fault server: OpenAI-like requests-per-minute and tokens-per-minute limits
 * enforced with token buckets over short periods, an optional concurrency cap, random failures and
 * latency. Uses the real clock (`performance.now()`); meant for benchmarks and realistic tests.
 *
 * @module
 */

import type { ReceivedRequest } from './received-request.js';
import type { Fault } from './fault-types.js';
import { estimateTokens } from './openai-bodies.js';
import { faults } from './faults.js';
import { DEFAULT_RATE_LIMIT_HEADERS } from './routes.js';

/** The `capacity` option of `startFaultServer`: the limits of the simulated account. */
export interface CapacityOptions {
  /** The account's RPM limit, announced in `x-ratelimit-limit-requests`. */
  requestsPerMinute: number;
  /**
   * The TPM limit, announced in `x-ratelimit-limit-tokens`. The token cost of a request is its prompt
   * tokens (prompt characters / 4, as in the `usage` of the default bodies) plus `max_tokens`
   * (or `max_completion_tokens` / `max_output_tokens`), default 16.
   */
  tokensPerMinute?: number;
  /**
   * Default 1. Like OpenAI, limits are enforced over short periods: each bucket holds at most
   * `limit / 60 × burstSeconds` (at least 1), refilled continuously at `limit / 60` per second.
   */
  burstSeconds?: number;
  /** Requests being served at once (including their `latencyMs`) beyond which a request gets a 503 `overloaded`. */
  maxConcurrent?: number;
}

/**
 * The `randomFailures` option of `startFaultServer`. A request that would be admitted fails with
 * `faults.serverError(status)` with probability `rate`, **without consuming capacity**: a random 500
 * does not use up the account's requests or tokens, so goodput as a share of capacity can approach 100%.
 */
export interface RandomFailureOptions {
  /** Probability in [0, 1]. */
  rate: number;
  /** HTTP status of the failure, default 500. */
  status?: number;
  /** Seed of a deterministic PRNG; without it, `Math.random`. */
  seed?: number;
}

/**
 * Real delay before answering a successful (admitted) request: fixed, or uniform in [min, max]. With
 * `slowShare` and `slowMs`, a slow tail: that share of the requests waits `slowMs` instead (drawn per
 * request, deterministically with `randomFailures.seed`).
 */
export type LatencyOption = number | { min: number; max: number; slowShare?: number; slowMs?: number };

/** Counters of a fault server, see `FaultServer.stats()`. */
export interface FaultServerStats {
  /** Every request received (body read), whatever its answer. */
  received: number;
  /** Requests answered by the default success path (within capacity when `capacity` is set). */
  admitted: number;
  /** 429s sent because a capacity bucket was empty (scripted 429s count as `scripted`). */
  rateLimited: number;
  /** 5xx sent by `randomFailures`. */
  randomFailures: number;
  /** Requests answered by a scripted fault (`enqueue` / `enqueueFor`). */
  scripted: number;
  /** 503s sent because `capacity.maxConcurrent` requests were already being served. */
  overloaded: number;
}

/** Formats milliseconds as OpenAI's reset durations: `0s`, `120ms`, `1.5s`, `59.712s`, `6m0s`, `1h2m3s`. */
export function formatResetDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = ((total % 60_000) / 1000).toFixed(3).replace(/\.?0+$/, '');
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** Mulberry32: a small deterministic PRNG returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A token bucket refilled continuously at `perMinute / 60` tokens per second, holding at most
 * `perMinute / 60 × burstSeconds` tokens (at least 1). Starts full. Times are in milliseconds.
 */
export class TokenBucket {
  readonly limit: number;
  readonly capacity: number;
  readonly #perMs: number;
  #level: number;
  #at: number;

  constructor(perMinute: number, burstSeconds: number, now: number) {
    this.limit = perMinute;
    this.#perMs = perMinute / 60_000;
    this.capacity = Math.max(1, (perMinute / 60) * burstSeconds);
    this.#level = this.capacity;
    this.#at = now;
  }

  /** Tokens available at `now` (after refilling); may be negative after a request larger than the bucket. */
  level(now: number): number {
    if (now > this.#at) {
      this.#level = Math.min(this.capacity, this.#level + (now - this.#at) * this.#perMs);
      this.#at = now;
    }
    return this.#level;
  }

  /**
   * Milliseconds until `amount` tokens are available (0 when they are). A request larger than the
   * bucket only needs a full bucket (and then drives the level below zero).
   */
  waitFor(amount: number, now: number): number {
    const missing = Math.min(amount, this.capacity) - this.level(now);
    return missing <= 0 ? 0 : missing / this.#perMs;
  }

  /** Milliseconds until the bucket is full again. */
  timeUntilFull(now: number): number {
    return Math.max(0, (this.capacity - this.level(now)) / this.#perMs);
  }

  take(amount: number, now: number): void {
    this.level(now);
    this.#level -= amount;
  }
}

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

/** What to do with one unscripted request. */
export type Admission =
  | { kind: 'admit'; headers: Record<string, string>; latencyMs: number; release: () => void }
  | { kind: 'reject'; fault: Fault; reason: 'rateLimited' | 'overloaded' | 'randomFailures' };

/** Options of {@link createAdmission}. */
export interface AdmissionOptions {
  capacity?: CapacityOptions;
  randomFailures?: RandomFailureOptions;
  latencyMs?: LatencyOption;
}

function positive(label: string, name: string, value: unknown, allowZero = false): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new TypeError(`${label}: \`${name}\` must be a ${allowZero ? 'number ≥ 0' : 'positive number'}, got ${String(value)}.`);
  }
}

function validate(o: AdmissionOptions, label: string): void {
  if (o.capacity) {
    positive(label, 'capacity.requestsPerMinute', o.capacity.requestsPerMinute);
    if (o.capacity.tokensPerMinute !== undefined) positive(label, 'capacity.tokensPerMinute', o.capacity.tokensPerMinute);
    if (o.capacity.burstSeconds !== undefined) positive(label, 'capacity.burstSeconds', o.capacity.burstSeconds);
    if (o.capacity.maxConcurrent !== undefined) positive(label, 'capacity.maxConcurrent', o.capacity.maxConcurrent);
  }
  if (o.randomFailures) {
    const { rate } = o.randomFailures;
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
      throw new TypeError(`${label}: \`randomFailures.rate\` must be a number in [0, 1], got ${String(rate)}.`);
    }
  }
  const latency = o.latencyMs;
  if (typeof latency === 'number') positive(label, 'latencyMs', latency, true);
  else if (latency !== undefined) {
    positive(label, 'latencyMs.min', latency.min, true);
    positive(label, 'latencyMs.max', latency.max, true);
    if (latency.max < latency.min) throw new TypeError(`${label}: \`latencyMs.max\` must be ≥ \`latencyMs.min\`.`);
    const { slowShare, slowMs } = latency;
    if (slowShare !== undefined || slowMs !== undefined) {
      if (typeof slowShare !== 'number' || !(slowShare >= 0 && slowShare <= 1)) {
        throw new TypeError(`${label}: \`latencyMs.slowShare\` must be a number in [0, 1] (with \`latencyMs.slowMs\`), got ${String(slowShare)}.`);
      }
      positive(label, 'latencyMs.slowMs', slowMs, true);
    }
  }
}

/**
 * Builds the admission logic of the fault server for unscripted requests: the concurrency cap (503),
 * then the capacity buckets (429), then random failures (5xx, no capacity consumed), else admission
 * (capacity consumed, rate-limit headers computed, latency drawn).
 */
export function createAdmission(
  o: AdmissionOptions,
  now: () => number = () => performance.now(),
  label = 'startFaultServer',
): (r: ReceivedRequest) => Admission {
  validate(o, label);
  const burst = o.capacity?.burstSeconds ?? 1;
  const requests = o.capacity ? new TokenBucket(o.capacity.requestsPerMinute, burst, now()) : undefined;
  const tokens = o.capacity?.tokensPerMinute !== undefined ? new TokenBucket(o.capacity.tokensPerMinute, burst, now()) : undefined;
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

  /** The rate-limit headers of both limits as they stand at `t`. */
  const headersAt = (t: number): Record<string, string> => {
    const h: Record<string, string> = { ...DEFAULT_RATE_LIMIT_HEADERS };
    if (requests) {
      h['x-ratelimit-limit-requests'] = String(requests.limit);
      h['x-ratelimit-remaining-requests'] = String(Math.max(0, Math.floor(requests.level(t))));
      h['x-ratelimit-reset-requests'] = formatResetDuration(requests.timeUntilFull(t));
    }
    if (tokens) {
      h['x-ratelimit-limit-tokens'] = String(tokens.limit);
      h['x-ratelimit-remaining-tokens'] = String(Math.max(0, Math.floor(tokens.level(t))));
      h['x-ratelimit-reset-tokens'] = formatResetDuration(tokens.timeUntilFull(t));
    }
    return h;
  };

  return (r) => {
    if (maxConcurrent !== undefined && inFlight >= maxConcurrent) {
      return { kind: 'reject', reason: 'overloaded', fault: faults.overloaded() };
    }
    const t = now();
    const cost = tokens ? tokenCost(r) : 0;
    if (requests) {
      if (tokens && cost > tokens.limit) {
        const message =
          `Request too large for ${modelOf(r)} in organization org-xxx on tokens per min (TPM): Limit ${tokens.limit}, ` +
          `Requested ${cost}. The input or output tokens must be reduced in order to run successfully. ` +
          'Visit https://platform.openai.com/account/rate-limits to learn more.';
        return { kind: 'reject', reason: 'rateLimited', fault: faults.rateLimited({ type: 'tokens', message, headers: headersAt(t) }) };
      }
      const waitRequests = requests.waitFor(1, t);
      const waitTokens = tokens ? tokens.waitFor(cost, t) : 0;
      const wait = Math.max(waitRequests, waitTokens);
      if (wait > 0) {
        const type = waitRequests >= waitTokens ? 'requests' : 'tokens';
        const bucket = type === 'requests' ? requests : tokens!;
        const retryAfterMs = Math.max(1, Math.ceil(wait));
        const headers = headersAt(t);
        headers['retry-after-ms'] = String(retryAfterMs);
        headers['retry-after'] = String(Math.ceil(retryAfterMs / 1000));
        const used = Math.min(bucket.limit, Math.round(bucket.limit * (1 - Math.max(0, bucket.level(t)) / bucket.capacity)));
        const per = type === 'requests' ? 'requests per min (RPM)' : 'tokens per min (TPM)';
        const message =
          `Rate limit reached for ${modelOf(r)} in organization org-xxx on ${per}: Limit ${bucket.limit}, Used ${used}, ` +
          `Requested ${type === 'requests' ? 1 : cost}. Please try again in ${formatResetDuration(retryAfterMs)}. ` +
          'Visit https://platform.openai.com/account/rate-limits to learn more.';
        return { kind: 'reject', reason: 'rateLimited', fault: faults.rateLimited({ type, message, headers }) };
      }
    }
    const rf = o.randomFailures;
    if (rf && rf.rate > 0 && failureRandom() < rf.rate) {
      return { kind: 'reject', reason: 'randomFailures', fault: faults.serverError(rf.status ?? 500) };
    }
    requests?.take(1, t);
    tokens?.take(cost, t);
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
