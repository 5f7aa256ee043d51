-- Atomically decides one request against a coupon's Redis state (Redis runs a script alone, so
-- no other command interleaves between the checks and the SADD).
-- KEYS[1] meta hash {total, status, starts, ends, taken}   KEYS[2] holders set
-- KEYS[3] pending hash: user -> accepted-at ms (requestStamp, lib/coupon-clock.lua), recorded in the same atomic step when ARGV[3] is '1'
--         (queue), so an accepted request is never a reservation nobody knows about (the sweeper reads it)
-- KEYS[4] the user's request count on this coupon in the current rate-limit window
-- KEYS[5] withdrawn set: users whose pending request was withdrawn, its row not yet taken back
-- ARGV[1] user id   ARGV[2] now (ms since epoch)   ARGV[3] '1' to record the request as pending
-- ARGV[4] requests a user may make per window on this coupon ('0': no limit, or already counted)
-- ARGV[5] the window, ms (it starts at the user's first request, as a fixed window)
-- (The key count is fixed, so every call names the same keys in the same places.)
-- Returns GRANTED (reserved), REVIVED (a withdrawn request taken up again, see below), RATE_LIMITED, ALREADY_ISSUED, NOT_OPEN, SOLD_OUT, or MISSING when the
-- state is absent, torn, or was installed on another server (lib/coupon-server.lua): then the caller
-- rebuilds it from PostgreSQL (fail closed, never guess).
--
-- The per-user rate limit is counted here rather than in a round trip of its own: one script per
-- request is one write to Redis and one reply to parse, where two were a fifth of an issue's CPU.
-- Every request is counted, whatever it is answered.
local limit = tonumber(ARGV[4])
if limit > 0 then
  -- a user's first request in a window (the crowd's usual case) costs one command: SET NX with the window
  local hits = 1
  if not redis.call('SET', KEYS[4], 1, 'PX', ARGV[5], 'NX') then hits = redis.call('INCR', KEYS[4]) end
  if hits > limit then return 'RATE_LIMITED' end
end
local meta = redis.call('HMGET', KEYS[1], 'total', 'status', 'starts', 'ends', 'taken', 'withdrawnAt', 'server')
if not meta[1] or meta[7] ~= thisServer() then return 'MISSING' end
local taken = tonumber(meta[5])
if redis.call('SCARD', KEYS[2]) ~= taken then return 'MISSING' end
-- withdrawn (204), and asked again before a worker took the withdrawn request back: the unit they
-- gave up is still counted as theirs, so a new request that passes the window takes it again, as
-- a new pending request; the worker then keeps the row instead of taking it back (settle.lua, and
-- release.lua's withdrawn mode). The caller also forgets PostgreSQL's record of the withdrawal.
local revived = false
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then
  if ARGV[3] ~= '1' or redis.call('SISMEMBER', KEYS[5], ARGV[1]) == 0 then return 'ALREADY_ISSUED' end
  revived = true
end
if meta[2] ~= 'ACTIVE' then return 'NOT_OPEN' end
local now = tonumber(ARGV[2])
if meta[3] ~= '' and now < tonumber(meta[3]) then return 'NOT_OPEN' end
if meta[4] ~= '' and now >= tonumber(meta[4]) then return 'NOT_OPEN' end
if revived then
  redis.call('SREM', KEYS[5], ARGV[1])
  redis.call('HSET', KEYS[3], ARGV[1], requestStamp(meta[6]))
  return 'REVIVED'
end
if taken >= tonumber(meta[1]) then return 'SOLD_OUT' end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'taken', 1)
if ARGV[3] == '1' then redis.call('HSET', KEYS[3], ARGV[1], requestStamp(meta[6])) end
return 'GRANTED'
