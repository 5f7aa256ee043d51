-- Marks pending requests with the job that will write them, each only if it is still the request
-- its caller saw: a request settled, withdrawn or asked anew meanwhile is left as it is (and gets
-- no job), so a stale read never revives what has ended, nor re-queues someone else's request.
-- KEYS[1] pending hash (user -> 'acceptedAt[:jobId]')   KEYS[2] meta hash
-- ARGV[1] the job's id; then pairs: user id, the mark expected, or '' for a request the caller has
--         just accepted (marked whatever is there: even if Redis was emptied since, the 202 it is
--         about to give stands, and the job writes it)
-- A request keeps its acceptedAt (reserve.lua's stamp, on this Redis' clock: it orders the request
-- against withdrawals); one Redis no longer has is stamped now, as reserve.lua would.
-- Returns the users marked, each followed by its stamp (the job carries both: the stamp names the
-- request in PostgreSQL, on its row and on the record of its give-back, whatever Redis forgets).
-- The marks are read and written a chunk of users per command (HMGET, HSET), not one per user:
-- a job carries up to 2,000 requests, and a command per user was most of this script's time.
local CHUNK = 1000 -- users per HMGET and HSET (Lua's unpack stops near 8,000 values)
local withdrawnAt = redis.call('HGET', KEYS[2], 'withdrawnAt')
local stampNow -- the stamp of a request Redis no longer has, read once
local marked = {}
for first = 2, #ARGV, 2 * CHUNK do
  local users = {}
  for i = first, math.min(#ARGV - 1, first + 2 * CHUNK - 2), 2 do users[#users + 1] = ARGV[i] end
  local current = redis.call('HMGET', KEYS[1], unpack(users))
  local fields = {}
  for j, user in ipairs(users) do
    local expected, mark = ARGV[first + 2 * j - 1], current[j]
    if expected == '' or mark == expected then
      local acceptedAt = mark and string.match(mark, '^%d+')
      if not acceptedAt then
        stampNow = stampNow or requestStamp(withdrawnAt)
        acceptedAt = stampNow
      end
      fields[#fields + 1] = user
      fields[#fields + 1] = acceptedAt .. ':' .. ARGV[1]
      marked[#marked + 1] = user
      marked[#marked + 1] = acceptedAt
    end
  end
  if #fields > 0 then redis.call('HSET', KEYS[1], unpack(fields)) end
end
return marked
