/**
 * The express-session facade: the only module with callbacks, prototypes and events. It wires the
 * operations together and runs them; it decides nothing itself.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import * as O from 'fp-ts/lib/Option'
import * as TE from 'fp-ts/lib/TaskEither'
import { pipe } from 'fp-ts/lib/function'
import session, { type SessionData, type Store } from 'express-session'
import { clientKeyPrefix, type RedisLike } from '../client'
import { toError, unavailable, type StoreError } from '../errors'
import { resolveOptions, type ResolvedOptions, type StoreOptions } from '../options'
import type { Expiring } from '../ttl'
import { makeAll } from '../operations/all'
import { makeClear } from '../operations/clear'
import { makeDestroy } from '../operations/destroy'
import { makeGet } from '../operations/get'
import { makeIds } from '../operations/ids'
import { makeLength } from '../operations/length'
import { makeScanBatches, makeScanPages } from '../operations/scan-batches'
import { makeSet, type SetOutcome } from '../operations/set'
import { makeTouch } from '../operations/touch'
import { makeIterate } from '../operations/iterate'
import { makeExpiryMemo, makeGetRemembering, makeLazyTouch } from '../operations/lazy-touch'
import { withDeadline } from '../operations/deadline'
import { checkEvictionPolicy, followConnection, isDisconnected, type ObservableClient } from './connection'
import { runMapped, runToCallback, type Callback } from './run-to-callback'

// --- model

/**
 * The promise API of `store.access`, as in the original README.
 *
 * @category model
 * @since 0.1.0
 */
export interface StoreAccess {
  /** The session, or `null` when there is none (or it was destroyed). */
  readonly get: (sid: string) => Promise<SessionData | null>
  /** Saves a session; tells whether it was written, refused by a tombstone, or destroyed as expired. */
  readonly set: (sid: string, session: SessionData) => Promise<SetOutcome>
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
}

/**
 * Options of the `RedisStore` constructor: the store options plus the client.
 *
 * @category model
 * @since 0.1.0
 */
export interface RedisStoreOptions extends StoreOptions {
  readonly client: RedisLike
}

// --- constructors

const REQUIRED_COMMANDS = ['get', 'set', 'getEx', 'getDel', 'mGet', 'evalSha', 'eval', 'scan'] as const

const SCAN_PAGE_FLOOR = 1000

/** Pages of `Either`s as a plain async iterator of entries that throws the first failure as an `Error`. */
async function* iterateEntries<A>(pages: AsyncIterable<E.Either<StoreError, ReadonlyArray<readonly [string, A]>>>): AsyncIterableIterator<readonly [string, A]> {
  for await (const page of pages) {
    if (E.isLeft(page)) throw toError(page.left)
    yield* page.right
  }
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null

/** Whether `u` has the commands of a node-redis client (the options bag does not). */
const looksLikeClient = (u: unknown): boolean => isRecord(u) && REQUIRED_COMMANDS.every((c) => typeof u[c] === 'function')

const checkClient = (client: unknown): E.Either<TypeError, RedisLike> => {
  if (!isRecord(client)) {
    return E.left(new TypeError(`createRedisStore(client, options): client is required, got ${client === null ? 'null' : typeof client}: pass a node-redis client (createClient())`))
  }
  if ('client' in client && !looksLikeClient(client)) {
    return E.left(
      new TypeError('createRedisStore takes the client as its first argument: createRedisStore(client, options), or new RedisStore({ client, ...options })')
    )
  }
  const missing = REQUIRED_COMMANDS.filter((c) => typeof client[c] !== 'function')
  return missing.length > 0
    ? E.left(new TypeError(`client is not a node-redis client: it has no ${missing.join(', ')} method${missing.length > 1 ? 's' : ''}`))
    : E.right(client as unknown as RedisLike)
}

/** Shared by every store, so `store instanceof RedisStore` and `store instanceof session.Store` both hold. */
const storePrototype: Store = Object.create(session.Store.prototype)

const toVoid = (): void => undefined

/**
 * Builds the store. Throws a `TypeError` naming the problem when the client or an option is invalid; once
 * built, no method throws.
 *
 * @example
 * import { createClient } from 'redis'
 * import session from 'express-session'
 * import { createRedisStore } from 'connect-redis-session'
 *
 * const client = createClient()
 * await client.connect()
 * app.use(session({ store: createRedisStore(client), secret: 'swordfish', resave: false, saveUninitialized: false }))
 *
 * @category constructors
 * @since 0.1.0
 */
export const createRedisStore = (client: RedisLike, options: StoreOptions = {}): RedisSessionStore => {
  const checked = pipe(
    checkClient(client),
    E.flatMap((c) => E.map((o: ResolvedOptions) => ({ client: c, ...o }))(resolveOptions(options)))
  )
  if (E.isLeft(checked)) throw checked.left
  const deps = checked.right
  const keyPrefix = clientKeyPrefix(deps.client)
  // SCAN pages of at least SCAN_PAGE_FLOOR keys (fewer round trips, under a millisecond of Redis work per
  // call), cut into batches of scanCount keys for each MGET or script call.
  const paging = { ...deps, keyPrefix, scanCount: Math.max(deps.scanCount, SCAN_PAGE_FLOOR), batchSize: deps.scanCount }
  // all/iterate read values: MGET answers null for a tombstone, so SCAN needs no TYPE filter there.
  const valuePages = { ...paging, onlyStrings: false }
  const scanBatches = makeScanBatches(valuePages)
  const keyScanBatches = makeScanBatches(paging)
  const memo = makeExpiryMemo()
  const emit = (event: string, ...args: ReadonlyArray<unknown>): void => {
    store.emit(event, ...args)
  }
  // A warning nobody listens to goes to process warnings (printed on stderr by default), never nowhere.
  const warn = (message: string): void => {
    if (store.listenerCount('warning') > 0) emit('warning', message)
    else process.emitWarning(message, { type: 'SessionStoreWarning', code: 'ESESSION_WARNING' })
  }
  // A corrupt stored value: a `corrupt` event (with the error), then a miss or a failure per onCorrupt.
  const reportCorrupt = (e: StoreError): void => emit('corrupt', toError(e))
  // Built once, not per call: one deadline wrapper per single-key operation.
  const getDeadline = withDeadline('get', deps.operationTimeoutMs)
  const setDeadline = withDeadline('set', deps.operationTimeoutMs)
  const touchDeadline = withDeadline('touch', deps.operationTimeoutMs)
  const destroyDeadline = withDeadline('destroy', deps.operationTimeoutMs)
  const single = { ...deps, reportCorrupt }
  const get = makeGet(single)
  const set = makeSet(single)
  const touch = makeTouch(single)
  const destroy = makeDestroy(single)
  const observed = deps.client as ObservableClient
  // whenDisconnected 'fail': while the client says it is not connected, fail at once instead of queueing.
  const failFast = deps.whenDisconnected === 'fail'
  const guard =
    (operation: string) =>
    <A>(te: TE.TaskEither<StoreError, A>): TE.TaskEither<StoreError, A> =>
      failFast && isDisconnected(observed)
        ? TE.left(unavailable(operation, 'the Redis client is not connected (it is reconnecting, or was never connected); whenDisconnected is fail'))
        : te
  const guardGet = guard('get')
  const guardSet = guard('set')
  const guardTouch = guard('touch')
  const guardDestroy = guard('destroy')
  const ops = {
    get: (sid: string) => getDeadline(guardGet(get(sid))),
    set: (sid: string, sess: SessionData) => setDeadline(guardSet(set(sid, sess))),
    touch: (sid: string, sess: Expiring) => touchDeadline(guardTouch(touch(sid, sess))),
    destroy: (sid: string) => destroyDeadline(guardDestroy(destroy(sid))),
    all: makeAll({ ...single, scanBatches }),
    ids: makeIds({ scanBatches: keyScanBatches }),
    length: makeLength({ scanBatches: keyScanBatches }),
    clear: makeClear({ ...deps, scanBatches: keyScanBatches, countLiveOnly: false }),
    iterate: makeIterate({ ...single, pages: makeScanPages(valuePages) })
  }
  // express-session's get/touch pair: with touchAfterSeconds, get also reads the TTL and touch may skip.
  const lazy = deps.touchAfterSeconds > 0
  const getRemembering = lazy ? makeGetRemembering({ ...single, memo }) : undefined
  const sessionGet = getRemembering === undefined ? ops.get : (sid: string) => getDeadline(guardGet(getRemembering(sid)))
  const sessionTouch = lazy ? makeLazyTouch({ ...deps, touch: ops.touch, memo }) : ops.touch
  const orNull = (o: O.Option<SessionData>): SessionData | null => O.toNullable(o)

  const access: StoreAccess = {
    get: (sid) => runMapped(() => ops.get(sid), orNull),
    set: (sid, sess) => runToCallback(() => ops.set(sid, sess)),
    touch: (sid, sess) => runToCallback(() => ops.touch(sid, sess)),
    destroy: (sid) => runToCallback(() => ops.destroy(sid)),
    all: () => runToCallback(ops.all),
    ids: () => runToCallback(ops.ids),
    length: () => runToCallback(ops.length),
    clear: () => runToCallback(ops.clear),
    iterate: () => iterateEntries(ops.iterate())
  }

  const store = Object.create(storePrototype) as RedisSessionStore
  ;(session.Store as unknown as (this: Store) => void).call(store)
  if (deps.whenDisconnected === 'bypass') followConnection(observed, emit)
  if (deps.checkEvictionPolicy) checkEvictionPolicy(observed, warn)
  return Object.assign(store, {
    access,
    get: (sid: string, cb?: Callback<SessionData | null>) => runMapped(() => sessionGet(sid), orNull, cb),
    set: (sid: string, sess: SessionData, cb?: Callback<void>) => runMapped(() => ops.set(sid, sess), toVoid, cb),
    touch: (sid: string, sess: SessionData, cb?: Callback<void>) =>
      runMapped(() => (deps.disableTouch ? TE.right(false) : sessionTouch(sid, sess)), toVoid, cb),
    destroy: (sid: string, cb?: Callback<void>) => runMapped(() => ops.destroy(sid), toVoid, cb),
    all: (cb?: Callback<Record<string, SessionData>>) => runToCallback(ops.all, cb),
    ids: (cb?: Callback<ReadonlyArray<string>>) => runToCallback(ops.ids, cb),
    length: (cb?: Callback<number>) => runToCallback(ops.length, cb),
    clear: (cb?: Callback<void>) => runMapped(() => ops.clear(), toVoid, cb)
  })
}

/**
 * `RedisStore({ client, ...options })`, with or without `new`, for code written against the original README.
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
 * @category constructors
 * @since 0.1.0
 */
export const RedisStore = function RedisStore(options: RedisStoreOptions): RedisSessionStore {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`RedisStore: options with a client are required, got ${options === null ? 'null' : typeof options}: new RedisStore({ client })`)
  }
  if (looksLikeClient(options)) throw new TypeError('RedisStore takes an options object: new RedisStore({ client, ...options }), not new RedisStore(client)')
  const { client, ...rest } = options
  if (client === undefined || client === null) throw new TypeError('RedisStore: options.client is required: new RedisStore({ client: createClient() })')
  return createRedisStore(client, rest)
} as unknown as RedisStoreConstructor
;(RedisStore as { prototype: Store }).prototype = storePrototype
Object.defineProperty(storePrototype, 'constructor', { value: RedisStore, writable: true, configurable: true, enumerable: false })
