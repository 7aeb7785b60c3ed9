import type { LearnedLimits } from '../../shared/shared-backend.js';
import { bucketCapacity, type LimitKind } from './bucket-capacity.js';
import type { ProbedModel } from './probe-turn.js';
import { TokenBucket } from './token-bucket.js';

/** Fixed limits for one model. */
export interface ModelLimits {
  readonly requestsPerMinute?: number | undefined;
  readonly tokensPerMinute?: number | undefined;
}

/** What this process knows of one model's rate limits: its buckets, a pause, a probe out. */
export interface ModelState extends ProbedModel {
  requests?: TokenBucket;
  tokens?: TokenBucket;
  pausedUntil: number;
  heldFor: number;
  /** The upstream sent no `x-ratelimit-*` headers: nothing to learn, never probe again. */
  headerless?: boolean;
  /** A pause was cut short at `maxPause`: the first call after it goes alone (a probe), the others wait for its verdict. */
  probeOwed?: boolean;
  /** What the server last said was left (`x-ratelimit-remaining-*`). */
  remaining: { requests?: number; tokens?: number };
}

/** The limits in force for a model, as `stats().models[model].rateLimit` reports them. */
export interface ModelLimitsView {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  remainingRequests?: number;
  remainingTokens?: number;
  pausedUntil?: number;
}

/** A bucket for `perMinute` of `kind`, full, holding what {@link bucketCapacity} allows at once. */
function bucket(kind: LimitKind, perMinute: number, now: number): TokenBucket {
  return new TokenBucket(perMinute, bucketCapacity(kind, perMinute), now);
}

/** A model's state before anything was learned: full buckets for the configured limits. */
export function newModelState(configured: ModelLimits, now: number): ModelState {
  const state: ModelState = { pausedUntil: 0, heldFor: 0, waiting: 0, remaining: {} };
  if (configured.requestsPerMinute !== undefined) state.requests = bucket('requests', configured.requestsPerMinute, now);
  if (configured.tokensPerMinute !== undefined) state.tokens = bucket('tokens', configured.tokensPerMinute, now);
  return state;
}

/**
 * Pauses the model for `ms` from `now` (never shortening a longer pause). Its buckets are held empty
 * meanwhile (no refill), and callers already waiting move back by the refill time it takes away.
 */
export function pauseModel(state: ModelState, ms: number, now: number): void {
  const until = now + ms;
  if (until <= state.pausedUntil) return;
  state.heldFor += until - Math.max(now, state.pausedUntil);
  state.pausedUntil = until;
  state.requests?.holdEmptyUntil(until, now);
  state.tokens?.holdEmptyUntil(until, now);
}

/** Adopts learned limits (unless configured) and lowers the buckets to what the server says is left. */
export function learnLimits(state: ModelState, learned: LearnedLimits, configured: ModelLimits, now: number): void {
  const kinds = [
    ['requests', learned.requestsPerMinute, learned.remainingRequests, configured.requestsPerMinute],
    ['tokens', learned.tokensPerMinute, learned.remainingTokens, configured.tokensPerMinute],
  ] as const;
  for (const [kind, limit, remaining, configuredLimit] of kinds) {
    if (limit !== undefined && configuredLimit === undefined) {
      const current = state[kind];
      if (!current) state[kind] = bucket(kind, limit, now);
      else if (current.perMinute !== limit) current.setLimit(limit, bucketCapacity(kind, limit), now);
    }
    // What the server says is left lowers our level; at 0 the bucket itself makes the next caller wait
    // one refill interval. (`x-ratelimit-reset-*` is the time until the limit is *full* again: pausing
    // that long would idle most of the capacity.)
    if (remaining !== undefined) {
      state[kind]?.clampTo(remaining, now);
      state.remaining[kind] = remaining;
    }
  }
}

/** The limits in force for a model: configured, learned, or none yet. */
export function limitsView(state: ModelState | undefined, now: number): ModelLimitsView {
  return {
    ...(state?.requests ? { requestsPerMinute: state.requests.perMinute } : {}),
    ...(state?.tokens ? { tokensPerMinute: state.tokens.perMinute } : {}),
    ...(state?.remaining.requests !== undefined ? { remainingRequests: state.remaining.requests } : {}),
    ...(state?.remaining.tokens !== undefined ? { remainingTokens: state.remaining.tokens } : {}),
    ...(state && state.pausedUntil > now ? { pausedUntil: state.pausedUntil } : {}),
  };
}
