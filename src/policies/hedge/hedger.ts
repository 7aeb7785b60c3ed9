import { LRUCache } from 'lru-cache';
import type { Clock } from '../../core/clock.js';
import { LIMITS } from '../../core/option-limits.js';
import { LatencyHistogram } from '../../stats/latency-histogram.js';
import { RollingCounter } from '../rolling-counter.js';

/** Hedging settings after defaults (see `HedgeOptions`). */
export interface HedgeSettings {
  /** A fixed delay in ms, or a percentile (0..100) of recent latencies. */
  readonly delay: number | { readonly percentile: number };
  readonly maxExtraAttempts: number;
  readonly maxHedgedShare: number;
  readonly minSamples: number;
}

/** The share of hedged calls is measured over this window. */
const SHARE_WINDOW = 60_000;
/**
 * A model's latency sample is renewed after this many answers (the previous generation still counts), so
 * at least this many are always known once reached: `hedge.minSamples` may ask for up to this many.
 */
const GENERATION = LIMITS.hedgeSamples;
const MAX_MODELS = 1_000;

/** A learned delay is computed again after this many new answers. */
const RECOMPUTE_EVERY = 16;

/** Two generations of latencies: recent enough to follow a change, large enough to see the tail. */
class RecentLatencies {
  #current = new LatencyHistogram();
  #previous: LatencyHistogram | undefined;
  #percentile: { fraction: number; value: number | undefined; at: number } | undefined;
  /** Answers recorded since the start (never decreases, unlike `count`). */
  #recorded = 0;

  record(ms: number): void {
    this.#recorded++;
    if (this.#current.count >= GENERATION) {
      this.#previous = this.#current;
      this.#current = new LatencyHistogram();
    }
    this.#current.record(ms);
  }

  get count(): number {
    return this.#current.count + (this.#previous?.count ?? 0);
  }

  percentile(fraction: number): number | undefined {
    const cached = this.#percentile;
    if (cached?.fraction === fraction && this.#recorded - cached.at < RECOMPUTE_EVERY) return cached.value;
    let value: number | undefined;
    if (!this.#previous) {
      value = this.#current.percentile(fraction);
    } else {
      const merged = new LatencyHistogram();
      merged.merge(this.#previous);
      merged.merge(this.#current);
      value = merged.percentile(fraction);
    }
    this.#percentile = { fraction, value, at: this.#recorded };
    return value;
  }
}

/**
 * Decides when to hedge: the delay per model (fixed, or a percentile of its recent answered attempts)
 * and whether the share of hedged calls allows one more.
 */
export class Hedger {
  readonly #calls = new RollingCounter(SHARE_WINDOW);
  readonly #hedged = new RollingCounter(SHARE_WINDOW);
  readonly #latencies = new LRUCache<string, RecentLatencies>({ max: MAX_MODELS });

  constructor(
    readonly settings: HedgeSettings,
    private readonly clock: Clock,
  ) {}

  /** Counts a call that could be hedged. */
  recordCall(): void {
    this.#calls.add(this.clock.now());
  }

  /** How long an attempt to `model` may go unanswered before a hedge; `undefined` while it is not known. */
  delayFor(model: string): number | undefined {
    const { delay, minSamples } = this.settings;
    if (typeof delay === 'number') return delay;
    const latencies = this.#latencies.get(model);
    if (!latencies || latencies.count < minSamples) return undefined;
    return Math.max(1, Math.ceil(latencies.percentile(delay.percentile / 100)!));
  }

  /** Takes one hedged call from the share; `false` when the share is spent. */
  tryHedge(): boolean {
    const now = this.clock.now();
    if (this.#hedged.total(now) + 1 > this.settings.maxHedgedShare * this.#calls.total(now)) return false;
    this.#hedged.add(now);
    return true;
  }

  /** An attempt to `model` answered after `ms`. */
  observe(model: string, ms: number): void {
    let latencies = this.#latencies.get(model);
    if (!latencies) this.#latencies.set(model, (latencies = new RecentLatencies()));
    latencies.record(ms);
  }
}
