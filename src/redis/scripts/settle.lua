-- After a writer's commit: which of the users written keep their coupon. A give-back can race a
-- write that re-creates a row (a redelivered job, the redis strategy making good a lost write),
-- and a queued request can be withdrawn while its job runs; this is where either is caught.
-- KEYS[1] meta hash   KEYS[2] holders set   KEYS[3] pending hash   KEYS[4] withdrawn set   KEYS[5] returning hash
-- ARGV[1] now (ms), then quads: user id, '1' when this write inserted the row ('0': it was there),
--         when PostgreSQL recorded the user's withdrawal since their request (ms; '0': none), and
--         the stamp of the request written ('': not known)
-- Returns one outcome per user:
--   KEEP       the user holds the coupon: the request written is settled (no longer pending). Only
--              that request: a pending record with another stamp is a newer request of the user
--              (they withdrew and asked again meanwhile, and the row written may be gone with the
--              withdrawal), which its own job settles
--   WITHDRAWN  the user withdrew while pending: the caller takes the row back, then releases the unit.
--              On Redis' mark, or on PostgreSQL's record when Redis lost the mark (its state gone,
--              or the request still pending as it was accepted before the withdrawal); not when the
--              user asked again after withdrawing (pending, accepted after it): the row is theirs
--   ABSENT     the row is new, but Redis does not list the user: they gave it back meanwhile, or
--              Redis forgot them (emptied, rebuilt from a snapshot taken before this commit). Redis
--              alone cannot tell which, so the caller asks PostgreSQL for a give-back or revocation
--              of that request (positive evidence), and otherwise keeps the row. Still pending.
--   WAIT       a give-back of this user is under way: ask again once its tombstone is gone
local now = tonumber(ARGV[1])
local known = redis.call('EXISTS', KEYS[1]) == 1 -- with no state, nothing can be judged: keep
-- withdrawals and give-backs under way are rare: when there are none, nobody is asked about them
local anyWithdrawn = redis.call('EXISTS', KEYS[4]) == 1
local anyReturning = redis.call('EXISTS', KEYS[5]) == 1
local outcomes = {}
-- a withdrawal PostgreSQL recorded that Redis has no mark of: it stands unless the user asked again
local function standsInPostgres(user, withdrawnAt)
  if withdrawnAt == 0 then return false end
  local stamp = redis.call('HGET', KEYS[3], user) -- 'acceptedAt[:jobId]'
  return not stamp or tonumber(string.match(stamp, '^%d+')) <= withdrawnAt
end
-- the request written, if it is still the one pending (or the caller does not know which it was)
local function settled(user, stamp)
  if stamp ~= '' then
    local current = redis.call('HGET', KEYS[3], user)
    if current and string.match(current, '^%d+') ~= stamp then return end
  end
  redis.call('HDEL', KEYS[3], user)
end
for i = 2, #ARGV, 4 do
  local user, inserted, withdrawnAt, stamp = ARGV[i], ARGV[i + 1] == '1', tonumber(ARGV[i + 2]), ARGV[i + 3]
  local outcome = 'KEEP'
  if (anyWithdrawn and redis.call('SISMEMBER', KEYS[4], user) == 1) or standsInPostgres(user, withdrawnAt) then
    outcome = 'WITHDRAWN'
  elseif inserted and known then
    local tombstones = anyReturning and redis.call('HGET', KEYS[5], user)
    local deadline = 0 -- the latest of the user's give-backs under way ('<deadline>-<nonce>' each)
    if tombstones then
      for ms in string.gmatch(tombstones, '(%d+)%-%S*') do deadline = math.max(deadline, tonumber(ms)) end
    end
    if deadline > now then
      outcome = 'WAIT'
    elseif redis.call('SISMEMBER', KEYS[2], user) == 0 then
      outcome = 'ABSENT'
    end
  end
  if outcome == 'KEEP' then settled(user, stamp) end
  outcomes[#outcomes + 1] = outcome
end
return outcomes
