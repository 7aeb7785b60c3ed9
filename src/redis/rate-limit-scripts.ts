import { PROBE_WAIT } from '../policies/rate-limit/model-probe.js';
import { PRELUDE } from './rate-limit-prelude.js';
import { LuaScript } from './redis-client.js';

/* The scripts on a model's rate state; every one starts with PRELUDE (see rate-limit-prelude.ts). */


/**
 * ARGV[4]: tokens; ARGV[5]: the caller's maxPause (-1 for none); ARGV[6]: how long a probe holds its
 * lease. Returns {known, wait, reason, tokens, probe, requestsPlace, tokensPlace, marks...}: known 0 when
 * no limit is known and no pause runs (nothing taken); reason 1 paused, 2 requests, 3 tokens, 4 probing
 * (nothing taken: ask again after wait); tokens 1 when a token limit applies; probe 1 when this reservation
 * is the probe that ends a pause cut short; the places (-1 for a limit not known) are for RATE_CHECK and
 * RATE_LEARN; the marks (sent and answered, for requests then tokens; -1 unless it goes now) for RATE_LEARN;
 * last, the shortest the wait can turn out (see waitOf).
 */
export const RATE_RESERVE = new LuaScript(`${PRELUDE}
capPause()
local probe = 0
if s[8] == '1' then
  if pause > now then return {1, pause - now, 4, 0, 0, -1, -1, -1, -1, -1, -1, pause - now} end
  local lease = tonumber(s[9]) or 0
  local leaseWait = math.min(lease - now, ${PROBE_WAIT})
  if lease > now then return {1, leaseWait, 4, 0, 0, -1, -1, -1, -1, -1, -1, leaseWait} end
  redis.call('HSET', KEYS[1], 'lease', now + tonumber(ARGV[6]))
  probe = 1
end
if not R and not T then
  if probe == 1 then return {1, 0, 0, 0, 1, -1, -1, -1, -1, -1, -1, 0} end
  if pause > now then return {1, pause - now, 1, 0, 0, -1, -1, -1, -1, -1, -1, pause - now} end
  return {0, 0, 0, 0, 0, -1, -1, -1, -1, -1, -1, 0}
end
local wait, reason, soonest = 0, 0, 0
-- While a pause holds the buckets, the refill that repays a debt starts only when it ends.
local held = refilledAt - now
local places = {-1, -1}
for index, entry in ipairs({{R, 1}, {T, tonumber(ARGV[4])}}) do
  local K, amount = entry[1], entry[2]
  if K then
    local start = K.consumed
    K.consumed = K.consumed + amount
    K.server = K.server - amount
    K.fine = K.fine - amount
    places[index] = start
    local w, soon = waitOf(K, start, amount, held)
    if w > wait then wait, reason = w, index + 1 end
    soonest = math.max(soonest, soon)
  end
end
if pause > now then wait, reason, soonest = math.max(wait, pause - now), 1, math.max(soonest, pause - now) end
local marks = {-1, -1, -1, -1}
if wait == 0 then marks = admit({{R, 1, places[1]}, {T, tonumber(ARGV[4]), places[2]}}) end
save()
return {1, wait, reason, T and 1 or 0, probe, places[1], places[2], marks[1], marks[2], marks[3], marks[4], soonest}
`);

/**
 * ARGV[4]: tokens reserved; ARGV[5]: the caller's maxPause (-1 for none); ARGV[6], ARGV[7]: the
 * reservation's places (-1 for none). Returns {wait, reason, marks..., soonest} for a reservation already
 * taken, as things stand now (as for RATE_RESERVE): when it may go now, it is counted as sent, with its marks.
 */
export const RATE_CHECK = new LuaScript(`${PRELUDE}
capPause()
local wait, reason, soonest = 0, 0, 0
local held = refilledAt - now
for index, entry in ipairs({{R, tonumber(ARGV[6]), 1}, {T, tonumber(ARGV[7]), tonumber(ARGV[4])}}) do
  local K, start, amount = entry[1], entry[2], entry[3]
  -- A place beyond what the state counts was taken from a state since lost (a restarted Redis): nothing holds it.
  if K and start >= 0 and start <= K.consumed then
    local w, soon = waitOf(K, start, amount, held)
    if w > wait then wait, reason = w, index + 1 end
    soonest = math.max(soonest, soon)
  end
end
if pause > now then wait, reason, soonest = math.max(wait, pause - now), 1, math.max(soonest, pause - now) end
if wait > 0 then return {wait, reason, -1, -1, -1, -1, soonest} end
local marks = admit({{R, 1, tonumber(ARGV[6])}, {T, tonumber(ARGV[4]), tonumber(ARGV[7])}})
save()
return {0, 0, marks[1], marks[2], marks[3], marks[4], 0}
`);

/**
 * ARGV[4], ARGV[5]: requests and tokens to give back (negative: to take); ARGV[6]: 1 for a usage
 * correction, which gives back only to a limit whose remaining headers were not heard yet; 0 for a
 * reservation refused while it waited, whose place the next reservation takes (those waiting keep theirs);
 * 2 for one refused after it went (its place stays, so that the answers of those sent after it are read
 * against theirs).
 */
export const RATE_ADJUST = new LuaScript(`${PRELUDE}
local correction = ARGV[6] == '1'
for _, entry in ipairs({{R, tonumber(ARGV[4])}, {T, tonumber(ARGV[5])}}) do
  local K, amount = entry[1], entry[2]
  if K and amount < 0 then
    K.server = K.server + amount
    K.fine = K.fine + amount
  elseif K and amount > 0 and not (correction and K.heard) then
    if ARGV[6] == '0' then K.consumed = math.max(0, K.consumed - amount) end
    K.server = math.min(serverCap(K), K.server + amount)
    K.fine = math.min(math.max(K.fine, fineCap(K.limit, K.n)), K.fine + amount)
  end
end
save()
return 0
`);

/**
 * ARGV[4..7]: limit and remaining for requests and tokens from headers (-1 when absent). A learned limit
 * is kept unless one is configured. ARGV[8]: 1 when the answer of a reservation follows: ARGV[9], ARGV[10]
 * its places (-1 for none), ARGV[11] its tokens, ARGV[12] 1 for a 429 rate_limited (not counted), ARGV[13]
 * 1 for a success, ARGV[14] the limit the 429 names (0 none, 1 requests, 2 tokens), ARGV[15] ms since it
 * was sent, ARGV[16..19] its marks (sent and answered, requests then tokens; -1 unknown). What is left is
 * then read against its place (see LimitBucket.answered), a success widens the fine pacing, and a 429
 * despite headroom refines it; without an answer, as of now.
 */
export const RATE_LEARN = new LuaScript(`${PRELUDE}
local function learn(field, configured, learned, current)
  local value = tonumber(learned)
  if value <= 0 or (tonumber(configured) or 0) > 0 then return current end
  redis.call('HSET', KEYS[1], field, value)
  return value
end
rpm = learn('rpm', ARGV[1], ARGV[4], rpm)
tpm = learn('tpm', ARGV[2], ARGV[5], tpm)
R = kind(rpm, REQUEST_BURST, 3)
T = kind(tpm, TOKEN_BURST, 4)
local answer = ARGV[8] == '1'
local counted, succeeded = ARGV[12] ~= '1', ARGV[13] == '1'
local named = tonumber(ARGV[14])
local ms = math.max(0, tonumber(ARGV[15]))
local entries = {
  {R, tonumber(ARGV[6]), tonumber(ARGV[9]), 1, tonumber(ARGV[16]), tonumber(ARGV[17])},
  {T, tonumber(ARGV[7]), tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[18]), tonumber(ARGV[19])},
}
for index, entry in ipairs(entries) do
  local K, remaining, start, amount, sentMark, answeredMark = entry[1], entry[2], entry[3], entry[4], entry[5], entry[6]
  -- A place beyond what the state counts was taken from a state since lost: read it as sent before everything.
  if K and (start > K.consumed or sentMark > K.admitted) then start, sentMark = -1, -1 end
  -- The request is over (an answer comes once per reservation, with headers or without): no longer in flight.
  if K and answer and sentMark >= 0 then K.answered = K.answered + amount end
  if K and remaining >= 0 then
    if not answer then start, amount, succeeded, counted, sentMark = K.consumed, 0, false, false, -1 end
    local sentAfter, inFlightBefore = 0, 0
    if sentMark >= 0 and answeredMark >= 0 then
      sentAfter, inFlightBefore = K.admitted - sentMark, math.max(0, sentMark - amount - answeredMark)
    end
    local first = not K.heard
    K.heard = true
    local countedUpTo = 0
    if start >= 0 then countedUpTo = start + (counted and amount or 0) end
    local capacity = serverCap(K)
    local told = countedUpTo + remaining + K.limit / 60000 * ms - K.consumed
    local most = math.min(capacity, told + sentAfter)
    if first or most < K.server then
      if first then K.server = math.min(capacity, told) else K.server = most end
      K.fine = math.min(K.fine, math.max(K.server, fineCap(K.limit, K.n)))
    elseif succeeded and told - inFlightBefore > K.server then
      K.server = math.min(told - inFlightBefore, K.server + amount)
    end
    if first and answer and start < 0 then K.fine = K.fine - amount end
    if succeeded and K.n == 0 then K.fine = math.max(K.fine, math.min(K.fine + 2 * amount, K.server)) end
    local refine = answer and not counted and (named == 0 or named == index) and remaining >= math.max(1, amount)
    -- A 429 of a request sent before the last refinement says nothing new.
    if refine and K.n > 0 and (sentMark < 0 or sentMark <= K.refinedAt) then refine = false end
    if refine and K.n < MAX_REFINEMENTS then
      K.n = K.n + 1
      K.refinedAt = K.admitted
      K.fine = math.min(K.fine, fineCap(K.limit, K.n))
    end
  end
end
save()
return 0
`);

/**
 * ARGV[4]: pause in ms (after a 429, at most the caller's maxPause), for every process; ARGV[5]: 1 when the
 * server asked for longer, so that the pause ends with a single probe. The buckets are held empty until it
 * ends (no refill), so the calls it holds go in their turn at the limit's pace after it. A probe out is over.
 */
export const RATE_PAUSE = new LuaScript(`${PRELUDE}
local untilAt = now + tonumber(ARGV[4])
if untilAt > pause then
  pause = untilAt
  redis.call('HSET', KEYS[1], 'pause', pause, 'pausedAt', now)
end
if ARGV[5] == '1' then redis.call('HSET', KEYS[1], 'probe', 1) end
redis.call('HDEL', KEYS[1], 'lease')
for _, K in pairs({R, T}) do
  K.server = math.min(K.server, 0)
  K.fine = math.min(K.fine, 0)
end
refilledAt = math.max(refilledAt, pause)
save()
return 0
`);

/** ARGV[1]: 1 when the probe of a pause cut short succeeded (the probing ends), 0 to free its lease. */
export const RATE_PROBE_END = new LuaScript(`
if ARGV[1] == '1' then redis.call('HDEL', KEYS[1], 'probe', 'lease') else redis.call('HDEL', KEYS[1], 'lease') end
return 0
`);
