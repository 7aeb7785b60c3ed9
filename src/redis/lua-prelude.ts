/**
 * The server's time in milliseconds: every process measures pauses and refills on the same clock, however
 * far apart their own clocks are. (Redis 5+ replicates a script's effects, so `TIME` is allowed.)
 */
export const LUA_NOW = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
`;
