-- Gives a unit back to stock: a reservation PostgreSQL refused or surely never got, or an issue
-- whose row has just left PostgreSQL (a give-back, a revocation, a withdrawn request).
-- KEYS[1] meta hash   KEYS[2] holders set   KEYS[3] pending hash   KEYS[4] rejected hash
-- KEYS[5] withdrawn set   KEYS[6] returning hash
-- ARGV[1] user id   ARGV[2] why the accepted request was rejected (kept a day for GET /coupons/:id/issue),
--                   or '' when the user gave it back (then nothing is recorded: they hold nothing, asked nothing)
-- ARGV[3] '' always; 'withdrawn': only if the user's withdrawal still stands (they may have asked
--         again since: then the unit is theirs again, pending, and nothing changes here; returns -1);
--         'withdrawal-standing': as 'withdrawn', and also left alone (-1) when Redis shows the
--         withdrawal no more (neither marked nor its request pending): its unit went back already,
--         or the user asked again and that request was settled, and the unit is its row's;
--         'unless-pending': not while the user has a request pending (its unit; returns -1)
-- ARGV[4] with 'withdrawn': a time (ms) the withdrawal was known to stand. A request pending without
--         the mark is the user's new ask when it was accepted after that time; accepted before it,
--         it is the withdrawn request itself, whose mark Redis lost (restarted from an append-only
--         file a moment short): released all the same
-- ARGV[5] '' always; else the pending request's mark ('acceptedAt[:jobId]') this release is for:
--         left alone (returns -1) when the user's pending request is another by now, or none
-- Returns 1 when a unit went back to stock, 0 when the user held none (or no state at all): so
-- releasing twice moves `taken` once. A unit back in stock is announced on STOCK_CHANNEL (the
-- meta key names the coupon), so every API process drops its sold-out flag for it.
-- (a withdrawal mark lost with Redis' state, the user not pending again, is released as usual)
local stamp = redis.call('HGET', KEYS[3], ARGV[1]) -- 'acceptedAt[:jobId]', or false
local pendingNow = stamp ~= false
if ARGV[5] ~= '' and stamp ~= ARGV[5] then return -1 end
if (ARGV[3] == 'withdrawn' or ARGV[3] == 'withdrawal-standing') and redis.call('SISMEMBER', KEYS[5], ARGV[1]) == 0 then
  local asked = pendingNow and tonumber(string.match(stamp, '^%d+'))
  if asked and asked > tonumber(ARGV[4]) then return -1 end
  if ARGV[3] == 'withdrawal-standing' and not asked then return -1 end
end
if ARGV[3] == 'unless-pending' and pendingNow then return -1 end
local released = 0
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('SREM', KEYS[2], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[1], 'taken', -1)
  redis.call('PUBLISH', STOCK_CHANNEL, KEYS[1])
  released = 1
end
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[6], ARGV[1])
local withdrawn = redis.call('SREM', KEYS[5], ARGV[1]) == 1
if ARGV[2] ~= '' and not withdrawn then
  redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
  redis.call('EXPIRE', KEYS[4], 86400)
else
  redis.call('HDEL', KEYS[4], ARGV[1])
end
return released
