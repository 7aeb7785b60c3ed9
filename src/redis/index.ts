/**
 * `openai-resilient/redis`: circuit states, rate limits and the response cache shared by every process on
 * one Redis. Built for the `redis` package (node-redis, an optional peer dependency), which it never
 * imports itself: pass it a connected client.
 *
 * @module
 */
export { createRedisState, RedisState } from './redis-state.js';
export { RedisCacheStore, SealedEntryError } from './redis-cache-store.js';
export type { RedisStateOptions } from './redis-state-options.js';
export type { RedisClientLike, ScriptArguments } from './redis-client.js';
