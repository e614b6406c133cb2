-- Compare-and-set of one party's state.
-- KEYS[1]: the party's hash (fields "revision" and "state")
-- ARGV[1]: the revision the new state was computed from (0: the party must not exist yet)
-- ARGV[2]: the new revision, ARGV[3]: the new state, ARGV[4]: time to live in milliseconds
-- Returns 1 when stored, 0 when another change came first.
local stored = tonumber(redis.call('HGET', KEYS[1], 'revision') or '0')
if stored ~= tonumber(ARGV[1]) then
    return 0
end
redis.call('HSET', KEYS[1], 'revision', ARGV[2], 'state', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
