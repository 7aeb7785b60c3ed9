import { LUA_NOW } from './lua-prelude.js';
import { LuaScript } from './redis-client.js';

/*
 * The retry budget of an account is a hash `<prefix>budget:<account>` of counts per slot of a tenth of the
 * window: `c<start>` calls and `r<start>` retries counted in the slot that starts at <start> (server ms).
 * Slots that no longer overlap the window are deleted as they are read, and the key expires one window
 * after its last count, so it holds at most a window's slots.
 */

/** The window (ARGV[1] ms), its tenth (a slot's width), and the slot of this moment. */
const BUDGET_SLOT = `${LUA_NOW}
local window = tonumber(ARGV[1])
local width = math.max(1, math.floor(window / 10))
local slot = math.floor(now / width) * width
local oldest = now - width * 10
local function count(kind, amount)
  redis.call('HINCRBY', KEYS[1], kind .. slot, amount)
  redis.call('PEXPIRE', KEYS[1], window + width)
end
`;

/** Deletes the slots that no longer overlap the window; sums the calls and retries of those that do. */
const BUDGET_SUM = `
local calls, retries = 0, 0
local counts = redis.call('HGETALL', KEYS[1])
for i = 1, #counts, 2 do
  local field = counts[i]
  local start = tonumber(string.sub(field, 2))
  if not start or start <= oldest then
    redis.call('HDEL', KEYS[1], field)
  elseif string.sub(field, 1, 1) == 'c' then
    calls = calls + tonumber(counts[i + 1])
  else
    retries = retries + tonumber(counts[i + 1])
  end
end
`;

/**
 * ARGV: window ms, calls. Counts new calls: one increment, the hot path of every call. Old slots are
 * deleted here only once the hash holds two windows' worth of fields (a window has at most 11 slots of
 * each kind); otherwise the retries' reads delete them.
 */
export const BUDGET_CALLS = new LuaScript(`${BUDGET_SLOT}
count('c', tonumber(ARGV[2]))
if redis.call('HLEN', KEYS[1]) > 44 then
${BUDGET_SUM}
end
return 0
`);

/**
 * ARGV: window ms, ratio, minRetries. Takes one retry when the window's retries stay within
 * minRetries + ratio × calls. Returns 1 taken, 0 spent.
 */
export const BUDGET_RETRY = new LuaScript(`${BUDGET_SLOT}${BUDGET_SUM}
if retries + 1 > tonumber(ARGV[3]) + tonumber(ARGV[2]) * calls then return 0 end
count('r', 1)
return 1
`);
