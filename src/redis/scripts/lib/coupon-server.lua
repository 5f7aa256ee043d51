-- The Redis server running the script, named by its run id: a new one after every restart, and
-- another one after a failover (the promoted replica's own). A coupon's state records the server
-- it was installed on (meta's `server`, install-state.lua). Found on any other, it may be behind
-- PostgreSQL: a replica promoted before the last writes reached it, or a restart from a file short
-- of them, can list fewer holders than there are rows and grant units PostgreSQL then refuses
-- (a 202 ending REJECTED). So reserve.lua and guard-change.lua read it as missing, and the caller
-- rebuilds it from PostgreSQL first (once per coupon and server).
-- Read once per script run, or, in a library of functions (reserve.lua: scripts.ts's
-- defineFunctions), once per server process: `INFO server` on every request was much of a
-- reservation's time in Redis (bench/README.md), and a process keeps its run id while it runs
-- (restarted, it is a new process with a new one; a promoted replica always had its own, and its
-- library has not read the old master's).
local knownServer
local function thisServer()
  knownServer = knownServer or string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
  return knownServer
end
