import type { EventBus } from '../events/event-bus.js';
import type { Clock } from '../core/clock.js';
import { withinTime } from '../core/within-time.js';
import type { SharedBackend } from './shared-backend.js';

/** Where the shared state stands, as `stats().shared` reports it. */
export interface SharedStats {
  /** The backend's name, e.g. `"redis"`. */
  readonly backend: string;
  /** False while decisions are taken on this process's state only. */
  readonly available: boolean;
  /** Since when it has been unavailable (epoch ms), while it is. */
  readonly unavailableSince: number | undefined;
  /** Times it became unavailable. */
  readonly outages: number;
  /** Operations answered from local state because it was unavailable. */
  readonly localDecisions: number;
}

class SharedTimeoutError extends Error {
  constructor(operation: string, ms: number) {
    super(`shared state: ${operation} took longer than ${ms} ms`);
    this.name = 'SharedTimeoutError';
  }
}

/**
 * The pipeline's connection to a {@link SharedBackend}: runs each operation within the backend's timeout
 * and, when one fails, answers `undefined` (the caller decides on local state), announces the outage once
 * (`sharedStateDown`) and leaves the backend alone for its `retryInterval`. The first operation that
 * succeeds after that announces `sharedStateUp`.
 */
export class SharedLink {
  #downSince: number | undefined;
  #retryAt = 0;
  #outages = 0;
  #localDecisions = 0;

  constructor(
    readonly backend: SharedBackend,
    private readonly clock: Clock,
    private readonly events: EventBus,
  ) {}

  /** Runs `operation` on the backend; `undefined` when it is unavailable, failed or took too long. */
  async run<T>(name: string, operation: (backend: SharedBackend) => Promise<T>): Promise<T | undefined> {
    if (!this.#mayTry()) return undefined;
    try {
      const { timeout } = this.backend;
      const result = await withinTime(this.clock, timeout, operation(this.backend), () => new SharedTimeoutError(name, timeout));
      this.#up();
      return result;
    } catch (error) {
      this.#down(name, error);
      this.#localDecisions++;
      return undefined;
    }
  }

  /** Runs `operation` without waiting for it (an update whose result nobody needs). */
  send(name: string, operation: (backend: SharedBackend) => Promise<unknown>): void {
    void this.run(name, operation);
  }

  stats(): SharedStats {
    return {
      backend: this.backend.name,
      available: this.#downSince === undefined,
      unavailableSince: this.#downSince,
      outages: this.#outages,
      localDecisions: this.#localDecisions,
    };
  }

  #mayTry(): boolean {
    if (this.#downSince !== undefined && this.clock.now() < this.#retryAt) {
      this.#localDecisions++;
      return false;
    }
    if (!this.backend.ready) {
      const reason = new Error(`shared state: ${this.backend.name} is not connected`, { cause: this.backend.lastError });
      this.#down('connection', reason);
      this.#localDecisions++;
      return false;
    }
    return true;
  }

  #down(operation: string, error: unknown): void {
    const now = this.clock.now();
    this.#retryAt = now + this.backend.retryInterval;
    if (this.#downSince !== undefined) return;
    this.#downSince = now;
    this.#outages++;
    this.events.emit('sharedStateDown', { backend: this.backend.name, operation, error });
  }

  #up(): void {
    if (this.#downSince === undefined) return;
    const downFor = this.clock.now() - this.#downSince;
    this.#downSince = undefined;
    this.events.emit('sharedStateUp', { backend: this.backend.name, downFor });
  }
}
