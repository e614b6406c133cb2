-- Withdraw publications from a channel's history by the keys they were published under.
-- KEYS[1] meta hash   KEYS[2] history stream   KEYS[3..] idempotency keys
-- ARGV[1] idempotency seconds
-- A key published in the current epoch loses its stream entry; a key from an older epoch has
-- nothing left to withdraw; a key not published yet is retired, so publish.lua ignores it later.
local epoch = redis.call("HGET", KEYS[1], "epoch")
for i = 3, #KEYS do
  local earlier = redis.call("GET", KEYS[i])
  if not earlier then
    redis.call("SET", KEYS[i], "0:", "EX", ARGV[1])
  else
    local offset, published_in = string.match(earlier, "^(%d+):(.*)$")
    if offset and offset ~= "0" and published_in == epoch then
      redis.call("XDEL", KEYS[2], offset .. "-0")
    end
  end
end
return #KEYS - 2
