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

  /** An attempt was assigned to the member; the function returned ends it (idempotent). */
  assign(): () => void {
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

  counts(): MemberCounts {
    return { requests: this.#requests, failures: this.#failures, inFlight: this.#inFlight };
  }
}
