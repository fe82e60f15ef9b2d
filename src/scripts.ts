/**
 * The Lua scripts behind the atomic operations. They are constants: keys travel in `KEYS`, values in
 * `ARGV`, nothing is ever spliced into the source. Each touches only the keys it is given.
 *
 * A live session is a Redis string; a tombstone is a hash `{ destroyedAt }` under the same key. Scripts tell
 * them apart with `TYPE`, so a session value can be anything the serializer writes.
 *
 * @since 0.1.0
 */
import { createHash } from 'crypto'
import type { Script } from './client'

const script = (name: string, source: string): Script => ({
  name,
  source,
  sha1: createHash('sha1').update(source).digest('hex')
})

/**
 * `KEYS[1]` session key, `ARGV[1]` value, `ARGV[2]` TTL in ms. Writes only when the key is free or holds a
 * live session; a tombstone (or any non-string key) is left alone. Returns 1 when written, 0 when refused.
 *
 * @category scripts
 * @since 0.1.0
 */
export const SET_SCRIPT = script(
  'set',
  `local t = redis.call('TYPE', KEYS[1])['ok']
if t == 'string' or t == 'none' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`
)

/**
 * `KEYS[1]` session key, `ARGV[1]` TTL in ms. Renews the expiry of a live session only: never creates a key,
 * never touches a tombstone. A TTL `<= 0` removes the session. Returns 1 when renewed, 0 otherwise.
 *
 * @category scripts
 * @since 0.1.0
 */
export const TOUCH_SCRIPT = script(
  'touch',
  `if redis.call('TYPE', KEYS[1])['ok'] == 'string' then
  return redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return 0`
)

/**
 * `KEYS` session keys, `ARGV[1]` grace in ms, `ARGV[2]` now in ms. Replaces each key by a tombstone that
 * lives `ARGV[1]` ms (or only deletes it when the grace is 0). `DEL` runs first: under `maxmemory` with
 * `noeviction` Redis lets a script write once it has written, so a logout still works on a full server.
 * Returns how many live sessions were removed.
 *
 * @category scripts
 * @since 0.1.0
 */
export const TOMBSTONE_SCRIPT = script(
  'tombstone',
  `local removed = 0
for i = 1, #KEYS do
  if redis.call('TYPE', KEYS[i])['ok'] == 'string' then removed = removed + 1 end
  redis.call('DEL', KEYS[i])
  if tonumber(ARGV[1]) > 0 then
    redis.call('HSET', KEYS[i], 'destroyedAt', ARGV[2])
    redis.call('PEXPIRE', KEYS[i], ARGV[1])
  end
end
return removed`
)
