import { describe, expect, it } from 'vitest';
import type { LedgerCharge, LedgerCounter } from '../../src/budgets/budget-ledger.js';
import { SharedBudgetLedger } from '../../src/budgets/shared-budget-ledger.js';
import { systemClock } from '../../src/core/clock.js';
import { tenantFingerprint } from '../../src/core/tenant-fingerprint.js';
import { EventBus } from '../../src/events/event-bus.js';
import { createRedisState, type RedisState } from '../../src/redis/index.js';
import type { SharedUsageCharge } from '../../src/shared/shared-backend.js';
import { SharedLink } from '../../src/shared/shared-link.js';
import { TestBudgetLedger } from '../budgets/fixtures/test-budget-ledger.js';
import { connectRedis, redisTime, startRedisServer, type RedisServer } from '../support/redis-server.js';

// Budget usage on a real Redis: the scripts (given a `now` where a window must pass, as no test sleeps
// through one), and SharedBudgetLedger over them.
const ACCOUNT = '0123456789abcdef0123456789abcdef';
const MINUTE = { kind: 'sliding', ms: 60_000 } as const;
const MONTH = { kind: 'month' } as const;
/** A slot of a minute's window: 1 s. */
const SLOT = 1_000;

const charge = (key: string, limit: number, amount: number, window: SharedUsageCharge['window'] = MINUTE): SharedUsageCharge => ({
  key: `${ACCOUNT}:${key}`, limit, amount, window,
});

async function redisState(server?: RedisServer) {
  const redisServer = server ?? (await startRedisServer());
  const redis = await connectRedis(redisServer);
  return { redisServer, redis, shared: createRedisState(redis, { prefix: 'test:', retryInterval: 50 }) };
}

function ledgerOn(shared: RedisState, outageShare = 0.25) {
  const events = new EventBus();
  const link = new SharedLink(shared, systemClock, events);
  const local = new TestBudgetLedger();
  return { events, link, local, ledger: new SharedBudgetLedger({ link, account: () => ACCOUNT, local, outageShare }) };
}

const counter = (key: string, limit: number, window: LedgerCounter['window'] = MINUTE): LedgerCounter => ({ key, limit, window });

describe('usage counters on Redis: the scripts', () => {
  it('takes every charge of a call or none', async () => {
    const { shared, redis } = await redisState();
    const t = Date.UTC(2026, 11, 8, 12, 0, 0);
    expect(await shared.usageReserve([charge('a', 100, 60), charge('b', 1_000, 60)], t)).toMatchObject({ ok: true, used: [60, 60] });
    // b fits, a does not: nothing is taken from b.
    expect(await shared.usageReserve([charge('b', 1_000, 50), charge('a', 100, 50)], t + 1)).toEqual({ ok: false, index: 1, used: 60, resetsIn: 60_000 + SLOT - 1 });
    expect(await shared.usageReserve([charge('b', 1_000, 0)], t + 2)).toMatchObject({ ok: true, used: [60] });
    expect(await redis.hGetAll(`test:usage:{${ACCOUNT}}:b`)).toEqual({ [String(t)]: '60' });
  });

  it('counts a sliding window in 60 slots: a slot counts whole while any of it is in the window', async () => {
    const { shared } = await redisState();
    const t = Date.UTC(2026, 11, 8, 12, 0, 0);
    await shared.usageReserve([charge('w', 100, 30)], t + 200);
    await shared.usageReserve([charge('w', 100, 50)], t + 20_500);
    // 80 held: 30 more do not fit until the first slot (t..t+1 s) has left the window, at t + 61 s.
    expect(await shared.usageReserve([charge('w', 100, 30)], t + 40_000)).toEqual({ ok: false, index: 0, used: 80, resetsIn: 21_000 });
    expect(await shared.usageReserve([charge('w', 100, 30)], t + 60_999)).toMatchObject({ ok: false, used: 80 });
    expect(await shared.usageReserve([charge('w', 100, 30)], t + 61_000)).toMatchObject({ ok: true, used: [80] });
    // An amount over the limit fits only once everything has left (reported as when the last slot, just taken, leaves).
    expect(await shared.usageReserve([charge('w', 100, 101)], t + 61_000)).toEqual({ ok: false, index: 0, used: 80, resetsIn: 61_000 });
    // Slots gone are deleted as they are read.
    expect(await shared.usageReserve([charge('w', 100, 0)], t + 200_000)).toMatchObject({ ok: true, used: [0] });
  });

  it('counts a calendar month in UTC, reset on the 1st at 00:00 UTC', async () => {
    const { shared, redis } = await redisState();
    const lastSecond = Date.UTC(2026, 11, 31, 23, 59, 59);
    const reserved = await shared.usageReserve([charge('m', 1_000, 900, MONTH)], lastSecond);
    expect(reserved).toEqual({ ok: true, used: [900], slots: [Date.UTC(2026, 11, 1)] });
    expect(await shared.usageReserve([charge('m', 1_000, 200, MONTH)], lastSecond + 500)).toEqual({ ok: false, index: 0, used: 900, resetsIn: 500 });
    // The key is kept to the month's end and a minute.
    expect(await redis.pTTL(`test:usage:{${ACCOUNT}}:m`)).toBeLessThanOrEqual(61_000);
    expect(await shared.usageReserve([charge('m', 1_000, 200, MONTH)], Date.UTC(2027, 0, 1))).toEqual({ ok: true, used: [200], slots: [Date.UTC(2027, 0, 1)] });
    // February of a leap year, and the months' lengths.
    expect(await shared.usageReserve([charge('m', 1_000, 2_000, MONTH)], Date.UTC(2028, 1, 29, 12))).toEqual({ ok: false, index: 0, used: 0, resetsIn: Date.UTC(2028, 2, 1) - Date.UTC(2028, 1, 29, 12) });
    for (const month of [0, 3, 6, 10]) {
      const at = Date.UTC(2030, month, 15);
      expect(await shared.usageReserve([charge(`m${month}`, 1, 2, MONTH)], at)).toMatchObject({ resetsIn: Date.UTC(2030, month + 1, 1) - at });
    }
  });

  it('settles in the slot of the reservation; a positive correction goes to the current slot once it has left, a negative one is dropped', async () => {
    const { shared } = await redisState();
    const t = Date.UTC(2026, 11, 8, 12, 0, 0);
    const a = await shared.usageReserve([charge('s', 1_000, 100)], t);
    const b = await shared.usageReserve([charge('s', 1_000, 100)], t + 30_000);
    if (!a.ok || !b.ok) throw new Error('not taken');
    expect(await shared.usageSettle([charge('s', 1_000, -60)], a.slots, t + 30_001)).toEqual([140]);
    expect(await shared.usageSettle([charge('s', 1_000, 25)], b.slots, t + 30_002)).toEqual([165]);
    // A's slot has left the window: giving back changes nothing, taking more counts now.
    expect(await shared.usageSettle([charge('s', 1_000, -40)], a.slots, t + 61_000)).toEqual([125]);
    expect(await shared.usageSettle([charge('s', 1_000, 10)], a.slots, t + 61_000)).toEqual([135]);
    // Never below zero, even when more is given back than the slot holds.
    expect(await shared.usageSettle([charge('s', 1_000, -500)], b.slots, t + 61_001)).toEqual([10]);
  });

  it('keeps a sliding counter a slot and a second past its window, and names only the account, the limit and a fingerprint', async () => {
    const { shared, redis } = await redisState();
    const key = `tenant:tokens:minute:${await tenantFingerprint('acme-corp')}`;
    await shared.usageReserve([charge(key, 1_000, 10), charge('client:tokens:minute:*', 5_000, 10)]);
    const keys = (await redis.keys('*')).sort();
    expect(keys).toEqual([`test:usage:{${ACCOUNT}}:client:tokens:minute:*`, `test:usage:{${ACCOUNT}}:${key}`]);
    for (const k of keys) {
      const ttl = await redis.pTTL(k);
      expect(ttl).toBeGreaterThan(55_000);
      expect(ttl).toBeLessThanOrEqual(60_000 + SLOT + 1_000);
      expect(JSON.stringify(await redis.hGetAll(k))).not.toContain('acme');
      expect(k).not.toContain('acme');
    }
  });

  it("times windows by the server's clock", async () => {
    const { shared, redis } = await redisState();
    const before = await redisTime(redis);
    const answer = await shared.usageReserve([charge('clock', 100, 1)]);
    const after = await redisTime(redis);
    if (!answer.ok) throw new Error('not taken');
    expect(answer.slots[0]).toBeGreaterThanOrEqual(Math.floor(before / SLOT) * SLOT);
    expect(answer.slots[0]).toBeLessThanOrEqual(after);
  });
});

describe('SharedBudgetLedger on Redis', () => {
  it('never lets 200 concurrent reservations from four processes take more than the limit', async () => {
    const { redisServer } = await redisState();
    const ledgers = await Promise.all([0, 1, 2, 3].map(async () => ledgerOn((await redisState(redisServer)).shared).ledger));
    const tokens = counter('tenant:tokens:minute:f', 1_000);
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => ledgers[i % 4]!.reserve([{ counter: tokens, amount: 7 }], Date.now())));
    const taken = answers.filter((a) => a.ok);
    expect(taken).toHaveLength(Math.floor(1_000 / 7));
    expect(Math.max(...taken.flatMap((a) => a.used))).toBe(Math.floor(1_000 / 7) * 7);
    const refused = answers.find((a) => !a.ok);
    expect(refused).toMatchObject({ ok: false, index: 0, used: 994 });
  });

  it('settles a hold with the usage really used, once', async () => {
    const { shared } = await redisState();
    const { ledger } = ledgerOn(shared);
    const tokens = counter('tenant:tokens:minute:f', 1_000);
    const spend = counter('client:spend:month:*', 5_000_000, MONTH);
    const answer = await ledger.reserve([{ counter: tokens, amount: 500 }, { counter: spend, amount: 2_000 }], Date.now());
    if (!answer.ok) throw new Error('not taken');
    expect(answer.used).toEqual([500, 2_000]);
    expect(await answer.hold.settle([120, 2_600])).toEqual([120, 2_600]);
    expect(await answer.hold.settle([0, 0])).toEqual([120, 2_600]);
    const next = await ledger.reserve([{ counter: tokens, amount: 880 }], Date.now());
    expect(next).toMatchObject({ ok: true, used: [1_000] });
    expect(await ledger.reserve([{ counter: tokens, amount: 1 }], Date.now())).toMatchObject({ ok: false, used: 1_000 });
  });

  it('keeps usage across a restart: a new connection and ledger see what the old one took', async () => {
    const { shared, redis, redisServer } = await redisState();
    const tokens = counter('tenant:tokens:minute:f', 1_000);
    await ledgerOn(shared).ledger.reserve([{ counter: tokens, amount: 700 }], Date.now());
    redis.destroy();
    const { ledger } = ledgerOn((await redisState(redisServer)).shared);
    expect(await ledger.reserve([{ counter: tokens, amount: 400 }], Date.now())).toMatchObject({ ok: false, index: 0, used: 700 });
    expect(await ledger.reserve([{ counter: tokens, amount: 300 }], Date.now())).toMatchObject({ ok: true, used: [1_000] });
  });

  it('during an outage, enforces outageShare of each limit on what this process used, and settles each hold where it was taken', async () => {
    const { shared, redisServer } = await redisState();
    const { ledger, events, local } = ledgerOn(shared, 0.25);
    const downs: string[] = [];
    events.on('sharedStateDown', (event) => downs.push(event.operation));
    const tokens = counter('tenant:tokens:minute:f', 1_000);
    const before = await ledger.reserve([{ counter: tokens, amount: 600 }], Date.now());
    if (!before.ok) throw new Error('not taken');
    await redisServer.stop();
    await expect.poll(() => shared.ready).toBe(false);
    const now = Date.now();
    // 250 of the 1 000 here, whatever the cluster used before.
    expect(await ledger.reserve([{ counter: tokens, amount: 200 }], now)).toMatchObject({ ok: true, used: [200] });
    expect(await ledger.reserve([{ counter: tokens, amount: 100 }], now)).toMatchObject({ ok: false, index: 0, used: 200 });
    expect(downs).toHaveLength(1);
    expect(local.reservations.map((r) => r.charges[0]!.counter.limit)).toEqual([250, 250]);
    // The hold taken on Redis settles without it (never rejects), with what the counter would hold.
    expect(await before.hold.settle([500])).toEqual([500]);
    // Redis is back (restarted, empty): the next reservation goes there, and what this process used during
    // the outage is written to the counter.
    await redisServer.start();
    await expect.poll(() => shared.ready).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await ledger.reserve([{ counter: tokens, amount: 10 }], Date.now())).toMatchObject({ ok: true, used: [10] });
    await expect.poll(async () => (await ledger.reserve([{ counter: tokens, amount: 0 }], Date.now())).used).toEqual([210]);
  });

  it('reserves locally when the account cannot be worked out', async () => {
    const { shared } = await redisState();
    const local = new TestBudgetLedger();
    const link = new SharedLink(shared, systemClock, new EventBus());
    const ledger = new SharedBudgetLedger({ link, account: () => Promise.reject(new Error('apiKey function failed')), local, outageShare: 0.5 });
    const charges: LedgerCharge[] = [{ counter: counter('k', 100), amount: 60 }];
    expect(await ledger.reserve(charges, Date.now())).toMatchObject({ ok: false, used: 0 });
    expect(local.reservations).toHaveLength(1);
  });
});
