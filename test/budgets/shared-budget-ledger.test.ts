import { describe, expect, it } from 'vitest';
import { SharedBudgetLedger, sharedUsageAvailable } from '../../src/budgets/shared-budget-ledger.js';
import { EventBus } from '../../src/events/event-bus.js';
import type { SharedBackend, SharedUsageAnswer, SharedUsageCharge } from '../../src/shared/shared-backend.js';
import { SharedLink } from '../../src/shared/shared-link.js';
import { FakeClock } from '../../src/testing/index.js';
import { TestBudgetLedger } from './fixtures/test-budget-ledger.js';

const MINUTE = { kind: 'sliding', ms: 60_000 } as const;
const tokens = { key: 'tenant:tokens:minute:f', limit: 1_000, window: MINUTE };

/** A backend that keeps usage in memory, or whose usage methods never answer (`hang`). */
function usageBackend(options: { hang?: boolean } = {}) {
  const calls: Array<{ op: string; charges: readonly SharedUsageCharge[] }> = [];
  const backend = {
    name: 'memory', ready: true, timeout: 100, retryInterval: 1_000,
    usageReserve(charges: readonly SharedUsageCharge[]): Promise<SharedUsageAnswer> {
      calls.push({ op: 'reserve', charges });
      if (options.hang) return new Promise(() => undefined);
      return Promise.resolve({ ok: true, used: charges.map((c) => c.amount), slots: charges.map(() => 7) });
    },
    usageSettle(charges: readonly SharedUsageCharge[]): Promise<number[]> {
      calls.push({ op: 'settle', charges });
      return Promise.resolve(charges.map(() => 42));
    },
  };
  return { backend: backend as unknown as SharedBackend, calls };
}

function setUp(backend: SharedBackend) {
  const clock = new FakeClock(1_000);
  const events = new EventBus();
  const link = new SharedLink(backend, clock, events);
  const local = new TestBudgetLedger();
  return { clock, events, link, local, ledger: new SharedBudgetLedger({ link, account: () => 'acct', local, outageShare: 0.25 }) };
}

describe('SharedBudgetLedger', () => {
  it('is used only with a backend that keeps usage', () => {
    const { backend } = usageBackend();
    const clock = new FakeClock(0);
    expect(sharedUsageAvailable(new SharedLink(backend, clock, new EventBus()))).toBe(true);
    const without = { ...backend, usageReserve: undefined } as unknown as SharedBackend;
    expect(sharedUsageAvailable(new SharedLink(without, clock, new EventBus()))).toBe(false);
    expect(sharedUsageAvailable(undefined)).toBe(false);
  });

  it('prefixes every counter with the account, and settles the difference in the slots it was taken in', async () => {
    const { backend, calls } = usageBackend();
    const { ledger } = setUp(backend);
    const answer = await ledger.reserve([{ counter: tokens, amount: 99.2 }], 1_000);
    if (!answer.ok) throw new Error('not taken');
    expect(calls[0]!.charges).toEqual([{ key: 'acct:tenant:tokens:minute:f', limit: 1_000, window: MINUTE, amount: 100 }]);
    expect(await answer.hold.settle([30])).toEqual([42]);
    expect(calls[1]).toEqual({ op: 'settle', charges: [{ key: 'acct:tenant:tokens:minute:f', limit: 1_000, window: MINUTE, amount: -70 }] });
    // A settlement that changes nothing is not sent.
    const same = await ledger.reserve([{ counter: tokens, amount: 10 }], 1_000);
    if (!same.ok) throw new Error('not taken');
    expect(await same.hold.settle([10])).toEqual([10]);
    expect(calls).toHaveLength(3);
  });

  it('reserves in the local ledger at outageShare of each limit when the backend takes too long, and says so once', async () => {
    const { backend } = usageBackend({ hang: true });
    const { ledger, clock, events, local } = setUp(backend);
    const downs: string[] = [];
    events.on('sharedStateDown', (event) => downs.push(event.operation));
    const first = ledger.reserve([{ counter: tokens, amount: 200 }], 1_000);
    await new Promise((resolve) => setTimeout(resolve, 0));
    await clock.advance(100);
    expect(await first).toMatchObject({ ok: true, used: [200] });
    // Within retryInterval the backend is not asked: the local ledger answers at once.
    expect(await ledger.reserve([{ counter: tokens, amount: 100 }], 1_100)).toMatchObject({ ok: false, index: 0, used: 200 });
    expect(local.reservations.map((r) => r.charges[0]!.counter)).toEqual([{ ...tokens, limit: 250 }, { ...tokens, limit: 250 }]);
    expect(downs).toEqual(['usageReserve']);
  });
});

describe('SharedBudgetLedger: usage during an outage', () => {
  it('is written to the shared counters once they answer again (as settled), unless its window has passed', async () => {
    let down = true;
    const calls: Array<{ op: string; charges: readonly SharedUsageCharge[]; slots?: readonly number[] }> = [];
    const backend = {
      name: 'memory', ready: true, timeout: 100, retryInterval: 1_000,
      usageReserve: (charges: readonly SharedUsageCharge[]): Promise<SharedUsageAnswer> => {
        calls.push({ op: 'reserve', charges });
        return down ? Promise.reject(new Error('down')) : Promise.resolve({ ok: true, used: charges.map((c) => c.amount), slots: charges.map(() => 7) });
      },
      usageSettle: (charges: readonly SharedUsageCharge[], slots: readonly number[]): Promise<number[]> => {
        calls.push({ op: 'settle', charges, slots });
        return Promise.resolve(charges.map((c) => c.amount));
      },
    } as unknown as SharedBackend;
    const { ledger, clock } = setUp(backend);
    const other = { key: 'tenant:tokens:minute:g', limit: 1_000, window: MINUTE };
    const first = await ledger.reserve([{ counter: tokens, amount: 200 }], 1_000);
    if (!first.ok) throw new Error('not taken');
    expect(await ledger.reserve([{ counter: other, amount: 50 }], 1_000)).toMatchObject({ ok: true });
    await first.hold.settle([150]);
    down = false;
    await clock.advance(1_000);
    await ledger.reserve([{ counter: tokens, amount: 10 }], 2_000);
    await new Promise((resolve) => setTimeout(resolve, 0));
    const writeBack = calls.find((c) => c.op === 'settle');
    expect(writeBack?.charges.map((c) => [c.key, c.amount])).toEqual([['acct:tenant:tokens:minute:f', 150], ['acct:tenant:tokens:minute:g', 50]]);
    expect(writeBack?.slots).toEqual([-1, -1]);
    // Written once.
    await ledger.reserve([{ counter: tokens, amount: 10 }], 2_000);
    expect(calls.filter((c) => c.op === 'settle')).toHaveLength(1);
  });

  it('drops what has left its window by the time the shared state answers', async () => {
    let down = true;
    const settles: SharedUsageCharge[][] = [];
    const backend = {
      name: 'memory', ready: true, timeout: 100, retryInterval: 1_000,
      usageReserve: (charges: readonly SharedUsageCharge[]): Promise<SharedUsageAnswer> =>
        down ? Promise.reject(new Error('down')) : Promise.resolve({ ok: true, used: charges.map((c) => c.amount), slots: charges.map(() => 7) }),
      usageSettle: (charges: readonly SharedUsageCharge[]): Promise<number[]> => {
        settles.push([...charges]);
        return Promise.resolve(charges.map((c) => c.amount));
      },
    } as unknown as SharedBackend;
    const { ledger, clock } = setUp(backend);
    expect(await ledger.reserve([{ counter: tokens, amount: 200 }], 1_000)).toMatchObject({ ok: true });
    down = false;
    await clock.advance(60_000);
    await ledger.reserve([{ counter: tokens, amount: 10 }], 61_000);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(settles).toEqual([]);
  });
});
