import { BURST_SECONDS } from '../policies/rate-limit/bucket-capacity.js';
import { PROBE_WAIT } from '../policies/rate-limit/model-probe.js';
import { LuaScript } from './redis-client.js';
import { LUA_NOW } from './lua-prelude.js';

/*
 * A model's rate state is a hash, the same token buckets as the in-process limiter (refilled continuously
 * at perMinute / 60 000 per ms, holding one second's requests and a whole minute's tokens (BURST_SECONDS),
 * allowed into debt so callers wait in turn):
 *   rpm, tpm   limits learned from headers    r, t   bucket levels
 *   ts         refilled up to (server ms; in the future while a pause holds the buckets empty)
 *   pause      paused until (after a 429), never longer than the maxPause of the process that set it
 *   pausedAt   when that pause was set: a reader honours it for at most its own maxPause from then
 *   probe      1 while a pause cut short is owed its probe      lease   until when a call holds that probe
 * Configured limits come in ARGV[1] / ARGV[2] (0 for none) and win over learned ones. ARGV[3] is how long an
 * unused state is kept (a pause is never kept longer than it runs). Every script starts with this prelude
 * and ends by saving the levels.
 */
const PRELUDE = `${LUA_NOW}
local s = redis.call('HMGET', KEYS[1], 'rpm', 'tpm', 'r', 't', 'ts', 'pause', 'pausedAt', 'probe', 'lease')
local function limit(configured, learned)
  local value = tonumber(configured)
  if value and value > 0 then return value end
  return tonumber(learned)
end
local rpm = limit(ARGV[1], s[1])
local tpm = limit(ARGV[2], s[2])
local refilledAt = math.max(now, tonumber(s[5]) or now)
local elapsed = math.max(0, now - (tonumber(s[5]) or now))
local REQUEST_BURST, TOKEN_BURST = ${BURST_SECONDS.requests}, ${BURST_SECONDS.tokens}
local function capacityOf(perMinute, burstSeconds)
  return math.max(1, perMinute * burstSeconds / 60)
end
local function level(stored, perMinute, burstSeconds)
  if not perMinute then return nil, nil end
  local capacity = capacityOf(perMinute, burstSeconds)
  return math.min(capacity, (tonumber(stored) or capacity) + elapsed * perMinute / 60000), capacity
end
local r, rCapacity = level(s[3], rpm, REQUEST_BURST)
local t, tCapacity = level(s[4], tpm, TOKEN_BURST)
local pause = tonumber(s[6]) or 0
local function save()
  redis.call('HSET', KEYS[1], 'r', r or '', 't', t or '', 'ts', refilledAt)
  redis.call('PEXPIRE', KEYS[1], math.max(tonumber(ARGV[3]), pause - now))
end
`;

/**
 * ARGV[4]: tokens; ARGV[5]: the caller's maxPause (-1 for none); ARGV[6]: how long a probe holds its
 * lease. Returns {known, wait, reason, tokens, probe}: known 0 when no limit is known and no pause runs
 * (nothing taken); reason 1 paused, 2 requests, 3 tokens, 4 probing (nothing taken: ask again after wait);
 * tokens 1 when a token limit applies; probe 1 when this reservation is the probe that ends a pause cut
 * short.
 */
export const RATE_RESERVE = new LuaScript(`${PRELUDE}
local cap = tonumber(ARGV[5])
if cap >= 0 then
  -- A pause counts for at most this caller's maxPause, whoever set it; so does the hold on the buckets.
  pause = math.min(pause, (tonumber(s[7]) or now) + cap)
  refilledAt = math.min(refilledAt, math.max(now, pause))
end
local probe = 0
if s[8] == '1' then
  if pause > now then return {1, pause - now, 4, 0, 0} end
  local lease = tonumber(s[9]) or 0
  if lease > now then return {1, math.min(lease - now, ${PROBE_WAIT}), 4, 0, 0} end
  redis.call('HSET', KEYS[1], 'lease', now + tonumber(ARGV[6]))
  probe = 1
end
if not rpm and not tpm then
  if probe == 1 then return {1, 0, 0, 0, 1} end
  if pause > now then return {1, pause - now, 1, 0, 0} end
  return {0, 0, 0, 0, 0}
end
local wait, reason = 0, 0
-- While a pause holds the buckets, the refill that repays a debt starts only when it ends.
local held = refilledAt - now
if r then
  r = r - 1
  local w = r < 0 and held + math.ceil(-r * 60000 / rpm) or 0
  if w > wait then wait, reason = w, 2 end
end
if t then
  t = t - tonumber(ARGV[4])
  local w = t < 0 and held + math.ceil(-t * 60000 / tpm) or 0
  if w > wait then wait, reason = w, 3 end
end
if pause > now then wait, reason = math.max(wait, pause - now), 1 end
save()
return {1, wait, reason, t and 1 or 0, probe}
`);

/** ARGV[4], ARGV[5]: requests and tokens to give back (negative: to take). */
export const RATE_ADJUST = new LuaScript(`${PRELUDE}
if r then r = math.min(rCapacity, r + tonumber(ARGV[4])) end
if t then t = math.min(tCapacity, t + tonumber(ARGV[5])) end
save()
return 0
`);

/**
 * ARGV[4..7]: limit and remaining for requests and tokens from headers (-1 when absent). A learned limit
 * is kept unless one is configured; what is left lowers the level (never raises it).
 */
export const RATE_LEARN = new LuaScript(`${PRELUDE}
local function learn(field, configured, learned, current, burstSeconds)
  local value = tonumber(learned)
  if value <= 0 or (tonumber(configured) or 0) > 0 then return current end
  redis.call('HSET', KEYS[1], field, value)
  local capacity = capacityOf(value, burstSeconds)
  if current == nil then return capacity end
  return math.min(current, capacity)
end
r = learn('rpm', ARGV[1], ARGV[4], r, REQUEST_BURST)
t = learn('tpm', ARGV[2], ARGV[5], t, TOKEN_BURST)
local remainingRequests, remainingTokens = tonumber(ARGV[6]), tonumber(ARGV[7])
if r and remainingRequests >= 0 then r = math.min(r, remainingRequests) end
if t and remainingTokens >= 0 then t = math.min(t, remainingTokens) end
save()
return 0
`);

/**
 * ARGV[4]: pause in ms (after a 429, at most the caller's maxPause), for every process; ARGV[5]: 1 when the
 * server asked for longer, so that the pause ends with a single probe. The buckets are held empty until it
 * ends (no refill), so the calls it holds are spread at the limit's rate after it. A probe out is over.
 */
export const RATE_PAUSE = new LuaScript(`${PRELUDE}
local untilAt = now + tonumber(ARGV[4])
if untilAt > pause then
  pause = untilAt
  redis.call('HSET', KEYS[1], 'pause', pause, 'pausedAt', now)
end
if ARGV[5] == '1' then redis.call('HSET', KEYS[1], 'probe', 1) end
redis.call('HDEL', KEYS[1], 'lease')
if r then r = math.min(r, 0) end
if t then t = math.min(t, 0) end
refilledAt = math.max(refilledAt, pause)
save()
return 0
`);

/** ARGV[1]: 1 when the probe of a pause cut short succeeded (the probing ends), 0 to free its lease. */
export const RATE_PROBE_END = new LuaScript(`
if ARGV[1] == '1' then redis.call('HDEL', KEYS[1], 'probe', 'lease') else redis.call('HDEL', KEYS[1], 'lease') end
return 0
`);
