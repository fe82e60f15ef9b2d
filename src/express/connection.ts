/**
 * The store's view of its client's connection: express-session's `connect`/`disconnect` events, and the
 * startup checks: Redis's eviction policy, and an in-process client in production.
 *
 * @since 0.1.0
 */
import type { Connection, SessionClient } from '../client/contract'
import { attempt } from '../client/run'

type ConnectionListener = (event: 'connect' | 'disconnect') => void

/** One set of listeners per connection, shared by every store built on it (no MaxListeners warnings). */
const followers = new WeakMap<Connection, Set<ConnectionListener>>()

/**
 * Emits `disconnect` when the client loses its connection and `connect` when it is ready again — on changes
 * of state only, never on every `error`. express-session skips sessions while its store is disconnected:
 * requests then run with no `req.session`.
 *
 * @internal
 */
export const followConnection = (connection: Connection, emit: ConnectionListener): void => {
  const known = followers.get(connection)
  if (known !== undefined) {
    known.add(emit)
    return
  }
  const listeners = new Set<ConnectionListener>([emit])
  followers.set(connection, listeners)
  let up = connection.isReady()
  connection.onChange((state) => {
    if (up === (state === 'ready')) return
    up = state === 'ready'
    listeners.forEach((l) => l(up ? 'connect' : 'disconnect'))
  })
}

/** Policies under which Redis never evicts keys, tombstones included. */
const SAFE_POLICIES = new Set(['noeviction'])

/**
 * Reads `maxmemory-policy` from `INFO memory` (allowed where `CONFIG GET` is often not) once the client is
 * ready, and warns when Redis may evict keys: an evicted tombstone no longer protects its session. A
 * refused or failed `INFO` is reported as a warning too, never as an error — unless the application closed
 * its client meanwhile (a short script).
 *
 * @internal
 */
export const checkEvictionPolicy = (
  client: Pick<SessionClient, 'connection' | 'info'>,
  warn: (message: string) => void
): void => {
  let checked = false
  const check = (): void => {
    if (checked) return
    checked = true
    void attempt(() => client.info('memory')).then(
      (text) => {
        const policy = /maxmemory_policy:(\S+)/.exec(String(text))?.[1]
        if (policy !== undefined && !SAFE_POLICIES.has(policy)) {
          warn(
            `Redis maxmemory-policy is ${policy}: under memory pressure Redis may evict tombstones (and sessions), and a destroyed session could then be saved again by a request in flight. Use noeviction, or a Redis dedicated to sessions.`
          )
        }
      },
      (e: unknown) => {
        if (!client.connection.isClosed())
          warn(`could not read maxmemory-policy with INFO memory: ${e instanceof Error ? e.message : String(e)}`)
      }
    )
  }
  if (client.connection.isReady()) check()
  else client.connection.onChange((state) => (state === 'ready' ? check() : undefined))
}

/**
 * The warning of a store on an in-process client under `NODE_ENV=production`.
 *
 * @internal
 */
export const IN_PROCESS_WARNING =
  'The session store runs on the in-memory client (connect-redis-session/memory) with NODE_ENV=production: sessions live in this process only, are lost when it restarts and are not shared with other processes or instances. Give the store a Redis client (node-redis, or ioredis through fromIoRedis).'

/**
 * Warns, once and after the current synchronous code (so a `warning` listener attached right after the
 * store is built hears it), when a client that keeps its keys in this process runs with `NODE_ENV=production`.
 *
 * @internal
 */
export const checkInProcessClient = (
  client: Pick<SessionClient, 'inProcess'>,
  nodeEnv: string | undefined,
  warn: (message: string) => void
): void => {
  if (client.inProcess === true && nodeEnv === 'production') setImmediate(() => warn(IN_PROCESS_WARNING))
}
