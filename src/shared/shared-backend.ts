/**
 * The contract between the pipeline and a store of state shared by several processes. The pipeline keeps
 * its own per-process state as well and falls back to it whenever the shared store cannot answer, so every
 * method may reject (or take too long): the pipeline times it out, notes the outage and carries on locally.
 *
 * `openai-resilient/redis` implements it on Redis. Keys handed to it are already scoped to an account
 * (see `accountScope`) and hold only model names, breaker keys and fingerprints.
 *
 * @module
 */

/** What the shared circuit of a key says about one attempt. */
export type SharedCircuitAnswer =
  /** Not open anywhere: go ahead. */
  | { readonly state: 'closed' }
  /** Open: refuse until `retryIn` ms from now. */
  | { readonly state: 'open'; readonly retryIn: number; readonly openings: number }
  /** Its pause is over and this attempt holds the probe lease: go ahead as the probe. */
  | { readonly state: 'probe'; readonly openings: number }
  /** Its pause is over, but another process holds the probe lease for `retryIn` ms more: refuse. */
  | { readonly state: 'probing'; readonly retryIn: number; readonly openings: number };

/**
 * How long an open circuit's pause is: `halfOpenAfter × 2^openings`, at most `maxHalfOpenAfter`, times
 * `factor` (the jitter drawn by the process that opens it).
 */
export interface SharedPause {
  readonly halfOpenAfter: number;
  readonly maxHalfOpenAfter: number;
  /** Multiplies the pause (`circuitBreaker.jitter`: from 1 to 1.2). @default 1 */
  readonly factor?: number | undefined;
}

/** What a rate-limit header said, for {@link SharedBackend.rateLearn}. Absent fields were not sent. */
export interface LearnedLimits {
  readonly requestsPerMinute?: number | undefined;
  readonly tokensPerMinute?: number | undefined;
  readonly remainingRequests?: number | undefined;
  readonly remainingTokens?: number | undefined;
}

/** How long a shared reservation waits, and what for. */
export interface SharedRateAnswer {
  readonly wait: number;
  /**
   * What it waits for. `probing`: nothing was taken, ask again after `wait` (a pause cut short at the
   * caller's `maxPause` is still on, or another call is the single probe that ends it).
   */
  readonly reason: 'paused' | 'requests' | 'tokens' | 'probing';
  /** Whether a token limit applies (else the tokens were not counted, and need no correction). */
  readonly tokensLimited: boolean;
  /** This reservation is the probe that ends a pause cut short: its outcome goes to `rateProbeEnd`. */
  readonly probe?: boolean | undefined;
  /**
   * Where the reservation was taken from each limit's buckets (its place in the count of everything
   * reserved there): for `rateCheck` and `rateLearn`. A backend without them is asked nothing more.
   */
  readonly places?: SharedPlaces | undefined;
  /**
   * The shortest `wait` can turn out, when capacity may come before it (bursts that widen as answers confirm
   * them, asked again with `rateCheck`): a call is refused for its deadline only when even this would pass
   * it. Without it, `wait`.
   */
  readonly soonest?: number | undefined;
  /** When the reservation may go now (`wait` 0): what had been sent and answered at that moment, for `rateLearn`. */
  readonly marks?: SharedMarks | undefined;
}

/** Per limit, everything sent (including this request) and everything answered when a request went. */
export interface SharedMarks {
  readonly requests?: { readonly sent: number; readonly answered: number } | undefined;
  readonly tokens?: { readonly sent: number; readonly answered: number } | undefined;
}

/** A reservation's places in a key's request and token buckets. */
export interface SharedPlaces {
  readonly requests?: number | undefined;
  readonly tokens?: number | undefined;
}

/** What the server answered to a reservation's request, besides its headers (see `LimitBucket.answered`). */
export interface SharedAnswer {
  /** The reservation's places, as `rateReserve` gave them. */
  readonly places: SharedPlaces;
  /** Its marks, as `rateReserve` or `rateCheck` gave them when it went (unknown when it went without). */
  readonly marks?: SharedMarks | undefined;
  /** The tokens it reserved (0 when no token limit applied). */
  readonly tokens: number;
  /** A 429 `rate_limited`: the server did not count the request. */
  readonly rateLimited: boolean;
  readonly succeeded: boolean;
  /** The limit a 429 names (OpenAI's error `type`), when it names `requests` or `tokens`. */
  readonly limitType?: 'requests' | 'tokens' | undefined;
  /** Milliseconds since the request was sent. */
  readonly elapsed: number;
}

/** A retry budget's settings, for {@link SharedBackend.budgetRetry} (see `RetryOptions.budget`). */
export interface SharedBudget {
  /** Retries may add at most this fraction of the calls made in the window. */
  readonly ratio: number;
  /** Retries always allowed per window. */
  readonly minRetries: number;
  /** The window, in milliseconds. */
  readonly window: number;
}

/** A usage counter's window, for {@link SharedBackend.usageReserve}: sliding over `ms`, or the calendar month in UTC. */
export type SharedUsageWindow = { readonly kind: 'sliding'; readonly ms: number } | { readonly kind: 'month' };

/** One amount to take from (or, settled, to give back to) a usage counter of the token and spend budgets. */
export interface SharedUsageCharge {
  /** The counter, already scoped to an account: names only limits and tenant fingerprints. */
  readonly key: string;
  /** The counter's limit, in whole units. */
  readonly limit: number;
  readonly window: SharedUsageWindow;
  /** Whole units to take (`usageReserve`), or the correction to apply, positive or negative (`usageSettle`). */
  readonly amount: number;
}

/** What {@link SharedBackend.usageReserve} answered. */
export type SharedUsageAnswer =
  /**
   * Every amount was taken: `used` is what each counter holds now, `slots` where each amount was taken
   * (opaque, for `usageSettle`).
   */
  | { readonly ok: true; readonly used: readonly number[]; readonly slots: readonly number[] }
  /**
   * Nothing was taken: the charge at `index` would pass its limit, whose counter holds `used`; `resetsIn`
   * ms from now enough of it will have left its window for the charge to fit (the month's end for a month).
   */
  | { readonly ok: false; readonly index: number; readonly used: number; readonly resetsIn: number };

/**
 * A state store shared by processes. Every method may reject; none is ever required to succeed.
 *
 * The per-tenant, retry-budget and usage methods are optional, in four groups (`tenantReserve`/`tenantRefund`,
 * `slotTake`/`slotRenew`/`slotRelease`, `budgetCalls`/`budgetRetry`, `usageReserve`/`usageSettle`): a
 * backend without a group leaves that part to each process, as it was before the backend had it.
 */
export interface SharedBackend {
  /** A short name for logs, events and stats, e.g. `"redis"`. */
  readonly name: string;
  /** Whether commands can be sent now (a disconnected client answers `false` and is not waited for). */
  readonly ready: boolean;
  /** Longest wait for one command, in milliseconds, before the pipeline decides on local state. */
  readonly timeout: number;
  /** After a failure, how long the pipeline uses local state only before trying again, in milliseconds. */
  readonly retryInterval: number;
  /** The last connection error the client reported, if any: the reason given while it is not `ready`. */
  readonly lastError?: unknown;

  /** Reads the circuit of `key`; once its pause is over, tries to take one of `probes` probe leases. */
  circuitAdmit(key: string, probes: number): Promise<SharedCircuitAnswer>;
  /**
   * Opens the circuit of `key` (again, after a failed probe, when `probeFailed`). An open circuit whose
   * pause is still running is left as it is. Resolves with the pause in force and the openings so far.
   */
  circuitOpen(key: string, pause: SharedPause, probeFailed: boolean): Promise<{ retryIn: number; openings: number }>;
  /** A probe succeeded: the circuit of `key` closes for every process. */
  circuitClose(key: string): Promise<void>;
  /** A probe ended without saying anything about health: its lease is given back. */
  circuitRelease(key: string): Promise<void>;

  /**
   * Takes one request and `tokens` tokens from the buckets of `key`, configured limits winning over
   * learned ones. Resolves with the wait until the reservation is covered and what it waits for (a pause
   * after a 429, request or token capacity), or `undefined` when no limit is known yet for `key` (then
   * nothing was taken). A pause counts for at most `maxPause` ms from when it was set, whoever set it
   * (without `maxPause`, as long as it was set for); once a pause cut short is over, one reservation is its
   * probe and the others answer `probing` until the probe's verdict (or until its lease lapses).
   */
  rateReserve(key: string, tokens: number, configured: LearnedLimits, maxPause?: number): Promise<SharedRateAnswer | undefined>;
  /**
   * Gives back (positive) or takes more (negative) requests and tokens: a cancelled call (`sent`: refused
   * after its reservation went, so that its place stays), or with `correction` a usage correction (given
   * back only while no header has said what is left: the server's own count then speaks for it).
   */
  rateAdjust(key: string, requests: number, tokens: number, configured: LearnedLimits, correction?: boolean, sent?: boolean): Promise<void>;
  /**
   * Waits asked again for a reservation already taken (`places` from `rateReserve`, `tokens` reserved):
   * how long until it is covered now, after pauses, answers and finer pacing set meanwhile by any
   * process. Nothing is taken. Without it, a shared reservation waits the time `rateReserve` gave.
   */
  rateCheck?(key: string, places: SharedPlaces, tokens: number, configured: LearnedLimits, maxPause?: number): Promise<SharedRateAnswer>;
  /**
   * Learns limits and what is left from response headers (configured limits are never overwritten). With
   * `answer`, what is left is read against where that request was reserved, and a 429 despite headroom
   * makes the limit it names paced finer for every process (see `LimitBucket`); without it, as of now.
   */
  rateLearn(key: string, learned: LearnedLimits, configured: LearnedLimits, answer?: SharedAnswer): Promise<void>;
  /**
   * Pauses `key` for `ms` (after a 429), for every process. `probe`: the server asked for longer and the
   * pause was cut short, so it ends with a single probe.
   */
  ratePause(key: string, ms: number, configured: LearnedLimits, probe?: boolean): Promise<void>;
  /**
   * The probe that ends a pause cut short is over: a success ends the probing, anything else frees its
   * lease for the next probe. Needed only by a backend whose `rateReserve` answers `probe`.
   */
  rateProbeEnd?(key: string, succeeded: boolean): Promise<void>;

  /**
   * Takes one request from a tenant's share of a model's requests (`rateLimit.tenantShare`), for every
   * process: `key` names the account, the tenant (by fingerprint) and the model. The bucket refills at
   * `perMinute` and holds at most `capacity`; the request is taken into debt if need be. Resolves with
   * the wait until it is covered, in ms (0: at once).
   */
  tenantReserve?(key: string, perMinute: number, capacity: number): Promise<number>;
  /** Gives back a request taken by `tenantReserve` that was not sent. */
  tenantRefund?(key: string, perMinute: number, capacity: number): Promise<void>;

  /**
   * Takes a lease on one of a tenant's `max` slots (`bulkhead.maxConcurrentPerTenant`), for every process:
   * `key` names the tenant (by fingerprint), `id` the lease. Resolves with how long the lease holds, in
   * ms, unless renewed (0: `max` leases are held already, nothing was taken). A lease that lapses (its
   * process died) frees its slot.
   */
  slotTake?(key: string, id: string, max: number): Promise<number>;
  /** Renews leases still held (calls still in flight) for as long as `slotTake` said. */
  slotRenew?(key: string, ids: readonly string[]): Promise<void>;
  /** A call ended: its lease is given back. */
  slotRelease?(key: string, id: string): Promise<void>;

  /** Counts `calls` new calls in the retry budget of `key` (an account), over `window` ms. */
  budgetCalls?(key: string, calls: number, window: number): Promise<void>;
  /**
   * Takes one retry from the retry budget of `key` (an account), counted by every process: `true` when the
   * retries of the window stay within `minRetries + ratio × calls`.
   */
  budgetRetry?(key: string, budget: SharedBudget): Promise<boolean>;

  /**
   * Takes every amount from its usage counter (`budgets`: tokens or spend per limit and tenant), or none:
   * atomically for every process, on the backend's clock. A counter is kept until its window has passed
   * since its last use, so usage outlives the processes that counted it. `now` (epoch ms) replaces the
   * backend's clock, for tests only.
   */
  usageReserve?(charges: readonly SharedUsageCharge[], now?: number): Promise<SharedUsageAnswer>;
  /**
   * Applies corrections (`amount`: what was used minus what was reserved) to the slots `usageReserve`
   * answered (or, for a slot that has left its window or a slot of -1, a positive one to the current slot;
   * a negative one is dropped then, as what it corrects is no longer counted). Resolves with what each
   * counter holds after. With slots of -1, it adds usage counted elsewhere (during an outage).
   */
  usageSettle?(charges: readonly SharedUsageCharge[], slots: readonly number[], now?: number): Promise<number[]>;
}
