-- A holder PostgreSQL has no row for, and nothing under way explains: HoldersRepair has seen
-- them so for longer than any write can take, and holds the coupon's rows lock (no write of the
-- coupon commits meanwhile). Their unit goes back to stock. Left alone when, by now, they have a
-- request pending, a give-back under way or a withdrawal marked, or are no longer listed.
-- KEYS[1] meta hash   KEYS[2] holders set   KEYS[3] pending hash   KEYS[4] returning hash   KEYS[5] withdrawn set
-- ARGV[1] user id
-- Returns 1 when a unit went back to stock, else 0.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 or redis.call('HEXISTS', KEYS[4], ARGV[1]) == 1 or redis.call('SISMEMBER', KEYS[5], ARGV[1]) == 1 then
  return 0
end
if redis.call('SREM', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'taken', -1)
redis.call('PUBLISH', STOCK_CHANNEL, KEYS[1])
return 1
