import { LRUCache } from 'lru-cache';
import type { ErrorKind } from '../../classify/error-kind.js';
import { CircuitOpenError } from '../../errors/circuit-open-error.js';
import type { EventBus } from '../../events/event-bus.js';
import type { Clock } from '../../internal/clock.js';
import type { SharedLink } from '../../shared/shared-link.js';
import { Circuit, type Admission, type CircuitSettings, type CircuitSnapshot, type CircuitState, type OpenReason, type Transition } from './circuit.js';

/** Kinds that say the upstream is unhealthy; every other outcome neither opens nor closes a circuit. */
export const BREAKER_KINDS: ReadonlySet<ErrorKind> = new Set<ErrorKind>([
  'server_error', 'overloaded', 'timeout', 'connection', 'malformed_response',
]);

/** The most circuits kept; the least recently used beyond it are forgotten. */
const MAX_CIRCUITS = 10_000;

interface Entry {
  readonly circuit: Circuit;
  openedBy?: unknown;
  /** Retries waiting for the open circuit's next probes (see `awaitProbe`). */
  waiting: number;
}

/** Exported breaker state: plain JSON, safe to store (no keys or prompts, only breaker keys). */
export interface BreakerState {
  readonly version: 1;
  readonly circuits: Readonly<Record<string, CircuitSnapshot>>;
}

/** How an admitted attempt ended, for the breaker: a success, or a failure of `kind`. */
export type BreakerOutcome = { readonly ok: true } | { readonly ok: false; readonly kind: ErrorKind; readonly error: unknown };

/**
 * One circuit per key, created on first use; emits `circuitOpen`, `circuitHalfOpen` and `circuitClose`.
 *
 * With shared state, each process still counts its own failures, and what it decides is shared: a circuit
 * it opens is open for every process (they adopt it on their next attempt), and once the pause is over
 * only the holders of the shared probe leases go through; their outcome closes or reopens it everywhere.
 * When the shared state does not answer, this process's circuits decide alone.
 */
export class CircuitBreakers {
  readonly #entries = new LRUCache<string, Entry>({ max: MAX_CIRCUITS });

  constructor(
    private readonly settings: CircuitSettings,
    private readonly clock: Clock,
    private readonly events: EventBus,
    private readonly shared?: SharedLink | undefined,
  ) {}

  /** Whether admissions consult shared state (and so need a `sharedKey`). */
  get isShared(): boolean {
    return this.shared !== undefined;
  }

  /**
   * Admits an attempt for `key`, or throws `CircuitOpenError` without it being sent. With shared state
   * and a `sharedKey` (the circuit's name across processes), the shared circuit is asked too.
   */
  admit(key: string, sharedKey?: string): Admission | Promise<Admission> {
    const entry = this.#entry(key);
    const now = this.clock.now();
    const result = entry.circuit.admit(now);
    if ('retryAt' in result) throw new CircuitOpenError(key, result.retryAt, now, entry.openedBy);
    this.#announce(key, result.transition, undefined);
    if (!this.shared || sharedKey === undefined) return result.admission;
    return this.#admitShared(key, sharedKey, entry, result.admission, this.shared);
  }

  /** Records how an admitted attempt ended: a success, a failure of `kind`, or nothing health-related. */
  record(key: string, admission: Admission, outcome: BreakerOutcome): void {
    const entry = this.#entry(key);
    const now = this.clock.now();
    const { sharedKey, sharedProbe } = admission;
    if (outcome.ok) {
      this.#announce(key, entry.circuit.success(admission, now), undefined);
      if (sharedKey !== undefined && sharedProbe) this.shared?.send('circuitClose', (backend) => backend.circuitClose(sharedKey));
    } else if (BREAKER_KINDS.has(outcome.kind)) {
      const transition = entry.circuit.failure(admission, now);
      if (transition?.to === 'open') entry.openedBy = outcome.error;
      this.#announce(key, transition, outcome.error);
      if (sharedKey !== undefined && (sharedProbe || transition?.to === 'open')) {
        if (sharedProbe) entry.openedBy = outcome.error;
        this.#openShared(key, sharedKey, entry, sharedProbe === true, outcome.error);
      }
    } else {
      entry.circuit.neutral(admission);
      if (sharedKey !== undefined && sharedProbe) this.shared?.send('circuitRelease', (backend) => backend.circuitRelease(sharedKey));
    }
  }

  async #admitShared(key: string, sharedKey: string, entry: Entry, admission: Admission, shared: SharedLink): Promise<Admission> {
    const answer = await shared.run('circuitAdmit', (backend) => backend.circuitAdmit(sharedKey, this.settings.halfOpenProbes));
    if (!answer) return admission;
    if (answer.state === 'closed') return { ...admission, sharedKey };
    if (answer.state === 'probe') return { ...admission, sharedKey, sharedProbe: true };
    // Open in another process, or its pause is over and another process holds the probe lease (then,
    // as for a local probe in flight, the answer may come any moment: no wait is announced).
    entry.circuit.neutral(admission);
    const now = this.clock.now();
    if (answer.state === 'probing') throw new CircuitOpenError(key, now, now, entry.openedBy);
    const retryAt = now + answer.retryIn;
    this.#adopt(key, entry, retryAt, answer.openings, 'shared', undefined);
    throw new CircuitOpenError(key, retryAt, now, entry.openedBy);
  }

  /** Opens the shared circuit (this process opened its own, or its shared probe failed) and adopts its pause. */
  #openShared(key: string, sharedKey: string, entry: Entry, probeFailed: boolean, error: unknown): void {
    const pause = { halfOpenAfter: this.settings.halfOpenAfter, maxHalfOpenAfter: this.settings.maxHalfOpenAfter };
    void this.shared?.run('circuitOpen', (backend) => backend.circuitOpen(sharedKey, pause, probeFailed)).then((answer) => {
      if (answer) this.#adopt(key, entry, this.clock.now() + answer.retryIn, answer.openings, probeFailed ? 'probe_failed' : 'shared', error);
    });
  }

  #adopt(key: string, entry: Entry, retryAt: number, openings: number, reason: OpenReason, error: unknown): void {
    this.#announce(key, entry.circuit.adopt(retryAt, openings, reason), error);
  }

  /**
   * When the circuit for `key` lets its next probe through, if an attempt at time `at` would be refused
   * (it is open until after `at`); `undefined` when it would not be.
   */
  refusedUntil(key: string, at: number): number | undefined {
    const snapshot = this.#entries.get(key)?.circuit.snapshot();
    return snapshot?.state === 'open' && snapshot.retryAt !== undefined && at < snapshot.retryAt ? snapshot.retryAt : undefined;
  }

  /**
   * Takes a place among the retries waiting for `key`'s open circuit to let probes through: as many as it
   * has probes (`halfOpenProbes`). Returns how to give it back, or `undefined` when every place is taken.
   */
  awaitProbe(key: string): (() => void) | undefined {
    const entry = this.#entry(key);
    if (entry.waiting >= this.settings.halfOpenProbes) return undefined;
    entry.waiting++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      entry.waiting--;
    };
  }

  /** The state of every known circuit, by key. */
  states(): Record<string, CircuitState> {
    const now = this.clock.now();
    const states: Record<string, CircuitState> = {};
    for (const [key, entry] of this.#entries.entries()) states[key] = entry.circuit.state(now);
    return states;
  }

  exportState(): BreakerState {
    const circuits: Record<string, CircuitSnapshot> = {};
    for (const [key, entry] of this.#entries.entries()) circuits[key] = entry.circuit.snapshot();
    return { version: 1, circuits };
  }

  restoreState(state: BreakerState): void {
    if (state?.version !== 1 || typeof state.circuits !== 'object' || state.circuits === null) {
      throw new TypeError('openai-resilient: `restoreState()` expects the object returned by `exportState()` (version 1).');
    }
    const now = this.clock.now();
    for (const [key, snapshot] of Object.entries(state.circuits)) {
      this.#announce(key, this.#entry(key).circuit.restore(snapshot, now), undefined);
    }
  }

  #entry(key: string): Entry {
    let entry = this.#entries.get(key);
    if (!entry) this.#entries.set(key, (entry = { circuit: new Circuit(this.settings), waiting: 0 }));
    return entry;
  }

  #announce(key: string, transition: Transition | undefined, error: unknown): void {
    if (!transition) return;
    if (transition.to === 'open') {
      this.events.emit('circuitOpen', {
        key, reason: transition.reason, retryAt: transition.retryAt,
        retryAfter: Math.max(0, transition.retryAt - this.clock.now()), error,
      });
    } else if (transition.to === 'half_open') {
      this.events.emit('circuitHalfOpen', { key });
    } else {
      this.events.emit('circuitClose', { key });
    }
  }
}
