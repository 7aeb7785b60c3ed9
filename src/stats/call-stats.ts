import type { ErrorKind } from '../errors/error-kind.js';
import { LatencyHistogram } from './latency-histogram.js';

/** Token usage added up from the responses' `usage`. */
export interface TokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly totalTokens: number;
}

/** Counters of one model, one tenant, or the whole client. */
export interface CallStatsSnapshot {
  /**
   * Calls that ended (successfully or not). A stream's call ends with its stream, counted by how it ends:
   * a failure after its first chunk is a failure of its kind; one its caller stopped or abandoned, `aborted`.
   */
  readonly calls: number;
  readonly successes: number;
  /** Failed calls, by the kind of their final error. */
  readonly failures: Partial<Record<ErrorKind, number>>;
  /** Retries made (attempts beyond the first). */
  readonly retries: number;
  /** Fallback steps taken (another model, another client, or the last-resort value). */
  readonly fallbacks: number;
  /** Hedges sent (`hedge` option), and those that answered first. */
  readonly hedges: { readonly sent: number; readonly won: number };
  /** Cacheable calls answered from the cache, and those that were not. */
  readonly cache: { readonly hits: number; readonly misses: number };
  /**
   * Latency in ms of the calls that succeeded, from the call to its answer, retries and waits included;
   * for a stream, to its end (its terminal event); a stream's time to first chunk is in `streams`. Always
   * there: before the first answer its `count` and percentiles are 0.
   */
  readonly latency: LatencySnapshot;
  /** Token usage reported by the responses. */
  readonly usage: TokenUsage;
  /**
   * Streams started, their time to first chunk (ms), and how many stalled, were cut short, or were
   * abandoned by their caller (not read while nothing moved on them for `timeout.idle`, or
   * garbage-collected before their end).
   */
  readonly streams: {
    readonly started: number;
    /** Before the first stream, its `count` and percentiles are 0. */
    readonly timeToFirstChunk: LatencySnapshot;
    readonly stalls: number;
    readonly truncated: number;
    readonly abandoned: number;
  };
}

/** Percentiles in milliseconds, of `count` latencies (all 0 when `count` is 0). */
export interface LatencySnapshot {
  /** How many latencies were measured. */
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** Mutable counters behind a {@link CallStatsSnapshot}. */
export class CallStats {
  calls = 0;
  successes = 0;
  retries = 0;
  fallbacks = 0;
  hedges = 0;
  hedgeWins = 0;
  cacheHits = 0;
  cacheMisses = 0;
  readonly failures = new Map<ErrorKind, number>();
  readonly latency = new LatencyHistogram();
  readonly timeToFirstChunk = new LatencyHistogram();
  streams = 0;
  streamStalls = 0;
  streamTruncations = 0;
  streamAbandoned = 0;
  inputTokens = 0;
  outputTokens = 0;
  totalTokens = 0;

  snapshot(): CallStatsSnapshot {
    return {
      calls: this.calls,
      successes: this.successes,
      failures: Object.fromEntries(this.failures),
      retries: this.retries,
      fallbacks: this.fallbacks,
      hedges: { sent: this.hedges, won: this.hedgeWins },
      cache: { hits: this.cacheHits, misses: this.cacheMisses },
      latency: percentiles(this.latency),
      usage: { inputTokens: this.inputTokens, outputTokens: this.outputTokens, totalTokens: this.totalTokens },
      streams: {
        started: this.streams,
        timeToFirstChunk: percentiles(this.timeToFirstChunk),
        stalls: this.streamStalls,
        truncated: this.streamTruncations,
        abandoned: this.streamAbandoned,
      },
    };
  }
}

/** A histogram's count, percentiles and maximum. */
export function percentiles(histogram: LatencyHistogram): LatencySnapshot {
  const { count } = histogram;
  if (count === 0) return { count, p50: 0, p95: 0, p99: 0, max: 0 };
  return { count, p50: histogram.percentile(0.5)!, p95: histogram.percentile(0.95)!, p99: histogram.percentile(0.99)!, max: histogram.max };
}
