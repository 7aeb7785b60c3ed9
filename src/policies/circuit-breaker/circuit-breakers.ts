import { LRUCache } from 'lru-cache';
import type { ErrorKind } from '../../errors/error-kind.js';
import { CircuitOpenError } from '../../errors/circuit-open-error.js';
import type { EventBus } from '../../events/event-bus.js';
import type { Clock } from '../../core/clock.js';
import type { SharedLink } from '../../shared/shared-link.js';
import { Circuit, pauseFactor, type Admission, type CircuitSettings, type CircuitSnapshot, type CircuitState, type OpenReason, type Transition } from './circuit.js';
import { mayWait, waitInRoom, WaitingRoom, type ProbeWait, type Refused } from './waiting-room.js';

export type { ProbeWait } from './waiting-room.js';

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
  readonly #entries = new LRUCache<string, Entry>({
    max: MAX_CIRCUITS,
    // A circuit forgotten while calls wait for it: they look again (and find a new, closed one).
    dispose: (_entry, key, reason) => {
      if (reason === 'evict') this.#rooms.get(key)?.wake();
    },
  });
  /** The calls waiting for a circuit, by key; a room exists only while someone waits. */
  readonly #rooms = new Map<string, WaitingRoom>();

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
   * Admits an attempt for `key`. With shared state and a `sharedKey` (the circuit's name across processes),
   * the shared circuit is asked too. A refused attempt throws `CircuitOpenError` without being sent, unless
   * `wait` lets it wait for a probe: one due by `wait.dueBy` and before its deadline, or one running now.
   * It then waits among at most `maxQueued` calls, and asks again each time the circuit changes or lets a
   * probe through: the first one admitted is the probe; a success lets the others go; a failure fails
   * those that no other probe due in time can serve.
   */
  admit(key: string, sharedKey?: string, wait?: ProbeWait): Admission | Promise<Admission> {
    const outcome = this.#tryAdmit(key, sharedKey);
    if (outcome instanceof Promise) return outcome.then((settled) => this.#settle(key, sharedKey, settled, wait));
    return this.#settle(key, sharedKey, outcome, wait);
  }

  #settle(key: string, sharedKey: string | undefined, outcome: Admission | Refused, wait: ProbeWait | undefined): Admission | Promise<Admission> {
    if (!('retryAt' in outcome)) return outcome;
    if (!mayWait(outcome, wait) || (this.#rooms.get(key)?.count ?? 0) >= this.settings.maxQueued) throw this.#refusal(key, outcome);
    let room = this.#rooms.get(key);
    if (!room) this.#rooms.set(key, (room = new WaitingRoom(this.clock)));
    const door = { admit: () => this.#tryAdmit(key, sharedKey), refusal: (refused: Refused) => this.#refusal(key, refused) };
    return waitInRoom(room, this.clock, wait, outcome, door).finally(() => {
      if (room.count === 0 && this.#rooms.get(key) === room) this.#rooms.delete(key);
    });
  }

  #tryAdmit(key: string, sharedKey: string | undefined): Admission | Refused | Promise<Admission | Refused> {
    const entry = this.#entry(key);
    const result = entry.circuit.admit(this.clock.now());
    if ('retryAt' in result) return result;
    this.#announce(key, result.transition, undefined);
    if (!this.shared || sharedKey === undefined) return result.admission;
    return this.#admitShared(key, sharedKey, entry, result.admission, this.shared);
  }

  #refusal(key: string, refused: Refused): CircuitOpenError {
    return new CircuitOpenError(key, refused.retryAt, this.clock.now(), this.#entries.get(key)?.openedBy);
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
      // A probe's place is free again: the next waiting call may take it.
      if (admission.probe) this.#rooms.get(key)?.wake();
      if (sharedKey !== undefined && sharedProbe) this.shared?.send('circuitRelease', (backend) => backend.circuitRelease(sharedKey));
    }
  }

  async #admitShared(key: string, sharedKey: string, entry: Entry, admission: Admission, shared: SharedLink): Promise<Admission | Refused> {
    const answer = await shared.run('circuitAdmit', (backend) => backend.circuitAdmit(sharedKey, this.settings.halfOpenProbes));
    const room = this.#rooms.get(key);
    if (room) room.probingElsewhere = answer?.state === 'probing';
    if (!answer) return admission;
    if (answer.state === 'closed') return { ...admission, sharedKey };
    if (answer.state === 'probe') return { ...admission, sharedKey, sharedProbe: true };
    // Open in another process, or its pause is over and another process holds the probe lease (then,
    // as for a local probe in flight, the answer may come any moment: no wait is announced, and calls
    // waiting for it ask again a quarter of a pause later, or when the lease lapses).
    entry.circuit.neutral(admission);
    const now = this.clock.now();
    if (answer.state === 'probing') {
      const recheckAt = now + Math.min(answer.retryIn, Math.max(1, this.settings.halfOpenAfter / 4));
      // Calls already waiting here (for this attempt's place, now free) ask again then too.
      room?.wakeAt(recheckAt);
      return { retryAt: now, probing: true, recheckAt };
    }
    const retryAt = now + answer.retryIn;
    this.#adopt(key, entry, retryAt, answer.openings, 'shared', undefined);
    return { retryAt, probing: false };
  }

  /** Opens the shared circuit (this process opened its own, or its shared probe failed) and adopts its pause. */
  #openShared(key: string, sharedKey: string, entry: Entry, probeFailed: boolean, error: unknown): void {
    const { halfOpenAfter, maxHalfOpenAfter, jitter } = this.settings;
    const pause = { halfOpenAfter, maxHalfOpenAfter, factor: pauseFactor(jitter) };
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
    // Calls waiting for this circuit look again: a probe's verdict, a reopening, a state adopted.
    this.#rooms.get(key)?.wake();
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
