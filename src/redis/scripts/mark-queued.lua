-- Marks pending requests with the job that will write them, each only if it is still the request
-- its caller saw: a request settled, withdrawn or asked anew meanwhile is left as it is (and gets
-- no job), so a stale read never revives what has ended, nor re-queues someone else's request.
-- KEYS[1] pending hash (user -> 'acceptedAt[:jobId]')
-- ARGV[1] the new mark, 'acceptedAt:jobId'; then pairs: user id, the mark expected, or '' for a
--         request the caller has just accepted (marked whatever is there: even if Redis was emptied
--         since, the 202 it is about to give stands, and the job writes it)
-- Returns the users marked.
local marked = {}
for i = 2, #ARGV, 2 do
  local user, expected = ARGV[i], ARGV[i + 1]
  local current = redis.call('HGET', KEYS[1], user)
  if expected == '' or current == expected then
    redis.call('HSET', KEYS[1], user, ARGV[1])
    marked[#marked + 1] = user
  end
end
return marked
