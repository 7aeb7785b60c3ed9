import { describe, expect, it } from 'vitest';
import { LimitBucket, type BucketAnswer, type Ticket } from '../../../src/policies/rate-limit/limit-bucket.js';

/** The answer to `ticket`'s request (a success unless said otherwise), sent and answered at once. */
function answerTo(bucket: LimitBucket, ticket: Ticket, overrides: Partial<BucketAnswer> = {}): BucketAnswer {
  return { start: ticket.start, amount: ticket.amount, ...bucket.concurrency(ticket), counted: true, succeeded: true, elapsed: 0, ...overrides };
}

/** The server answers `ticket`'s request saying `remaining` were left (as the limiter hears it: then it is over). */
function respond(bucket: LimitBucket, ticket: Ticket, remaining: number, now: number, overrides: Partial<BucketAnswer> = {}): void {
  bucket.answered(remaining, now, answerTo(bucket, ticket, overrides));
  bucket.ended(ticket);
}

/** `count` reservations of `amount` at `now`. */
const reserveMany = (bucket: LimitBucket, count: number, now = 0, amount = 1): Ticket[] => Array.from({ length: count }, () => bucket.reserve(amount, now));

describe('LimitBucket: before the server says what is left', () => {
  it("holds one second's requests and a whole minute's tokens (BURST_SECONDS), waiters served in turn", () => {
    const requests = new LimitBucket('requests', 60, 0);
    const [first, second, third] = reserveMany(requests, 3);
    expect([first, second, third].map((ticket) => requests.waitFor(ticket!, 0))).toEqual([0, 1_000, 2_000]);
    expect(requests.pacing).toBe('configured');
    const tokens = new LimitBucket('tokens', 600, 0);
    expect(tokens.waitFor(tokens.reserve(500, 0), 0)).toBe(0);
    // 100 left of the 600: 100 more wait 10 s at 10 a second.
    expect(tokens.waitFor(tokens.reserve(200, 0), 0)).toBe(10_000);
  });

  it('a request larger than the bucket needs it full, as the server does', () => {
    const tokens = new LimitBucket('tokens', 600, 0);
    expect(tokens.waitFor(tokens.reserve(1_000, 0), 0)).toBe(0);
    // 400 in debt: the next waits for the whole bucket to refill, and 40 s more.
    expect(tokens.waitFor(tokens.reserve(600, 0), 0)).toBe(100_000);
  });

  it('a cancelled reservation moves the ones behind it up, not the ones before it', () => {
    const bucket = new LimitBucket('requests', 60, 0);
    const [first, second, third] = reserveMany(bucket, 3);
    for (const ticket of [second!, third!]) bucket.waiting(ticket);
    bucket.cancel(second!, 0);
    expect(bucket.waitFor(first!, 0)).toBe(0);
    expect(bucket.waitFor(third!, 0)).toBe(1_000);
    // And the next reservation takes the place given back.
    expect(bucket.waitFor(bucket.reserve(1, 0), 0)).toBe(2_000);
  });
});

describe('LimitBucket: a reservation refused after its turn came', () => {
  it('gives its capacity to the ones waiting behind it, and leaves the places of those sent after it alone', () => {
    const bucket = new LimitBucket('requests', 60, 0);
    const [refused, sent, waiting] = reserveMany(bucket, 3);
    bucket.admitted(refused!, 0);
    bucket.admitted(sent!, 0);
    bucket.waiting(waiting!);
    expect(bucket.waitFor(waiting!, 0)).toBe(2_000);
    // A full bulkhead refused the first after the limiter let it go.
    bucket.cancel(refused!, 0);
    expect(bucket.waitFor(waiting!, 0)).toBe(1_000);
    // The second, sent, keeps its place: its answer (nothing left after it) is read against it, and the
    // third waits for the refill (read against a place moved up, it would have gone at once).
    respond(bucket, sent!, 0, 0);
    expect(bucket.soonest(waiting!, 0)).toBe(1_000);
  });
});

describe("LimitBucket: the server's x-ratelimit-remaining-* says what may go", () => {
  it('reads what is left against the answered call\'s place: calls reserved after it are not spent twice', () => {
    // 60 a minute; ten calls reserved at once, the first answered: 5 left after it.
    const bucket = new LimitBucket('requests', 60, 0);
    const tickets = reserveMany(bucket, 10);
    bucket.admitted(tickets[0]!, 0);
    respond(bucket, tickets[0]!, 5, 0);
    expect(bucket.pacing).toBe('server');
    // The server allows the next five (tickets 1 to 5), not five more beyond the nine reserved after the first.
    expect(tickets.map((ticket) => bucket.soonest(ticket, 0))).toEqual([0, 0, 0, 0, 0, 0, 1_000, 2_000, 3_000, 4_000]);
  });

  it("bursts beyond one second's worth only as answers confirm them: each success lets two more go", () => {
    const bucket = new LimitBucket('requests', 60, 0);
    const tickets = reserveMany(bucket, 10);
    const ready = () => tickets.filter((ticket) => bucket.waitFor(ticket, 0) === 0).length;
    bucket.admitted(tickets[0]!, 0);
    respond(bucket, tickets[0]!, 59, 0);
    // One second's worth (1) was the first's; its success lets two more go.
    expect(ready()).toBe(3);
    for (const ticket of tickets.slice(1, 3)) bucket.admitted(ticket, 0);
    for (const ticket of tickets.slice(1, 3)) respond(bucket, ticket, 59 - ticket.start, 0);
    expect(ready()).toBe(7);
    for (const ticket of tickets.slice(3, 7)) bucket.admitted(ticket, 0);
    for (const ticket of tickets.slice(3, 7)) respond(bucket, ticket, 59 - ticket.start, 0);
    expect(ready()).toBe(10);
  });

  it('never widens a burst beyond what the server has left', () => {
    const bucket = new LimitBucket('requests', 60, 0);
    const tickets = reserveMany(bucket, 10);
    bucket.admitted(tickets[0]!, 0);
    // Only 2 left after the first: successes cannot make room the server does not have.
    respond(bucket, tickets[0]!, 2, 0);
    for (const ticket of tickets.slice(1, 3)) bucket.admitted(ticket, 0);
    for (const ticket of tickets.slice(1, 3)) respond(bucket, ticket, 2 - ticket.start, 0);
    expect(tickets.map((ticket) => bucket.waitFor(ticket, 0))).toEqual([0, 0, 0, 1_000, 2_000, 3_000, 4_000, 5_000, 6_000, 7_000]);
  });

  it('counts the refill since the answered call was sent', () => {
    const bucket = new LimitBucket('requests', 60, 0);
    const [first, second] = reserveMany(bucket, 2);
    bucket.admitted(first!, 0);
    // Answered 3 s after it was sent, saying nothing was left when the server counted it: 3 refilled since.
    respond(bucket, first!, 0, 3_000, { elapsed: 3_000 });
    expect(bucket.soonest(second!, 3_000)).toBe(0);
  });

  it('concurrent answers: one lowers the level only below what it allows if everything sent after it was counted first', () => {
    const bucket = new LimitBucket('requests', 60, 0);
    const tickets = reserveMany(bucket, 10);
    bucket.admitted(tickets[0]!, 0);
    respond(bucket, tickets[0]!, 5, 0);
    for (const ticket of tickets.slice(1, 6)) bucket.admitted(ticket, 0);
    // The server counted tickets 2 to 5 before ticket 1: its answer says 0 were left after it, though the
    // server still had what it said after ticket 0 less the five: 0 after them all. Ticket 6 still waits 1 s.
    respond(bucket, tickets[1]!, 0, 0);
    expect(bucket.soonest(tickets[6]!, 0)).toBe(1_000);
    // Read as if it had been counted right after ticket 0, it would have made ticket 6 wait 5 s.
    expect(bucket.concurrency(tickets[1]!)).toEqual({ sentAfter: 4, inFlightBefore: 0 });
  });

  it('a request that ended without an answer (a 500 without headers) is no longer in flight for those sent after it', () => {
    const bucket = new LimitBucket('requests', 60, 0);
    const [failed, next] = reserveMany(bucket, 2);
    bucket.admitted(failed!, 0);
    bucket.ended(failed!);
    bucket.ended(failed!); // (once only)
    bucket.admitted(next!, 0);
    expect(bucket.concurrency(next!)).toEqual({ sentAfter: 0, inFlightBefore: 0 });
  });

  it('lowers the level when the server has less than even that allows (another client of the account)', () => {
    const bucket = new LimitBucket('requests', 60, 0);
    const tickets = reserveMany(bucket, 4);
    bucket.admitted(tickets[0]!, 0);
    respond(bucket, tickets[0]!, 30, 0);
    bucket.admitted(tickets[1]!, 0);
    respond(bucket, tickets[1]!, 0, 0);
    expect(bucket.soonest(tickets[2]!, 0)).toBe(1_000);
  });

  it('a single request needing half a minute of tokens goes at once when the server has them', () => {
    const tokens = new LimitBucket('tokens', 30_000, 0);
    tokens.answered(29_000, 0);
    expect(tokens.waitFor(tokens.reserve(16_387, 0), 0)).toBe(0);
  });
});

describe('LimitBucket: finer pacing after a 429 despite headroom', () => {
  it("paces 5% below the limit, in bursts of 95% of a second's worth, no longer widened by successes", () => {
    const bucket = new LimitBucket('requests', 600, 0);
    bucket.answered(600, 0);
    expect(bucket.refine(undefined, 0)).toBe(true);
    expect(bucket.pacing).toBe('fine');
    const tickets = reserveMany(bucket, 12);
    // 9.5 at once, then 9.5 a second: ticket 9 needs half a request more (53 ms), ticket 10 one and a half.
    expect(tickets.map((ticket) => bucket.waitFor(ticket, 0))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 53, 158, 264]);
    bucket.admitted(tickets[0]!, 0);
    respond(bucket, tickets[0]!, 599, 0);
    expect(bucket.waitFor(tickets[9]!, 0)).toBe(53);
  });

  it('a 429 of a request sent before the last refinement says nothing new; one sent after refines again', () => {
    const bucket = new LimitBucket('requests', 600, 0);
    bucket.answered(600, 0);
    const [before, after] = reserveMany(bucket, 2);
    bucket.admitted(before!, 0);
    expect(bucket.refine(before!.sentMark, 0)).toBe(true);
    expect(bucket.refine(before!.sentMark, 0)).toBe(false);
    expect(bucket.refine(undefined, 0)).toBe(false);
    bucket.admitted(after!, 0);
    expect(bucket.refine(after!.sentMark, 0)).toBe(true);
    // Twice: 90.25% of the limit, bursts of half of 95% of a second (4.75, where 7.5 of the 9.5 were left).
    const tickets = reserveMany(bucket, 6);
    expect(tickets.map((ticket) => bucket.waitFor(ticket, 0) > 0)).toEqual([false, false, false, false, true, true]);
  });

  it('a request sent late keeps the next one at its distance (the server only fills one window while it waits)', () => {
    const bucket = new LimitBucket('requests', 60, 0);
    bucket.answered(60, 0);
    bucket.refine(undefined, 0);
    const [first, second] = reserveMany(bucket, 2);
    expect(bucket.waitFor(first!, 0)).toBe(0);
    expect(bucket.waitFor(second!, 0)).toBe(1_053);
    // The first goes 500 ms late: the second keeps 1 053 ms from it, not from when the first could have gone.
    bucket.admitted(first!, 500);
    expect(bucket.waitFor(second!, 500)).toBe(1_053);
  });

  it('a pause holds both buckets empty until it ends', () => {
    const bucket = new LimitBucket('requests', 60, 0);
    bucket.answered(60, 0);
    bucket.hold(5_000, 0);
    expect(bucket.waitFor(bucket.reserve(1, 0), 0)).toBe(6_000);
  });
});
