import { BulkheadFullError, BulkheadTimeoutError } from '../../errors/bulkhead-errors.js';
import { LoadShedError } from '../../errors/load-shed-error.js';
import type { EventBus } from '../../events/event-bus.js';
import { unrefTimer, type Clock } from '../../core/clock.js';
import type { Abortable } from '../../core/abort-scope.js';
import type { TrafficClass } from '../../core/traffic-class.js';
import { ClassQueues } from './class-queues.js';
import { ClassCounters, type BulkheadClassStats } from '../class-counters.js';
import type { SharedLink } from '../../shared/shared-link.js';
import { SharedSlots } from './shared-slots.js';

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
  /** The caller's tenant (`undefined`: a call without one). */
  readonly caller: string | undefined;
  readonly trafficClass: TrafficClass;
  readonly seq: number;
  readonly since: number;
  readonly grant: (release: Release) => void;
  /** Leaves the queue with a {@link LoadShedError}: a call of `by` took its place. */
  readonly shed: (by: TrafficClass) => void;
  readonly cleanup: () => void;
  /** Whether it has left the queue for good (granted, timed out, aborted or shed). */
  readonly settled: () => boolean;
}

const NO_TENANT = '';

/**
 * How long a tenant whose slots are all held by other processes waits before this process asks the
 * shared state again (sooner when one of its calls here ends), in milliseconds.
 */
export const SHARED_SLOT_POLL = 250;

/**
 * Caps concurrent upstream requests. Callers beyond the cap wait in a bounded queue ordered by traffic
 * class, then tenants in turn (see class-queues.ts: higher classes first, with a share kept for lower
 * ones); a tenant may also be capped below the total. When the queue is full, a higher-class newcomer
 * takes the place of the newest lower-class waiter, which fails with `LoadShedError`. A waiter that times
 * out or whose signal aborts leaves the queue at once.
 *
 * With shared state whose backend keeps tenant slots, and a per-tenant cap below `maxConcurrent`, a
 * tenant's calls also hold a lease on one of its slots across processes (see `SharedSlots`): a call that
 * finds them all held waits here in its place, and its tenant is asked for again when one of its calls
 * here ends, or after {@link SHARED_SLOT_POLL}. When the shared state does not answer, the cap holds in
 * this process only, as without it.
 */
export class Bulkhead {
  #active = 0;
  #seq = 0;
  readonly #activeByTenant = new Map<string, number>();
  readonly #queues: ClassQueues<Waiter>;
  readonly #counters = new ClassCounters();
  readonly #slots: SharedSlots | undefined;
  /** Tenants whose slots were all held across processes: the timer that asks for them again. */
  readonly #blocked = new Map<string, unknown>();

  constructor(
    private readonly settings: BulkheadSettings,
    private readonly clock: Clock,
    private readonly events: EventBus,
    shared?: SharedLink | undefined,
  ) {
    this.#queues = new ClassQueues(settings.lowerClassEvery);
    const capsTenants = settings.maxConcurrentPerTenant < settings.maxConcurrent;
    this.#slots = capsTenants && SharedSlots.supported(shared) ? new SharedSlots(shared, clock, settings.maxConcurrentPerTenant) : undefined;
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
    const free = this.#fits(id) && !this.#queues.hasTenant(id);
    if (free && !this.#leases(tenant)) {
      this.#counters.granted(trafficClass, 0);
      return Promise.resolve(this.#take(id));
    }
    // Only a call that has to wait is told of an abort as it happens.
    const signal = call.signal;
    if (!free && this.#queues.size >= this.settings.maxQueued) {
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
      let settled = false;
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
        settled = true;
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
      const waiter: Waiter = { tenant: id, caller: tenant, trafficClass, seq: ++this.#seq, since, grant, shed, cleanup, settled: () => settled };
      const remove = () => {
        cleanup();
        if (this.#queues.remove(waiter)) this.#drain();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      // A free slot here still needs its tenant's lease across processes.
      if (free) this.#serve(waiter);
      else this.#queues.push(waiter);
    });
  }

  /** Whether a call of `tenant` also needs a lease on its tenant's slots across processes. */
  #leases(tenant: string | undefined): boolean {
    return tenant !== undefined && this.#slots !== undefined;
  }

  #fits(tenant: string): boolean {
    return (
      this.#active < this.settings.maxConcurrent &&
      (this.#activeByTenant.get(tenant) ?? 0) < this.settings.maxConcurrentPerTenant &&
      !this.#blocked.has(tenant)
    );
  }

  #take(tenant: string): Release {
    this.#active++;
    this.#activeByTenant.set(tenant, (this.#activeByTenant.get(tenant) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#free(tenant, true);
    };
  }

  /** A slot of `tenant` is free again; `unblock`: one of its calls here ended, so its tenant is asked for again. */
  #free(tenant: string, unblock: boolean): void {
    this.#active--;
    const left = (this.#activeByTenant.get(tenant) ?? 1) - 1;
    if (left > 0) this.#activeByTenant.set(tenant, left);
    else this.#activeByTenant.delete(tenant);
    if (unblock) this.#unblock(tenant);
    this.#drain();
  }

  /**
   * Gives `waiter` the slot it may have here, once its tenant's lease across processes is had: with the
   * lease (or without, when the shared state does not answer) it goes; when every slot of its tenant is
   * held elsewhere, it goes back to the head of its tenant's queue, and the tenant waits (see `#block`).
   */
  #serve(waiter: Waiter): void {
    const local = this.#take(waiter.tenant);
    if (!this.#leases(waiter.caller)) {
      waiter.grant(local);
      return;
    }
    // (A failure to even ask, which SharedLink does not expect, is a local decision like an outage.)
    const asked = this.#slots!.take(waiter.caller!).catch(() => undefined);
    void asked.then((lease) => {
      if (lease === 'full') {
        // (A call that found a slot free here was not queued: it joins the queue now, beyond maxQueued
        // by at most the calls asking at once, which hold a slot here meanwhile.)
        this.#block(waiter.tenant);
        if (!waiter.settled()) this.#queues.pushFront(waiter);
        this.#free(waiter.tenant, false);
        return;
      }
      const release: Release = lease
        ? () => {
            lease();
            local();
          }
        : local;
      // It timed out or was aborted meanwhile: what it got goes back.
      if (waiter.settled()) release();
      else waiter.grant(release);
    });
  }

  /** Every slot of `tenant` is held across processes: its waiters here stay queued until asked for again. */
  #block(tenant: string): void {
    if (this.#blocked.has(tenant)) return;
    const timer = this.clock.setTimeout(() => this.#unblock(tenant, true), SHARED_SLOT_POLL);
    unrefTimer(timer);
    this.#blocked.set(tenant, timer);
  }

  #unblock(tenant: string, drain = false): void {
    if (!this.#blocked.has(tenant)) return;
    this.clock.clearTimeout(this.#blocked.get(tenant));
    this.#blocked.delete(tenant);
    if (drain) this.#drain();
  }

  /** Grants free slots to waiters, in the order the class queues decide. */
  #drain(): void {
    while (this.#active < this.settings.maxConcurrent && this.#queues.size > 0) {
      const waiter = this.#queues.next((tenant) => this.#fits(tenant));
      if (!waiter) return;
      this.#serve(waiter);
    }
  }
}
