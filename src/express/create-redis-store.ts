/**
 * The express-session facade: the only module with callbacks, prototypes and events. It wires the
 * operations together and runs them; it decides nothing itself.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import * as O from 'fp-ts/lib/Option'
import { pipe } from 'fp-ts/lib/function'
import session, { type SessionData, type Store } from 'express-session'
import { makeStoreOperations } from '../assemble'
import { isAnyClient, toSessionClient } from '../client/check'
import type { SessionClient } from '../client/contract'
import type { NodeRedisClient } from '../client/node-redis'
import type { NodeRedisClusterClient } from '../client/node-redis-cluster'
import { defect, type StoreError } from '../errors'
import { toError } from './to-error'
import { resolveOptions, type ResolvedOptions, type StoreOptions } from '../options'
import type { CreatedEvent, DestroyedEvent, ExpiredEvent } from '../operations/lifecycle'
import type { OwnedSession, SetOutcome } from '../operations/model'
import { makeSaveBases } from '../operations/concurrent-saves'
import { checkEvictionPolicy, checkInProcessClient, followConnection, warn } from './connection'
import { followExpiries } from './expired-events'
import { runMapped, runToCallback, type Callback } from './run-to-callback'

// --- model

/**
 * The promise API of `store.access`: each operation of the store as a promise, for use outside express-session.
 *
 * @category model
 * @since 0.1.0
 */
export interface StoreAccess {
  /** The session, or `null` when there is none (or it was destroyed). */
  readonly get: (sid: string) => Promise<SessionData | null>
  /**
   * Saves a session; tells whether it was written (or, unchanged since it was read, its expiry renewed), refused by a
   * tombstone, destroyed as expired, or not saved because it ended while it was held (`'ended'`). A save that lost
   * to a concurrent one is `ESESSION_CONFLICT` (`concurrentSaves`), never an outcome.
   */
  readonly set: (sid: string, session: SessionData) => Promise<Exclude<SetOutcome, 'changed'>>
  /** Renews a session's expiry; `true` when a live session was renewed. */
  readonly touch: (sid: string, session: SessionData) => Promise<boolean>
  /** Destroys a session, leaving a tombstone; `true` when a live session was removed. */
  readonly destroy: (sid: string) => Promise<boolean>
  /** Every live session, keyed by id. */
  readonly all: () => Promise<Record<string, SessionData>>
  /** The ids of every live session. */
  readonly ids: () => Promise<ReadonlyArray<string>>
  /** How many live sessions there are. */
  readonly length: () => Promise<number>
  /** Destroys every session (each leaves a tombstone); resolves to how many were removed. */
  readonly clear: () => Promise<number>
  /**
   * Every live session as `[sid, session]`, streamed page by page: memory does not grow with the number of
   * sessions. A session seen on two `SCAN` pages is yielded twice. Throws a `SessionStoreError` on failure.
   */
  readonly iterate: () => AsyncIterableIterator<readonly [string, SessionData]>
  /**
   * The live sessions of `owner` (with the `ownerOf` option), those expiring first first: "your devices".
   * Without `ownerOf`, rejects.
   */
  readonly sessionsOf: (owner: string) => Promise<ReadonlyArray<OwnedSession<SessionData>>>
  /**
   * Destroys every session of `owner` but `except` (with `ownerOf`), each leaving a tombstone, so that a request of
   * that user still in flight cannot bring one back: "log out everywhere". Resolves to how many were live.
   */
  readonly destroySessionsOf: (owner: string, options?: { readonly except?: string }) => Promise<number>
}

/**
 * An express-session `Store` backed by Redis. Every method takes an optional callback, called once and
 * asynchronously; without one it returns a promise.
 *
 * @category model
 * @since 0.1.0
 */
export interface RedisSessionStore extends Store {
  get(sid: string, callback: Callback<SessionData | null>): void
  get(sid: string): Promise<SessionData | null>
  set(sid: string, session: SessionData, callback?: Callback<void>): void
  set(sid: string, session: SessionData): Promise<void>
  touch(sid: string, session: SessionData, callback?: Callback<void>): void
  touch(sid: string, session: SessionData): Promise<void>
  destroy(sid: string, callback?: Callback<void>): void
  destroy(sid: string): Promise<void>
  all(callback: Callback<Record<string, SessionData>>): void
  all(): Promise<Record<string, SessionData>>
  ids(callback: Callback<ReadonlyArray<string>>): void
  ids(): Promise<ReadonlyArray<string>>
  length(callback: Callback<number>): void
  length(): Promise<number>
  clear(callback?: Callback<void>): void
  clear(): Promise<void>
  readonly access: StoreAccess
  /** A session was created (its first write), destroyed (see `DestroyedEvent`) or expired (`expiredEvents`). */
  on(event: 'created', listener: (event: CreatedEvent) => void): this
  on(event: 'destroyed', listener: (event: DestroyedEvent) => void): this
  on(event: 'expired', listener: (event: ExpiredEvent) => void): this
  on(event: string | symbol, listener: (...args: Array<never>) => void): this
  once(event: 'created', listener: (event: CreatedEvent) => void): this
  once(event: 'destroyed', listener: (event: DestroyedEvent) => void): this
  once(event: 'expired', listener: (event: ExpiredEvent) => void): this
  once(event: string | symbol, listener: (...args: Array<never>) => void): this
}

/**
 * Options of the `RedisStore` constructor: the store options plus the client.
 *
 * @category model
 * @since 0.1.0
 */
export interface RedisStoreOptions extends StoreOptions {
  readonly client: SessionClient | NodeRedisClient | NodeRedisClusterClient
}

// --- constructors

/**
 * Pages of `Either`s as a plain async iterator of entries that throws the first failure as a `SessionStoreError`;
 * should the pages themselves throw (a defect of the core), that is a `SessionStoreError` too (`ESESSION_DEFECT`).
 */
async function* iterateEntries<A>(
  pages: AsyncIterable<E.Either<StoreError, ReadonlyArray<readonly [string, A]>>>
): AsyncIterableIterator<readonly [string, A]> {
  const iterator = pages[Symbol.asyncIterator]()
  let ended = false
  try {
    for (;;) {
      let next: IteratorResult<E.Either<StoreError, ReadonlyArray<readonly [string, A]>>>
      try {
        next = await iterator.next()
      } catch (cause) {
        ended = true
        throw toError(defect(cause))
      }
      if (next.done === true) return
      if (E.isLeft(next.value)) throw toError(next.value.left)
      yield* next.value.right
    }
  } finally {
    // The caller stopped early (or a page failed): the walk stops too.
    if (!ended) await iterator.return?.()
  }
}

const toVoid = (): void => undefined

/**
 * A save's outcome as `store.access.set` tells it. `'changed'` answers only a conditional save, and the record's
 * `set` (with `withConcurrentSaves`) turns every one into a merge or `ESESSION_CONFLICT`: should one reach here all
 * the same, the session was not saved, as with `'ended'`.
 */
const settled = (outcome: SetOutcome): Exclude<SetOutcome, 'changed'> => (outcome === 'changed' ? 'ended' : outcome)

const orNull = (o: O.Option<SessionData>): SessionData | null => O.toNullable(o)

/**
 * What this module needs of express-session's `Store`: a constructor of `EventEmitter`s with `createSession`,
 * `regenerate` and `load` on its prototype. It is a function in express-session 1.17 to 1.19; it may be a class in a
 * later one.
 *
 * @internal
 */
export type StoreBase = new () => Store

/**
 * `createRedisStore` and `RedisStore` over `Base` (express-session's `Store`). Every store is built with
 * `Reflect.construct(Base, [], RedisStore)`: `Base` runs as a constructor, as a class requires (a function is
 * constructed the same way), and the store gets `RedisStore.prototype`, which inherits `Base.prototype` — so
 * `store instanceof Base` and `store instanceof RedisStore` both hold, and neither constructor is ever called without
 * `new`.
 *
 * @internal
 */
export const makeStoreConstructors = (
  Base: StoreBase
): {
  readonly createRedisStore: (
    client: SessionClient | NodeRedisClient | NodeRedisClusterClient,
    options?: StoreOptions
  ) => RedisSessionStore
  readonly RedisStore: RedisStoreConstructor
} => {
  /** Shared by every store of `Base`. */
  const prototype: Store = Object.create(Base.prototype)

  const createRedisStore = (
    client: SessionClient | NodeRedisClient | NodeRedisClusterClient,
    options: StoreOptions = {}
  ): RedisSessionStore => {
    const checked = pipe(
      toSessionClient(client),
      E.flatMap((c) => E.map((o: ResolvedOptions) => ({ ...o, client: c }))(resolveOptions(options)))
    )
    if (E.isLeft(checked)) throw checked.left
    const deps = checked.right
    if (deps.waitReplicas > 0 && deps.client.waitReplicas === undefined) {
      throw new TypeError(
        'options.waitReplicas needs a client that can send WAIT to the node that owns a key; this one has no waitReplicas (a SessionClient of your own: add it)'
      )
    }
    const store = Reflect.construct(Base, [], RedisStore) as RedisSessionStore
    const saveBases = makeSaveBases()
    // A corrupt stored value: a `corrupt` event (with the error), then a miss or a failure per onCorrupt.
    const ops = makeStoreOperations({
      ...deps,
      saveBases,
      reportCorrupt: (e: StoreError) => void store.emit('corrupt', toError(e)),
      // `created` and `destroyed` (with the whole id: a listener is in process); saves are observed for `created`
      // only while someone listens.
      lifecycle: {
        created: (e) => void store.emit('created', e),
        destroyed: (e) => void store.emit('destroyed', e),
        listening: (event) => store.listenerCount(event) > 0
      }
    })
    // The connection helpers hold the store weakly: a store nobody references is collected.
    if (deps.whenDisconnected === 'bypass') followConnection(deps.client.connection, store)
    if (deps.checkEvictionPolicy) checkEvictionPolicy(deps.client, store)
    if (deps.expiredEvents) followExpiries(deps.client, store, deps)
    checkInProcessClient(deps.client, process.env['NODE_ENV'], (message) => warn(store, message))

    const access: StoreAccess = {
      get: (sid) => runMapped(() => ops.get(sid), orNull),
      set: (sid, sess) => runToCallback(() => () => ops.set(sid, sess)().then(E.map(settled))),
      touch: (sid, sess) => runToCallback(() => ops.touch(sid, sess)),
      destroy: (sid) => runToCallback(() => ops.destroy(sid)),
      all: () => runToCallback(ops.all),
      ids: () => runToCallback(ops.ids),
      length: () => runToCallback(ops.length),
      clear: () => runToCallback(ops.clear),
      iterate: () => iterateEntries(ops.iterate()),
      sessionsOf: (owner) => runToCallback(() => ops.sessionsOf(owner)),
      destroySessionsOf: (owner, options) => runToCallback(() => ops.destroySessionsOf(owner, options))
    }
    // express-session turns each session it loads into a `Session` of its own (`createSession`): the value it was
    // read from goes with it, so that its save knows what it started from (`concurrentSaves`).
    const createSession = (req: Parameters<Store['createSession']>[0], sess: SessionData) => {
      const created = Base.prototype.createSession.call(store, req, sess)
      saveBases.carry(sess, created)
      return created
    }
    return Object.assign(store, {
      access,
      createSession,
      get: (sid: string, cb?: Callback<SessionData | null>) => runMapped(() => ops.sessionGet(sid), orNull, cb),
      set: (sid: string, sess: SessionData, cb?: Callback<void>) => runMapped(() => ops.set(sid, sess), toVoid, cb),
      touch: (sid: string, sess: SessionData, cb?: Callback<void>) =>
        runMapped(() => ops.sessionTouch(sid, sess), toVoid, cb),
      destroy: (sid: string, cb?: Callback<void>) => runMapped(() => ops.destroy(sid), toVoid, cb),
      all: (cb?: Callback<Record<string, SessionData>>) => runToCallback(ops.all, cb),
      ids: (cb?: Callback<ReadonlyArray<string>>) => runToCallback(ops.ids, cb),
      length: (cb?: Callback<number>) => runToCallback(ops.length, cb),
      clear: (cb?: Callback<void>) => runMapped(() => ops.clear(), toVoid, cb)
    })
  }

  const RedisStore = function RedisStore(options: RedisStoreOptions): RedisSessionStore {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(
        `RedisStore: options with a client are required, got ${
          options === null ? 'null' : typeof options
        }: new RedisStore({ client })`
      )
    }
    if (isAnyClient(options))
      throw new TypeError(
        'RedisStore takes an options object: new RedisStore({ client, ...options }), not new RedisStore(client)'
      )
    const { client, ...rest } = options
    if (client === undefined || client === null)
      throw new TypeError('RedisStore: options.client is required: new RedisStore({ client: createClient() })')
    return createRedisStore(client, rest)
  } as unknown as RedisStoreConstructor
  ;(RedisStore as { prototype: Store }).prototype = prototype
  Object.defineProperty(prototype, 'constructor', {
    value: RedisStore,
    writable: true,
    configurable: true,
    enumerable: false
  })
  return { createRedisStore, RedisStore }
}

/** The two constructors over express-session's own `Store`. */
const constructors = makeStoreConstructors(session.Store as unknown as StoreBase)

/**
 * Builds the store. Throws a `TypeError` naming the problem when the client or an option is invalid; once
 * built, no method throws.
 *
 * @example
 * import express from 'express'
 * import session from 'express-session'
 * import { createClient } from 'redis'
 * import { createRedisStore } from 'connect-redis-session'
 *
 * const client = createClient({ url: 'redis://localhost:6379' })
 * const store = createRedisStore(client, { prefix: 'myapp:' })
 *
 * const app = express()
 * app.use(session({ store, secret: 'keyboard cat', resave: false, saveUninitialized: false }))
 * // then, in the application: await client.connect(); app.listen(3000)
 *
 * assert.ok(store instanceof session.Store)
 * // Options are checked when the store is built: a typo is a TypeError, never a silent default.
 * const fromConfigFile = JSON.parse('{ "prefx": "myapp:" }')
 * assert.throws(() => createRedisStore(client, fromConfigFile), /prefx is not an option of this store \(did you mean prefix\?\)/)
 *
 * @category constructors
 * @since 0.1.0
 */
export const createRedisStore: (
  client: SessionClient | NodeRedisClient | NodeRedisClusterClient,
  options?: StoreOptions
) => RedisSessionStore = constructors.createRedisStore

/**
 * `RedisStore({ client, ...options })`, with or without `new`, for code written the connect-redis way.
 * It is a plain function, not a class: `new` works because it returns the store it builds.
 *
 * @category model
 * @since 0.1.0
 */
export interface RedisStoreConstructor {
  new (options: RedisStoreOptions): RedisSessionStore
  (options: RedisStoreOptions): RedisSessionStore
  readonly prototype: Store
}

/**
 * The store, built the connect-redis way: `new RedisStore({ client, ...options })`. See `RedisStoreConstructor`.
 *
 * @example
 * import session from 'express-session'
 * import { createClient } from 'redis'
 * import { RedisStore } from 'connect-redis-session'
 *
 * const client = createClient()
 * const store = new RedisStore({ client, prefix: 'myapp:' }) // `RedisStore({ client })` works too
 *
 * assert.ok(store instanceof RedisStore)
 * assert.ok(store instanceof session.Store)
 * // The client alone (connect-redis v3) is refused, by the compiler and at run time.
 * // @ts-expect-error
 * assert.throws(() => new RedisStore(client), /RedisStore takes an options object/)
 *
 * @category constructors
 * @since 0.1.0
 */
export const RedisStore: RedisStoreConstructor = constructors.RedisStore
