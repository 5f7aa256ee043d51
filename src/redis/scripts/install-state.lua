-- Installs a coupon's state rebuilt from PostgreSQL. The holders were loaded into KEYS[3] first
-- (in chunks, since a coupon may have millions); this swaps them in with the meta in one step.
-- Requests still pending (accepted, not yet written: KEYS[4]) stay holders, so a rebuild never
-- hands their units to someone else.
-- KEYS[1] meta   KEYS[2] holders   KEYS[3] staged holders   KEYS[4] pending hash
-- ARGV[1] mode: 'if-missing' (lazy rebuild: keep a sound state another process installed meanwhile)
--               or 'replace' (reconcile: PostgreSQL's truth wins)
-- ARGV[2] total   ARGV[3] status   ARGV[4] starts ms or ''   ARGV[5] ends ms or ''   ARGV[6] version
-- ARGV[7] chunk: members per SADD (STAGE_CHUNK in reservation-rebuild.ts)
-- ARGV[8] the latest withdrawal PostgreSQL recorded for the coupon (ms, or ''): meta's withdrawnAt
--         keeps at least that (and what it held), so a request accepted after the rebuild is stamped
--         after every withdrawal on record, whatever this Redis' clock did meanwhile (a failover)
-- ARGV[9] how many holders were staged in KEYS[3]: fewer there means they were lost on the way
--         (Redis flushed, or restarted from a file short of them), and nothing is installed
-- Returns 1 when installed, 0 when kept, -1 when the staged holders are not all there (stage them again).
-- The state records this server (lib/coupon-server.lua): one installed on another is not sound.
local server = thisServer()
if ARGV[1] == 'if-missing' and redis.call('EXISTS', KEYS[1]) == 1 then
  local sound = redis.call('HMGET', KEYS[1], 'taken', 'server')
  if redis.call('SCARD', KEYS[2]) == tonumber(sound[1]) and sound[2] == server then
    redis.call('DEL', KEYS[3])
    return 0
  end
end
if redis.call('SCARD', KEYS[3]) ~= tonumber(ARGV[9]) then
  redis.call('DEL', KEYS[3])
  return -1
end
local pending = redis.call('HKEYS', KEYS[4])
local chunk = tonumber(ARGV[7])
for i = 1, #pending, chunk do
  redis.call('SADD', KEYS[3], unpack(pending, i, math.min(i + chunk - 1, #pending)))
end
if redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('RENAME', KEYS[3], KEYS[2])
else
  redis.call('DEL', KEYS[2])
end
local withdrawnAt = math.max(tonumber(redis.call('HGET', KEYS[1], 'withdrawnAt')) or 0, tonumber(ARGV[8]) or 0)
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'total', ARGV[2], 'status', ARGV[3], 'starts', ARGV[4], 'ends', ARGV[5],
  'version', ARGV[6], 'taken', redis.call('SCARD', KEYS[2]), 'withdrawnAt', withdrawnAt, 'server', server)
-- rebuilt (reconcile, or a torn state): stock may differ from what any process saw
redis.call('PUBLISH', STOCK_CHANNEL, KEYS[1])
return 1
