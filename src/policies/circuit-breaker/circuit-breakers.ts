import { LRUCache } from 'lru-cache';
import type { ErrorKind } from '../../classify/error-kind.js';
import { CircuitOpenError } from '../../errors/circuit-open-error.js';
import type { EventBus } from '../../events/event-bus.js';
import type { Clock } from '../../internal/clock.js';
import { Circuit, type Admission, type CircuitSettings, type CircuitSnapshot, type CircuitState, type Transition } from './circuit.js';

/** Kinds that say the upstream is unhealthy; every other outcome neither opens nor closes a circuit. */
export const BREAKER_KINDS: ReadonlySet<ErrorKind> = new Set<ErrorKind>([
  'server_error', 'overloaded', 'timeout', 'connection', 'malformed_response',
]);

/** The most circuits kept; the least recently used beyond it are forgotten. */
const MAX_CIRCUITS = 10_000;

interface Entry {
  readonly circuit: Circuit;
  openedBy?: unknown;
}

/** Exported breaker state: plain JSON, safe to store (no keys or prompts, only breaker keys). */
export interface BreakerState {
  readonly version: 1;
  readonly circuits: Readonly<Record<string, CircuitSnapshot>>;
}

/** One circuit per key, created on first use; emits `circuitOpen`, `circuitHalfOpen` and `circuitClose`. */
export class CircuitBreakers {
  readonly #entries = new LRUCache<string, Entry>({ max: MAX_CIRCUITS });

  constructor(
    private readonly settings: CircuitSettings,
    private readonly clock: Clock,
    private readonly events: EventBus,
  ) {}

  /** Admits an attempt for `key`, or throws `CircuitOpenError` without it being sent. */
  admit(key: string): Admission {
    const entry = this.#entry(key);
    const now = this.clock.now();
    const result = entry.circuit.admit(now);
    if ('retryAt' in result) throw new CircuitOpenError(key, result.retryAt, now, entry.openedBy);
    this.#announce(key, result.transition, undefined);
    return result.admission;
  }

  /** Records how an admitted attempt ended: a success, a failure of `kind`, or nothing health-related. */
  record(key: string, admission: Admission, outcome: { ok: true } | { ok: false; kind: ErrorKind; error: unknown }): void {
    const entry = this.#entry(key);
    const now = this.clock.now();
    if (outcome.ok) {
      this.#announce(key, entry.circuit.success(admission, now), undefined);
    } else if (BREAKER_KINDS.has(outcome.kind)) {
      const transition = entry.circuit.failure(admission, now);
      if (transition?.to === 'open') entry.openedBy = outcome.error;
      this.#announce(key, transition, outcome.error);
    } else {
      entry.circuit.neutral(admission);
    }
  }

  /** Whether an attempt for `key` would be refused at time `at`. */
  refusesAt(key: string, at: number): boolean {
    const snapshot = this.#entries.get(key)?.circuit.snapshot();
    return snapshot?.state === 'open' && snapshot.retryAt !== undefined && at < snapshot.retryAt;
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
    if (!entry) this.#entries.set(key, (entry = { circuit: new Circuit(this.settings) }));
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
