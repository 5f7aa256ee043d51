-- Ends an admitted attempt. A failure stays counted (login-begin.lua counted it in advance); a
-- success forgets this address's failures and gives back the one charged to the account's hour.
-- KEYS[1] place hash   KEYS[2] account hash   KEYS[3] in-flight zset
-- ARGV[1] attempt id   ARGV[2] '1' when the password was right
redis.call('ZREM', KEYS[3], ARGV[1])
if ARGV[2] == '1' then
  redis.call('DEL', KEYS[1])
  if tonumber(redis.call('HGET', KEYS[2], 'failures') or '0') > 0 then redis.call('HINCRBY', KEYS[2], 'failures', -1) end
end
return 1
