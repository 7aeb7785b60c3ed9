import { BURST_SECONDS, FINE_MARGIN, MAX_REFINEMENTS } from '../policies/rate-limit/bucket-capacity.js';
import { LUA_NOW } from './lua-prelude.js';

/*
 * A model's rate state is a hash holding, for each limit, the same two buckets as the in-process limiter
 * (src/policies/rate-limit/limit-bucket.ts: the server's bucket as known from its headers, and fine pacing),
 * refilled continuously, allowed into debt so callers wait in turn, and one count of everything reserved
 * that gives each reservation its place:
 *   rpm, tpm    limits learned from headers
 *   r, t        the server buckets' levels          rf, tf    the fine pacing levels
 *   rc, tc      everything reserved (places)         rh, th    1 once x-ratelimit-remaining-* was heard
 *   rad, tad    everything admitted (sent)           ran, tan  everything answered (marks: what went around a request)
 *   rn, tn      refinements after 429s despite headroom          rra, tra  rad / tad at the last refinement
 *   ts          refilled up to (server ms; in the future while a pause holds the buckets empty)
 *   pause       paused until (after a 429), never longer than the maxPause of the process that set it
 *   pausedAt    when that pause was set: a reader honours it for at most its own maxPause from then
 *   probe       1 while a pause cut short is owed its probe      lease   until when a call holds that probe
 * Configured limits come in ARGV[1] / ARGV[2] (0 for none) and win over learned ones. ARGV[3] is how long an
 * unused state is kept (a pause is never kept longer than it runs). Every script starts with this prelude;
 * those that change the state end by saving it.
 */
export const PRELUDE = `${LUA_NOW}
local s = redis.call('HMGET', KEYS[1], 'rpm', 'tpm', 'r', 't', 'ts', 'pause', 'pausedAt', 'probe', 'lease',
  'rf', 'tf', 'rc', 'tc', 'rh', 'th', 'rn', 'tn', 'rra', 'tra', 'rad', 'tad', 'ran', 'tan')
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
local MARGIN, MAX_REFINEMENTS = ${FINE_MARGIN}, ${MAX_REFINEMENTS}
local function fineCap(perMinute, n)
  local second = perMinute / 60
  if n == 0 then return math.max(1, second) end
  return math.max(1, second * (1 - MARGIN) / 2 ^ (n - 1))
end
local function fineRate(perMinute, n)
  return perMinute / 60000 * (1 - MARGIN) ^ n
end
local function serverCap(K)
  if K.heard then return math.max(1, K.limit) end
  return math.max(1, K.limit * K.burst / 60)
end
-- A limit's buckets, refilled up to now (nil without a limit); i: its level's index in s (3 requests, 4 tokens).
local function kind(perMinute, burst, i)
  if not perMinute then return nil end
  local K = { limit = perMinute, burst = burst, heard = s[i + 11] == '1', n = tonumber(s[i + 13]) or 0,
    refinedAt = tonumber(s[i + 15]) or 0, consumed = tonumber(s[i + 9]) or 0,
    admitted = tonumber(s[i + 17]) or 0, answered = tonumber(s[i + 19]) or 0 }
  local sc, fc = serverCap(K), fineCap(perMinute, K.n)
  K.server = math.min(sc, tonumber(s[i]) or sc)
  K.fine = math.min(math.max(K.server, fc), tonumber(s[i + 7]) or fc)
  if K.server < sc then K.server = math.min(sc, K.server + elapsed * perMinute / 60000) end
  if K.fine < fc then K.fine = math.min(fc, K.fine + elapsed * fineRate(perMinute, K.n)) end
  return K
end
local R = kind(rpm, REQUEST_BURST, 3)
local T = kind(tpm, TOKEN_BURST, 4)
local pause = tonumber(s[6]) or 0
-- How long the place at start (of amount) waits in K, held for held ms first (a request larger than a bucket
-- needs it full); and the shortest that can turn out while bursts widen with answers (the server's bucket alone).
local function waitOf(K, start, amount, held)
  local function one(level, capacity, rate)
    local missing = start + math.min(amount, capacity) - (K.consumed + level)
    if missing <= 0 then return 0 end
    return held + math.ceil(missing / rate)
  end
  local server = one(K.server, serverCap(K), K.limit / 60000)
  if not K.heard then return server, server end
  local w = math.max(server, one(K.fine, fineCap(K.limit, K.n), fineRate(K.limit, K.n)))
  if K.n > 0 then return w, w end
  return w, server
end
-- A pause counts for at most this caller's maxPause (ARGV[5], -1 for none), whoever set it; so does the hold on the buckets.
local function capPause()
  local cap = tonumber(ARGV[5])
  if cap >= 0 then
    pause = math.min(pause, (tonumber(s[7]) or now) + cap)
    refilledAt = math.min(refilledAt, math.max(now, pause))
  end
end
-- A reservation (an entry {K, amount, start} per limit) goes now: its marks, {sent, answered} per limit (-1 without
-- K). Finely paced, at most one window beyond its place stays granted (see LimitBucket.admitted).
local function admit(entries)
  local marks = {-1, -1, -1, -1}
  for index, entry in ipairs(entries) do
    local K = entry[1]
    if K then
      if K.n > 0 and entry[3] >= 0 then K.fine = math.min(K.fine, entry[3] + fineCap(K.limit, K.n) - K.consumed) end
      K.admitted = K.admitted + entry[2]
      marks[index * 2 - 1], marks[index * 2] = K.admitted, K.answered
    end
  end
  return marks
end
local function save()
  local function put(K, prefix)
    if not K then
      redis.call('HSET', KEYS[1], prefix, '', prefix .. 'f', '')
      return
    end
    redis.call('HSET', KEYS[1], prefix, K.server, prefix .. 'f', K.fine, prefix .. 'c', K.consumed,
      prefix .. 'h', K.heard and 1 or 0, prefix .. 'n', K.n, prefix .. 'ra', K.refinedAt,
      prefix .. 'ad', K.admitted, prefix .. 'an', K.answered)
  end
  put(R, 'r')
  put(T, 't')
  redis.call('HSET', KEYS[1], 'ts', refilledAt)
  redis.call('PEXPIRE', KEYS[1], math.max(tonumber(ARGV[3]), pause - now))
end
`;
