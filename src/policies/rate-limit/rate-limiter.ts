import { LRUCache } from 'lru-cache';
import type { HeadersLike } from '../../classify/retry-hint.js';
import type { EventBus } from '../../events/event-bus.js';
import type { Abortable } from '../../internal/abort-scope.js';
import type { Clock } from '../../internal/clock.js';
import type { SharedRateAnswer } from '../../shared/shared-backend.js';
import type { SharedLink } from '../../shared/shared-link.js';
import { waitForCapacity, type WaitContext } from './capacity-wait.js';
import type { ModelProbe, ProbeReason } from './model-probe.js';
import { learnLimits, limitsView, newModelState, pauseModel, type ModelLimits, type ModelLimitsView, type ModelState } from './model-state.js';
import { probeTurn } from './probe-turn.js';
import { limitsFromHeaders } from './rate-limit-headers.js';
import { TenantShares } from './tenant-shares.js';
import type { TokenBucket } from './token-bucket.js';

export type { ModelLimits } from './model-state.js';

/** Rate limiter settings after defaults (see `RateLimitOptions`). */
export interface RateLimitSettings {
  readonly defaults: ModelLimits;
  readonly models: Readonly<Record<string, ModelLimits>>;
  readonly learn: boolean;
  readonly maxQueued: number;
  readonly tenantShare: number;
  /** Longest pause after a 429, in ms (`retry.maxRetryAfter`): a longer reset is cut short and ends with a probe. */
  readonly maxPause: number;
}

/** What an admitted call holds, to correct its token estimate once `usage` is known. */
export interface Reservation {
  readonly model: string;
  readonly tokens: number;
  /** The tenant's own bucket, when a `tenantShare` applies. */
  readonly tenantBucket?: TokenBucket | undefined;
  /**
   * This call goes alone while the others wait for its verdict: the first to a model whose limits are not
   * known yet, or the first after a pause cut short at `maxPause`.
   */
  readonly probe: boolean;
  /** The shared buckets it was taken from (by their name across processes), when shared state answered. */
  readonly sharedKey?: string | undefined;
}

const MAX_MODELS = 1_000;

/**
 * Paces requests per model with token buckets for requests and tokens per minute, configured or learned
 * from `x-ratelimit-*` headers; they hold one second's requests and a whole minute's tokens
 * (`BURST_SECONDS`). Callers reserve capacity and wait their turn (in arrival order) instead of
 * collecting 429s; after a 429 the model pauses until the reset the server gave.
 *
 * With shared state, the model's buckets, learned limits and pauses live there, for every process
 * calling as the same account; this process's own buckets take over whenever it does not answer (or
 * knows no limit yet). Tenant shares stay per process.
 */
export class RateLimiter {
  readonly #models = new LRUCache<string, ModelState>({ max: MAX_MODELS });
  readonly #tenants: TenantShares;
  readonly #waiting: WaitContext;
  /** Probe reservations whose verdict was given (a call ends after its response: only the first counts). */
  readonly #finishedProbes = new WeakSet<Reservation>();

  constructor(
    private readonly settings: RateLimitSettings,
    private readonly clock: Clock,
    events: EventBus,
    private readonly shared?: SharedLink | undefined,
  ) {
    this.#tenants = new TenantShares(settings.tenantShare);
    this.#waiting = { clock, events, maxQueued: settings.maxQueued };
  }

  /** Whether reservations use shared state (and so need a `sharedKey`). */
  get isShared(): boolean {
    return this.shared !== undefined;
  }

  /**
   * Waits until `model` has capacity for one request of about `tokens` tokens, then returns the
   * reservation. Rejects with `RateLimitTimeoutError` at once when the wait would pass `deadlineAt` or
   * too many calls are waiting, and with the call's abort reason when it is aborted (the reservation is returned).
   * `sharedKey` names the model's buckets in the shared state.
   */
  async acquire(
    model: string,
    estimate: () => number,
    tenant: string | undefined,
    call: Abortable,
    deadlineAt: number | undefined,
    sharedKey?: string,
  ): Promise<Reservation> {
    const state = this.#state(model);
    if (!this.shared || sharedKey === undefined) return this.#acquireLocal(model, state, estimate, tenant, call, deadlineAt);
    const tokens = estimate();
    // The tenant's share first: a tenant over it reserves no shared capacity before its turn.
    const tenantBucket = await this.#admitTenant(model, state, tenant, call, deadlineAt);
    const configured = this.#configured(model);
    const { maxPause } = this.settings;
    for (;;) {
      const answer = await this.shared.run('rateReserve', (backend) => backend.rateReserve(sharedKey, tokens, configured, maxPause));
      // The shared state did not answer: this process's buckets, with the estimate and the tenant's share already taken.
      if (!answer) return this.#acquireLocal(model, state, () => tokens, tenant, call, deadlineAt, { tenantBucket });
      if (answer.reason !== 'probing') return this.#acquireShared(model, state, sharedKey, tokens, answer, tenantBucket, tenant, call, deadlineAt);
      // Nothing was taken: a cut-short pause is still on, or another call is its probe. Ask again after the wait.
      const giveBack = () => tenantBucket?.refund(1, this.clock.now());
      const waits = { paused: Math.max(1, answer.wait) };
      await waitForCapacity(state, { model, tenant, waits, call, deadlineAt, giveBack, followPause: false }, this.#waiting);
    }
  }

  /** Paces with this process's own buckets; `admitted` carries a tenant share already taken. */
  async #acquireLocal(
    model: string,
    state: ModelState,
    estimate: () => number,
    tenant: string | undefined,
    call: Abortable,
    deadlineAt: number | undefined,
    admitted?: { tenantBucket: TokenBucket | undefined },
  ): Promise<Reservation> {
    for (;;) {
      const reservation = await this.#reserveLocal(model, state, estimate, tenant, call, deadlineAt, admitted);
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
    tenant: string | undefined,
    call: Abortable,
    deadlineAt: number | undefined,
    admitted: { tenantBucket: TokenBucket | undefined } | undefined,
  ): Promise<Reservation> {
    // While the model's calls go one at a time (limits unknown, or a pause cut short), this call waits for its turn.
    const turn = { model, tenant, call, deadlineAt, needed: () => this.#probeNeeded(state) };
    const probe = await probeTurn(state, turn, this.#waiting);
    let tenantBucket: TokenBucket | undefined;
    try {
      tenantBucket = admitted ? admitted.tenantBucket : await this.#admitTenant(model, state, tenant, call, deadlineAt);
    } catch (error) {
      if (probe) this.#endProbe(state, probe);
      throw error;
    }
    const now = this.clock.now();
    const needsTokens = state.tokens !== undefined;
    const tokens = needsTokens ? estimate() : 0;
    const waits = {
      paused: Math.max(0, state.pausedUntil - now),
      requests: state.requests?.reserve(1, now) ?? 0,
      tokens: state.tokens?.reserve(tokens, now) ?? 0,
    };
    const reservation: Reservation = { model, tokens: needsTokens ? tokens : 0, tenantBucket, probe: probe !== undefined };
    if (probe) probe.owner = reservation;
    const giveBack = () => this.cancel(reservation);
    await waitForCapacity(state, { model, tenant, waits, call, deadlineAt, giveBack, followPause: true }, this.#waiting);
    return reservation;
  }

  /** The shared buckets took the reservation (`answer` says how long until it is covered). */
  async #acquireShared(
    model: string,
    state: ModelState,
    sharedKey: string,
    tokens: number,
    answer: SharedRateAnswer,
    tenantBucket: TokenBucket | undefined,
    tenant: string | undefined,
    call: Abortable,
    deadlineAt: number | undefined,
  ): Promise<Reservation> {
    const now = this.clock.now();
    const waits = {
      paused: Math.max(0, state.pausedUntil - now, answer.reason === 'paused' ? answer.wait : 0),
      requests: answer.reason === 'requests' ? answer.wait : 0,
      tokens: answer.reason === 'tokens' ? answer.wait : 0,
    };
    const reservation: Reservation = { model, tokens: answer.tokensLimited ? tokens : 0, tenantBucket, probe: answer.probe === true, sharedKey };
    const giveBack = () => this.cancel(reservation);
    await waitForCapacity(state, { model, tenant, waits, call, deadlineAt, giveBack, followPause: true }, this.#waiting);
    return reservation;
  }

  /**
   * Takes one request from the tenant's share of `model` (`tenantShare`), waiting first while the tenant
   * is over it. Only then does the call reserve the model's capacity, so a tenant's backlog never books
   * capacity that other tenants could use meanwhile. On refusal or abort the share is given back.
   */
  async #admitTenant(
    model: string,
    state: ModelState,
    tenant: string | undefined,
    call: Abortable,
    deadlineAt: number | undefined,
  ): Promise<TokenBucket | undefined> {
    const tenantBucket = this.#tenants.bucketFor(model, tenant, state.requests, this.clock.now());
    if (!tenantBucket) return undefined;
    const wait = tenantBucket.reserve(1, this.clock.now());
    const giveBack = () => tenantBucket.refund(1, this.clock.now());
    await waitForCapacity(state, { model, tenant, waits: { tenant: wait }, call, deadlineAt, giveBack, followPause: false }, this.#waiting);
    return tenantBucket;
  }

  /** Gives back a reservation whose request was never sent. */
  cancel(reservation: Reservation): void {
    this.finish(reservation, false);
    const { sharedKey, tokens } = reservation;
    if (sharedKey !== undefined) {
      this.shared?.send('rateAdjust', (backend) => backend.rateAdjust(sharedKey, 1, tokens, this.#configured(reservation.model)));
      reservation.tenantBucket?.refund(1, this.clock.now());
      return;
    }
    const state = this.#models.get(reservation.model);
    const now = this.clock.now();
    state?.requests?.refund(1, now);
    if (reservation.tokens > 0) state?.tokens?.refund(reservation.tokens, now);
    reservation.tenantBucket?.refund(1, now);
  }

  /**
   * The reserved request is over: a probe gives its verdict (only its first end counts), and the calls
   * waiting for it look again. A success (`succeeded`) ends the probing after a pause cut short (in the
   * shared state too, for a shared probe); one that brought no `x-ratelimit-*` headers marks the model
   * as one with nothing to learn.
   */
  finish(reservation: Reservation, succeeded: boolean): void {
    if (!reservation.probe || this.#finishedProbes.has(reservation)) return;
    this.#finishedProbes.add(reservation);
    const state = this.#models.get(reservation.model);
    // A probe's success ends the pause it probed; a 429 has paused the model again before this.
    if (succeeded && state) state.probeOwed = false;
    const { sharedKey } = reservation;
    if (sharedKey !== undefined) {
      this.shared?.send('rateProbeEnd', async (backend) => backend.rateProbeEnd?.(sharedKey, succeeded));
      return;
    }
    const probe = state?.probe;
    if (!probe || probe.owner !== reservation) return;
    if (succeeded && !state.requests && !state.tokens) state.headerless = true;
    this.#endProbe(state, probe);
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
      const overestimate = reservation.tokens - usedTokens;
      if (overestimate !== 0) this.shared?.send('rateAdjust', (backend) => backend.rateAdjust(sharedKey, 0, overestimate, this.#configured(reservation.model)));
      return;
    }
    const bucket = this.#models.get(reservation.model)?.tokens;
    const difference = usedTokens - reservation.tokens;
    if (!bucket || difference === 0) return;
    if (difference > 0) bucket.reserve(difference, this.clock.now());
    else bucket.refund(-difference, this.clock.now());
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
    if (sharedKey !== undefined) this.shared?.send('ratePause', (backend) => backend.ratePause(sharedKey, length, this.#configured(model), cutShort));
  }

  /**
   * Learns limits and what is left from a response's (or an error's) `x-ratelimit-*` headers, in the
   * shared state too when `sharedKey` names it there.
   */
  learn(model: string, headers: HeadersLike | undefined, sharedKey?: string): void {
    if (!headers || !this.settings.learn) return;
    const learned = limitsFromHeaders(headers);
    const configured = this.#configured(model);
    learnLimits(this.#state(model), learned, configured, this.clock.now());
    if (sharedKey !== undefined && Object.values(learned).some((value) => value !== undefined)) {
      this.shared?.send('rateLearn', (backend) => backend.rateLearn(sharedKey, learned, configured));
    }
  }

  /** Limits in force for a model: configured, learned, or none yet. */
  limits(model: string): ModelLimitsView {
    return limitsView(this.#models.get(model), this.clock.now());
  }

  /** Why the model's calls go one at a time now: a pause was cut short, or its limits are not known yet. */
  #probeNeeded(state: ModelState): ProbeReason | undefined {
    if (state.probeOwed) return 'pause';
    return this.settings.learn && !state.requests && !state.tokens && !state.headerless ? 'learning' : undefined;
  }

  #configured(model: string): ModelLimits {
    return this.settings.models[model] ?? this.settings.defaults;
  }

  #state(model: string): ModelState {
    let state = this.#models.get(model);
    if (!state) this.#models.set(model, (state = newModelState(this.#configured(model), this.clock.now())));
    return state;
  }
}
