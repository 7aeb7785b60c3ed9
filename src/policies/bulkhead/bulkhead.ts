import { BulkheadFullError, BulkheadTimeoutError } from '../../errors/bulkhead-errors.js';
import { LoadShedError } from '../../errors/load-shed-error.js';
import type { EventBus } from '../../events/event-bus.js';
import type { Clock } from '../../core/clock.js';
import type { Abortable } from '../../core/abort-scope.js';
import type { TrafficClass } from '../../core/traffic-class.js';
import { ClassQueues } from './class-queues.js';
import { ClassCounters, type BulkheadClassStats } from './class-counters.js';

/** Bulkhead settings after defaults (see `BulkheadOptions`). */
export interface BulkheadSettings {
  readonly maxConcurrent: number;
  readonly maxQueued: number;
  readonly queueTimeout: number;
  readonly maxConcurrentPerTenant: number;
  readonly lowerClassEvery: number;
}

/** Frees a slot; calling it again does nothing. */
export type Release = () => void;

interface Waiter {
  readonly tenant: string;
  readonly trafficClass: TrafficClass;
  readonly seq: number;
  readonly since: number;
  readonly grant: (release: Release) => void;
  /** Leaves the queue with a {@link LoadShedError}: a call of `by` took its place. */
  readonly shed: (by: TrafficClass) => void;
  readonly cleanup: () => void;
}

const NO_TENANT = '';

/**
 * Caps concurrent upstream requests. Callers beyond the cap wait in a bounded queue ordered by traffic
 * class, then tenants in turn (see class-queues.ts: higher classes first, with a share kept for lower
 * ones); a tenant may also be capped below the total. When the queue is full, a higher-class newcomer
 * takes the place of the newest lower-class waiter, which fails with `LoadShedError`. A waiter that times
 * out or whose signal aborts leaves the queue at once.
 */
export class Bulkhead {
  #active = 0;
  #seq = 0;
  readonly #activeByTenant = new Map<string, number>();
  readonly #queues: ClassQueues<Waiter>;
  readonly #counters = new ClassCounters();

  constructor(
    private readonly settings: BulkheadSettings,
    private readonly clock: Clock,
    private readonly events: EventBus,
  ) {
    this.#queues = new ClassQueues(settings.lowerClassEvery);
  }

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#queues.size;
  }

  /** Per traffic class: slots granted, calls waiting, shed and turned away, and time spent waiting. */
  classes(): Record<TrafficClass, BulkheadClassStats> {
    return this.#counters.snapshot((trafficClass) => this.#queues.count(trafficClass));
  }

  /** Resolves with a release once a slot is free; rejects when full, shed, timed out, or aborted. */
  acquire(tenant: string | undefined, call: Abortable, trafficClass: TrafficClass = 'default'): Promise<Release> {
    const id = tenant ?? NO_TENANT;
    if (call.aborted) return Promise.reject(call.reason);
    if (this.#fits(id) && !this.#queues.hasTenant(id)) {
      this.#counters.granted(trafficClass, 0);
      return Promise.resolve(this.#take(id));
    }
    // Only a call that has to wait is told of an abort as it happens.
    const signal = call.signal;
    if (this.#queues.size >= this.settings.maxQueued) {
      const victim = this.#queues.shedFor(trafficClass);
      if (!victim) {
        this.#counters.rejected(trafficClass);
        this.events.emit('bulkheadReject', { tenant, trafficClass, reason: 'queue_full', active: this.#active, queued: this.queued });
        return Promise.reject(new BulkheadFullError(this.settings.maxConcurrent, this.settings.maxQueued, tenant));
      }
      victim.shed(trafficClass);
    }
    return new Promise<Release>((resolve, reject) => {
      const since = this.clock.now();
      const timer = this.clock.setTimeout(() => {
        remove();
        const waited = this.clock.now() - since;
        this.#counters.rejected(trafficClass);
        this.events.emit('bulkheadReject', { tenant, trafficClass, reason: 'queue_timeout', active: this.#active, queued: this.queued });
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
      const grant = (release: Release) => {
        cleanup();
        this.#counters.granted(trafficClass, this.clock.now() - since);
        resolve(release);
      };
      const shed = (by: TrafficClass) => {
        // Already out of the queue (the queues chose it): nothing to drain, the newcomer takes its place.
        cleanup();
        this.#counters.shed(trafficClass);
        this.events.emit('bulkheadReject', { tenant, trafficClass, reason: 'shed', active: this.#active, queued: this.queued });
        reject(new LoadShedError(trafficClass, by, 'bulkhead'));
      };
      const waiter: Waiter = { tenant: id, trafficClass, seq: ++this.#seq, since, grant, shed, cleanup };
      const remove = () => {
        cleanup();
        if (this.#queues.remove(waiter)) this.#drain();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#queues.push(waiter);
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

  /** Grants free slots to waiters, in the order the class queues decide. */
  #drain(): void {
    while (this.#active < this.settings.maxConcurrent && this.#queues.size > 0) {
      const waiter = this.#queues.next((tenant) => this.#fits(tenant));
      if (!waiter) return;
      waiter.grant(this.#take(waiter.tenant));
    }
  }
}
