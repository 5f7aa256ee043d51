-- The coupon's clock: this Redis' TIME, in ms. Whether a request came before or after a withdrawal
-- is decided by it (reserve.lua, give-back.lua, mark-queued.lua), never by the clocks of the API
-- processes that took them: a coupon's keys live on one server, which runs one script at a time.
local function couponNowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- A pending request's stamp: now, and later than every withdrawal the coupon has seen (meta's
-- withdrawnAt, raised by give-back.lua), whatever this clock did meanwhile (a failover).
local function requestStamp(withdrawnAt)
  return math.max(couponNowMs(), (tonumber(withdrawnAt) or 0) + 1)
end
