-- Admits one log-in attempt, or says why not, in one atomic step *before* the password is
-- weighed, so that attempts sent at once cannot all pass the check before any is counted.
-- KEYS[1] place hash {count, lastAt}: failures of this account from this client address
-- KEYS[2] account hash {windowStart, failures}: failures of this account from anywhere, this hour
-- KEYS[3] in-flight zset: attempt id -> started ms, this account's attempts being weighed now
-- ARGV[1] now ms   ARGV[2] attempt id   ARGV[3] free failures   ARGV[4] first wait ms
-- ARGV[5] max wait ms   ARGV[6] forget place after ms   ARGV[7] account failures per window
-- ARGV[8] window ms   ARGV[9] max in flight   ARGV[10] in-flight entries older than this are stale (ms)
-- Returns {0} when admitted (the attempt is counted as a failure until login-end.lua says it was
-- not), or {1, retry ms, reason} with reason PLACE, ACCOUNT or IN_FLIGHT.
local now = tonumber(ARGV[1])
local free, first, cap = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])

local place = redis.call('HMGET', KEYS[1], 'count', 'lastAt')
local count = tonumber(place[1] or '0')
if count >= free then
  local wait = math.min(first * 2 ^ (count - free), cap) - (now - tonumber(place[2]))
  if wait > 0 then return {1, math.ceil(wait), 'PLACE'} end
end

local window = tonumber(ARGV[8])
local account = redis.call('HMGET', KEYS[2], 'windowStart', 'failures')
local windowStart, failures = tonumber(account[1] or '0'), tonumber(account[2] or '0')
if now - windowStart >= window then windowStart, failures = now, 0 end
if failures >= tonumber(ARGV[7]) then return {1, windowStart + window - now, 'ACCOUNT'} end

redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[10]))
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[9]) then return {1, 1000, 'IN_FLIGHT'} end

redis.call('HSET', KEYS[1], 'count', count + 1, 'lastAt', now)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[6]))
redis.call('HSET', KEYS[2], 'windowStart', windowStart, 'failures', failures + 1)
redis.call('PEXPIRE', KEYS[2], windowStart + window - now)
redis.call('ZADD', KEYS[3], now, ARGV[2])
redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[10]))
return {0}
