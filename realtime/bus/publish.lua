-- Append publications to one channel's history and deliver them, in order, atomically.
-- KEYS[1] meta hash (epoch, offset, trimmed)   KEYS[2] history stream
-- KEYS[3..] one idempotency key per publication, or KEYS[1] again for one without (on a cluster
--   every key must share the channel's slot, which "" would not)
-- ARGV[1] history size   ARGV[2] history seconds   ARGV[3] a fresh epoch   ARGV[4] pub/sub channel
-- ARGV[5] idempotency seconds   ARGV[6] PUBLISH, or SPUBLISH on a cluster (sharded pub/sub: the
--   channel shares the keys' hash tag, so it lives on this shard)
-- ARGV[7..] the publications' data, one per KEYS[3..]
-- Returns {offset, epoch, duplicate} for each publication, one after the other; a key retired by
-- redact.lua gives {0, "", 1}. One call per batch the outbox relay publishes on a channel.
local results = {}
local epoch = nil
local appended = false
for i = 3, #KEYS do
  local key, data = KEYS[i], ARGV[i + 4]
  if key == KEYS[1] then
    key = ""
  end
  local earlier = key ~= "" and redis.call("GET", key)
  if earlier then
    local offset, was = string.match(earlier, "^(%d+):(.*)$")
    if not offset then  -- written by a version that stored the offset alone
      offset, was = earlier, redis.call("HGET", KEYS[1], "epoch") or ""
    end
    results[#results + 1] = tonumber(offset)
    results[#results + 1] = was
    results[#results + 1] = 1
  else
    if not epoch then
      epoch = redis.call("HGET", KEYS[1], "epoch")
      if not epoch then
        -- No meta: the channel is new or its history expired. Either way a new epoch starts.
        epoch = ARGV[3]
        redis.call("DEL", KEYS[2])
        redis.call("HSET", KEYS[1], "epoch", epoch, "offset", 0, "trimmed", 0)
      end
    end
    local offset = redis.call("HINCRBY", KEYS[1], "offset", 1)
    redis.call("XADD", KEYS[2], offset .. "-0", "d", data)
    redis.call(ARGV[6], ARGV[4], offset .. ":" .. epoch .. ":" .. data)
    if key ~= "" then
      redis.call("SET", key, offset .. ":" .. epoch, "EX", ARGV[5])
    end
    results[#results + 1] = offset
    results[#results + 1] = epoch
    results[#results + 1] = 0
    appended = true
  end
end
if appended then
  -- Trim by hand rather than with MAXLEN, to remember the newest offset that left: recovery from
  -- before it must fail, while gaps left by redact.lua are not losses.
  local excess = redis.call("XLEN", KEYS[2]) - tonumber(ARGV[1])
  if excess > 0 then
    local dropped = redis.call("XRANGE", KEYS[2], "-", "+", "COUNT", excess)
    local newest = tonumber(string.match(dropped[#dropped][1], "^%d+"))
    redis.call("XTRIM", KEYS[2], "MINID", (newest + 1) .. "-0")
    redis.call("HSET", KEYS[1], "trimmed", newest)
  end
  redis.call("EXPIRE", KEYS[1], ARGV[2])
  redis.call("EXPIRE", KEYS[2], ARGV[2])
end
return results
