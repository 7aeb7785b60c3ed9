import { BulkheadFullError, BulkheadTimeoutError } from '../../errors/bulkhead-errors.js';
import type { EventBus } from '../../events/event-bus.js';
import type { Clock } from '../../core/clock.js';
import type { Abortable } from '../../core/abort-scope.js';

/** Bulkhead settings after defaults (see `BulkheadOptions`). */
export interface BulkheadSettings {
  readonly maxConcurrent: number;
  readonly maxQueued: number;
  readonly queueTimeout: number;
  readonly maxConcurrentPerTenant: number;
}

/** Frees a slot; calling it again does nothing. */
export type Release = () => void;

interface Waiter {
  readonly tenant: string;
  readonly since: number;
  readonly grant: (release: Release) => void;
  readonly cleanup: () => void;
}

const NO_TENANT = '';

/**
 * Caps concurrent upstream requests. Callers beyond the cap wait in a bounded queue, one FIFO per tenant,
 * served round-robin so that one tenant's burst cannot starve the others; a tenant may also be capped
 * below the total. A waiter that times out or whose signal aborts leaves the queue at once.
 */
export class Bulkhead {
  #active = 0;
  #queued = 0;
  readonly #activeByTenant = new Map<string, number>();
  readonly #queues = new Map<string, Waiter[]>();

  constructor(
    private readonly settings: BulkheadSettings,
    private readonly clock: Clock,
    private readonly events: EventBus,
  ) {}

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#queued;
  }

  /** Resolves with a release once a slot is free; rejects when full, timed out, or aborted. */
  acquire(tenant: string | undefined, call: Abortable): Promise<Release> {
    const id = tenant ?? NO_TENANT;
    if (call.aborted) return Promise.reject(call.reason);
    if (this.#fits(id) && !this.#queues.has(id)) return Promise.resolve(this.#take(id));
    // Only a call that has to wait is told of an abort as it happens.
    const signal = call.signal;
    if (this.#queued >= this.settings.maxQueued) {
      this.events.emit('bulkheadReject', { tenant, reason: 'queue_full', active: this.#active, queued: this.#queued });
      return Promise.reject(new BulkheadFullError(this.settings.maxConcurrent, this.settings.maxQueued, tenant));
    }
    return new Promise<Release>((resolve, reject) => {
      const since = this.clock.now();
      const timer = this.clock.setTimeout(() => {
        remove();
        const waited = this.clock.now() - since;
        this.events.emit('bulkheadReject', { tenant, reason: 'queue_timeout', active: this.#active, queued: this.#queued });
        reject(new BulkheadTimeoutError(waited));
      }, this.settings.queueTimeout);
      const onAbort = () => {
        remove();
        reject(signal.reason);
      };
      const cleanup = () => {
        this.clock.clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = { tenant: id, since, grant: resolve, cleanup };
      const remove = () => {
        cleanup();
        const queue = this.#queues.get(id);
        const index = queue?.indexOf(waiter) ?? -1;
        if (queue && index >= 0) {
          queue.splice(index, 1);
          this.#queued--;
          if (queue.length === 0) this.#queues.delete(id);
        }
        this.#drain();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const queue = this.#queues.get(id);
      if (queue) queue.push(waiter);
      else this.#queues.set(id, [waiter]);
      this.#queued++;
    });
  }

  #fits(tenant: string): boolean {
    return (
      this.#active < this.settings.maxConcurrent &&
      (this.#activeByTenant.get(tenant) ?? 0) < this.settings.maxConcurrentPerTenant
    );
  }

  #take(tenant: string): Release {
    this.#active++;
    this.#activeByTenant.set(tenant, (this.#activeByTenant.get(tenant) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#active--;
      const left = (this.#activeByTenant.get(tenant) ?? 1) - 1;
      if (left > 0) this.#activeByTenant.set(tenant, left);
      else this.#activeByTenant.delete(tenant);
      this.#drain();
    };
  }

  /** Grants free slots to waiters, taking tenants in turn (a Map keeps insertion order: rotate by re-inserting). */
  #drain(): void {
    let progress = true;
    while (progress && this.#active < this.settings.maxConcurrent && this.#queued > 0) {
      progress = false;
      for (const [tenant, queue] of this.#queues) {
        if (!this.#fits(tenant)) continue;
        const waiter = queue.shift()!;
        this.#queued--;
        this.#queues.delete(tenant);
        if (queue.length > 0) this.#queues.set(tenant, queue);
        waiter.cleanup();
        waiter.grant(this.#take(tenant));
        progress = true;
        break;
      }
    }
  }
}
