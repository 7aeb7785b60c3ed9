/**
 * A count over a sliding time window, kept in a fixed number of slots (bounded memory whatever the
 * traffic). Slots older than the window are dropped as time moves, so an idle period never leaves stale
 * counts behind (unlike cockatiel's SamplingBreaker buckets).
 */
export class RollingCounter {
  readonly #slotMs: number;
  readonly #counts: number[];
  readonly #starts: number[];

  constructor(windowMs: number, slots = 10) {
    this.#slotMs = Math.max(1, windowMs / slots);
    this.#counts = new Array<number>(slots).fill(0);
    this.#starts = new Array<number>(slots).fill(-Infinity);
  }

  add(now: number, amount = 1): void {
    const start = Math.floor(now / this.#slotMs) * this.#slotMs;
    const index = Math.floor(now / this.#slotMs) % this.#counts.length;
    if (this.#starts[index] !== start) {
      this.#starts[index] = start;
      this.#counts[index] = 0;
    }
    this.#counts[index]! += amount;
  }

  /** The sum of the slots that overlap the window ending at `now`. */
  total(now: number): number {
    const oldest = now - this.#slotMs * this.#counts.length;
    let sum = 0;
    for (let i = 0; i < this.#counts.length; i++) if (this.#starts[i]! > oldest) sum += this.#counts[i]!;
    return sum;
  }

  reset(): void {
    this.#counts.fill(0);
    this.#starts.fill(-Infinity);
  }
}
