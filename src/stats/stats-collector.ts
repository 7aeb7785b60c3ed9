import { LRUCache } from 'lru-cache';
import type { ErrorKind } from '../errors/error-kind.js';
import { CallStats, type CallStatsSnapshot, type TokenUsage } from './call-stats.js';
import type { StatsScope } from './stats-scope.js';
import { TRAFFIC_CLASSES, type TrafficClass } from '../core/traffic-class.js';

/** Models, endpoints and tenants tracked (the three traffic classes always are); the least recently used beyond it are dropped from the snapshot. */
const MAX_KEYS = 1_000;
export const NO_MODEL = '(no model)';

/**
 * In-process statistics per model and per tenant, updated by the pipeline as calls end. Bounded memory:
 * fixed-size histograms, and at most {@link MAX_KEYS} models and tenants.
 */
export class StatsCollector {
  readonly since: number;
  readonly #total = new CallStats();
  readonly #models = new LRUCache<string, CallStats>({ max: MAX_KEYS });
  readonly #tenants = new LRUCache<string, CallStats>({ max: MAX_KEYS });
  readonly #endpoints = new LRUCache<string, CallStats>({ max: MAX_KEYS });
  readonly #classes = new Map<TrafficClass, CallStats>(TRAFFIC_CLASSES.map((name) => [name, new CallStats()]));

  constructor(now: number) {
    this.since = now;
  }

  succeeded(scope: StatsScope, latencyMs: number): void {
    for (const stats of scope.entries) {
      stats.calls++;
      stats.successes++;
      stats.latency.record(latencyMs);
    }
  }

  failed(scope: StatsScope, kind: ErrorKind): void {
    for (const stats of scope.entries) {
      stats.calls++;
      stats.failures.set(kind, (stats.failures.get(kind) ?? 0) + 1);
    }
  }

  retried(scope: StatsScope): void {
    for (const stats of scope.entries) stats.retries++;
  }

  /** A cacheable call: answered from the cache or by an identical call in flight (`hit`), or not. */
  cached(scope: StatsScope, hit: boolean): void {
    for (const stats of scope.entries) {
      if (hit) stats.cacheHits++;
      else stats.cacheMisses++;
    }
  }

  /** A stream reached its first chunk after `ms`. */
  streamStarted(scope: StatsScope, ms: number): void {
    for (const stats of scope.entries) {
      stats.streams++;
      stats.timeToFirstChunk.record(ms);
    }
  }

  /** A stream went silent past `timeout.idle` (`stall`), ended without its terminal event, or was abandoned. */
  streamEnded(scope: StatsScope, how: 'stall' | 'truncated' | 'abandoned'): void {
    for (const stats of scope.entries) {
      if (how === 'stall') stats.streamStalls++;
      else if (how === 'truncated') stats.streamTruncations++;
      else stats.streamAbandoned++;
    }
  }

  /** A hedge was sent. */
  hedged(scope: StatsScope): void {
    for (const stats of scope.entries) stats.hedges++;
  }

  /** A hedge answered first. */
  hedgeWon(scope: StatsScope): void {
    for (const stats of scope.entries) stats.hedgeWins++;
  }

  fellBack(scope: StatsScope): void {
    for (const stats of scope.entries) stats.fallbacks++;
  }

  /** Adds an answer's token usage. */
  used(scope: StatsScope, usage: TokenUsage): void {
    for (const stats of scope.entries) {
      stats.inputTokens += usage.inputTokens;
      stats.outputTokens += usage.outputTokens;
      stats.totalTokens += usage.totalTokens;
    }
  }

  snapshot(): {
    total: CallStatsSnapshot;
    models: Record<string, CallStatsSnapshot>;
    endpoints: Record<string, CallStatsSnapshot>;
    tenants: Record<string, CallStatsSnapshot>;
    classes: Record<TrafficClass, CallStatsSnapshot>;
  } {
    const all = (cache: LRUCache<string, CallStats>) => {
      const snapshot: Record<string, CallStatsSnapshot> = {};
      for (const [key, stats] of cache.entries()) snapshot[key] = stats.snapshot();
      return snapshot;
    };
    const classes = {} as Record<TrafficClass, CallStatsSnapshot>;
    for (const [name, stats] of this.#classes) classes[name] = stats.snapshot();
    return { total: this.#total.snapshot(), models: all(this.#models), endpoints: all(this.#endpoints), tenants: all(this.#tenants), classes };
  }

  /** The entries the numbers of a call to `model` on `endpoint` for `tenant`, of `trafficClass`, go to (a {@link StatsScope}'s). */
  entries(model: string | undefined, endpoint: string, tenant: string | undefined, trafficClass: TrafficClass = 'default'): CallStats[] {
    const all = [this.#total, this.#entry(this.#models, model ?? NO_MODEL), this.#entry(this.#endpoints, endpoint), this.#classes.get(trafficClass)!];
    if (tenant !== undefined) all.push(this.#entry(this.#tenants, tenant));
    return all;
  }

  #entry(cache: LRUCache<string, CallStats>, key: string): CallStats {
    let stats = cache.get(key);
    if (!stats) cache.set(key, (stats = new CallStats()));
    return stats;
  }
}

/** A response's `usage` in one shape (Chat Completions, Responses and Embeddings name it differently). */
export function normalizeUsage(body: unknown): TokenUsage | undefined {
  const usage = (body as { usage?: Record<string, unknown> } | null | undefined)?.usage;
  if (typeof usage !== 'object' || usage === null) return undefined;
  const inputTokens = numberOf(usage['prompt_tokens']) ?? numberOf(usage['input_tokens']) ?? 0;
  const outputTokens = numberOf(usage['completion_tokens']) ?? numberOf(usage['output_tokens']) ?? 0;
  return { inputTokens, outputTokens, totalTokens: numberOf(usage['total_tokens']) ?? inputTokens + outputTokens };
}

function numberOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
