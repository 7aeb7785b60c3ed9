import { describe, expect, it } from 'vitest';
import type { LedgerCounter } from '../../src/budgets/budget-ledger.js';
import { LocalBudgetLedger } from '../../src/budgets/local-budget-ledger.js';

const MINUTE = 60_000;
const SLOT = 1_000;
const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);
const perMinute = (limit: number, key = 'k'): LedgerCounter => ({ key, limit, window: { kind: 'sliding', ms: MINUTE } });

describe('LocalBudgetLedger: sliding windows', () => {
  it('holds usage for one window at least and one window plus one slot at most', async () => {
    const ledger = new LocalBudgetLedger();
    const counter = perMinute(100);
    const at = T0 + 500; // mid-slot
    expect((await ledger.reserve([{ counter, amount: 100 }], at)).ok).toBe(true);
    expect(await ledger.reserve([{ counter, amount: 1 }], at + MINUTE)).toMatchObject({ ok: false, used: 100, resetsAt: T0 + SLOT + MINUTE });
    expect(ledger.usedNow(counter, T0 + SLOT + MINUTE - 1)).toBe(100);
    expect(ledger.usedNow(counter, T0 + SLOT + MINUTE)).toBe(0);
    expect((await ledger.reserve([{ counter, amount: 100 }], T0 + SLOT + MINUTE)).ok).toBe(true);
  });

  it('never lets more than the limit into any span of one window (random traffic)', async () => {
    const ledger = new LocalBudgetLedger();
    const counter = perMinute(1_000);
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const taken: Array<{ at: number; amount: number }> = [];
    let now = T0;
    for (let i = 0; i < 2_000; i++) {
      now += Math.floor(random() * 400);
      const amount = 1 + Math.floor(random() * 120);
      const answer = await ledger.reserve([{ counter, amount }], now);
      if (answer.ok) taken.push({ at: now, amount });
    }
    expect(taken.length).toBeGreaterThan(100);
    for (const start of taken) {
      const inSpan = taken.filter((t) => t.at >= start.at && t.at < start.at + MINUTE).reduce((sum, t) => sum + t.amount, 0);
      expect(inSpan).toBeLessThanOrEqual(1_000);
    }
  });

  it('takes every charge or none, and says which one did not fit', async () => {
    const ledger = new LocalBudgetLedger();
    const a = perMinute(100, 'a');
    const b = perMinute(50, 'b');
    expect(await ledger.reserve([{ counter: a, amount: 60 }, { counter: b, amount: 60 }], T0)).toMatchObject({ ok: false, index: 1, used: 0 });
    expect(ledger.usedNow(a, T0)).toBe(0);
    const answer = await ledger.reserve([{ counter: a, amount: 40 }, { counter: b, amount: 40 }], T0);
    expect(answer).toMatchObject({ ok: true, used: [40, 40] });
  });

  it('settles once: the reservation is replaced by what was used (0 gives it back)', async () => {
    let now = T0;
    const ledger = new LocalBudgetLedger({ now: () => now });
    const counter = perMinute(100);
    const first = await ledger.reserve([{ counter, amount: 80 }], now);
    if (!first.ok) throw new Error('expected room');
    now += 5_000;
    expect(await first.hold.settle([30])).toEqual([30]);
    expect(await first.hold.settle([0])).toEqual([30]);
    const second = await ledger.reserve([{ counter, amount: 70 }], now);
    if (!second.ok) throw new Error('expected room');
    expect(await second.hold.settle([0])).toEqual([30]);
    // The settled 30 stay in the slot they were reserved in: they leave with it.
    expect(ledger.usedNow(counter, T0 + SLOT + MINUTE)).toBe(0);
  });

  it('a settlement after its slot left the window changes nothing', async () => {
    let now = T0;
    const ledger = new LocalBudgetLedger({ now: () => now });
    const counter = perMinute(100);
    const answer = await ledger.reserve([{ counter, amount: 80 }], now);
    if (!answer.ok) throw new Error('expected room');
    now += 2 * MINUTE;
    await ledger.reserve([{ counter, amount: 10 }], now);
    expect(await answer.hold.settle([100])).toEqual([10]);
  });
});

describe('LocalBudgetLedger: calendar months', () => {
  it('counts the month in UTC and starts again on the 1st at 00:00 UTC', async () => {
    const ledger = new LocalBudgetLedger();
    const counter: LedgerCounter = { key: 'm', limit: 1_000, window: { kind: 'month' } };
    const lastMinuteOfNovember = Date.UTC(2026, 10, 30, 23, 59);
    expect((await ledger.reserve([{ counter, amount: 1_000 }], Date.UTC(2026, 10, 1))).ok).toBe(true);
    expect(await ledger.reserve([{ counter, amount: 1 }], lastMinuteOfNovember)).toEqual({ ok: false, index: 0, used: 1_000, resetsAt: Date.UTC(2026, 11, 1) });
    expect(await ledger.reserve([{ counter, amount: 1_000 }], Date.UTC(2026, 11, 1))).toMatchObject({ ok: true, used: [1_000] });
  });

  it('a settlement of last month’s reservation does not touch this month', async () => {
    let now = Date.UTC(2026, 0, 31, 23, 0);
    const ledger = new LocalBudgetLedger({ now: () => now });
    const counter: LedgerCounter = { key: 'm', limit: 1_000, window: { kind: 'month' } };
    const answer = await ledger.reserve([{ counter, amount: 500 }], now);
    if (!answer.ok) throw new Error('expected room');
    now = Date.UTC(2026, 1, 1, 1, 0);
    await ledger.reserve([{ counter, amount: 100 }], now);
    expect(await answer.hold.settle([0])).toEqual([100]);
  });
});

describe('LocalBudgetLedger: memory', () => {
  it('keeps at most `maxCounters` counters, dropping the least recently used', async () => {
    const ledger = new LocalBudgetLedger({ maxCounters: 100 });
    for (let i = 0; i < 1_000; i++) await ledger.reserve([{ counter: perMinute(10, `tenant-${i}`), amount: 1 }], T0);
    expect(ledger.size).toBe(100);
    expect(ledger.usedNow(perMinute(10, 'tenant-999'), T0)).toBe(1);
    expect(ledger.usedNow(perMinute(10, 'tenant-0'), T0)).toBe(0);
  });

  it('a counter holds one entry per slot, whatever the number of calls', async () => {
    const ledger = new LocalBudgetLedger();
    const counter = perMinute(1_000_000);
    for (let i = 0; i < 10_000; i++) await ledger.reserve([{ counter, amount: 1 }], T0 + i * 100);
    // 10 000 calls over 1 000 s: what is left is the last window's slots (61 at most).
    expect(ledger.usedNow(counter, T0 + 1_000_000)).toBeLessThanOrEqual(61 * 10);
  });
});
