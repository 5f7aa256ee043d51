-- A withdrawal Redis marked (give-back.lua) that PostgreSQL has no record of, met by the worker
-- that wrote its request: the API that marked it died (or failed) before recording it, so its user
-- never had the 204; or that API is recording it at this moment. Either way the request is settled
-- here as issued, and the mark goes. A withdrawal recorded after this still takes the row back,
-- and, its user no longer pending, release.lua then gives the unit back, as for a holder's
-- give-back. One never recorded no longer keeps the request pending for ever (the sweeper would
-- hand it to a worker again and again, and the poll would never end).
-- KEYS[1] pending hash   KEYS[2] withdrawn set
-- ARGV[1] user id   ARGV[2] the stamp of the request written ('': not known)
-- Returns 1 when the request was settled here; 0 when the mark is gone (the user asked again:
-- REVIVED, reserve.lua) or the user's pending request is another one.
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then return 0 end
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current and ARGV[2] ~= '' and string.match(current, '^%d+') ~= ARGV[2] then return 0 end
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
