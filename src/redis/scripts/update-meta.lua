-- Brings an installed state's coupon fields in step after an admin change. Never creates a
-- state: meta without its holders would look like untouched stock. Announced on STOCK_CHANNEL
-- (a raised total, a coupon opened or closed: every process's sold-out flag for it is dropped).
-- KEYS[1] meta   ARGV[1] total   ARGV[2] status   ARGV[3] starts ms or ''   ARGV[4] ends ms or ''
-- ARGV[5] the coupon's version as changed: a change older than the fields held (two admin changes
-- whose steps arrive out of order) is not applied; the same version is (a resync after a refusal)
-- Returns 1 when applied, 0 when there is no state or the change is older.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if tonumber(ARGV[5]) < tonumber(redis.call('HGET', KEYS[1], 'version') or '0') then return 0 end
redis.call('HSET', KEYS[1], 'total', ARGV[1], 'status', ARGV[2], 'starts', ARGV[3], 'ends', ARGV[4], 'version', ARGV[5])
redis.call('PUBLISH', STOCK_CHANNEL, KEYS[1])
return 1
