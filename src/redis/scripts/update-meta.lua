-- Brings an installed state's campaign fields in step after an admin change. Never creates a
-- state: meta without its holders would look like untouched stock. Announced on STOCK_CHANNEL
-- (a raised total, a campaign opened or closed: every process's sold-out flag for it is dropped).
-- KEYS[1] meta   ARGV[1] total   ARGV[2] status   ARGV[3] starts ms or ''   ARGV[4] ends ms or ''
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'total', ARGV[1], 'status', ARGV[2], 'starts', ARGV[3], 'ends', ARGV[4])
redis.call('PUBLISH', STOCK_CHANNEL, KEYS[1])
return 1
