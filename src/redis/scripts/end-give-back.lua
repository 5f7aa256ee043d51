-- Ends give-backs' tombstones: the ones named (a give-back ends its own; the repair ends those it
-- found past their deadline), never a later give-back's of the same user (a double click), whose
-- own tombstone keeps standing until that give-back ends it or is released.
-- KEYS[1] returning hash   ARGV[1] user id   ARGV[2] the tombstones to end, space-separated, as
-- give-back.lua stood them
-- Returns how many of them were there and are gone.
local standing = redis.call('HGET', KEYS[1], ARGV[1])
if not standing then return 0 end
local ending = {}
for tombstone in string.gmatch(ARGV[2], '%S+') do ending[tombstone] = true end
local kept, ended = {}, 0
for tombstone in string.gmatch(standing, '%S+') do
  if ending[tombstone] then ended = ended + 1 else kept[#kept + 1] = tombstone end
end
if #kept == 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
elseif ended > 0 then
  redis.call('HSET', KEYS[1], ARGV[1], table.concat(kept, ' '))
end
return ended
