/**
 * The order in which one model's waiting calls get its capacity, by traffic class (issue 26).
 *
 * @module
 */

/** One waiting call in a {@link ClassLine}. */
export interface LineEntry<T> {
  /** Its class's rank (`classRank`: 0 is served first). */
  readonly rank: number;
  /** Its turn among the model's waiting calls (the wake list's order); moves back by one when a call goes ahead of it. */
  order: number;
  readonly item: T;
}

/** Where a call of a given class goes in the line. */
export interface Spot<T> {
  /** The waiting call it goes ahead of (it takes that call's place), or `undefined`: at the end. */
  readonly before: LineEntry<T> | undefined;
  /** The calls it goes ahead of (all of a lower class, or behind one), for a look at their deadlines. */
  readonly jumped: readonly LineEntry<T>[];
}

/**
 * How many times in a row a class may be gone ahead of while it waits, for its reserved share: with share
 * `s`, at most `(1 − s) / s` higher-class calls go before one of it (0.1: 9 in a row, then one of it).
 */
export function jumpsAllowed(share: number): number {
  return share > 0 ? Math.max(0, Math.ceil((1 - share) / share - 1e-9)) : Number.POSITIVE_INFINITY;
}

/**
 * The calls waiting for one model's capacity, in the order they will get it: higher classes first, in
 * arrival order within a class. A call goes ahead of every waiting call of a lower class, except that a
 * class given a reserved share (`rateLimit.classes.reservedShare`) that has been gone ahead of
 * {@link jumpsAllowed} times since one of its calls last got capacity keeps its first waiting call where it
 * is (the newcomer goes right behind it): so a lower class still gets about its share of the capacity
 * while higher classes keep arriving. With one class only, the line is the arrival order.
 */
export class ClassLine<T> {
  #entries: LineEntry<T>[] = [];
  /** Per rank: higher-class calls that went ahead of that class's waiting calls since one of its calls got capacity. */
  readonly #jumps: number[] = [];

  /** @param allowed per rank, how many calls in a row may go ahead of that class (see {@link jumpsAllowed}) */
  constructor(private readonly allowed: (rank: number) => number) {}

  get size(): number {
    return this.#entries.length;
  }

  /** Where a newcomer of `rank` goes: ahead of the first waiting call of a lower class that it may pass. */
  spot(rank: number): Spot<T> {
    const entries = this.#entries;
    const kept = new Set<number>();
    for (let index = 0; index < entries.length; index++) {
      const entry = entries[index]!;
      if (entry.rank <= rank) continue;
      // Owed its share: its first waiting call keeps its place.
      if (!kept.has(entry.rank) && (this.#jumps[entry.rank] ?? 0) >= this.allowed(entry.rank)) {
        kept.add(entry.rank);
        continue;
      }
      return { before: entry, jumped: entries.slice(index) };
    }
    return { before: undefined, jumped: [] };
  }

  /**
   * Puts a newcomer of `rank` at `spot` (from {@link spot}, taken just before, with no turn between):
   * at the end with `nextOrder()`, or in the place of `spot.before`, the calls from there moving back one.
   */
  join(rank: number, item: T, spot: Spot<T>, nextOrder: () => number): LineEntry<T> {
    const { before } = spot;
    const at = before ? this.#entries.indexOf(before) : -1;
    if (at < 0) {
      const entry = { rank, order: nextOrder(), item };
      this.#entries.push(entry);
      return entry;
    }
    const entry = { rank, order: before!.order, item };
    // The turns behind move back by one; the next newcomer's turn stays beyond them.
    for (let index = at; index < this.#entries.length; index++) this.#entries[index]!.order++;
    nextOrder();
    this.#entries.splice(at, 0, entry);
    for (const passed of new Set(spot.jumped.map((jumped) => jumped.rank))) this.#jumps[passed] = (this.#jumps[passed] ?? 0) + 1;
    return entry;
  }

  /** `entry` no longer waits: it got capacity (`served`: its class's count of calls gone ahead starts again), or gave up. */
  leave(entry: LineEntry<T>, served: boolean): void {
    const at = this.#entries.indexOf(entry);
    if (at >= 0) this.#entries.splice(at, 1);
    if (served) this.#jumps[entry.rank] = 0;
  }
}
