/**
 * The Lua script behind `destroy` and `clear`. It is a constant: keys travel in `KEYS`, values in `ARGV`,
 * nothing is ever spliced into the source, and it touches only the keys it is given.
 *
 * A live session is a Redis string; a tombstone is a hash `{ destroyedAt }` under the same key. `get`, `set`
 * and `touch` need no script: the string commands they use (`GET`, `SET … GET`, `GETEX`, `GETDEL`) are
 * refused by Redis with `WRONGTYPE` on a tombstone.
 *
 * @since 0.1.0
 */
import { createHash } from 'crypto'
import type { Script } from './client/run'

const script = (source: string): Script => ({
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
