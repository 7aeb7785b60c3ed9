import { LuaScript } from './redis-client.js';

/*
 * The usage counters of the token and spend budgets (`budgets`), one hash per counter:
 *   <prefix>usage:{<account>}:<limit name>:<tenant fingerprint, or * for the client>
 * (the account in braces is a Redis Cluster hash tag: every counter of an account is on one node, so that
 * one script can take a call's charges from all of them). It holds amounts by slot (field: the slot's
 * start, server ms):
 *   - a sliding window of W ms has 60 slots of floor(W / 60) ms. A slot counts, whole, while any of it is
 *     in the window, so what a counter holds covers between W and W + one slot: never less than the window.
 *     Slots that have left the window are deleted as they are read;
 *   - a calendar month (UTC) has one slot, the month's first millisecond; another month's is deleted.
 * The key expires a slot and a second after its window has passed since its last write (at the month's end
 * and a minute, for a month), so usage outlives the processes that counted it, and no longer than it counts.
 */

/**
 * ARGV[1]: the time to count at (epoch ms), or -1 for the server's clock (every process then counts on the
 * same clock, however far apart theirs are). Then each counter (KEYS[i]) reads its window (kind 0 sliding
 * over ms, 1 month): `count(i, kind, ms)` returns what it holds, the current slot, the ms the key is kept
 * for, and its live slots (oldest first) with their amounts.
 */
const USAGE_PRELUDE = `
local now = tonumber(ARGV[1])
if now < 0 then
  local clock = redis.call('TIME')
  now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
end
local DAY = 86400000
-- Days since 1970-01-01 to the civil date and back (H. Hinnant's algorithms), for the month in UTC.
local function civil(days)
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return y, m
end
local function firstDay(y, m)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = m > 2 and m - 3 or m + 9
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + math.floor((153 * mp + 2) / 5)
  return era * 146097 + doe - 719468
end
local function slotWidth(ms) return math.max(1, math.floor(ms / 60)) end
local function count(i, kind, ms)
  local key = KEYS[i]
  local fields = redis.call('HGETALL', key)
  local slot, keep, oldest
  if kind == 1 then
    local y, m = civil(math.floor(now / DAY))
    slot = firstDay(y, m) * DAY
    if m == 12 then y, m = y + 1, 1 else m = m + 1 end
    keep = firstDay(y, m) * DAY - now + 60000
  else
    local width = slotWidth(ms)
    slot = math.floor(now / width) * width
    oldest = now - ms - width
    keep = ms + width + 1000
  end
  local used, live = 0, {}
  for j = 1, #fields, 2 do
    local start = tonumber(fields[j])
    local amount = tonumber(fields[j + 1]) or 0
    if start and ((kind == 1 and start == slot) or (kind ~= 1 and start > oldest)) then
      used = used + amount
      live[#live + 1] = {start, amount}
    else
      redis.call('HDEL', key, fields[j])
    end
  end
  table.sort(live, function(a, b) return a[1] < b[1] end)
  return used, slot, keep, live
end
local function add(i, slot, amount, keep)
  redis.call('HINCRBY', KEYS[i], string.format('%d', slot), string.format('%d', amount))
  redis.call('PEXPIRE', KEYS[i], keep)
end
`;

/**
 * ARGV: the time (see above), then per counter: kind, window ms, limit, amount. Takes every amount, or
 * none. Returns {1, used after..., slots...} (one of each per counter), or {0, index (1-based), used,
 * resetsIn}: the first counter the charge would pass, and in how many ms enough of it will have left the
 * window for the amount to fit (the month's end for a month; every slot gone for an amount over the limit).
 */
export const USAGE_RESERVE = new LuaScript(`${USAGE_PRELUDE}
local n = #KEYS
local counted = {}
for i = 1, n do
  local a = 1 + (i - 1) * 4
  local kind, ms, limit, amount = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  local used, slot, keep, live = count(i, kind, ms)
  if used + amount > limit then
    local resetsIn = keep - 60000
    if kind ~= 1 then
      local width = slotWidth(ms)
      local left = used
      resetsIn = 0
      for _, s in ipairs(live) do
        left = left - s[2]
        resetsIn = s[1] + ms + width - now
        if left + amount <= limit then break end
      end
    end
    return {0, i, used, math.max(1, resetsIn)}
  end
  counted[i] = {used + amount, slot, keep, amount}
end
local reply = {1}
for i = 1, n do
  local c = counted[i]
  if c[4] ~= 0 then add(i, c[2], c[4], c[3]) end
  reply[1 + i] = c[1]
  reply[1 + n + i] = c[2]
end
return reply
`);

/**
 * ARGV: the time, then per counter: kind, window ms, slot (as reserved), correction. Applies each
 * correction to its slot while that slot is still counted (a negative one never below 0, nor to a slot that
 * is gone); to the current slot when it is not, for a positive one (a negative one is dropped: what it
 * would give back is no longer counted). Returns what each counter holds after.
 */
export const USAGE_SETTLE = new LuaScript(`${USAGE_PRELUDE}
local reply = {}
for i = 1, #KEYS do
  local a = 1 + (i - 1) * 4
  local kind, ms, reserved, delta = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  local used, slot, keep, live = count(i, kind, ms)
  local held
  for _, s in ipairs(live) do
    if s[1] == reserved then held = s[2] end
  end
  if delta > 0 then
    add(i, held and reserved or slot, delta, keep)
    used = used + delta
  elseif delta < 0 and held then
    local given = math.min(-delta, math.max(0, held))
    if given > 0 then add(i, reserved, -given, keep) end
    used = used - given
  end
  reply[i] = used
end
return reply
`);
