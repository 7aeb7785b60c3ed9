import { LRUCache } from 'lru-cache';
import type { HeadersLike } from '../../classify/retry-hint.js';
import type { EventBus } from '../../events/event-bus.js';
import type { Abortable } from '../../core/abort-scope.js';
import type { Clock } from '../../core/clock.js';
import { classOfRank, classRank, type TrafficClass } from '../../core/traffic-class.js';
import type { SharedAnswer } from '../../shared/shared-backend.js';
import type { SharedLink } from '../../shared/shared-link.js';
import { reserveInBuckets } from './bucket-reservation.js';
import { jumpsAllowed } from './class-line.js';
import { LoadShedError } from '../../errors/load-shed-error.js';
import { RateLimitTimeoutError } from '../../errors/rate-limit-timeout-error.js';
import { ClassCounters } from '../class-counters.js';
import type { WaitContext } from './capacity-wait.js';
import type { ModelProbe, ProbeReason } from './model-probe.js';
import {
  learnLimits, limitsView, newModelState, pauseModel,
  type CallAnswer, type ModelLimits, type ModelLimitsView, type ModelState,
} from './model-state.js';
import { probeTurn } from './probe-turn.js';
import { limitsFromHeaders } from './rate-limit-headers.js';
import type { AnswerOutcome, Reservation } from './reservation.js';
import { SharedLimits } from './shared-limits.js';
import { TenantAdmission, type Caller } from './tenant-admission.js';
import type { TenantHold } from './tenant-shares.js';

export type { ModelLimits } from './model-state.js';
export type { AnswerOutcome, Reservation } from './reservation.js';

/** Rate limiter settings after defaults (see `RateLimitOptions`). */
export interface RateLimitSettings {
  readonly defaults: ModelLimits;
  readonly models: Readonly<Record<string, ModelLimits>>;
  readonly learn: boolean;
  readonly maxQueued: number;
  readonly tenantShare: number;
  /** Longest pause after a 429, in ms (`retry.maxRetryAfter`): a longer reset is cut short and ends with a probe. */
  readonly maxPause: number;
  /** Traffic classes (`rateLimit.classes`); without it, no class has a reserved share. */
  readonly classes?: ClassSettings | undefined;
}

/** `rateLimit.classes` after defaults (see `RateLimitClassOptions`). */
export interface ClassSettings {
  /** Per class, its reserved minimum share of a model's requests while higher classes wait too (0: none). */
  readonly reservedShare: Readonly<Record<TrafficClass, number>>;
}

/** See {@link RateLimiter.outlook}. */
export interface LimiterOutlook {
  /** Epoch ms until which the model is paused after a 429 (in the past: not paused). */
  readonly pausedUntil: number;
  /** Milliseconds until one more request would be let go (0: now). */
  readonly wait: number;
  readonly requestsPerMinute: number | undefined;
}

const MAX_MODELS = 1_000;


/**
 * Paces requests per model with buckets for requests and tokens per minute, configured or learned from
 * `x-ratelimit-*` headers. Before the server says what is left they hold one second's requests and a
 * whole minute's tokens (`BURST_SECONDS`); then its `x-ratelimit-remaining-*` says what may go, spent in
 * bursts that grow as answers confirm them, and finely paced below the limit once a 429 comes despite
 * headroom (see `LimitBucket`). Callers reserve capacity and wait their turn (in arrival order) instead of
 * collecting 429s, woken early when capacity comes early; after a 429 the model pauses until the reset
 * the server gave.
 *
 * With shared state, the model's buckets, learned limits and pauses live there, for every process
 * calling as the same account; this process's own buckets take over whenever it does not answer (or
 * knows no limit yet). Tenant shares are counted there too when the backend keeps them (at `tenantShare` of
 * the rate this process knows for the model), else per process.
 *
 * Waiting calls get capacity by traffic class: a call goes ahead of the waiting calls of lower classes,
 * which keep a reserved share if configured (see `ClassLine`); one pushed past its deadline so is refused
 * at once (`RateLimitTimeoutError`). The same holds for a tenant's share (`TenantAdmission`) and, among this
 * process's calls, for the shared buckets (`SharedLimits`). At a full queue (`maxQueued`), the newest
 * waiter of the lowest class below a newcomer gives way to it (`LoadShedError`, see `WaitingSeats`).
 */
export class RateLimiter {
  readonly #models = new LRUCache<string, ModelState>({ max: MAX_MODELS });
  readonly #tenants: TenantAdmission;
  readonly #waiting: WaitContext;
  /** Probe reservations whose verdict was given (a call ends after its response: only the first counts). */
  readonly #finishedProbes = new WeakSet<Reservation>();
  readonly #shared: SharedLimits | undefined;

  constructor(
    private readonly settings: RateLimitSettings,
    private readonly clock: Clock,
    private readonly events: EventBus,
    shared?: SharedLink | undefined,
    /** Where the calls' classes are counted: one for every member of a pool, so `stats()` has one view. */
    private readonly counters: ClassCounters = new ClassCounters(),
  ) {
    this.#waiting = { clock, events, maxQueued: settings.maxQueued };
    this.#shared = shared && new SharedLimits(shared, clock, this.#waiting, settings.maxPause, this.#jumpsAllowed);
    this.#tenants = new TenantAdmission(settings.tenantShare, clock, this.#waiting, this.#jumpsAllowed, shared);
  }

  /** Whether reservations use shared state (and so need a `sharedKey`). */
  get isShared(): boolean {
    return this.#shared !== undefined;
  }

  /**
   * Waits until `model` has capacity for one request of about `tokens` tokens, then returns the
   * reservation. Rejects with `RateLimitTimeoutError` at once when the wait would pass `deadlineAt` or
   * too many calls are waiting, and with the call's abort reason when it is aborted (the reservation is returned).
   * `sharedKey` names the model's buckets in the shared state. The call goes ahead of the waiting calls of
   * a lower `trafficClass` (see the class).
   */
  async acquire(
    model: string,
    estimate: () => number,
    tenant: string | undefined,
    call: Abortable,
    deadlineAt: number | undefined,
    sharedKey?: string,
    trafficClass: TrafficClass = 'default',
  ): Promise<Reservation> {
    const rank = classRank(trafficClass);
    const startedAt = this.clock.now();
    this.counters.asking(trafficClass);
    try {
      const reservation = await this.#acquire(model, estimate, tenant, call, deadlineAt, sharedKey, rank);
      this.counters.granted(trafficClass, this.clock.now() - startedAt);
      return reservation;
    } catch (error) {
      const reason = error instanceof LoadShedError ? 'shed' : error instanceof RateLimitTimeoutError ? (error.wait === undefined ? 'queue_full' : 'deadline') : undefined;
      if (reason) {
        if (reason === 'shed') this.counters.shed(trafficClass);
        else this.counters.rejected(trafficClass);
        this.events.emit('rateLimitReject', { model, tenant, trafficClass, reason });
      }
      throw error;
    } finally {
      this.counters.answered(trafficClass);
    }
  }

  async #acquire(
    model: string,
    estimate: () => number,
    tenant: string | undefined,
    call: Abortable,
    deadlineAt: number | undefined,
    sharedKey: string | undefined,
    rank: number,
  ): Promise<Reservation> {
    const state = this.#state(model);
    if (!this.#shared || sharedKey === undefined) return this.#acquireLocal(model, state, estimate, { tenant, rank }, call, deadlineAt);
    const tokens = estimate();
    // The tenant's share first: a tenant over it reserves no shared capacity before its turn.
    const tenantBucket = await this.#tenants.admit(model, state, { tenant, rank }, call, deadlineAt, sharedKey);
    const cancel = (reservation: Reservation) => this.cancel(reservation);
    const request = { model, state, sharedKey, tokens, configured: this.#configured(model), tenantBucket, tenant, rank, call, deadlineAt, cancel };
    const reservation = await this.#shared.acquire(request);
    // The shared state did not answer: this process's buckets, with the estimate and the tenant's share already taken.
    return reservation ?? this.#acquireLocal(model, state, () => tokens, { tenant, rank }, call, deadlineAt, { tenantBucket });
  }

  /** Paces with this process's own buckets; `admitted` carries a tenant share already taken. */
  async #acquireLocal(
    model: string,
    state: ModelState,
    estimate: () => number,
    who: Caller,
    call: Abortable,
    deadlineAt: number | undefined,
    admitted?: { tenantBucket: TenantHold | undefined },
  ): Promise<Reservation> {
    for (;;) {
      const reservation = await this.#reserveLocal(model, state, estimate, who, call, deadlineAt, admitted);
      // A pause cut short began while this call waited: it ends with a single probe, which this call is not.
      if (reservation.probe || !state.probeOwed) return reservation;
      this.cancel(reservation);
      admitted = undefined;
    }
  }

  async #reserveLocal(
    model: string,
    state: ModelState,
    estimate: () => number,
    { tenant, rank }: Caller,
    call: Abortable,
    deadlineAt: number | undefined,
    admitted: { tenantBucket: TenantHold | undefined } | undefined,
  ): Promise<Reservation> {
    // While the model's calls go one at a time (limits unknown, or a pause cut short), this call waits for its turn.
    const turn = { model, tenant, rank, call, deadlineAt, needed: () => this.#probeNeeded(state) };
    const probe = await probeTurn(state, turn, this.#waiting);
    let tenantBucket: TenantHold | undefined;
    try {
      tenantBucket = admitted ? admitted.tenantBucket : await this.#tenants.admit(model, state, { tenant, rank }, call, deadlineAt);
    } catch (error) {
      if (probe) this.#endProbe(state, probe);
      throw error;
    }
    const tokens = state.tokens ? estimate() : 0;
    const cancel = (reservation: Reservation) => this.cancel(reservation);
    const request = { model, state, tokens, tenantBucket, probe: probe !== undefined, rank, tenant, call, deadlineAt, cancel };
    return reserveInBuckets(request, this.#waiting, (reservation) => {
      if (probe) probe.owner = reservation;
    });
  }

  /** Gives back a reservation whose request was never sent. */
  cancel(reservation: Reservation): void {
    this.finish(reservation, false);
    const { sharedKey } = reservation;
    if (sharedKey !== undefined) {
      this.#shared?.cancel(reservation, sharedKey, this.#configured(reservation.model), reservation.admitted === true);
      reservation.tenantBucket?.refund(1, this.clock.now());
      return;
    }
    const now = this.clock.now();
    for (const place of Object.values(reservation.places ?? {})) place.bucket.cancel(place.ticket, now);
    reservation.tenantBucket?.refund(1, now);
    // The calls behind it move up.
    this.#models.get(reservation.model)?.wakeups.notify();
  }

  /**
   * The reserved request is over: a probe gives its verdict (only its first end counts), and the calls
   * waiting for it look again. A success (`succeeded`) ends the probing after a pause cut short (in the
   * shared state too, for a shared probe); one that brought no `x-ratelimit-*` headers marks the model
   * as one with nothing to learn.
   */
  finish(reservation: Reservation, succeeded: boolean): void {
    this.#ended(reservation);
    if (!reservation.probe || this.#finishedProbes.has(reservation)) return;
    this.#finishedProbes.add(reservation);
    const state = this.#models.get(reservation.model);
    // A probe's success ends the pause it probed; a 429 has paused the model again before this.
    if (succeeded && state) state.probeOwed = false;
    const { sharedKey } = reservation;
    if (sharedKey !== undefined) {
      this.#shared?.probeEnd(sharedKey, succeeded);
      return;
    }
    const probe = state?.probe;
    if (!probe || probe.owner !== reservation) return;
    if (succeeded && !state.requests && !state.tokens) state.headerless = true;
    this.#endProbe(state, probe);
  }

  /**
   * The reservation's request is over, answered or not: it no longer counts as in flight (see
   * `LimitBucket.ended`); in the shared state too, when no answer said so already.
   */
  #ended(reservation: Reservation): void {
    const { requests, tokens } = reservation.places ?? {};
    requests?.bucket.ended(requests.ticket);
    tokens?.bucket.ended(tokens.ticket);
    const { sharedKey, sharedPlaces } = reservation;
    // (Without learning, or without marks, nothing reads what is in flight.)
    if (sharedKey === undefined || !sharedPlaces || !reservation.sharedMarks || reservation.told || !this.settings.learn) return;
    reservation.told = true;
    const answer = { places: sharedPlaces, marks: reservation.sharedMarks, tokens: reservation.tokens, rateLimited: false, succeeded: false, elapsed: 0 };
    this.#shared?.ended(sharedKey, this.#configured(reservation.model), answer);
  }

  /** `probe` gave its verdict (or was never sent): the calls waiting for it look again. */
  #endProbe(state: ModelState, probe: ModelProbe): void {
    if (state.probe === probe) state.probe = undefined;
    probe.finish();
  }

  /** Corrects a reservation's token estimate with the response's `usage`. */
  settle(reservation: Reservation, usedTokens: number | undefined): void {
    if (usedTokens === undefined || reservation.tokens === 0) return;
    const { sharedKey } = reservation;
    if (sharedKey !== undefined) {
      this.#shared?.settle(reservation, sharedKey, usedTokens, this.#configured(reservation.model));
      return;
    }
    const place = reservation.places?.tokens;
    const difference = usedTokens - reservation.tokens;
    if (!place || difference === 0) return;
    place.bucket.correct(difference, this.clock.now());
    if (difference < 0) this.#models.get(reservation.model)?.wakeups.notify();
  }

  /**
   * Pauses `model` for `ms` (after a 429 `rate_limited`, until the reset the server gave), in the shared
   * state too when `sharedKey` names it there. No pause lasts longer than `maxPause`: a longer one is cut
   * short there and ends with a probe (one call goes first, the others wait for its verdict). Its buckets
   * are held empty meanwhile (no refill), so the calls held by the pause go out at the model's rate after
   * it, not all at the instant it ends; callers already waiting move back by the refill time the pause
   * takes away.
   */
  pause(model: string, ms: number, sharedKey?: string): void {
    const { maxPause } = this.settings;
    const cutShort = ms > maxPause;
    const length = Math.min(ms, maxPause);
    // Not a number of ms (NaN, negative, or endless under an endless maxRetryAfter): not a pause.
    if (!(length >= 0 && length < Number.POSITIVE_INFINITY)) return;
    const state = this.#state(model);
    pauseModel(state, length, this.clock.now());
    if (cutShort) state.probeOwed = true;
    if (sharedKey !== undefined) this.#shared?.pause(sharedKey, length, this.#configured(model), cutShort);
  }

  /**
   * Learns limits and what is left from a response's (or an error's) `x-ratelimit-*` headers, in the
   * shared state too when `sharedKey` names it there. With `outcome`, what is left is read against where
   * that call's reservation was taken (calls reserved after it are not double-spent), a success widens
   * the bursts, and a 429 despite headroom makes the pacing finer (see `LimitBucket`). Calls waiting for
   * capacity that came early are woken.
   */
  learn(model: string, headers: HeadersLike | undefined, sharedKey?: string, outcome?: AnswerOutcome): void {
    if (!headers || !this.settings.learn) return;
    const learned = limitsFromHeaders(headers);
    const configured = this.#configured(model);
    const now = this.clock.now();
    const state = this.#state(model);
    const reservation = outcome?.reservation;
    const elapsed = reservation?.sentAt === undefined ? 0 : Math.max(0, now - reservation.sentAt);
    const limitType = outcome?.limitType === 'requests' || outcome?.limitType === 'tokens' ? outcome.limitType : undefined;
    const answer: CallAnswer | undefined = outcome && {
      places: reservation?.places,
      tokens: reservation?.tokens || (outcome.usedTokens ?? 0),
      rateLimited: outcome.rateLimited,
      succeeded: outcome.succeeded,
      limitType,
      elapsed,
    };
    learnLimits(state, learned, configured, now, answer);
    state.wakeups.notify();
    if (sharedKey === undefined || !this.#shared || !Object.values(learned).some((value) => value !== undefined)) return;
    const places = reservation?.sharedPlaces;
    // An answer is read against its reservation once; another (a stream's end) is headers alone.
    const sharedAnswer: SharedAnswer | undefined = outcome && places && !reservation.told ? {
      places, marks: reservation.sharedMarks, tokens: reservation.tokens, rateLimited: outcome.rateLimited, succeeded: outcome.succeeded, limitType, elapsed,
    } : undefined;
    if (sharedAnswer) reservation!.told = true;
    this.#shared.learn(state, sharedKey, learned, configured, sharedAnswer);
  }

  /** Limits in force for a model: configured, learned, or none yet. */
  limits(model: string): ModelLimitsView {
    return limitsView(this.#models.get(model), this.clock.now());
  }

  /**
   * What a pool's routing reads of `model` (without creating its state): until when it is paused after a
   * 429, how long one more request would wait for its buckets, and its requests per minute when known.
   */
  outlook(model: string): LimiterOutlook {
    const state = this.#models.peek(model);
    if (!state) return { pausedUntil: 0, wait: 0, requestsPerMinute: this.#configured(model).requestsPerMinute };
    const now = this.clock.now();
    const wait = Math.max(state.requests?.nextIn(now) ?? 0, state.tokens?.nextIn(now) ?? 0);
    return { pausedUntil: state.pausedUntil, wait, requestsPerMinute: state.requests?.perMinute };
  }

  /** Why the model's calls go one at a time now: a pause was cut short, or its limits are not known yet. */
  #probeNeeded(state: ModelState): ProbeReason | undefined {
    if (state.probeOwed) return 'pause';
    return this.settings.learn && !state.requests && !state.tokens && !state.headerless ? 'learning' : undefined;
  }

  /** Per class rank, how many calls in a row may go ahead of that class's waiting calls (its reserved share). */
  readonly #jumpsAllowed = (rank: number): number => {
    return jumpsAllowed(this.settings.classes?.reservedShare[classOfRank(rank)] ?? 0);
  };

  #configured(model: string): ModelLimits {
    return this.settings.models[model] ?? this.settings.defaults;
  }

  #state(model: string): ModelState {
    let state = this.#models.get(model);
    if (!state) this.#models.set(model, (state = newModelState(this.#configured(model), this.clock.now(), this.#jumpsAllowed)));
    return state;
  }
}
