import { RollingCounter } from '../rolling-counter.js';

export type CircuitState = 'closed' | 'open' | 'half_open';

/** The breaker settings after defaults (see `CircuitBreakerOptions`). */
export interface CircuitSettings {
  readonly consecutiveFailures: number;
  readonly failureRatio: number;
  readonly minimumCalls: number;
  readonly window: number;
  readonly halfOpenAfter: number;
  readonly maxHalfOpenAfter: number;
  /** Each open pause is drawn between 1 and 1.2 times its value. */
  readonly jitter: boolean;
  readonly halfOpenProbes: number;
  /** How far ahead a refused call may wait for a probe (0: it fails at once); see `CircuitBreakers`. */
  readonly waitForProbe: number;
  /** Calls that may wait for one circuit at once. */
  readonly maxQueued: number;
}

/**
 * Bounds of the factor a jittered open pause is multiplied by: never shorter than the pause itself, so
 * that a model that stays down gets at most one probe per `halfOpenAfter`.
 */
export const PAUSE_JITTER = { min: 1, max: 1.2 } as const;

/** The factor one open pause is multiplied by: 1 without jitter, else drawn between the bounds. */
export function pauseFactor(jitter: boolean, random: () => number = Math.random): number {
  return jitter ? PAUSE_JITTER.min + (PAUSE_JITTER.max - PAUSE_JITTER.min) * random() : 1;
}

/** Why a circuit opened. */
export type OpenReason = 'consecutive_failures' | 'failure_ratio' | 'probe_failed' | 'restored' | 'shared';

/** What a circuit reports when its state changes. */
export type Transition =
  | { readonly to: 'open'; readonly reason: OpenReason; readonly retryAt: number; readonly failures: number }
  | { readonly to: 'half_open' }
  | { readonly to: 'closed' };

/** A JSON-serialisable picture of one circuit, for `exportState()` / `restoreState()`. */
export interface CircuitSnapshot {
  readonly state: CircuitState;
  /** When an open circuit lets its next probe through (epoch ms). */
  readonly retryAt?: number | undefined;
  /** How many times in a row it opened without closing (drives the growing pause). */
  readonly openings: number;
}

/**
 * Why an attempt was not admitted: the circuit is open until `retryAt`, or (`probing`) its pause is over
 * and every probe's place is taken, so the answer may come any moment (`retryAt` is then now).
 */
export interface Refusal {
  readonly retryAt: number;
  readonly probing: boolean;
}

/** The ticket of an admitted attempt; hand it back with the outcome. */
export interface Admission {
  /** This attempt probes this process's half-open circuit. */
  readonly probe: boolean;
  /**
   * The circuit's period when the attempt was admitted (it changes each time the circuit opens or
   * closes): the outcome of an attempt admitted in an earlier period says nothing about this one.
   */
  readonly period: number;
  /** The circuit's name in the shared state, when there is one and it answered. */
  readonly sharedKey?: string | undefined;
  /** This attempt holds the shared circuit's probe lease: its outcome closes or reopens it everywhere. */
  readonly sharedProbe?: boolean | undefined;
}

/**
 * One circuit's state machine. Time is passed in (no timers): an open circuit turns half-open the first
 * time it is consulted after its pause, so nothing keeps a process alive.
 *
 * - closed: everything passes; counted failures open it on `consecutiveFailures` in a row, or when
 *   `failureRatio` of at least `minimumCalls` outcomes in the last `window` failed.
 * - open: nothing passes until `retryAt`: `halfOpenAfter` later (times 1 to 1.2 with `jitter`).
 * - half-open: `halfOpenProbes` attempts pass at a time; a success closes it, a counted failure reopens it
 *   (for twice the previous pause when `maxHalfOpenAfter` allows it), anything else frees the probe's place.
 *
 * Each opening and closing starts a new period, and only attempts admitted in the current one count: an
 * LLM call can outlast a pause, and a failure of the outage before must not reopen a recovered circuit
 * (nor a probe of an earlier half-open period decide the current one).
 */
export class Circuit {
  #state: CircuitState = 'closed';
  #retryAt = 0;
  #openings = 0;
  #consecutive = 0;
  #probes = 0;
  #period = 0;
  readonly #outcomes: RollingCounter;
  readonly #failures: RollingCounter;

  constructor(
    private readonly settings: CircuitSettings,
    private readonly random: () => number = Math.random,
  ) {
    this.#outcomes = new RollingCounter(settings.window);
    this.#failures = new RollingCounter(settings.window);
  }

  /** Admits an attempt (returning its ticket and any transition), or says when to come back. */
  admit(now: number): { admission: Admission; transition?: Transition } | Refusal {
    let transition: Transition | undefined;
    if (this.#state === 'open') {
      if (now < this.#retryAt) return { retryAt: this.#retryAt, probing: false };
      this.#state = 'half_open';
      this.#probes = 0;
      transition = { to: 'half_open' };
    }
    if (this.#state === 'half_open') {
      if (this.#probes >= this.settings.halfOpenProbes) return { retryAt: now, probing: true };
      this.#probes++;
      return { admission: { probe: true, period: this.#period }, transition };
    }
    return { admission: { probe: false, period: this.#period } };
  }

  /** The upstream answered well. */
  success(admission: Admission, now: number): Transition | undefined {
    if (admission.period !== this.#period) return undefined;
    if (admission.probe) {
      if (this.#state !== 'half_open') return undefined;
      this.#close();
      return { to: 'closed' };
    }
    if (this.#state !== 'closed') return undefined;
    this.#consecutive = 0;
    this.#outcomes.add(now);
    return undefined;
  }

  /** The upstream failed in a way that says it is unhealthy. */
  failure(admission: Admission, now: number): Transition | undefined {
    if (admission.period !== this.#period) return undefined;
    if (admission.probe) {
      if (this.#state !== 'half_open') return undefined;
      this.#probes = Math.max(0, this.#probes - 1);
      return this.#open(now, 'probe_failed');
    }
    if (this.#state !== 'closed') return undefined;
    this.#consecutive++;
    this.#outcomes.add(now);
    this.#failures.add(now);
    if (this.#consecutive >= this.settings.consecutiveFailures) return this.#open(now, 'consecutive_failures');
    const calls = this.#outcomes.total(now);
    if (calls >= this.settings.minimumCalls && this.#failures.total(now) / calls >= this.settings.failureRatio) {
      return this.#open(now, 'failure_ratio');
    }
    return undefined;
  }

  /** An outcome that says nothing about health (a 4xx, a 429, an abort): frees a probe's place. */
  neutral(admission: Admission): void {
    if (admission.period === this.#period && admission.probe && this.#state === 'half_open') this.#probes = Math.max(0, this.#probes - 1);
  }

  state(now: number): CircuitState {
    return this.#state === 'open' && now >= this.#retryAt ? 'half_open' : this.#state;
  }

  snapshot(): CircuitSnapshot {
    return this.#state === 'open'
      ? { state: 'open', retryAt: this.#retryAt, openings: this.#openings }
      : { state: this.#state, openings: this.#openings };
  }

  /** Takes over a state exported by another process (half-open restores as open until `retryAt`). */
  restore(snapshot: CircuitSnapshot, now: number): Transition | undefined {
    this.#openings = Math.max(0, Math.floor(snapshot.openings));
    if (snapshot.state === 'closed') return undefined;
    this.#state = 'open';
    this.#period++;
    this.#retryAt = snapshot.state === 'open' && snapshot.retryAt !== undefined ? snapshot.retryAt : now;
    return { to: 'open', reason: 'restored', retryAt: this.#retryAt, failures: 0 };
  }

  /**
   * Takes over an open state seen elsewhere (another process, through the shared state): open until
   * `retryAt`, unless already open at least that long. Announces a transition only if it was not open.
   */
  adopt(retryAt: number, openings: number, reason: OpenReason): Transition | undefined {
    const wasOpen = this.#state === 'open';
    if (wasOpen && this.#retryAt >= retryAt) return undefined;
    if (!wasOpen) this.#period++;
    this.#state = 'open';
    this.#retryAt = retryAt;
    this.#openings = Math.max(this.#openings, openings);
    this.#probes = 0;
    this.#consecutive = 0;
    this.#outcomes.reset();
    this.#failures.reset();
    return wasOpen ? undefined : { to: 'open', reason, retryAt, failures: 0 };
  }

  #open(now: number, reason: OpenReason): Transition {
    const failures = reason === 'probe_failed' ? 1 : this.#failures.total(now);
    const grown = Math.min(this.settings.maxHalfOpenAfter, this.settings.halfOpenAfter * 2 ** this.#openings);
    const pause = this.settings.jitter ? Math.round(grown * pauseFactor(true, this.random)) : grown;
    this.#openings++;
    this.#period++;
    this.#state = 'open';
    this.#retryAt = now + pause;
    this.#consecutive = 0;
    this.#outcomes.reset();
    this.#failures.reset();
    return { to: 'open', reason, retryAt: this.#retryAt, failures };
  }

  #close(): void {
    this.#period++;
    this.#state = 'closed';
    this.#openings = 0;
    this.#probes = 0;
    this.#consecutive = 0;
    this.#outcomes.reset();
    this.#failures.reset();
  }
}
