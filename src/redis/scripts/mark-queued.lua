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
local withdrawnAt = redis.call('HGET', KEYS[2], 'withdrawnAt')
local marked = {}
for i = 2, #ARGV, 2 do
  local user, expected = ARGV[i], ARGV[i + 1]
  local current = redis.call('HGET', KEYS[1], user)
  if expected == '' or current == expected then
    local acceptedAt = current and string.match(current, '^%d+') or requestStamp(withdrawnAt)
    redis.call('HSET', KEYS[1], user, acceptedAt .. ':' .. ARGV[1])
    marked[#marked + 1] = user
    marked[#marked + 1] = acceptedAt
  end
end
return marked
