import type { LearnedLimits } from '../../shared/shared-backend.js';
import type { LimitKind } from './bucket-capacity.js';
import { ClassLine } from './class-line.js';
import { LimitBucket, type BucketAnswer, type Pacing, type Ticket } from './limit-bucket.js';
import type { ProbedModel } from './probe-turn.js';
import { WakeList } from './wake-list.js';
import { WaitingSeats } from './waiting-seats.js';

/** Fixed limits for one model. */
export interface ModelLimits {
  readonly requestsPerMinute?: number | undefined;
  readonly tokensPerMinute?: number | undefined;
}

/** What this process knows of one model's rate limits: its buckets, a pause, a probe out, the calls waiting. */
export interface ModelState extends ProbedModel {
  requests?: LimitBucket;
  tokens?: LimitBucket;
  pausedUntil: number;
  /** The upstream sent no `x-ratelimit-*` headers: nothing to learn, never probe again. */
  headerless?: boolean;
  /** A pause was cut short at `maxPause`: the first call after it goes alone (a probe), the others wait for its verdict. */
  probeOwed?: boolean;
  /** What the server last said was left (`x-ratelimit-remaining-*`). */
  remaining: { requests?: number; tokens?: number };
  /** The calls waiting for the model's buckets, woken when capacity comes early. */
  readonly wakeups: WakeList;
  /** The same calls (this process's buckets), by traffic class: the order in which they get capacity. */
  readonly line: ClassLine<LineItem>;
}

/** A call waiting in a model's {@link ClassLine}. */
export interface LineItem {
  readonly places: Places;
  /** A call went ahead of it: refuses it at once if its deadline cannot be met any more. */
  readonly recheck: () => void;
}

/** Where a reservation was taken from one of this process's buckets. */
export interface Place {
  readonly bucket: LimitBucket;
  readonly ticket: Ticket;
}

/** A reservation's places in the model's buckets (none for a limit not known when it was made). */
export type Places = Partial<Record<LimitKind, Place>>;

/** What the server answered to one call, besides its headers. */
export interface CallAnswer {
  readonly places: Places | undefined;
  /** Its tokens when none were reserved (a model's first call): its usage, or 0. */
  readonly tokens: number;
  /** A 429 `rate_limited`: the server did not count the request. */
  readonly rateLimited: boolean;
  readonly succeeded: boolean;
  /** The limit a 429 names (OpenAI's error `type`: `requests` or `tokens`). */
  readonly limitType: string | undefined;
  /** Milliseconds since it was sent. */
  readonly elapsed: number;
}

/** The limits in force for a model, as `stats().models[model].rateLimit` reports them. */
export interface ModelLimitsView {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  remainingRequests?: number;
  remainingTokens?: number;
  pausedUntil?: number;
  pacing?: { requests?: Pacing; tokens?: Pacing };
}

const KINDS = ['requests', 'tokens'] as const;

/**
 * A model's state before anything was learned: full buckets for the configured limits. `allowed` says, per
 * class rank, how many calls in a row may go ahead of that class (see `jumpsAllowed`).
 */
export function newModelState(configured: ModelLimits, now: number, allowed: (rank: number) => number = () => Number.POSITIVE_INFINITY): ModelState {
  const state: ModelState = { pausedUntil: 0, seats: new WaitingSeats(), remaining: {}, wakeups: new WakeList(), line: new ClassLine(allowed) };
  if (configured.requestsPerMinute !== undefined) state.requests = new LimitBucket('requests', configured.requestsPerMinute, now);
  if (configured.tokensPerMinute !== undefined) state.tokens = new LimitBucket('tokens', configured.tokensPerMinute, now);
  return state;
}

/**
 * Pauses the model for `ms` from `now` (never shortening a longer pause). Its buckets are held empty
 * meanwhile (no refill), so the calls waiting go out at the model's pace after it, in their turn.
 */
export function pauseModel(state: ModelState, ms: number, now: number): void {
  const until = now + ms;
  if (until <= state.pausedUntil) return;
  state.pausedUntil = until;
  state.requests?.hold(until, now);
  state.tokens?.hold(until, now);
}

/**
 * Adopts learned limits (unless configured), and what the server says is left: with `answer`, read against
 * where that call was taken from the buckets (see `LimitBucket.answered`); a 429 despite headroom for the
 * limit it names makes that limit's pacing finer. Without `answer` (headers alone), what is left is read
 * as of now.
 */
export function learnLimits(state: ModelState, learned: LearnedLimits, configured: ModelLimits, now: number, answer?: CallAnswer): void {
  for (const kind of KINDS) {
    const [limit, remaining, configuredLimit] =
      kind === 'requests'
        ? [learned.requestsPerMinute, learned.remainingRequests, configured.requestsPerMinute]
        : [learned.tokensPerMinute, learned.remainingTokens, configured.tokensPerMinute];
    if (limit !== undefined && configuredLimit === undefined) {
      const current = state[kind];
      if (!current) state[kind] = new LimitBucket(kind, limit, now);
      else if (current.perMinute !== limit) current.setLimit(limit, now);
    }
    const bucket = state[kind];
    if (remaining === undefined || !bucket) continue;
    state.remaining[kind] = remaining;
    if (!answer) {
      bucket.answered(remaining, now);
      continue;
    }
    const { start, amount, sentAfter, inFlightBefore } = placeIn(bucket, answer);
    const bucketAnswer: BucketAnswer = {
      start, amount, sentAfter, inFlightBefore, counted: !answer.rateLimited, succeeded: answer.succeeded, elapsed: answer.elapsed,
    };
    bucket.answered(remaining, now, bucketAnswer);
    const named = answer.limitType === 'requests' || answer.limitType === 'tokens' ? answer.limitType : undefined;
    const place = placeOf(bucket, answer);
    if (answer.rateLimited && (named === undefined || named === kind) && remaining >= Math.max(1, amount)) bucket.refine(place?.ticket.sentMark, now);
    if (place) bucket.ended(place.ticket);
  }
}

/** Where `answer`'s call was taken from `bucket`, how much, and what was sent after it; a call made before the bucket existed has no place. */
function placeIn(bucket: LimitBucket, answer: CallAnswer): Omit<BucketAnswer, 'counted' | 'succeeded' | 'elapsed'> {
  const place = placeOf(bucket, answer);
  if (!place) return { start: undefined, amount: bucket.kind === 'requests' ? 1 : answer.tokens, sentAfter: 0, inFlightBefore: 0 };
  const { sentAfter, inFlightBefore } = bucket.concurrency(place.ticket);
  return { start: place.ticket.start, amount: place.ticket.amount, sentAfter, inFlightBefore };
}

/** The place `answer`'s call took in `bucket` (none when it was made before the bucket existed). */
function placeOf(bucket: LimitBucket, answer: CallAnswer): Place | undefined {
  const place = answer.places?.[bucket.kind];
  return place?.bucket === bucket ? place : undefined;
}

/** The limits in force for a model: configured, learned, or none yet. */
export function limitsView(state: ModelState | undefined, now: number): ModelLimitsView {
  const pacing = { ...(state?.requests ? { requests: state.requests.pacing } : {}), ...(state?.tokens ? { tokens: state.tokens.pacing } : {}) };
  return {
    ...(state?.requests ? { requestsPerMinute: state.requests.perMinute } : {}),
    ...(state?.tokens ? { tokensPerMinute: state.tokens.perMinute } : {}),
    ...(state?.remaining.requests !== undefined ? { remainingRequests: state.remaining.requests } : {}),
    ...(state?.remaining.tokens !== undefined ? { remainingTokens: state.remaining.tokens } : {}),
    ...(state && state.pausedUntil > now ? { pausedUntil: state.pausedUntil } : {}),
    ...(Object.keys(pacing).length > 0 ? { pacing } : {}),
  };
}
