-- First step of a give-back or revocation, before PostgreSQL is told. Redis runs a script alone,
-- so this and settle.lua (the writers' check after a commit) never interleave.
-- KEYS[1] holders set   KEYS[2] pending hash   KEYS[3] withdrawn set   KEYS[4] returning hash   KEYS[5] meta
-- ARGV[1] user id   ARGV[2] this give-back's tombstone: '<deadline ms since epoch>-<nonce>'   ARGV[3] now (ms)
-- ARGV[4] '1' when a pending request may be withdrawn (queue, the holder's own give-back)
-- ARGV[5] how long a tombstone is kept past its deadline (ms), for the repair of a give-back cut short
-- Returns { step } (and, for WITHDRAWING, when: see below)
--   WITHDRAWING: the request is still pending; it is marked, and the worker that writes it takes
--                it back and returns the unit (nothing else to do now). With it, the withdrawal's
--                moment on this Redis' clock (ms): at or after the withdrawn request's stamp, before
--                any request accepted after it (reserve.lua stamps later than meta's withdrawnAt),
--                so the record PostgreSQL keeps of it (coupon_withdrawals) orders by one clock
--   RETURNING:   a holder; the tombstone says so until the caller has deleted the row in
--                PostgreSQL and released the unit (release.lua), or until the deadline (a caller
--                that died: GiveBackRepair then finishes it from PostgreSQL's truth); meanwhile a
--                writer that re-creates the row waits to see how it ended. A user's give-backs
--                under way (a double click) each add their own tombstone to the user's field, so
--                one that ends (end-give-back.lua) leaves the others standing
--   NOT_HELD:    Redis holds nothing for the user (and, the state being installed, neither does
--                PostgreSQL: a rebuild lists every row)
--   MISSING:     no state is installed (Redis lost it): the caller rebuilds it first and asks
--                again. Judged without a state, a holder would read as NOT_HELD, and a rebuild
--                that read their row before the give-back deleted it would list them for good
if redis.call('EXISTS', KEYS[5]) == 0 then return { 'MISSING' } end
local stamp = ARGV[4] == '1' and redis.call('HGET', KEYS[2], ARGV[1])
if stamp then
  local at = math.max(couponNowMs(), tonumber(string.match(stamp, '^%d+')), tonumber(redis.call('HGET', KEYS[5], 'withdrawnAt')) or 0)
  redis.call('HSET', KEYS[5], 'withdrawnAt', at)
  redis.call('SADD', KEYS[3], ARGV[1])
  return { 'WITHDRAWING', at }
end
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then
  local standing = redis.call('HGET', KEYS[4], ARGV[1])
  redis.call('HSET', KEYS[4], ARGV[1], standing and (standing .. ' ' .. ARGV[2]) or ARGV[2])
  -- kept past its deadline long enough for the repair to find a give-back whose caller died
  -- (then it goes with the hash: not kept forever)
  redis.call('PEXPIRE', KEYS[4], tonumber(string.match(ARGV[2], '^%d+')) - tonumber(ARGV[3]) + tonumber(ARGV[5]))
  return { 'RETURNING' }
end
return { 'NOT_HELD' }
