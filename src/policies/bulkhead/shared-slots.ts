import { unrefTimer, type Clock } from '../../core/clock.js';
import { tenantFingerprint } from '../../core/tenant-fingerprint.js';
import type { SharedLink } from '../../shared/shared-link.js';

/** Gives a lease back; calling it again does nothing. */
export type LeaseRelease = () => void;

/**
 * Leases on tenants' slots in shared state (`slotTake`, `slotRenew`, `slotRelease`), so that a tenant's
 * calls in flight across processes stay within `maxConcurrentPerTenant`. Each call holds one lease, given
 * back when it ends; the leases of calls still in flight are renewed every third of the lease, so only a
 * process that died (or lost Redis for longer than a lease) lets its leases lapse. Memory is bounded by
 * the calls in flight: one id per lease held.
 */
export class SharedSlots {
  /** Names this process's leases: a random id, then a counter. */
  readonly #owner = globalThis.crypto.randomUUID();
  #seq = 0;
  /** Lease ids held per tenant key. */
  readonly #held = new Map<string, Set<string>>();
  #timer: unknown;

  constructor(
    private readonly link: SharedLink,
    private readonly clock: Clock,
    private readonly max: number,
  ) {}

  /** Whether the backend keeps tenant slots (else they stay per process). */
  static supported(link: SharedLink | undefined): link is SharedLink {
    const backend = link?.backend;
    return typeof backend?.slotTake === 'function' && typeof backend.slotRenew === 'function' && typeof backend.slotRelease === 'function';
  }

  /**
   * Takes a lease on one of `tenant`'s slots: its release, `'full'` when `max` are held across processes
   * (nothing was taken), or `undefined` when the shared state did not answer (the caller decides alone).
   */
  async take(tenant: string): Promise<LeaseRelease | 'full' | undefined> {
    const key = await tenantFingerprint(tenant);
    const id = `${this.#owner}:${++this.#seq}`;
    const lease = await this.link.run('slotTake', (backend) => backend.slotTake!(key, id, this.max));
    if (lease === undefined) return undefined;
    if (!(lease > 0)) return 'full';
    this.#hold(key, id, lease);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#drop(key, id);
      this.link.send('slotRelease', (backend) => backend.slotRelease!(key, id));
    };
  }

  #hold(key: string, id: string, lease: number): void {
    let ids = this.#held.get(key);
    if (!ids) this.#held.set(key, (ids = new Set()));
    ids.add(id);
    if (this.#timer === undefined) this.#renewEvery(Math.max(1, Math.floor(lease / 3)));
  }

  #drop(key: string, id: string): void {
    const ids = this.#held.get(key);
    ids?.delete(id);
    if (ids?.size === 0) this.#held.delete(key);
    if (this.#held.size === 0 && this.#timer !== undefined) {
      this.clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Renews every lease held, every `ms`, while any is held (the timer does not keep the process alive). */
  #renewEvery(ms: number): void {
    this.#timer = this.clock.setTimeout(() => {
      this.#timer = undefined;
      for (const [key, ids] of this.#held) {
        const held = [...ids];
        this.link.send('slotRenew', (backend) => backend.slotRenew!(key, held));
      }
      if (this.#held.size > 0) this.#renewEvery(ms);
    }, ms);
    unrefTimer(this.#timer);
  }
}
