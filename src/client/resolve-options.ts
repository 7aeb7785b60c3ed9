import { resolveCache } from '../cache/resolve-cache-options.js';
import { resolveActions } from '../classify/resolve-actions.js';
import type { ClientDefaults } from '../core/client-defaults.js';
import { objectWithKeys } from '../core/validate.js';
import { resolveLogger } from '../events/resolve-logger-options.js';
import { resolveFallback } from '../fallback/resolve-fallback-options.js';
import { resolveClock, resolveFunction, resolvePolicies, resolveTimeout, resolveWindows } from '../pipeline/resolve-pipeline-options.js';
import type { ResolvedOptions } from '../pipeline/resolved-options.js';
import { resolveBulkhead } from '../policies/bulkhead/resolve-bulkhead-options.js';
import { resolveBreaker } from '../policies/circuit-breaker/resolve-circuit-breaker-options.js';
import { resolveHedge } from '../policies/hedge/resolve-hedge-options.js';
import { resolveRateLimit } from '../policies/rate-limit/resolve-rate-limit-options.js';
import { resolveRetry } from '../policies/retry/resolve-retry-options.js';
import { resolveShared } from '../shared/resolve-shared-option.js';
import { resolveStreaming } from '../streams/resolve-streaming-options.js';
import { resolveFlex } from '../tiers/resolve-flex-options.js';
import { resolveTokens } from '../tokens/resolve-tokens-options.js';
import type { ResilienceOptions } from './options.js';
import { requirePrices, resolveBudgets } from '../budgets/resolve-budget-options.js';
import type { ResolvedFallback } from '../fallback/resolve-fallback-options.js';

const TOP_LEVEL = ['retry', 'timeout', 'streaming', 'actions', 'circuitBreaker', 'bulkhead', 'rateLimit', 'fallback', 'flex', 'cache', 'shared', 'hedge', 'refreshCredentials', 'contextWindows', 'budgets', 'tokens', 'logger', 'logLevel', 'policies', 'clock', 'pool'] as const;

/**
 * Validates `options` (throwing a `TypeError` that names the option) and fills in defaults: each feature
 * resolves its own part; this only checks the top-level names and puts the parts together.
 */
export function resolveOptions(options: unknown, client: ClientDefaults = {}): ResolvedOptions {
  const top = objectWithKeys('', options ?? {}, TOP_LEVEL) as ResilienceOptions;
  const retry = resolveRetry(top.retry, client);
  const fallback = resolveFallback(top.fallback);
  const contextWindows = resolveWindows(top.contextWindows);
  const budgets = resolveBudgets(top.budgets);
  requirePrices(budgets, namedModels(fallback, contextWindows));
  return {
    retry,
    timeout: resolveTimeout(top.timeout, client),
    streaming: resolveStreaming(top.timeout, top.streaming),
    circuitBreaker: resolveBreaker(top.circuitBreaker),
    bulkhead: resolveBulkhead(top.bulkhead),
    rateLimit: resolveRateLimit(top.rateLimit, retry.maxRetryAfter),
    fallback,
    flex: resolveFlex(top.flex),
    cache: resolveCache(top.cache),
    shared: resolveShared(top.shared),
    hedge: resolveHedge(top.hedge),
    refreshCredentials: resolveFunction('refreshCredentials', top.refreshCredentials),
    contextWindows,
    budgets,
    tokens: resolveTokens(top.tokens),
    logger: resolveLogger(top.logger, top.logLevel),
    actions: resolveActions(top.actions),
    policies: resolvePolicies(top.policies),
    clock: resolveClock(top.clock),
  };
}

/** The models the options name (fallback models, context windows), with where: each needs a price under a spend limit. */
function* namedModels(fallback: ResolvedFallback | undefined, contextWindows: Readonly<Record<string, number>>): Generator<readonly [string, string]> {
  for (const [table, lists] of [['fallback.models', fallback?.models], ['fallback.contextWindow', fallback?.contextWindow]] as const) {
    for (const [model, list] of Object.entries(lists ?? {})) {
      yield [model, `${table}`];
      for (const to of list) yield [to, `${table}.${model}`];
    }
  }
  for (const model of Object.keys(contextWindows)) yield [model, 'contextWindows'];
}
