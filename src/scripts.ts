/**
 * The Lua scripts of the store, each a constant source and its SHA1 (a `Script`). Keys travel in `KEYS`, values in
 * `ARGV`, nothing is ever spliced into a source, and each touches only the keys it is given.
 *
 * Every script declares in `KEYS` each key it touches, except the two cluster node scripts (`NODE_MGET_SCRIPT`,
 * `NODE_TOMBSTONE_SCRIPT`), which read keys of many hash slots given as arguments: Redis Cluster refuses a call
 * whose `KEYS` span slots (`CROSSSLOT`, with or without the `allow-cross-slot-keys` flag, which only lets a script
 * touch keys it did not declare), and declaring them would mean one call per slot. Where a server refuses
 * undeclared keys, the store goes slot by slot with declared keys instead (`isUndeclaredKey` in client/run.ts).
 * spec/scripts.spec.ts holds the list of undeclared-key scripts to these two.
 *
 * A live session is a Redis string; a tombstone is a hash `{ destroyedAt }` under the same key. `get`, `set`
 * and `touch` need no script: the string commands they use (`GET`, `SET … GET`, `GETEX`, `GETDEL`) are
 * refused by Redis with `WRONGTYPE` on a tombstone. A save that must not overwrite a concurrent one
 * (`concurrentSaves`) is the one exception: `SET_IF_STORED_SCRIPT`.
 *
 * @since 0.1.0
 */
import { createHash } from 'crypto'

/** A script and its SHA1: a `Script` of client/run.ts, which this leaf module does not import. */
const script = (source: string): { readonly source: string; readonly sha1: string } => ({
  source,
  sha1: createHash('sha1').update(source).digest('hex')
})

/**
 * `KEYS` session keys, `ARGV[1]` grace in ms, `ARGV[2]` now in ms, `ARGV[3]` `'1'` to count only live
 * sessions (a `TYPE` check per key) or `'0'` to count every deleted key. Replaces each key by a tombstone
 * that lives `ARGV[1]` ms (or only deletes it when the grace is 0). `DEL` runs first (one call per 1000
 * keys): under `maxmemory` with `noeviction` Redis lets a script write once it has written, so a logout
 * still works on a full server.
 * Returns the count.
 *
 * @category scripts
 * @since 0.1.0
 */
export const TOMBSTONE_SCRIPT = script(
  `local grace = tonumber(ARGV[1])
local removed = 0
if ARGV[3] == '1' then
  for i = 1, #KEYS do
    if redis.call('TYPE', KEYS[i])['ok'] == 'string' then removed = removed + 1 end
  end
end
for i = 1, #KEYS, 1000 do
  local deleted = redis.call('DEL', unpack(KEYS, i, math.min(i + 999, #KEYS)))
  if ARGV[3] ~= '1' then removed = removed + deleted end
end
if grace > 0 then
  for i = 1, #KEYS do
    redis.call('HSET', KEYS[i], 'destroyedAt', ARGV[2])
    redis.call('PEXPIRE', KEYS[i], grace)
  end
end
return removed`
)

/**
 * `TOMBSTONE_SCRIPT` for one session key, counting only a live session: `KEYS[1]` the key, `ARGV[1]` grace in ms,
 * `ARGV[2]` now in ms. The same commands in a straight line (`TYPE`, then `DEL` first of the writes, as there),
 * with no loop and one argument fewer: what `destroy` runs. Returns 1 when a live session was removed, else 0.
 *
 * @category scripts
 * @since 0.1.0
 */
export const TOMBSTONE_ONE_SCRIPT = script(
  `local live = redis.call('TYPE', KEYS[1])['ok'] == 'string'
redis.call('DEL', KEYS[1])
local grace = tonumber(ARGV[1])
if grace > 0 then
  redis.call('HSET', KEYS[1], 'destroyedAt', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], grace)
end
if live then return 1 end
return 0`
)

/**
 * `TOMBSTONE_SCRIPT` for the keys of one Redis Cluster node, whatever their hash slots (a batch of one master's
 * `SCAN`): `KEYS[1]` is one of them, only there so that the client sends the call to that node; `ARGV[1..3]`
 * are as in `TOMBSTONE_SCRIPT`, and `ARGV[4..]` the keys themselves (with the client's own key prefix, which a
 * client adds to `KEYS` only). Redis refuses a multi-key command across slots, even inside a script, so each key
 * has its own `DEL`. First a `TYPE` of every key under `pcall`: a key this node does not serve (its slot moved
 * since the `SCAN`) fails there, before anything is written, and the error is the reply — as is a server's refusal
 * of an undeclared key (Dragonfly, kvrocks in strict mode), after which the store goes slot by slot with
 * `TOMBSTONE_SCRIPT`. No shebang, on purpose: such a script may touch keys of any slot of its node (Redis 6.2 and
 * 7; with a shebang Redis 7 would need `allow-cross-slot-keys`, which 6.2 cannot parse, and the flag would not let
 * `KEYS` span slots either), and under `maxmemory` with `noeviction` it may write once it has written, as
 * `TOMBSTONE_SCRIPT` relies on.
 *
 * @category scripts
 * @since 0.1.0
 */
export const NODE_TOMBSTONE_SCRIPT = script(
  `local grace = tonumber(ARGV[1])
local removed = 0
for i = 4, #ARGV do
  local t = redis.pcall('TYPE', ARGV[i])
  if t['err'] then return t end
  if ARGV[3] == '1' and t['ok'] == 'string' then removed = removed + 1 end
end
for i = 4, #ARGV do
  local deleted = redis.call('DEL', ARGV[i])
  if ARGV[3] ~= '1' then removed = removed + deleted end
end
if grace > 0 then
  for i = 4, #ARGV do
    redis.call('HSET', ARGV[i], 'destroyedAt', ARGV[2])
    redis.call('PEXPIRE', ARGV[i], grace)
  end
end
return removed`
)

/**
 * `MGET` for the keys of one Redis Cluster node, whatever their hash slots: `KEYS[1]` routes the call (as in
 * `NODE_TOMBSTONE_SCRIPT`), `ARGV` are the keys (with the client's key prefix). Replies each value in order,
 * `nil` for a missing key or a tombstone (`WRONGTYPE`), as `MGET` does; any other error (a key this node does not
 * serve) is the reply. Read-only. No shebang, for the reasons given for `NODE_TOMBSTONE_SCRIPT`.
 *
 * @category scripts
 * @since 0.1.0
 */
export const NODE_MGET_SCRIPT = script(
  `local values = {}
for i = 1, #ARGV do
  local v = redis.pcall('GET', ARGV[i])
  if type(v) == 'table' and v['err'] then
    if string.sub(v['err'], 1, 9) ~= 'WRONGTYPE' then return v end
    v = false
  end
  values[i] = v
end
return values`
)

/**
 * `KEYS[1]` session key. Reads the session and its remaining TTL in one command, for lazy touch: replies
 * `{ pttl, value }`, with `pttl` `-2` and no value for a missing key, and `{ -3 }` for a tombstone (or any
 * non-string key). Read-only.
 *
 * @category scripts
 * @since 0.1.0
 */
export const GET_WITH_TTL_SCRIPT = script(
  `local value = redis.pcall('GET', KEYS[1])
if type(value) == 'table' and value.err then return { -3 } end
local ttl = redis.pcall('PTTL', KEYS[1])
if type(ttl) ~= 'number' then ttl = -1 end
return { ttl, value }`
)

/**
 * The owner index (`ownerOf`): `KEYS[1]` one owner's index, a sorted set of session ids scored by their expiry (ms
 * since the epoch); `ARGV[1]` now in ms, `ARGV[2]` a session id, `ARGV[3]` its expiry in ms. Adds or re-scores the
 * id, drops ids whose expiry is past, and makes the index expire with its last session (the highest score, plus a
 * second). Replies how many ids the index holds. Touches only its one key: on a cluster it runs on the index's node,
 * whatever the slots of the sessions.
 *
 * @category scripts
 * @since 0.1.0
 */
export const OWNER_ADD_SCRIPT = script(
  `local now = tonumber(ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIRE', KEYS[1], math.max(1, math.floor(tonumber(last[2]) - now) + 1000)) end
return redis.call('ZCARD', KEYS[1])`
)

/**
 * The owner index (`ownerOf`): `KEYS[1]` one owner's index, `ARGV[1]` now in ms, `ARGV[2..]` session ids to remove
 * first (ids found gone, destroyed or owned by someone else). Drops ids whose expiry is past, then replies every id
 * left with its expiry, lowest first: `{ id, ms, id, ms, … }`. Touches only its one key.
 *
 * @category scripts
 * @since 0.1.0
 */
export const OWNER_LIST_SCRIPT = script(
  `for i = 2, #ARGV, 1000 do
  redis.call('ZREM', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')`
)

/**
 * The compare-and-set of a save (`concurrentSaves`): `KEYS[1]` a session key, `ARGV[1]` the value the request
 * loaded (the stored bytes, ciphertext with encryption), `ARGV[2]` the value to save, `ARGV[3]` its TTL in ms.
 * Writes only when the key still holds exactly `ARGV[1]`, and then replies `1`. Otherwise it writes nothing and
 * replies what is there instead: `2`, another value (someone else saved meanwhile), `-1`, a tombstone (the session
 * was destroyed), `0`, no session (it expired, or was destroyed and its tombstone is gone). One round trip, as
 * `SET key v PX ms IFEQ base` is on Valkey 8.1+ and Redis 8.4+. The other value is not sent back: a conflict is
 * rare, and the `GET` that follows one reads it with everything `get` does (decryption, absolute lifetime).
 *
 * @category scripts
 * @since 0.1.0
 */
export const SET_IF_STORED_SCRIPT = script(
  `local kind = redis.call('TYPE', KEYS[1])['ok']
if kind == 'hash' then return -1 end
if kind ~= 'string' then return 0 end
local current = redis.call('GET', KEYS[1])
if current ~= ARGV[1] then return 2 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`
)
