/**
 * The store's view of its client: express-session's `connect`/`disconnect` events, and a startup check of
 * Redis's eviction policy.
 *
 * @since 0.1.0
 */
import { attempt } from '../client'

/** The parts of a node-redis client these helpers use; all optional, so fakes need none of them. */
export interface ObservableClient {
  readonly on?: (event: string, listener: (...args: ReadonlyArray<unknown>) => void) => unknown
  readonly once?: (event: string, listener: (...args: ReadonlyArray<unknown>) => void) => unknown
  readonly isReady?: boolean
  readonly isOpen?: boolean
  readonly info?: (section: string) => Promise<string>
}

type ConnectionListener = (event: 'connect' | 'disconnect') => void

/**
 * Whether the client says it has no usable connection right now (node-redis `isReady === false`: reconnecting,
 * closed, or never connected). A client that does not say (a fake) counts as connected.
 *
 * @internal
 */
export const isDisconnected = (client: ObservableClient): boolean => client.isReady === false

/** One set of listeners per client, shared by every store built on it (no MaxListeners warnings). */
const followers = new WeakMap<object, Set<ConnectionListener>>()

/**
 * Emits `disconnect` when the client loses its connection (`reconnecting`, `end`) and `connect` when it is
 * ready again — on changes of state only, never on every `error`. express-session skips sessions while
 * its store is disconnected: requests then run with no `req.session`.
 *
 * @internal
 */
export const followConnection = (client: ObservableClient, emit: ConnectionListener): void => {
  if (typeof client.on !== 'function') return
  const known = followers.get(client)
  if (known !== undefined) {
    known.add(emit)
    return
  }
  const listeners = new Set<ConnectionListener>([emit])
  followers.set(client, listeners)
  let up = client.isReady !== false
  const on = client.on.bind(client)
  const tell = (event: 'connect' | 'disconnect'): void => listeners.forEach((l) => l(event))
  on('ready', () => {
    if (!up) {
      up = true
      tell('connect')
    }
  })
  const down = (): void => {
    if (up) {
      up = false
      tell('disconnect')
    }
  }
  on('reconnecting', down)
  on('end', down)
}

/** Policies under which Redis never evicts keys, tombstones included. */
const SAFE_POLICIES = new Set(['noeviction'])

/**
 * Reads `maxmemory-policy` from `INFO memory` (allowed where `CONFIG GET` is often not) once the client is
 * ready, and warns when Redis may evict keys: an evicted tombstone no longer protects its session. A
 * refused or failed `INFO` is reported as a warning too, never as an error.
 *
 * @internal
 */
export const checkEvictionPolicy = (client: ObservableClient, warn: (message: string) => void): void => {
  const info = client.info
  if (typeof info !== 'function') return
  const check = (): void => {
    void attempt(() => info.call(client, 'memory')).then(
      (text) => {
        const policy = /maxmemory_policy:(\S+)/.exec(String(text))?.[1]
        if (policy !== undefined && !SAFE_POLICIES.has(policy)) {
          warn(
            `Redis maxmemory-policy is ${policy}: under memory pressure Redis may evict tombstones (and sessions), and a destroyed session could then be saved again by a request in flight. Use noeviction, or a Redis dedicated to sessions.`
          )
        }
      },
      (e: unknown) => {
        // A client the application closed on purpose (a short script) is not a problem worth a warning.
        if (client.isOpen !== false) warn(`could not read maxmemory-policy with INFO memory: ${e instanceof Error ? e.message : String(e)}`)
      }
    )
  }
  if (client.isReady === false && typeof client.once === 'function') client.once('ready', check)
  else check()
}
