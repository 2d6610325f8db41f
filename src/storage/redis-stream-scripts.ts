/**
 * The Lua scripts behind RedisStreamStore. Every store operation is one
 * script, so it is atomic and costs one round trip; the layout of the keys is
 * described in docs/operations.md#redis.
 *
 * KEYS[1] the stream (XADD), entry id `<offset>-0`, fields t (time), e (envelope JSON), n (append nonce)
 * KEYS[2] the meta hash: epoch, latest (newest offset), floor (oldest retained offset), last_time
 * KEYS[3] the dedupe sorted set: member `from\0id`, score = offset; trimmed with the stream
 *
 * Entry ids are the offsets themselves, so resuming by offset is one XRANGE
 * from `<offset>-0`, and time bounds are a binary search over offsets (times
 * never decrease within a stream). Retention is exact for readers: `floor`
 * advances past what count and age evict, and reads never go below it, while
 * the physical trims (`MAXLEN ~`, `MINID ~`) are approximate, which is what
 * keeps them cheap; at most one radix-tree node (~100 entries) outlives the floor.
 */

/** Shared by every script: key names, number formatting, opening a stream's life, retention. */
const PRELUDE = `
local stream, meta, ids = KEYS[1], KEYS[2], KEYS[3]

-- Lua 5.1 prints large numbers in exponent form, and how redis.call turns a number
-- into an argument differs between Redis versions: every number sent is formatted here.
local function s(n) return string.format('%d', n) end
local function offsetOf(id) return tonumber(string.match(id, '^(%d+)')) end

-- The stream's epoch, latest offset, floor and last time. A stream seen for the
-- first time, or whose entries vanished while its meta says it had some (a Redis
-- restart without persistence, FLUSHALL, eviction, a DEL behind our back),
-- starts a new life with the caller's candidate epoch.
local function open(candidate)
  local m = redis.call('HMGET', meta, 'epoch', 'latest', 'floor', 'last_time')
  local latest = tonumber(m[2])
  if m[1] and latest and (latest == 0 or redis.call('EXISTS', stream) == 1) then
    return m[1], latest, tonumber(m[3]), tonumber(m[4])
  end
  redis.call('DEL', stream, ids)
  redis.call('HSET', meta, 'epoch', candidate, 'latest', 0, 'floor', 1, 'last_time', 0)
  return candidate, 0, 1, 0
end

-- The oldest offset age retention keeps: the first entry at or after 'from'
-- whose time is >= cutoff. Each expired entry is stepped over once in its life
-- (the floor is stored), so this is amortised O(1) per message.
local function ageFloor(from, latest, cutoff)
  local f = from
  local count = 1
  while f <= latest do
    local batch = redis.call('XRANGE', stream, s(f) .. '-0', '+', 'COUNT', count)
    if #batch == 0 then return latest + 1 end
    for _, entry in ipairs(batch) do
      if tonumber(entry[2][2]) >= cutoff then return offsetOf(entry[1]) end
    end
    f = offsetOf(batch[#batch][1]) + 1
    count = 64
  end
  return f
end

-- Moves the floor past what retention evicts now; drops the evicted dedupe ids
-- and, when age moved it, trims the stream (count trimming rides on XADD).
local function retain(latest, floor, maxMessages, maxAgeMs, now)
  local f = math.max(floor, latest - maxMessages + 1)
  local byAge = false
  if maxAgeMs > 0 and f <= latest then
    local a = ageFloor(f, latest, now - maxAgeMs)
    if a > f then f = a; byAge = true end
  end
  if f > floor then
    redis.call('HSET', meta, 'floor', s(f))
    redis.call('ZREMRANGEBYSCORE', ids, '-inf', '(' .. s(f))
    if byAge then redis.call('XTRIM', stream, 'MINID', '~', s(f) .. '-0') end
  end
  return f
end
`;

/**
 * ARGV: envelope JSON, time, dedupe key, nonce, maxMessages, maxAgeMs, now, candidate epoch,
 * then the broadcast (see AppendBroadcast; topic '' for none): topic, before, between, after.
 * Returns {epoch, offset, duplicate (0/1), published (0/1)}.
 *
 * The broadcast is PUBLISHed inside the script, so pub/sub delivery order is
 * offset order whichever node appended: Redis runs scripts one at a time, and
 * every subscriber gets the messages in the order they were published.
 *
 * The nonce is unique per append call. ioredis re-sends a command that was in
 * flight when the connection dropped; if the first run had already appended,
 * the re-run finds its own nonce on the entry and answers "not a duplicate"
 * (the caller has not delivered it yet), while a genuine republish (another
 * call, another nonce) is a duplicate.
 */
export const APPEND_LUA = `${PRELUDE}
local envelope, time, dedupe, nonce = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local maxMessages, maxAgeMs, now = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local epoch, latest, floor, lastTime = open(ARGV[8])
floor = retain(latest, floor, maxMessages, maxAgeMs, now)

local seen = redis.call('ZSCORE', ids, dedupe)
if seen then
  local off = tonumber(seen)
  local entry = redis.call('XRANGE', stream, s(off) .. '-0', s(off) .. '-0')[1]
  local resend = entry ~= nil and entry[2][6] == nonce
  -- A resend's first run already published (same arguments): report it so, or nothing at all.
  if resend then return {epoch, off, 0, ARGV[9] ~= '' and 1 or 0} end
  return {epoch, off, 1, 0}
end

local off = latest + 1
-- Time never goes backwards within a stream, which the time search relies on.
if time < lastTime then time = lastTime end
redis.call('XADD', stream, 'MAXLEN', '~', ARGV[5], s(off) .. '-0', 't', s(time), 'e', envelope, 'n', nonce)
redis.call('ZADD', ids, s(off), dedupe)
local f = off - maxMessages + 1
if f > floor then
  redis.call('ZREMRANGEBYSCORE', ids, '-inf', '(' .. s(f))
  redis.call('HSET', meta, 'latest', s(off), 'last_time', s(time), 'floor', s(f))
else
  redis.call('HSET', meta, 'latest', s(off), 'last_time', s(time))
end
if ARGV[9] ~= '' then
  redis.call('PUBLISH', ARGV[9], ARGV[10] .. s(off) .. ARGV[11] .. epoch .. ARGV[12])
  return {epoch, off, 0, 1}
end
return {epoch, off, 0, 0}
`;

/**
 * ARGV: now, maxMessages, maxAgeMs, candidate epoch, sinceOffset, epoch, since, until, limit
 * (optional ones as ''). Returns {epoch, latest, earliest, recovered, hasMore, then offset, time, envelope per message}.
 */
export const READ_LUA = `${PRELUDE}
local now, maxMessages, maxAgeMs = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local epoch, latest, floor = open(ARGV[4])
local f = retain(latest, floor, maxMessages, maxAgeMs, now)

local function timeAt(off)
  local entry = redis.call('XRANGE', stream, s(off) .. '-0', s(off) .. '-0')[1]
  return tonumber(entry[2][2])
end
-- First offset in [lo, hi) whose time is >= t (strict: > t); hi when none.
local function search(lo, hi, t, strict)
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local mt = timeAt(mid)
    if (strict and mt <= t) or (not strict and mt < t) then lo = mid + 1 else hi = mid end
  end
  return lo
end

local recovered = 1
local start = f
if ARGV[5] ~= '' then
  local since = tonumber(ARGV[5])
  if (ARGV[6] ~= '' and ARGV[6] ~= epoch) or since > latest then
    -- The offset means nothing in this life of the stream: serve from the oldest.
    recovered = 0
  else
    -- Nothing after 'since' was evicted (a caught-up reader always passes).
    if since + 1 < f then recovered = 0 end
    start = math.max(f, since + 1)
  end
end
if ARGV[7] ~= '' then start = search(start, latest + 1, tonumber(ARGV[7]), false) end
local stop = latest + 1
if ARGV[8] ~= '' then stop = search(start, latest + 1, tonumber(ARGV[8]), true) end

local matched = math.max(0, stop - start)
local take = math.min(matched, tonumber(ARGV[9]))
local out = {epoch, latest, f, recovered, matched > take and 1 or 0}
if take > 0 then
  for _, entry in ipairs(redis.call('XRANGE', stream, s(start) .. '-0', s(start + take - 1) .. '-0')) do
    out[#out + 1] = offsetOf(entry[1])
    out[#out + 1] = tonumber(entry[2][2])
    out[#out + 1] = entry[2][4]
  end
end
return out
`;

/** ARGV: candidate epoch. Returns {epoch, latest}. */
export const POSITION_LUA = `${PRELUDE}
local epoch, latest = open(ARGV[1])
return {epoch, latest}
`;
