-- Before an admin change that could take back what Redis promised: a lower total, or a delete.
-- Redis counts every unit reserved, pending (accepted, 202, not yet written) or written in
-- `taken`, so the check here sees what PostgreSQL's counter does not yet.
-- KEYS[1] meta hash
-- ARGV[1] 'total' (ARGV[2] the new total) or 'delete'
-- Returns 'ALLOWED' (a lower total takes effect at once; a coupon to delete takes no new request), the
-- units taken when they are more than the change allows, or 'MISSING' when no state is installed,
-- or it was installed on another server (lib/coupon-server.lua): the caller rebuilds it from
-- PostgreSQL and asks again.
local meta = redis.call('HMGET', KEYS[1], 'total', 'taken', 'server')
if not meta[1] or meta[3] ~= thisServer() then return 'MISSING' end
local taken = tonumber(meta[2])
if ARGV[1] == 'delete' then
  if taken > 0 then return taken end
  -- reserve.lua refuses every request while the status is not ACTIVE; the delete follows
  redis.call('HSET', KEYS[1], 'status', 'DELETING')
  return 'ALLOWED'
end
local total = tonumber(ARGV[2])
if taken > total then return taken end
-- lowered now, before PostgreSQL, so nothing more is accepted meanwhile; a higher total waits for
-- PostgreSQL's commit (update-meta.lua), so nothing is accepted that PostgreSQL's CHECK would refuse
if total < tonumber(meta[1]) then redis.call('HSET', KEYS[1], 'total', ARGV[2]) end
return 'ALLOWED'
