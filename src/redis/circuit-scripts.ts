import { LuaScript } from './redis-client.js';
import { LUA_NOW } from './lua-prelude.js';

/*
 * A circuit is a hash that exists only while it is open or half-open:
 *   retryAt     when its pause is over (server ms)     openings    times opened without closing
 *   probes      probe leases held                      leaseUntil  when the leases lapse (a probe's process may die)
 * Closing deletes it; it also expires on its own some time after its pause, so nothing is kept forever.
 */

/** ARGV: maxProbes, lease ms. Returns {state, retryIn, openings}: 0 closed, 1 open, 2 probe (lease taken), 3 probing elsewhere. */
export const CIRCUIT_ADMIT = new LuaScript(`${LUA_NOW}
local c = redis.call('HMGET', KEYS[1], 'retryAt', 'openings', 'probes', 'leaseUntil')
local retryAt = tonumber(c[1])
if not retryAt then return {0, 0, 0} end
local openings = tonumber(c[2]) or 0
if now < retryAt then return {1, retryAt - now, openings} end
local probes = tonumber(c[3]) or 0
local leaseUntil = tonumber(c[4]) or 0
if leaseUntil <= now then probes = 0 end
if probes < tonumber(ARGV[1]) then
  local lease = tonumber(ARGV[2])
  redis.call('HSET', KEYS[1], 'probes', probes + 1, 'leaseUntil', now + lease)
  if redis.call('PTTL', KEYS[1]) < lease then redis.call('PEXPIRE', KEYS[1], lease) end
  return {2, 0, openings}
end
return {3, math.max(1, leaseUntil - now), openings}
`);

/**
 * ARGV: halfOpenAfter, maxHalfOpenAfter, probeFailed (1/0), keep ms, factor (the jitter). Opens for
 * halfOpenAfter × 2^openings (at most maxHalfOpenAfter) × factor, unless already open with time left and no
 * probe failed. Returns {retryIn, openings}.
 */
export const CIRCUIT_OPEN = new LuaScript(`${LUA_NOW}
local c = redis.call('HMGET', KEYS[1], 'retryAt', 'openings')
local retryAt = tonumber(c[1])
local openings = tonumber(c[2]) or 0
if retryAt and now < retryAt and ARGV[3] ~= '1' then return {retryAt - now, openings} end
local factor = tonumber(ARGV[5]) or 1
local pause = math.floor(math.min(tonumber(ARGV[2]), tonumber(ARGV[1]) * 2 ^ math.min(openings, 60)) * factor + 0.5)
openings = openings + 1
redis.call('HSET', KEYS[1], 'retryAt', now + pause, 'openings', openings, 'probes', 0, 'leaseUntil', 0)
redis.call('PEXPIRE', KEYS[1], pause + tonumber(ARGV[4]))
return {pause, openings}
`);

/** A probe succeeded: closed for everyone. */
export const CIRCUIT_CLOSE = new LuaScript(`redis.call('DEL', KEYS[1])
return 0
`);

/** A probe ended without a verdict: its lease is given back. */
export const CIRCUIT_RELEASE = new LuaScript(`local probes = tonumber(redis.call('HGET', KEYS[1], 'probes'))
if probes and probes > 0 then redis.call('HINCRBY', KEYS[1], 'probes', -1) end
return 0
`);
