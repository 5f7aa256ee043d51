-- The Redis server running the script, named by its run id: a new one after every restart, and
-- another one after a failover (the promoted replica's own). A coupon's state records the server
-- it was installed on (meta's `server`, install-state.lua). Found on any other, it may be behind
-- PostgreSQL: a replica promoted before the last writes reached it, or a restart from a file short
-- of them, can list fewer holders than there are rows and grant units PostgreSQL then refuses
-- (a 202 ending REJECTED). So reserve.lua and guard-change.lua read it as missing, and the caller
-- rebuilds it from PostgreSQL first (once per coupon and server).
local function thisServer()
  return string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
end
