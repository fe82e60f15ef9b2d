/**
 * The store's view of its client's connection: express-session's `connect`/`disconnect` events, and the
 * startup checks: Redis's eviction policy, and an in-process client in production.
 *
 * Every helper here holds the stores it serves weakly (`WeakRef`): one subscription per connection tells the
 * stores still alive, and a store nobody references any more is collected and drops out, however long the
 * client lives.
 *
 * @since 0.1.0
 */
import type { Connection, SessionClient } from '../client/contract'
import { attempt } from '../client/run'
import { messageOf } from '../refinements'

// --- model

/**
 * A store as the connection helpers see it: an event emitter, held weakly.
 *
 * @internal
 */
export interface StoreEvents {
  emit(event: string, ...args: Array<unknown>): boolean
  listenerCount(event: string): number
}

/** Objects held weakly: one that is collected leaves the set, and `onEmpty` runs when the last one has. */
interface WeakMembers<A extends object> {
  readonly add: (a: A) => void
  readonly forEach: (f: (a: A) => void) => void
  readonly clear: () => void
}

const weakMembers = <A extends object>(onEmpty: () => void): WeakMembers<A> => {
  const refs = new Set<WeakRef<A>>()
  const registry = new FinalizationRegistry<WeakRef<A>>((ref) => {
    if (refs.delete(ref) && refs.size === 0) onEmpty()
  })
  return {
    add: (a) => {
      const ref = new WeakRef(a)
      refs.add(ref)
      registry.register(a, ref, ref)
    },
    forEach: (f) =>
      refs.forEach((ref) => {
        const a = ref.deref()
        if (a !== undefined) f(a)
      }),
    clear: () => {
      refs.forEach((ref) => registry.unregister(ref))
      refs.clear()
    }
  }
}

const noop = (): void => undefined

/** A connection's `onChange`, its unsubscribe always a function (a `Connection` of an older shape returns none). */
const subscribe = (connection: Connection, listener: (state: 'ready' | 'down') => void): (() => void) => {
  const unsubscribe: unknown = connection.onChange(listener)
  return typeof unsubscribe === 'function' ? (unsubscribe as () => void) : noop
}

// --- events

/**
 * A store's `warning`: an event when someone listens, else a process warning (printed on stderr by default),
 * never nowhere.
 *
 * @internal
 */
export const warn = (store: StoreEvents, message: string): void => {
  if (store.listenerCount('warning') > 0) store.emit('warning', message)
  else process.emitWarning(message, { type: 'SessionStoreWarning', code: 'ESESSION_WARNING' })
}

/** The stores following each connection, behind one subscription to it (no MaxListeners warnings). */
const followers = new WeakMap<Connection, WeakMembers<Pick<StoreEvents, 'emit'>>>()

/**
 * Emits `disconnect` on `store` when the client loses its connection and `connect` when it is ready again — on
 * changes of state only, never on every `error`. express-session skips sessions while its store is
 * disconnected: requests then run with no `req.session`. The store is held weakly; once every store
 * following a connection is collected, the subscription to it is removed.
 *
 * @internal
 */
export const followConnection = (connection: Connection, store: Pick<StoreEvents, 'emit'>): void => {
  const known = followers.get(connection)
  if (known !== undefined) return known.add(store)
  let up = connection.isReady()
  let unsubscribe = noop
  const stores = weakMembers<Pick<StoreEvents, 'emit'>>(() => {
    unsubscribe()
    followers.delete(connection)
  })
  stores.add(store)
  followers.set(connection, stores)
  unsubscribe = subscribe(connection, (state) => {
    if (up === (state === 'ready')) return
    up = state === 'ready'
    const event = up ? 'connect' : 'disconnect'
    stores.forEach((s) => void s.emit(event))
  })
}

// --- eviction policy

/** Policies under which Redis never evicts keys, tombstones included. */
const SAFE_POLICIES = new Set(['noeviction'])

/**
 * A client's eviction-policy check: its warning (`null` for none) once read, the stores waiting for the client
 * to be ready (held weakly: it may never be), and those waiting for the `INFO` in flight (held until it answers).
 */
interface PolicyCheck {
  outcome: string | null | undefined
  readonly beforeReady: WeakMembers<StoreEvents>
  reading: Set<StoreEvents> | undefined
}

/** One check per client, whatever the number of stores built on it. */
const policyChecks = new WeakMap<object, PolicyCheck>()

const policyWarning = (text: unknown): string | null => {
  const policy = /maxmemory_policy:(\S+)/.exec(String(text))?.[1]
  return policy !== undefined && !SAFE_POLICIES.has(policy)
    ? `Redis maxmemory-policy is ${policy}: under memory pressure Redis may evict tombstones (and sessions), and a destroyed session could then be saved again by a request in flight. Use noeviction, or a Redis dedicated to sessions.`
    : null
}

/**
 * Reads `maxmemory-policy` from `INFO memory` (allowed where `CONFIG GET` is often not) once the client is
 * ready, and warns on `store` when Redis may evict keys: an evicted tombstone no longer protects its session.
 * The policy is read once per client and told to every store built on it, always after the current
 * synchronous code (so a `warning` listener attached right after the store is built hears it). A store built
 * before the client is ready is held weakly until it is, and the listener that waits for it is removed once
 * it ran. A refused or failed `INFO` is reported as a warning too, never as an error — unless the application
 * closed its client meanwhile (a short script) — and is not kept: the next store reads the policy again.
 *
 * @internal
 */
export const checkEvictionPolicy = (client: Pick<SessionClient, 'connection' | 'info'>, store: StoreEvents): void => {
  const known = policyChecks.get(client)
  if (known !== undefined) {
    const outcome = known.outcome
    if (outcome !== undefined) {
      if (outcome !== null) setImmediate(() => warn(store, outcome))
    } else if (known.reading !== undefined) known.reading.add(store)
    else known.beforeReady.add(store)
    return
  }
  const check: PolicyCheck = { outcome: undefined, beforeReady: weakMembers(noop), reading: undefined }
  policyChecks.set(client, check)
  const settle = (outcome: string | null, keep: boolean): void => {
    if (keep) check.outcome = outcome
    else policyChecks.delete(client)
    const told = check.reading ?? new Set()
    check.reading = undefined
    if (outcome !== null) told.forEach((s) => warn(s, outcome))
  }
  const read = (): void => {
    const reading = new Set<StoreEvents>()
    check.beforeReady.forEach((s) => reading.add(s))
    check.beforeReady.clear()
    check.reading = reading
    void attempt(() => client.info('memory')).then(
      (text) => settle(policyWarning(text), true),
      (e: unknown) =>
        settle(
          client.connection.isClosed() ? null : `could not read maxmemory-policy with INFO memory: ${messageOf(e)}`,
          false
        )
    )
  }
  check.beforeReady.add(store)
  if (client.connection.isReady()) return read()
  let started = false
  const unsubscribe = subscribe(client.connection, (state) => {
    if (state !== 'ready' || started) return
    started = true
    unsubscribe()
    read()
  })
}

// --- in-process client

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
