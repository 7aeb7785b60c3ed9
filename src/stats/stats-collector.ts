import { LRUCache } from 'lru-cache';
import type { ErrorKind } from '../classify/error-kind.js';
import { CallStats, type CallStatsSnapshot } from './call-stats.js';

/** Models and tenants tracked; the least recently used beyond it are dropped from the snapshot. */
const MAX_KEYS = 1_000;
export const NO_MODEL = '(no model)';

/** Where a call's numbers go: the client's total, its model's, and its tenant's. */
interface Scope {
  readonly model: string | undefined;
  readonly tenant: string | undefined;
}

/**
 * In-process statistics per model and per tenant, updated by the pipeline as calls end. Bounded memory:
 * fixed-size histograms, and at most {@link MAX_KEYS} models and tenants.
 */
export class StatsCollector {
  readonly since: number;
  readonly #total = new CallStats();
  readonly #models = new LRUCache<string, CallStats>({ max: MAX_KEYS });
  readonly #tenants = new LRUCache<string, CallStats>({ max: MAX_KEYS });

  constructor(now: number) {
    this.since = now;
  }

  succeeded(scope: Scope, latencyMs: number): void {
    for (const stats of this.#all(scope)) {
      stats.calls++;
      stats.successes++;
      stats.latency.record(latencyMs);
    }
  }

  failed(scope: Scope, kind: ErrorKind): void {
    for (const stats of this.#all(scope)) {
      stats.calls++;
      stats.failures.set(kind, (stats.failures.get(kind) ?? 0) + 1);
    }
  }

  retried(scope: Scope): void {
    for (const stats of this.#all(scope)) stats.retries++;
  }

  /** A cacheable call: answered from the cache or by an identical call in flight (`hit`), or not. */
  cached(scope: Scope, hit: boolean): void {
    for (const stats of this.#all(scope)) {
      if (hit) stats.cacheHits++;
      else stats.cacheMisses++;
    }
  }

  fellBack(scope: Scope): void {
    for (const stats of this.#all(scope)) stats.fallbacks++;
  }

  /** Adds a response's `usage` (Chat Completions, Responses and Embeddings shapes). */
  used(scope: Scope, body: unknown): void {
    const usage = (body as { usage?: Record<string, unknown> } | null | undefined)?.usage;
    if (typeof usage !== 'object' || usage === null) return;
    const input = numberOf(usage['prompt_tokens']) ?? numberOf(usage['input_tokens']) ?? 0;
    const output = numberOf(usage['completion_tokens']) ?? numberOf(usage['output_tokens']) ?? 0;
    const total = numberOf(usage['total_tokens']) ?? input + output;
    for (const stats of this.#all(scope)) {
      stats.inputTokens += input;
      stats.outputTokens += output;
      stats.totalTokens += total;
    }
  }

  snapshot(): { total: CallStatsSnapshot; models: Record<string, CallStatsSnapshot>; tenants: Record<string, CallStatsSnapshot> } {
    const models: Record<string, CallStatsSnapshot> = {};
    for (const [model, stats] of this.#models.entries()) models[model] = stats.snapshot();
    const tenants: Record<string, CallStatsSnapshot> = {};
    for (const [tenant, stats] of this.#tenants.entries()) tenants[tenant] = stats.snapshot();
    return { total: this.#total.snapshot(), models, tenants };
  }

  #all(scope: Scope): CallStats[] {
    const all = [this.#total, this.#entry(this.#models, scope.model ?? NO_MODEL)];
    if (scope.tenant !== undefined) all.push(this.#entry(this.#tenants, scope.tenant));
    return all;
  }

  #entry(cache: LRUCache<string, CallStats>, key: string): CallStats {
    let stats = cache.get(key);
    if (!stats) cache.set(key, (stats = new CallStats()));
    return stats;
  }
}

function numberOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
