-- Gives a reservation back (PostgreSQL refused it or surely never got it).
-- KEYS[1] meta hash   KEYS[2] holders set
-- KEYS[3] (optional) pending hash: the request is no longer pending
-- KEYS[4] (optional) rejected hash: user -> reason, kept a day for GET /coupons/:id/issue
-- ARGV[1] user id   ARGV[2] reason (with KEYS[4])
-- Returns 1 when a reservation was released, 0 when there was none (or no state at all).
local released = 0
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('SREM', KEYS[2], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[1], 'taken', -1)
  released = 1
end
if KEYS[3] then redis.call('HDEL', KEYS[3], ARGV[1]) end
if KEYS[4] then
  redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
  redis.call('EXPIRE', KEYS[4], 86400)
end
return released
