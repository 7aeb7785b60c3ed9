import type { OpenAI } from 'openai';
import { installPipeline, RESILIENT } from './install-pipeline.js';
import { assertSupportedClient, carriedOptions, type OpenAIClientLike } from '../core/sdk-internals.js';
import { EventBus } from '../events/event-bus.js';
import { resolveOptions } from './resolve-options.js';
import type { SharedState } from '../pipeline/pipeline-context.js';
import { Bulkhead } from '../policies/bulkhead/bulkhead.js';
import { CircuitBreakers } from '../policies/circuit-breaker/circuit-breakers.js';
import { createTokenCounter } from '../tokens/token-counters.js';
import { ClassCounters } from '../policies/class-counters.js';
import { RateLimiter } from '../policies/rate-limit/rate-limiter.js';
import { RetryBudget } from '../policies/retry/retry-budget.js';
import { SharedLink } from '../shared/shared-link.js';
import { Hedger } from '../policies/hedge/hedger.js';
import { StatsCollector } from '../stats/stats-collector.js';
import { ResponseCache } from '../cache/response-cache.js';
import { attachLogger, listenerFailureLog } from '../events/logging.js';
import type { ResilienceOptions } from './options.js';
import type { Resilience } from './resilience.js';
import type { ResolvedOptions } from '../pipeline/resolved-options.js';
import type { PoolMember } from '../pool/pool-options.js';
import { resolvePool, type ResolvedPool } from '../pool/resolve-pool.js';
import { createPoolState } from './pool-members.js';
import { BudgetGate } from '../budgets/budget-gate.js';
import { LocalBudgetLedger } from '../budgets/local-budget-ledger.js';
import { SharedBudgetLedger, sharedUsageAvailable } from '../budgets/shared-budget-ledger.js';
import type { BudgetLedger } from '../budgets/budget-ledger.js';
import type { BudgetSettings } from '../budgets/resolve-budget-options.js';
import { accountId } from '../core/account-scope.js';
import type { Clock } from '../core/clock.js';
import { requirePrices } from '../budgets/resolve-budget-options.js';

export type { OpenAIClientLike };

/** A client returned by {@link resilient}: the same type as the one you passed, plus `resilience`. */
export type ResilientClient<T extends OpenAIClientLike = OpenAI> = T & {
  /** Events, circuit state, load and tenant views. */
  readonly resilience: Resilience<ResilientClient<T>>;
};

/**
 * Wraps an OpenAI client so that every request it makes (resource methods, helpers such as
 * `chat.completions.stream()` and `runTools()`, `*AndPoll`, and pagination) runs through the
 * resilience policies. The result is a client of the same class (`instanceof` holds, every method keeps
 * its types); the client you pass is not modified.
 *
 * The SDK's own retries are switched off underneath; `options.retry` decides every retry.
 *
 * @throws TypeError naming the option, when `options` is invalid.
 *
 * @example
 * ```ts
 * const ai = resilient(new OpenAI(), { retry: { maxRetries: 3 }, timeout: { total: 120_000 } });
 * const completion = await ai.chat.completions.create({ model: 'gpt-4.1-mini', messages });
 * ```
 */
export function resilient<T extends OpenAIClientLike>(client: T, options?: ResilienceOptions): ResilientClient<T>;
/**
 * A pool: one resilient client whose calls are spread over several members (other keys, projects,
 * regions, Azure deployments, OpenAI-compatible providers), each with its own circuits, rate limits and
 * concurrency. The result is a client of the first member's class. See docs/pools.md.
 *
 * @throws TypeError at once for an empty pool, a member that is not an SDK client, a weight that is not
 * a positive number, the same client or name twice, or invalid `options`.
 *
 * @example
 * ```ts
 * const ai = resilient([new OpenAI({ apiKey: KEY_A }), { client: new OpenAI({ apiKey: KEY_B }), weight: 2 }]);
 * ```
 */
export function resilient<T extends OpenAIClientLike>(
  members: readonly [T | PoolMember<T>, ...(OpenAIClientLike | PoolMember)[]],
  options?: ResilienceOptions,
): ResilientClient<T>;
/** A pool built from an array (`regions.map(...)`): a client of its members' class; an empty array is a `TypeError`. */
export function resilient<T extends OpenAIClientLike>(members: readonly (T | PoolMember<T>)[], options?: ResilienceOptions): ResilientClient<T>;
export function resilient<T extends OpenAIClientLike>(
  clientOrMembers: T | readonly (OpenAIClientLike | PoolMember)[],
  options?: ResilienceOptions,
): ResilientClient<T> {
  const members = Array.isArray(clientOrMembers) ? resolvePool(clientOrMembers, options?.pool) : undefined;
  if (!members && options?.pool !== undefined) {
    throw new TypeError('openai-resilient: `pool` applies only to a pool: pass an array of members, `resilient([clientA, clientB], { pool })`.');
  }
  const sdkClient: unknown = members ? members.members[0]!.client : clientOrMembers;
  for (const client of members ? members.members.map((member) => member.client) : [sdkClient]) {
    assertSupportedClient(client);
    if ((client as unknown as Record<symbol, unknown>)[RESILIENT]) {
      throw new TypeError(
        `openai-resilient: ${members ? 'a pool member' : '`client`'} is already resilient; wrapping it again would stack retries. ${members ? 'Pass the original client.' : 'Use `client.withOptions()` for a variant, or wrap the original client.'}`,
      );
    }
  }
  assertSupportedClient(sdkClient);
  const maxRetries = sdkClient._options?.maxRetries;
  const resolved = resolveOptions(options, {
    // The client's own settings carry over as defaults; `maxRetries: 0` on the client only means
    // "the SDK must not retry", which is always true underneath.
    maxRetries: typeof maxRetries === 'number' && maxRetries > 0 ? maxRetries : undefined,
    timeout: sdkClient._options?.timeout,
  });
  // Under a spend limit, the models the pool's members serve need prices too.
  requirePrices(resolved.budgets, (members?.members ?? []).flatMap((member, index) => [...(member.models?.keys() ?? [])].map((model) => [model, `members[${index}].models`] as const)));
  const clone = sdkClient.withOptions({ ...carriedOptions(sdkClient), maxRetries: 0 });
  const shared = createSharedState(resolved, members, () => accountId({ client: clone, baseURL: String(clone.baseURL ?? '') }));
  return installPipeline(clone, shared, withResilientFallbacks(resolved)) as unknown as ResilientClient<T>;
}

/**
 * Fallback clients run through their own policies: one passed in plain is wrapped here with default
 * options (and the same clock).
 */
function withResilientFallbacks(options: ResolvedOptions): ResolvedOptions {
  if (!options.fallback) return options;
  const clients = options.fallback.clients.map((entry) => ({
    ...entry,
    client: (entry.client as Record<symbol, unknown>)[RESILIENT]
      ? entry.client
      : resilient(entry.client as OpenAIClientLike, { clock: options.clock }),
  }));
  return { ...options, fallback: { ...options.fallback, clients } };
}

/** The state every view of one resilient client shares: events and the protecting policies (and its pool's members). */
function createSharedState(options: ResolvedOptions, pool: ResolvedPool | undefined, account: () => Promise<string>): SharedState {
  const { clock, logger } = options;
  const events = new EventBus(logger && listenerFailureLog(logger.logger, logger.level));
  if (logger) attachLogger(events, logger.logger, logger.level);
  const link = options.shared && new SharedLink(options.shared, clock, events);
  // One count of the rate limiter's queues by class, over a pool's members too.
  const rateLimitClasses = options.rateLimit && new ClassCounters();
  const tokens = createTokenCounter(options.tokens);
  const rateLimiter = () => options.rateLimit && new RateLimiter(options.rateLimit, clock, events, link, rateLimitClasses);
  return {
    pool: pool && createPoolState(pool, rateLimiter),
    events,
    link,
    breakers: options.circuitBreaker && new CircuitBreakers(options.circuitBreaker.settings, clock, events, link),
    bulkhead: options.bulkhead && new Bulkhead(options.bulkhead, clock, events, link),
    rateLimiter: rateLimiter(),
    rateLimitClasses,
    budget: options.retry.budget && new RetryBudget(options.retry.budget, clock, link),
    tokens,
    budgets: options.budgets && new BudgetGate(options.budgets, budgetLedger(options.budgets, clock, link, account), tokens, clock, events),
    hedger: options.hedge && new Hedger(options.hedge, clock),
    stats: new StatsCollector(clock.now()),
    cache: options.cache && new ResponseCache(options.cache, clock, events),
  };
}

/**
 * Where budgets are counted: on the shared state when its backend keeps usage (one count for every process,
 * scoped to the client's account; a pool's budgets count under its first member's), else in this process.
 */
function budgetLedger(settings: BudgetSettings, clock: Clock, link: SharedLink | undefined, account: () => Promise<string>): BudgetLedger {
  const local = new LocalBudgetLedger({ now: () => clock.now() });
  if (!sharedUsageAvailable(link)) return local;
  return new SharedBudgetLedger({ link, account, local, outageShare: settings.outageShare });
}
