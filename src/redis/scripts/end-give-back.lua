-- Ends one give-back's tombstone: the one it stood (its deadline), not a later give-back's of the
-- same user (a double click), which ends its own.
-- KEYS[1] returning hash   ARGV[1] user id   ARGV[2] the tombstone's deadline, as give-back.lua stood it
-- Returns 1 when that tombstone was there and is gone.
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
