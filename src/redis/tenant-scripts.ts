import { LUA_NOW } from './lua-prelude.js';
import { LuaScript } from './redis-client.js';

/*
 * The per-tenant state, one key per tenant (by fingerprint, never the tenant's id):
 *
 * A tenant's share of a model's requests (`rateLimit.tenantShare`) is a hash `<prefix>tenant:<account>:<tenant>:<model>`:
 *   level  requests left (below zero while reservations are being repaid)   at  when it was last refilled (server ms)
 * It refills at `perMinute` and holds at most `capacity`; a key that would be full again expires, so only
 * tenants that called lately keep one (a missing key is a full bucket).
 *
 * A tenant's calls in flight (`bulkhead.maxConcurrentPerTenant`) are a sorted set `<prefix>slots:<tenant>`
 * of lease ids, scored by when each lease lapses: a process that dies without releasing its leases frees
 * them when they lapse, and the set expires once its last lease has.
 */

/** Refills the share bucket of KEYS[1] (ARGV[1] per minute, holding ARGV[2]) up to now. */
const SHARE_PRELUDE = `${LUA_NOW}
local perMs = tonumber(ARGV[1]) / 60000
local capacity = math.max(1, tonumber(ARGV[2]))
local s = redis.call('HMGET', KEYS[1], 'level', 'at')
local level = tonumber(s[1]) or capacity
local at = tonumber(s[2]) or now
if now > at then level = math.min(capacity, level + (now - at) * perMs) end
local function save()
  if level >= capacity then
    redis.call('DEL', KEYS[1])
    return
  end
  redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', now)
  -- Expires when it would be full again (a missing key is a full bucket), and a second more.
  redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - level) / perMs) + 1000)
end
`;

/** ARGV: perMinute, capacity. Takes one request, into debt if need be. Returns the ms until it is covered. */
export const TENANT_RESERVE = new LuaScript(`${SHARE_PRELUDE}
level = level - 1
save()
if level >= 0 then return 0 end
return math.ceil(-level / perMs)
`);

/** ARGV: perMinute, capacity. Gives back one request that was not sent. */
export const TENANT_REFUND = new LuaScript(`${SHARE_PRELUDE}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
level = math.min(capacity, level + 1)
save()
return 0
`);

/** ARGV: lease id, max leases, lease ms. Drops lapsed leases; takes one if fewer than max are held. Returns 1 taken, 0 full. */
export const SLOT_TAKE = new LuaScript(`${LUA_NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local lease = tonumber(ARGV[3])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == false and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
if redis.call('PTTL', KEYS[1]) < lease then redis.call('PEXPIRE', KEYS[1], lease) end
return 1
`);

/** ARGV: lease ms, then lease ids. Extends the leases still held by a live process (again, if they lapsed meanwhile). */
export const SLOT_RENEW = new LuaScript(`${LUA_NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local lease = tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + lease, ARGV[i]) end
if redis.call('PTTL', KEYS[1]) < lease then redis.call('PEXPIRE', KEYS[1], lease) end
return 0
`);

/** ARGV: lease id. The call ended: its lease is given back. */
export const SLOT_RELEASE = new LuaScript(`redis.call('ZREM', KEYS[1], ARGV[1])
return 0
`);
