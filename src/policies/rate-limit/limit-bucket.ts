import { MAX_REFINEMENTS, bucketCapacity, fineCapacity, fineRate, type LimitKind } from './bucket-capacity.js';
import type { BucketAnswer, Pacing, Ticket } from './bucket-ticket.js';

export type { BucketAnswer, Pacing, Ticket } from './bucket-ticket.js';

/**
 * What one model's limit of one kind lets go: two token buckets that share one count of everything
 * reserved (`consumed`: each reservation's `start` is its place in it, so waiters keep their turn however
 * the levels move):
 *
 * - **server**: the server's own bucket as this process knows it. Before any header it holds
 *   `bucketCapacity` (a configured limit); once `x-ratelimit-remaining-*` arrives it holds the whole
 *   minute and follows the server: each answer says how much was left right after the server counted that
 *   request, so what may go is `start + amount + remaining` plus the refill since it was sent; calls in
 *   flight come after `start` and are already in `consumed`, so they are not spent twice. Concurrent
 *   requests are counted in no particular order, so an answer lowers the level only below what it allows
 *   if everything sent after it had been counted first, and raises it (by at most its own amount) only up
 *   to what it allows if nothing had.
 * - **fine**: pacing that is safe without the server's word: one second's worth, refilled at the limit.
 *   A success raises it by twice its amount (at most to the server's level), so bursts beyond one second
 *   double with each round of answers instead of going out blind; after a 429 despite headroom it is
 *   refined ({@link refine}) and no longer raised.
 *
 * A reservation goes once both cover it (only the server's before any header); one larger than a bucket
 * needs that bucket full, as the server's own does. Levels may go below zero (callers wait in turn); a
 * cancelled reservation moves the ones behind it up; a pause ({@link hold}) stops the refill for a while.
 */
export class LimitBucket {
  #limit: number;
  #consumed = 0;
  #server: number;
  #fine: number;
  #updatedAt: number;
  #heard = false;
  #refinements = 0;
  /** What had been admitted at the last refinement: a 429 of a request sent before it says nothing new. */
  #refinedAt = 0;
  /** Everything admitted, and everything answered, so far (for the marks). */
  #admitted = 0;
  #answered = 0;
  /** Tickets still waiting for their turn: a cancellation moves those behind it up. */
  readonly #waiting = new Set<Ticket>();

  constructor(
    readonly kind: LimitKind,
    perMinute: number,
    now: number,
  ) {
    this.#limit = perMinute;
    this.#server = this.#serverCapacity();
    this.#fine = fineCapacity(perMinute, 0);
    this.#updatedAt = now;
  }

  get perMinute(): number {
    return this.#limit;
  }

  get pacing(): Pacing {
    return !this.#heard ? 'configured' : this.#refinements > 0 ? 'fine' : 'server';
  }

  /** Takes `amount` (into debt if need be); returns its ticket, until {@link admitted} or {@link cancel}. */
  reserve(amount: number, now: number): Ticket {
    this.#refill(now);
    const ticket: Ticket = { start: this.#consumed, amount };
    this.#consumed += amount;
    this.#server -= amount;
    this.#fine -= amount;
    return ticket;
  }

  /**
   * Takes `amount` in the place of `ahead`, a ticket still waiting (a higher traffic class goes first):
   * `ahead` and the waiting tickets behind it move back by `amount`. Returns its ticket, as {@link reserve}.
   */
  reserveBefore(ahead: Ticket, amount: number, now: number): Ticket {
    if (!this.#waiting.has(ahead)) return this.reserve(amount, now);
    const start = ahead.start;
    const ticket = this.reserve(amount, now);
    ticket.start = start;
    for (const other of this.#waiting) if (other.start >= start) other.start += amount;
    return ticket;
  }

  /** `ticket` waits for its turn: a cancellation before it moves it up. */
  waiting(ticket: Ticket): void {
    this.#waiting.add(ticket);
  }

  /**
   * The ticket's turn came: its request goes. Finely paced, the server's short window would not have
   * filled beyond its size while this request was late (a busy event loop, a slow socket): at most one
   * window beyond this ticket's place stays granted, so the next request keeps its distance from this one.
   */
  admitted(ticket: Ticket, now: number): void {
    if (this.#refinements > 0) {
      this.#refill(now);
      this.#fine = Math.min(this.#fine, ticket.start + fineCapacity(this.#limit, this.#refinements) - this.#consumed);
    }
    this.#waiting.delete(ticket);
    this.#admitted += ticket.amount;
    ticket.sentMark = this.#admitted;
    ticket.answeredMark = this.#answered;
  }

  /**
   * The request of `ticket` is over, answered or not (a failure without headers, a timeout, a refusal after
   * its turn): it no longer counts as in flight for what is sent after it. Idempotent.
   */
  ended(ticket: Ticket): void {
    if (ticket.ended) return;
    ticket.ended = true;
    if (ticket.sentMark !== undefined) this.#answered += ticket.amount;
  }

  /** The request of `ticket` was answered: what was sent around it, for {@link answered}. */
  concurrency(ticket: Ticket): { sentAfter: number; inFlightBefore: number } {
    if (ticket.sentMark === undefined || ticket.answeredMark === undefined) return { sentAfter: 0, inFlightBefore: 0 };
    return { sentAfter: this.#admitted - ticket.sentMark, inFlightBefore: Math.max(0, ticket.sentMark - ticket.amount - ticket.answeredMark) };
  }

  /** Milliseconds until `ticket` may go (0: now), as things stand. */
  waitFor(ticket: Ticket, now: number): number {
    const { start, amount } = ticket;
    this.#refill(now);
    const held = Math.max(0, this.#updatedAt - now);
    const server = this.#wait(this.#server, start, amount, this.#serverCapacity(), this.#limit / 60_000, held);
    if (!this.#heard) return server;
    const fine = this.#wait(this.#fine, start, amount, fineCapacity(this.#limit, this.#refinements), fineRate(this.#limit, this.#refinements), held);
    return Math.max(server, fine);
  }

  /** Milliseconds until one more unit could be reserved without waiting (0: now), as things stand. */
  nextIn(now: number): number {
    this.#refill(now);
    // A unit left in every bucket that decides: no wait (what `waitFor` would say, without a ticket).
    if (this.#server >= 1 && (!this.#heard || this.#fine >= 1)) return 0;
    return this.waitFor({ start: this.#consumed, amount: 1 }, now);
  }

  /**
   * The shortest `ticket`'s wait can turn out: while bursts widen with answers (`server` pacing), as soon
   * as the server's bucket covers it; otherwise {@link waitFor}. A call is refused for its deadline only
   * when even this would pass it.
   */
  soonest(ticket: Ticket, now: number): number {
    if (this.pacing !== 'server') return this.waitFor(ticket, now);
    this.#refill(now);
    const held = Math.max(0, this.#updatedAt - now);
    return this.#wait(this.#server, ticket.start, ticket.amount, this.#serverCapacity(), this.#limit / 60_000, held);
  }

  /**
   * Gives back a reservation whose request was never sent: the reservations waiting behind it move up
   * (those before it keep their turn). One that was refused while it waited leaves its place to the next
   * reservation; one refused after its turn came (a full bulkhead) leaves the places of those sent after
   * it as they are, so that their answers are still read against them.
   */
  cancel(ticket: Ticket, now: number): void {
    if (ticket.sentMark === undefined) {
      this.#waiting.delete(ticket);
      for (const other of this.#waiting) if (other.start > ticket.start) other.start -= ticket.amount;
      this.#consumed -= ticket.amount;
    }
    this.#giveBack(ticket.amount, now);
  }

  /**
   * Corrects an estimate once the request's `usage` is known (`difference` = used − estimated). A shortfall
   * is taken; a surplus is given back only while the server has said nothing: once it has, its headers
   * count what it charged (OpenAI charges `max_tokens` up front), and the next answer says it.
   */
  correct(difference: number, now: number): void {
    this.#refill(now);
    if (difference > 0) {
      this.#server -= difference;
      this.#fine -= difference;
    } else if (!this.#heard) {
      this.#giveBack(-difference, now);
    }
  }

  /**
   * The server said `remaining` were left when it answered `answer`'s request; without `answer` (headers
   * alone), as of now, after everything reserved.
   */
  answered(remaining: number, now: number, answer?: BucketAnswer): void {
    this.#refill(now);
    const first = !this.#heard;
    this.#heard = true;
    const { start, amount, sentAfter, inFlightBefore, counted, succeeded, elapsed } = answer ?? this.#asOfNow();
    // Everything the server had counted when it answered, in `consumed`'s terms, if it counted in the order
    // of reservation; a request sent before this bucket existed came before everything reserved in it.
    const countedUpTo = start === undefined ? 0 : start + (counted ? amount : 0);
    const capacity = this.#serverCapacity();
    const told = countedUpTo + remaining + (this.#limit / 60_000) * Math.max(0, elapsed) - this.#consumed;
    // If everything sent after it had been counted before it: the most the server can have left.
    const most = Math.min(capacity, told + sentAfter);
    if (first || most < this.#server) {
      this.#server = first ? Math.min(capacity, told) : most;
      // Fine pacing never lets more go than the server has (beyond its own second).
      this.#fine = Math.min(this.#fine, Math.max(this.#server, fineCapacity(this.#limit, this.#refinements)));
    }
    // Above what we thought even if everything sent before it had been counted after it: each success
    // closes the gap by its own amount (the server did not count what it refused with a 500, say).
    else if (succeeded && told - inFlightBefore > this.#server) this.#server = Math.min(told - inFlightBefore, this.#server + amount);
    // The request that taught this bucket its limit went before the bucket existed: it used the second.
    if (first && answer && start === undefined) this.#fine -= amount;
    if (succeeded && this.#refinements === 0) this.#fine = Math.max(this.#fine, Math.min(this.#fine + 2 * amount, this.#server));
  }

  /**
   * A 429 came although the server's headers showed room: it enforces a shorter window than they count.
   * Paces finer from now on: `FINE_MARGIN` further below the limit, in bursts half as large (the first
   * time: 95% of one second's worth), no longer raised by successes. A 429 of a request sent before the
   * last refinement (`sentMark`, see {@link Ticket}) says nothing new (it went at the old pace) and is
   * ignored. Returns whether it refined.
   */
  refine(sentMark: number | undefined, now: number): boolean {
    if (this.#refinements > 0 && (sentMark === undefined || sentMark <= this.#refinedAt)) return false;
    if (this.#refinements >= MAX_REFINEMENTS) return false;
    this.#refill(now);
    this.#heard = true;
    this.#refinements++;
    this.#refinedAt = this.#admitted;
    this.#fine = Math.min(this.#fine, fineCapacity(this.#limit, this.#refinements));
    return true;
  }

  /** Empties both buckets (keeping any debt) and stops their refill until `until` (a pause after a 429). */
  hold(until: number, now: number): void {
    this.#refill(now);
    this.#server = Math.min(this.#server, 0);
    this.#fine = Math.min(this.#fine, 0);
    this.#updatedAt = Math.max(this.#updatedAt, until);
  }

  /** Adopts a new limit (learned from headers), keeping the levels within it. */
  setLimit(perMinute: number, now: number): void {
    this.#refill(now);
    this.#limit = perMinute;
    this.#server = Math.min(this.#server, this.#serverCapacity());
    this.#fine = Math.min(this.#fine, Math.max(this.#server, fineCapacity(perMinute, this.#refinements)));
  }

  #giveBack(amount: number, now: number): void {
    this.#refill(now);
    this.#server = Math.min(this.#serverCapacity(), this.#server + amount);
    this.#fine = Math.min(Math.max(this.#fine, fineCapacity(this.#limit, this.#refinements)), this.#fine + amount);
  }

  /** Headers alone, read as of now: after everything reserved, with nothing in flight said about. */
  #asOfNow(): BucketAnswer {
    return { start: this.#consumed, amount: 0, sentAfter: 0, inFlightBefore: 0, counted: false, succeeded: false, elapsed: 0 };
  }

  /** Before the server's word, what `bucketCapacity` allows; after it, the whole minute (OpenAI's own bucket). */
  #serverCapacity(): number {
    return this.#heard ? Math.max(1, this.#limit) : bucketCapacity(this.kind, this.#limit);
  }

  /** How long a place waits in a bucket at `level` (a request larger than the bucket needs it full). */
  #wait(level: number, start: number, amount: number, capacity: number, perMs: number, held: number): number {
    const missing = start + Math.min(amount, capacity) - (this.#consumed + level);
    return missing <= 0 ? 0 : held + Math.ceil(missing / perMs);
  }

  #refill(now: number): void {
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#updatedAt = Math.max(this.#updatedAt, now);
    if (elapsed === 0) return;
    const serverCapacity = this.#serverCapacity();
    if (this.#server < serverCapacity) this.#server = Math.min(serverCapacity, this.#server + elapsed * (this.#limit / 60_000));
    const fine = fineCapacity(this.#limit, this.#refinements);
    if (this.#fine < fine) this.#fine = Math.min(fine, this.#fine + elapsed * fineRate(this.#limit, this.#refinements));
  }
}
