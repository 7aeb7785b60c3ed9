import type { ResolvedMember } from './resolve-pool.js';

/** How a member's recent answers went: counted for `stats().members`, and its latency for routing. */
export interface MemberCounts {
  /** Attempts sent to the member. */
  readonly requests: number;
  /** Of those, the ones that failed (an upstream error, a timeout, a lost connection). */
  readonly failures: number;
  /** Attempts assigned to the member and not ended yet (waiting for its limits, or on the wire). */
  readonly inFlight: number;
}

/** Weight of the newest latency in the member's moving average. */
const LATENCY_WEIGHT = 0.2;
/** Half-life of the count of attempts recently assigned to a member, in ms. */
const RECENT_HALF_LIFE = 1_000;

/** One member of a pool at run time: its configuration, its calls in flight, its recent latency. */
export class MemberState {
  readonly name: string;
  readonly weight: number;
  readonly maxConcurrent: number | undefined;
  readonly index: number;
  readonly #models: ReadonlyMap<string, string> | undefined;
  #inFlight = 0;
  #requests = 0;
  #failures = 0;
  /** Moving average of its answers' latency in ms (`undefined` until one came). */
  #latency: number | undefined;
  /** Attempts assigned to it lately, each counting half as much every {@link RECENT_HALF_LIFE} ms, as of `#recentAt`. */
  #recent = 0;
  #recentAt = 0;

  constructor(config: Pick<ResolvedMember, 'name' | 'weight' | 'models' | 'maxConcurrent'>, index: number) {
    this.name = config.name;
    this.weight = config.weight;
    this.maxConcurrent = config.maxConcurrent;
    this.#models = config.models;
    this.index = index;
  }

  /** The name this member knows `model` by, or `undefined` when it does not serve it. */
  modelFor(model: string): string | undefined {
    return this.#models === undefined ? model : this.#models.get(model);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get latency(): number | undefined {
    return this.#latency;
  }

  get full(): boolean {
    return this.maxConcurrent !== undefined && this.#inFlight >= this.maxConcurrent;
  }

  /**
   * What the member has on its hands at `now`: its attempts in flight and those assigned to it lately
   * (decaying with a half-life of a second), so that at light load, when nothing stays in flight, calls
   * still go to each member in proportion to its capacity.
   */
  load(now: number): number {
    return this.#inFlight + this.#decayed(now);
  }

  /** An attempt was assigned to the member at `now`; the function returned ends it (idempotent). */
  assign(now: number): () => void {
    this.#recent = this.#decayed(now) + 1;
    this.#recentAt = now;
    this.#inFlight++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#inFlight--;
    };
  }

  /** An attempt sent to the member ended; `latency` in ms for an answer. */
  answered(ok: boolean, latency: number | undefined): void {
    this.#requests++;
    if (!ok) this.#failures++;
    if (ok && latency !== undefined) {
      this.#latency = this.#latency === undefined ? latency : this.#latency + LATENCY_WEIGHT * (latency - this.#latency);
    }
  }

  #decayed(now: number): number {
    const elapsed = now - this.#recentAt;
    return elapsed <= 0 ? this.#recent : this.#recent * 0.5 ** (elapsed / RECENT_HALF_LIFE);
  }

  counts(): MemberCounts {
    return { requests: this.#requests, failures: this.#failures, inFlight: this.#inFlight };
  }
}
