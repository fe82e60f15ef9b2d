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
import type { Script } from './client'

const script = (name: string, source: string): Script => ({
  name,
  source,
  sha1: createHash('sha1').update(source).digest('hex')
})

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
