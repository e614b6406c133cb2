-- Append one publication to a channel's history and deliver it, atomically.
-- KEYS[1] meta hash (epoch, offset, trimmed)   KEYS[2] history stream   KEYS[3] idempotency key or ""
-- ARGV[1] data   ARGV[2] history size   ARGV[3] history seconds   ARGV[4] a fresh epoch
-- ARGV[5] pub/sub channel   ARGV[6] idempotency seconds
-- Returns {offset, epoch, duplicate}; a key retired by redact.lua gives {0, "", 1}.
if KEYS[3] ~= "" then
  local earlier = redis.call("GET", KEYS[3])
  if earlier then
    local offset, epoch = string.match(earlier, "^(%d+):(.*)$")
    if not offset then  -- written by a version that stored the offset alone
      offset, epoch = earlier, redis.call("HGET", KEYS[1], "epoch") or ""
    end
    return {tonumber(offset), epoch, 1}
  end
end
local epoch = redis.call("HGET", KEYS[1], "epoch")
if not epoch then
  -- No meta: the channel is new or its history expired. Either way a new epoch starts.
  epoch = ARGV[4]
  redis.call("DEL", KEYS[2])
  redis.call("HSET", KEYS[1], "epoch", epoch, "offset", 0, "trimmed", 0)
end
local offset = redis.call("HINCRBY", KEYS[1], "offset", 1)
redis.call("XADD", KEYS[2], offset .. "-0", "d", ARGV[1])
-- Trim by hand rather than with MAXLEN, to remember the newest offset that left: recovery from
-- before it must fail, while gaps left by redact.lua are not losses.
local excess = redis.call("XLEN", KEYS[2]) - tonumber(ARGV[2])
if excess > 0 then
  local dropped = redis.call("XRANGE", KEYS[2], "-", "+", "COUNT", excess)
  local newest = tonumber(string.match(dropped[#dropped][1], "^%d+"))
  redis.call("XTRIM", KEYS[2], "MINID", (newest + 1) .. "-0")
  redis.call("HSET", KEYS[1], "trimmed", newest)
end
redis.call("EXPIRE", KEYS[1], ARGV[3])
redis.call("EXPIRE", KEYS[2], ARGV[3])
redis.call("PUBLISH", ARGV[5], offset .. ":" .. epoch .. ":" .. ARGV[1])
if KEYS[3] ~= "" then
  redis.call("SET", KEYS[3], offset .. ":" .. epoch, "EX", ARGV[6])
end
return {offset, epoch, 0}
