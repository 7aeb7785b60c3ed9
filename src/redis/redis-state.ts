import type {
  LearnedLimits, SharedAnswer, SharedBackend, SharedBudget, SharedCircuitAnswer, SharedMarks, SharedPause, SharedPlaces, SharedRateAnswer,
  SharedUsageAnswer, SharedUsageCharge,
} from '../shared/shared-backend.js';
import { BUDGET_CALLS, BUDGET_RETRY } from './budget-scripts.js';
import { CIRCUIT_ADMIT, CIRCUIT_CLOSE, CIRCUIT_OPEN, CIRCUIT_RELEASE } from './circuit-scripts.js';
import { RATE_ADJUST, RATE_CHECK, RATE_LEARN, RATE_PAUSE, RATE_PROBE_END, RATE_RESERVE } from './rate-limit-scripts.js';
import { RedisCacheStore } from './redis-cache-store.js';
import { integers, type LuaScript, type RedisClientLike } from './redis-client.js';
import { SLOT_RELEASE, SLOT_RENEW, SLOT_TAKE, TENANT_REFUND, TENANT_RESERVE } from './tenant-scripts.js';
import { USAGE_RESERVE, USAGE_SETTLE } from './usage-scripts.js';
import { resolveRedisStateOptions, type RedisStateOptions, type RedisStateSettings } from './redis-state-options.js';

const CIRCUIT_ANSWERS = ['closed', 'open', 'probe', 'probing'] as const;
const WAIT_REASONS = [undefined, 'paused', 'requests', 'tokens', 'probing'] as const;
const LIMIT_TYPES = [undefined, 'requests', 'tokens'] as const;

/** A caller's maxPause as the scripts take it: -1 for none. */
function pauseCap(maxPause: number | undefined): number {
  return maxPause === undefined || !(maxPause >= 0) || maxPause === Number.POSITIVE_INFINITY ? -1 : Math.floor(maxPause);
}

/** The marks a reply gives (sent and answered, for requests then tokens; -1: none); none when it did not go. */
function marksOf([requestsSent, requestsAnswered, tokensSent, tokensAnswered]: number[]): SharedMarks | undefined {
  const mark = (sent: number | undefined, answered: number | undefined) => (sent! >= 0 && answered! >= 0 ? { sent: sent!, answered: answered! } : undefined);
  const requests = mark(requestsSent, requestsAnswered);
  const tokens = mark(tokensSent, tokensAnswered);
  if (!requests && !tokens) return undefined;
  return { ...(requests ? { requests } : {}), ...(tokens ? { tokens } : {}) };
}

/** The places a reservation reply gives (-1: not taken from that limit); none when neither limit was known. */
function placesOf(requests: number, tokens: number): SharedPlaces | undefined {
  if (requests < 0 && tokens < 0) return undefined;
  return { ...(requests >= 0 ? { requests } : {}), ...(tokens >= 0 ? { tokens } : {}) };
}

/**
 * Circuit states, rate-limit buckets, budget usage and cached responses on Redis, shared by every process that uses the
 * same Redis and prefix. Pass it as `shared`, and its `cacheStore` as `cache.store`:
 *
 * ```ts
 * const redis = await createClient({ url: process.env.REDIS_URL }).connect();
 * const shared = createRedisState(redis, { prefix: 'my-app:' });
 * const ai = resilient(new OpenAI(), { shared, cache: { store: shared.cacheStore } });
 * ```
 *
 * Every update is one Lua script, atomic on the server and timed by the server's clock. It listens to the
 * client's `error` events (an unreachable Redis then degrades to local state instead of crashing the
 * process), and never sends a command while the client is disconnected.
 */
export class RedisState implements SharedBackend {
  readonly name = 'redis';
  readonly timeout: number;
  readonly retryInterval: number;
  /** The response cache on the same Redis, for `cache.store`. */
  readonly cacheStore: RedisCacheStore;
  readonly #settings: RedisStateSettings;
  /** The last error the client reported (a lost connection, a failed reconnect). */
  lastError: unknown;

  constructor(
    private readonly client: RedisClientLike,
    options?: RedisStateOptions,
  ) {
    const valid = typeof client === 'object' && client !== null && typeof client.evalSha === 'function' && typeof client.eval === 'function';
    if (!valid) {
      throw new TypeError('openai-resilient: `createRedisState(client)` expects a node-redis client (`createClient()` from `redis`), got ' + typeof client + '.');
    }
    this.#settings = resolveRedisStateOptions(options);
    this.timeout = this.#settings.timeout;
    this.retryInterval = this.#settings.retryInterval;
    this.cacheStore = new RedisCacheStore(client, this.#settings.prefix, this.timeout);
    // One listener however many clients use this state: it records the error (and keeps node-redis from
    // throwing it as an unhandled 'error' event, which would end the process).
    client.on?.('error', (error) => {
      this.lastError = error;
    });
  }

  get ready(): boolean {
    return this.client.isReady !== false;
  }

  async circuitAdmit(key: string, probes: number): Promise<SharedCircuitAnswer> {
    const [state, retryIn, openings] = integers(await this.#run(CIRCUIT_ADMIT, 'circuit', key, [probes, this.#settings.probeLease]), 3, 'circuit admit');
    const name = CIRCUIT_ANSWERS[state!];
    if (name === 'closed') return { state: name };
    if (name === 'probe') return { state: name, openings: openings! };
    if (name === 'open' || name === 'probing') return { state: name, retryIn: retryIn!, openings: openings! };
    throw new TypeError(`openai-resilient/redis: unexpected circuit state ${state}.`);
  }

  async circuitOpen(key: string, pause: SharedPause, probeFailed: boolean): Promise<{ retryIn: number; openings: number }> {
    const factor = pause.factor ?? 1;
    const keep = Math.ceil(Math.max(pause.maxHalfOpenAfter * Math.max(1, factor), this.#settings.probeLease) * 2);
    const args = [pause.halfOpenAfter, pause.maxHalfOpenAfter, probeFailed ? 1 : 0, keep, factor];
    const [retryIn, openings] = integers(await this.#run(CIRCUIT_OPEN, 'circuit', key, args), 2, 'circuit open');
    return { retryIn: retryIn!, openings: openings! };
  }

  async circuitClose(key: string): Promise<void> {
    await this.#run(CIRCUIT_CLOSE, 'circuit', key, []);
  }

  async circuitRelease(key: string): Promise<void> {
    await this.#run(CIRCUIT_RELEASE, 'circuit', key, []);
  }

  async rateReserve(key: string, tokens: number, configured: LearnedLimits, maxPause?: number): Promise<SharedRateAnswer | undefined> {
    const args = [...this.#rateArgs(configured), Math.max(0, Math.ceil(tokens)), pauseCap(maxPause), this.#settings.probeLease];
    const reply = integers(await this.#run(RATE_RESERVE, 'rate', key, args), 12, 'rate reserve');
    const [known, wait, reason, tokensLimited, probe, requestsPlace, tokensPlace] = reply;
    if (known === 0) return undefined;
    const places = placesOf(requestsPlace!, tokensPlace!);
    const marks = marksOf(reply.slice(7, 11));
    const answer = {
      wait: wait!, reason: WAIT_REASONS[reason!] ?? 'requests', tokensLimited: tokensLimited === 1, soonest: reply[11]!,
      ...(places ? { places } : {}), ...(marks ? { marks } : {}),
    };
    return probe === 1 ? { ...answer, probe: true } : answer;
  }

  async rateCheck(key: string, places: SharedPlaces, tokens: number, configured: LearnedLimits, maxPause?: number): Promise<SharedRateAnswer> {
    const args = [...this.#rateArgs(configured), Math.max(0, Math.ceil(tokens)), pauseCap(maxPause), places.requests ?? -1, places.tokens ?? -1];
    const reply = integers(await this.#run(RATE_CHECK, 'rate', key, args), 7, 'rate check');
    const [wait, reason] = reply;
    const marks = marksOf(reply.slice(2, 6));
    return { wait: wait!, reason: WAIT_REASONS[reason!] ?? 'requests', tokensLimited: tokens > 0, soonest: reply[6]!, ...(marks ? { marks } : {}) };
  }

  async rateAdjust(key: string, requests: number, tokens: number, configured: LearnedLimits, correction = false, sent = false): Promise<void> {
    await this.#run(RATE_ADJUST, 'rate', key, [...this.#rateArgs(configured), requests, tokens, correction ? 1 : sent ? 2 : 0]);
  }

  async rateLearn(key: string, learned: LearnedLimits, configured: LearnedLimits, answer?: SharedAnswer): Promise<void> {
    const given = (value: number | undefined) => value ?? -1;
    const args = [
      ...this.#rateArgs(configured),
      given(learned.requestsPerMinute), given(learned.tokensPerMinute),
      given(learned.remainingRequests), given(learned.remainingTokens),
      ...(answer
        ? [
            1, given(answer.places.requests), given(answer.places.tokens), Math.max(0, Math.ceil(answer.tokens)),
            answer.rateLimited ? 1 : 0, answer.succeeded ? 1 : 0, LIMIT_TYPES.indexOf(answer.limitType), Math.max(0, Math.round(answer.elapsed)),
            given(answer.marks?.requests?.sent), given(answer.marks?.requests?.answered),
            given(answer.marks?.tokens?.sent), given(answer.marks?.tokens?.answered),
          ]
        : [0, -1, -1, 0, 0, 0, 0, 0, -1, -1, -1, -1]),
    ];
    await this.#run(RATE_LEARN, 'rate', key, args);
  }

  async ratePause(key: string, ms: number, configured: LearnedLimits, probe = false): Promise<void> {
    await this.#run(RATE_PAUSE, 'rate', key, [...this.#rateArgs(configured), Math.max(0, Math.ceil(ms)), probe ? 1 : 0]);
  }

  async rateProbeEnd(key: string, succeeded: boolean): Promise<void> {
    await this.#run(RATE_PROBE_END, 'rate', key, [succeeded ? 1 : 0]);
  }

  async tenantReserve(key: string, perMinute: number, capacity: number): Promise<number> {
    const [wait] = integers([await this.#run(TENANT_RESERVE, 'tenant', key, [perMinute, capacity])], 1, 'tenant reserve');
    return wait!;
  }

  async tenantRefund(key: string, perMinute: number, capacity: number): Promise<void> {
    await this.#run(TENANT_REFUND, 'tenant', key, [perMinute, capacity]);
  }

  async slotTake(key: string, id: string, max: number): Promise<number> {
    const { slotLease } = this.#settings;
    const [taken] = integers([await this.#run(SLOT_TAKE, 'slots', key, [id, max, slotLease])], 1, 'slot take');
    return taken === 1 ? slotLease : 0;
  }

  async slotRenew(key: string, ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.#run(SLOT_RENEW, 'slots', key, [this.#settings.slotLease, ...ids]);
  }

  async slotRelease(key: string, id: string): Promise<void> {
    await this.#run(SLOT_RELEASE, 'slots', key, [id]);
  }

  async budgetCalls(key: string, calls: number, window: number): Promise<void> {
    await this.#run(BUDGET_CALLS, 'budget', key, [Math.ceil(window), calls]);
  }

  async budgetRetry(key: string, budget: SharedBudget): Promise<boolean> {
    const [taken] = integers([await this.#run(BUDGET_RETRY, 'budget', key, [Math.ceil(budget.window), budget.ratio, budget.minRetries])], 1, 'budget retry');
    return taken === 1;
  }

  async usageReserve(charges: readonly SharedUsageCharge[], now?: number): Promise<SharedUsageAnswer> {
    const args = charges.flatMap((c) => [...usageWindow(c), Math.floor(c.limit), Math.max(0, Math.ceil(c.amount))]);
    const reply = await USAGE_RESERVE.run(this.client, this.#usageKeys(charges), [clockArg(now), ...args]);
    if (Array.isArray(reply) && reply[0] === 0) {
      const [, index, used, resetsIn] = integers(reply, 4, 'usage reserve');
      return { ok: false, index: index! - 1, used: used!, resetsIn: resetsIn! };
    }
    const n = charges.length;
    const values = integers(reply, 1 + 2 * n, 'usage reserve');
    return { ok: true, used: values.slice(1, 1 + n), slots: values.slice(1 + n) };
  }

  async usageSettle(charges: readonly SharedUsageCharge[], slots: readonly number[], now?: number): Promise<number[]> {
    const args = charges.flatMap((c, i) => [...usageWindow(c), slots[i] ?? -1, Math.round(c.amount)]);
    return integers(await USAGE_SETTLE.run(this.client, this.#usageKeys(charges), [clockArg(now), ...args]), charges.length, 'usage settle');
  }

  /** The usage counters' keys: `<prefix>usage:{<account>}:<rest>` (the account as a Redis Cluster hash tag). */
  #usageKeys(charges: readonly SharedUsageCharge[]): string[] {
    return charges.map(({ key }) => {
      const colon = key.indexOf(':');
      return colon < 0 ? `${this.#settings.prefix}usage:{${key}}` : `${this.#settings.prefix}usage:{${key.slice(0, colon)}}${key.slice(colon)}`;
    });
  }

  /** The arguments every rate script starts with: configured limits (0 for none) and how long to keep the state. */
  #rateArgs(configured: LearnedLimits): number[] {
    return [configured.requestsPerMinute ?? 0, configured.tokensPerMinute ?? 0, this.#settings.rateStateTtl];
  }

  #run(script: LuaScript, kind: 'circuit' | 'rate' | 'tenant' | 'slots' | 'budget', key: string, args: Array<string | number>): Promise<unknown> {
    return script.run(this.client, [`${this.#settings.prefix}${kind}:${key}`], args);
  }
}

/** A usage counter's window as the usage scripts take it: kind (0 sliding, 1 month) and ms. */
function usageWindow({ window }: SharedUsageCharge): [number, number] {
  return window.kind === 'month' ? [1, 0] : [0, Math.max(1, Math.ceil(window.ms))];
}

/** A test's `now` as the usage scripts take it: -1 for the server's clock. */
function clockArg(now: number | undefined): number {
  return now === undefined || !Number.isFinite(now) ? -1 : Math.max(0, Math.floor(now));
}

/** Shared state on Redis for `resilient(client, { shared })`; see {@link RedisState}. */
export function createRedisState(client: RedisClientLike, options?: RedisStateOptions): RedisState {
  return new RedisState(client, options);
}
