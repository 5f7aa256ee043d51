-- A user PostgreSQL holds a row for, whom Redis no longer lists (it forgot them: emptied, or
-- rebuilt from a snapshot taken before their row was committed), is listed again, so Redis counts
-- the unit as PostgreSQL does and never grants it twice. Settles their request.
-- KEYS[1] meta hash   KEYS[2] holders set   KEYS[3] pending hash
-- ARGV[1] user id
-- Returns 1 when the user was listed again, 0 when they were listed already (or no state exists).
redis.call('HDEL', KEYS[3], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('SADD', KEYS[2], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[1], 'taken', 1)
  return 1
end
return 0
