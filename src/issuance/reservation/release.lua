-- Gives a reservation back (the database refused or never got the write).
-- KEYS[1] meta hash   KEYS[2] holders set   ARGV[1] user id
-- Returns 1 when a reservation was released, 0 when there was none (or no state at all).
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('SREM', KEYS[2], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[1], 'taken', -1)
  return 1
end
return 0
