import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { CachedResponse, CacheStore } from '../cache/cache-store.js';
import { systemClock } from '../core/clock.js';
import { withinTime } from '../core/within-time.js';
import { LuaScript, type RedisClientLike } from './redis-client.js';

const GET = new LuaScript(`return redis.call('GET', KEYS[1])`);
const SET = new LuaScript(`redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 0`);
const DEL = new LuaScript(`redis.call('DEL', KEYS[1])
return 0`);

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The entry of a cache key could not be read back (tampered with, or written by something else). */
export class SealedEntryError extends Error {
  constructor(reason: string) {
    super(`openai-resilient/redis: a cache entry could not be opened (${reason}).`);
    this.name = 'SealedEntryError';
  }
}

/**
 * A `CacheStore` on Redis, shared by every process that uses the same prefix. Redis sees neither the
 * request nor the answer: an entry is stored under a SHA-256 of the request's fingerprint, sealed with
 * AES-256-GCM under a key derived from that fingerprint, which only a process making the same request
 * can compute. Each command waits at most `timeout` ms; a failure counts as a miss for the caller.
 */
export class RedisCacheStore implements CacheStore {
  constructor(
    private readonly client: RedisClientLike,
    private readonly prefix: string,
    private readonly timeout: number,
  ) {}

  async get(key: string): Promise<CachedResponse | undefined> {
    const sealed = await this.#send(GET, key, []);
    if (sealed === null || sealed === undefined) return undefined;
    if (typeof sealed !== 'string') throw new SealedEntryError('not a string');
    return open(sealed, key);
  }

  async set(key: string, value: CachedResponse, ttl: number): Promise<void> {
    await this.#send(SET, key, [seal(value, key), Math.max(1, Math.ceil(ttl))]);
  }

  async delete(key: string): Promise<void> {
    await this.#send(DEL, key, []);
  }

  async #send(script: LuaScript, key: string, args: Array<string | number>): Promise<unknown> {
    if (this.client.isReady === false) throw new Error('openai-resilient/redis: the Redis client is not connected.');
    const work = script.run(this.client, [`${this.prefix}cache:${digest('key', key).toString('hex')}`], args);
    return withinTime(systemClock, this.timeout, work, () => new Error(`openai-resilient/redis: no answer within ${this.timeout} ms.`));
  }
}

function digest(purpose: string, key: string): Buffer {
  return createHash('sha256').update(`openai-resilient/redis/${purpose}:${key}`).digest();
}

function seal(value: CachedResponse, key: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', digest('seal', key), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64');
}

function open(sealed: string, key: string): CachedResponse {
  const bytes = Buffer.from(sealed, 'base64');
  if (bytes.length < IV_BYTES + TAG_BYTES) throw new SealedEntryError('too short');
  const decipher = createDecipheriv('aes-256-gcm', digest('seal', key), bytes.subarray(0, IV_BYTES));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  let text: string;
  try {
    text = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new SealedEntryError('authentication failed');
  }
  const value = JSON.parse(text) as Partial<CachedResponse>;
  const valid =
    typeof value.status === 'number' && typeof value.body === 'string' && typeof value.stream === 'boolean' &&
    typeof value.storedAt === 'number' && typeof value.expiresAt === 'number' && Array.isArray(value.headers);
  if (!valid) throw new SealedEntryError('not a cached response');
  return value as CachedResponse;
}
