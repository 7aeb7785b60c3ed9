import { describe, expect, it } from 'vitest';
import { BulkheadTimeoutError } from '../../../src/errors/bulkhead-errors.js';
import { EventBus } from '../../../src/events/event-bus.js';
import { Bulkhead, SHARED_SLOT_POLL, type Release } from '../../../src/policies/bulkhead/bulkhead.js';
import type { SharedBackend } from '../../../src/shared/shared-backend.js';
import { SharedLink } from '../../../src/shared/shared-link.js';
import { FakeClock } from '../../../src/testing/index.js';

const LEASE = 30_000;

/** An in-memory backend holding tenant slots only: `elsewhere` leases are held by other processes. */
function slotsBackend(options: { elsewhere?: number; answer?: (id: string) => Promise<number> | undefined } = {}) {
  const leases = new Set<string>();
  let elsewhere = options.elsewhere ?? 0;
  const log: string[] = [];
  const backend = {
    name: 'memory', ready: true, timeout: 100, retryInterval: 1_000,
    async slotTake(_key: string, id: string, max: number) {
      log.push('take');
      const answer = options.answer?.(id);
      if (answer) return answer;
      if (leases.size + elsewhere >= max) return 0;
      leases.add(id);
      return LEASE;
    },
    async slotRenew(_key: string, ids: readonly string[]) {
      log.push(`renew ${ids.length}`);
    },
    async slotRelease(_key: string, id: string) {
      log.push('release');
      leases.delete(id);
    },
  };
  return { backend: backend as unknown as SharedBackend, leases, log, freeElsewhere: () => elsewhere-- };
}

function setUp(backend: SharedBackend, settings: Partial<ConstructorParameters<typeof Bulkhead>[0]> = {}) {
  const clock = new FakeClock(1_000);
  const events = new EventBus();
  const link = new SharedLink(backend, clock, events);
  const limits = { maxConcurrent: 10, maxQueued: 100, queueTimeout: 60_000, maxConcurrentPerTenant: 2, lowerClassEvery: 10, ...settings };
  return { clock, link, bulkhead: new Bulkhead(limits, clock, events, link) };
}

const call = () => ({ signal: new AbortController().signal, aborted: false, reason: undefined });
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('bulkhead: tenant slots across processes', () => {
  it('a call whose tenant has every slot held elsewhere waits in its place, and asks again every SHARED_SLOT_POLL ms', async () => {
    const shared = slotsBackend({ elsewhere: 2 });
    const { clock, bulkhead } = setUp(shared.backend);
    let release: Release | undefined;
    void bulkhead.acquire('t', call()).then((granted) => (release = granted));
    await flush();
    expect(release).toBeUndefined();
    expect(bulkhead.queued).toBe(1);
    // Its slot here is not held while it waits.
    expect(bulkhead.active).toBe(0);
    await clock.advance(SHARED_SLOT_POLL - 1);
    expect(shared.log).toEqual(['take']);
    shared.freeElsewhere();
    await clock.advance(1);
    expect(release).toBeDefined();
    expect(shared.log).toEqual(['take', 'take']);
    release!();
    await flush();
    expect(shared.leases.size).toBe(0);
    expect(shared.log.at(-1)).toBe('release');
  });

  it('asks again at once when one of its tenant’s calls here ends', async () => {
    const shared = slotsBackend({ elsewhere: 1 });
    const { bulkhead } = setUp(shared.backend);
    const first = await bulkhead.acquire('t', call());
    let second: Release | undefined;
    void bulkhead.acquire('t', call()).then((granted) => (second = granted));
    await flush();
    expect(second).toBeUndefined();
    first();
    await flush();
    expect(second).toBeDefined();
  });

  it('keeps class order among its waiters: when its tenant is asked for again, the interactive call goes first', async () => {
    const shared = slotsBackend({ elsewhere: 2 });
    const { clock, bulkhead } = setUp(shared.backend, { maxConcurrentPerTenant: 2 });
    const order: string[] = [];
    void bulkhead.acquire('t', call(), 'background').then(() => order.push('background'));
    await flush();
    void bulkhead.acquire('t', call(), 'interactive').then(() => order.push('interactive'));
    await flush();
    shared.freeElsewhere();
    await clock.advance(SHARED_SLOT_POLL);
    expect(order).toEqual(['interactive']);
  });

  it('a call that times out while its lease is asked for gives back what it got', async () => {
    let answer: ((lease: number) => void) | undefined;
    const shared = slotsBackend({ answer: () => new Promise<number>((resolve) => (answer = resolve)) });
    const backend = { ...shared.backend, timeout: 10_000 } as SharedBackend;
    const { clock, bulkhead } = setUp(backend, { queueTimeout: 50 });
    const outcome = bulkhead.acquire('t', call()).catch((error: unknown) => error);
    await clock.advance(50);
    expect(await outcome).toBeInstanceOf(BulkheadTimeoutError);
    answer!(LEASE);
    await flush();
    expect(shared.log).toEqual(['take', 'release']);
    expect(bulkhead.active).toBe(0);
  });

  it('when the shared state does not answer in time, the cap holds in this process only', async () => {
    const shared = slotsBackend({ answer: () => new Promise<number>(() => undefined) });
    const { clock, link, bulkhead } = setUp(shared.backend);
    const granted = bulkhead.acquire('t', call());
    // The command's time limit (the backend's `timeout`) runs out.
    await clock.until((timers) => timers.some((timer) => timer.delay === 100));
    await clock.advance(100);
    const release = await granted;
    expect(link.stats()).toMatchObject({ available: false, outages: 1 });
    expect(bulkhead.active).toBe(1);
    release();
    expect(bulkhead.active).toBe(0);
  });

  it('renews the leases of calls in flight every third of the lease, and keeps no timer once none is held', async () => {
    const shared = slotsBackend();
    const { clock, bulkhead } = setUp(shared.backend);
    const releases = [await bulkhead.acquire('t', call()), await bulkhead.acquire('t', call())];
    await clock.advance(LEASE / 3);
    expect(shared.log).toEqual(['take', 'take', 'renew 2']);
    for (const release of releases) release();
    await flush();
    expect(clock.pending()).toEqual([]);
  });

  it('calls without a tenant, and a per-tenant cap that is the total, take no leases', async () => {
    const shared = slotsBackend();
    (await setUp(shared.backend).bulkhead.acquire(undefined, call()))();
    (await setUp(shared.backend, { maxConcurrentPerTenant: 10 }).bulkhead.acquire('t', call()))();
    expect(shared.log).toEqual([]);
  });
});
