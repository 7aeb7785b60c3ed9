import type { TokenizerChoice } from '../tokens/tokens-options.js';
import type { Clock } from '../core/clock.js';
import type { ErrorKind, RecoveryAction } from '../errors/error-kind.js';
import type { ResolvedLogger } from '../events/resolve-logger-options.js';
import type { SharedBackend } from '../shared/shared-backend.js';
import type { BulkheadSettings } from '../policies/bulkhead/bulkhead.js';
import type { ResolvedBreaker } from '../policies/circuit-breaker/resolve-circuit-breaker-options.js';
import type { HedgeSettings } from '../policies/hedge/hedger.js';
import type { RateLimitSettings } from '../policies/rate-limit/rate-limiter.js';
import type { ResolvedRetry } from '../policies/retry/resolve-retry-options.js';
import type { CacheSettings } from '../cache/response-cache.js';
import type { ResolvedFallback } from '../fallback/resolve-fallback-options.js';
import type { ResolvedPolicies, ResolvedTimeout } from './resolve-pipeline-options.js';
import type { StreamGuardSettings } from '../streams/stream-guard-hooks.js';
import type { FlexSettings } from '../tiers/resolve-flex-options.js';
import type { BudgetSettings } from '../budgets/resolve-budget-options.js';

/**
 * Options after defaults and validation: what the pipeline reads on every call. Each feature resolves its
 * own part (`resolve-*-options.ts` beside it); `client/resolve-options.ts` puts them together.
 */
export interface ResolvedOptions {
  readonly retry: ResolvedRetry;
  readonly circuitBreaker: ResolvedBreaker | undefined;
  readonly bulkhead: BulkheadSettings | undefined;
  readonly rateLimit: RateLimitSettings | undefined;
  readonly fallback: ResolvedFallback | undefined;
  readonly flex: FlexSettings | undefined;
  readonly cache: CacheSettings | undefined;
  readonly shared: SharedBackend | undefined;
  readonly hedge: HedgeSettings | undefined;
  readonly refreshCredentials: ((error: unknown) => unknown) | undefined;
  readonly contextWindows: Readonly<Record<string, number>>;
  readonly budgets: BudgetSettings | undefined;
  /** What counts a request's tokens (`tokens.tokenizer`). */
  readonly tokens: TokenizerChoice;
  readonly logger: ResolvedLogger | undefined;
  readonly timeout: ResolvedTimeout;
  readonly streaming: StreamGuardSettings;
  readonly actions: Partial<Record<ErrorKind, RecoveryAction>>;
  readonly policies: ResolvedPolicies;
  readonly clock: Clock;
}
