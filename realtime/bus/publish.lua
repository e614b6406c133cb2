-- Append one publication to a channel's history and deliver it, atomically.
-- KEYS[1] meta hash (epoch, offset)   KEYS[2] history stream   KEYS[3] idempotency key or ""
-- ARGV[1] data   ARGV[2] history size   ARGV[3] history seconds   ARGV[4] a fresh epoch
-- ARGV[5] pub/sub channel   ARGV[6] idempotency seconds
-- Returns {offset, epoch, duplicate}.
if KEYS[3] ~= "" then
  local earlier = redis.call("GET", KEYS[3])
  if earlier then
    return {tonumber(earlier), redis.call("HGET", KEYS[1], "epoch") or "", 1}
  end
end
local epoch = redis.call("HGET", KEYS[1], "epoch")
if not epoch then
  -- No meta: the channel is new or its history expired. Either way a new epoch starts.
  epoch = ARGV[4]
  redis.call("DEL", KEYS[2])
  redis.call("HSET", KEYS[1], "epoch", epoch, "offset", 0)
end
local offset = redis.call("HINCRBY", KEYS[1], "offset", 1)
redis.call("XADD", KEYS[2], "MAXLEN", ARGV[2], offset .. "-0", "d", ARGV[1])
redis.call("EXPIRE", KEYS[1], ARGV[3])
redis.call("EXPIRE", KEYS[2], ARGV[3])
redis.call("PUBLISH", ARGV[5], offset .. ":" .. epoch .. ":" .. ARGV[1])
if KEYS[3] ~= "" then
  redis.call("SET", KEYS[3], offset, "EX", ARGV[6])
end
return {offset, epoch, 0}
