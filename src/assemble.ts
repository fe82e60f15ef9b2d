/**
 * The assembly: a client and resolved options in, the complete record of the store's operations out, each a
 * `TaskEither` with its deadline, `whenDisconnected` guard, lazy touch and `disableTouch` applied. The
 * express-session facade only adapts this record; a custom store starts from it and decorates entries.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type * as O from 'fp-ts/lib/Option'
import * as TE from 'fp-ts/lib/TaskEither'
import type { SessionData } from 'express-session'
import type { SessionClient } from './client/contract'
import { defect, unavailable, type StoreError } from './errors'
import type { ResolvedOptions } from './options'
import type { Expiring, TtlOf } from './ttl'
import { capAbsoluteTtl, makeAbsoluteLifetime } from './operations/absolute-lifetime'
import { makeAll } from './operations/all'
import { makeClear } from './operations/clear'
import { makeClusterPages, makeClusterReads } from './operations/cluster-pages'
import { withDeadline } from './operations/deadline'
import { makeDestroy } from './operations/destroy'
import { makeGet } from './operations/get'
import { makeIds } from './operations/ids'
import { makeIterate } from './operations/iterate'
import { makeExpiryMemo, makeGetRemembering, makeLazyTouch } from './operations/lazy-touch'
import { makeLength } from './operations/length'
import { makeScanBatches, makeScanPages } from './operations/scan-batches'
import { makeSet, type SetOutcome } from './operations/set'
import { makeTouch } from './operations/touch'
import { makeOwnerIndex, type OwnedSession } from './operations/owners'

// --- model

/**
 * Every operation of a store, as `TaskEither`s (run one by calling it). `get`/`set`/`touch`/`destroy` are the
 * single-key operations for direct use (`store.access`); `sessionGet`/`sessionTouch` are the pair
 * express-session calls (with lazy touch and `disableTouch` applied).
 *
 * @category model
 * @since 0.1.0
 */
export interface StoreOperations {
  readonly get: (sid: string) => TE.TaskEither<StoreError, O.Option<SessionData>>
  readonly set: (sid: string, session: SessionData) => TE.TaskEither<StoreError, SetOutcome>
  readonly touch: (sid: string, session: Expiring) => TE.TaskEither<StoreError, boolean>
  readonly destroy: (sid: string) => TE.TaskEither<StoreError, boolean>
  readonly all: () => TE.TaskEither<StoreError, Record<string, SessionData>>
  readonly ids: () => TE.TaskEither<StoreError, ReadonlyArray<string>>
  readonly length: () => TE.TaskEither<StoreError, number>
  readonly clear: () => TE.TaskEither<StoreError, number>
  /** Batches of `[sid, session]`, page by page; a failure is yielded and ends the walk. */
  readonly iterate: () => AsyncIterable<E.Either<StoreError, ReadonlyArray<readonly [string, SessionData]>>>
  /** express-session's `get`: with `touchAfterSeconds`, it also reads the key's TTL for `sessionTouch`. */
  readonly sessionGet: (sid: string) => TE.TaskEither<StoreError, O.Option<SessionData>>
  /** express-session's `touch`: lazy with `touchAfterSeconds`, nothing with `disableTouch`. */
  readonly sessionTouch: (sid: string, session: Expiring) => TE.TaskEither<StoreError, boolean>
  /** The live sessions of one owner (with `ownerOf`; without it, a `Defect` naming the option). */
  readonly sessionsOf: (owner: string) => TE.TaskEither<StoreError, ReadonlyArray<OwnedSession<SessionData>>>
  /** Destroys every session of one owner but `except`; resolves to how many were live (with `ownerOf`). */
  readonly destroySessionsOf: (
    owner: string,
    options?: { readonly except?: string }
  ) => TE.TaskEither<StoreError, number>
}

/**
 * @category model
 * @since 0.1.0
 */
export interface StoreOperationsDeps extends ResolvedOptions {
  readonly client: SessionClient
  /** Told about every corrupt stored value met (the facade emits `corrupt`). */
  readonly reportCorrupt?: (e: StoreError) => void
  /** A cap over every TTL the operations compute (`set`, `touch`, lazy touch); `absoluteLifetimeSeconds` adds its own. */
  readonly capTtl?: ((ttl: TtlOf) => TtlOf) | undefined
}

// --- constructors

/** The caller's cap, then another over it. */
const composeCaps =
  (first: ((ttl: TtlOf) => TtlOf) | undefined, second: (ttl: TtlOf) => TtlOf) =>
  (ttl: TtlOf): TtlOf =>
    second(first === undefined ? ttl : first(ttl))

/**
 * Builds every operation of a store once. With `whenDisconnected: 'fail'`, single-key operations fail with
 * `Unavailable` while the client's connection is not ready; with `operationTimeoutMs`, each has a deadline.
 *
 * @example
 * import * as E from 'fp-ts/Either'
 * import { createClient } from 'redis'
 * import { fromNodeRedis } from 'connect-redis-session/client'
 * import { makeStoreOperations, resolveOptions } from 'connect-redis-session/operations'
 *
 * const options = resolveOptions({ prefix: 'myapp:', whenDisconnected: 'fail' })
 * assert.ok(E.isRight(options))
 * const ops = makeStoreOperations({ ...options.right, client: fromNodeRedis(createClient()) })
 *
 * async function main() {
 *   // The client was never connected: with whenDisconnected 'fail', get fails at once and sends nothing.
 *   const result = await ops.get('abc')()
 *   assert.ok(E.isLeft(result) && result.left._tag === 'Unavailable')
 * }
 * main()
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeStoreOperations = (input: StoreOperationsDeps): StoreOperations => {
  // Absolute lifetime, only when asked for: a cap over every TTL, and a decorator of the record (at the end).
  const lifetime = input.absoluteLifetimeSeconds > 0 ? input : undefined
  const deps =
    lifetime === undefined ? input : { ...input, capTtl: composeCaps(input.capTtl, capAbsoluteTtl(lifetime)) }
  const { client, operationTimeoutMs } = deps
  const failFast = deps.whenDisconnected === 'fail'
  // One wrapper per operation, built once: the guard of whenDisconnected 'fail', then the deadline.
  const bounded = (operation: string) => {
    const deadline = withDeadline(operation, operationTimeoutMs)
    const down = unavailable(
      operation,
      'the Redis client is not connected (it is reconnecting, or was never connected); whenDisconnected is fail'
    )
    // The connection is looked at when the task runs, not when it is built.
    const guard = <A>(te: TE.TaskEither<StoreError, A>): TE.TaskEither<StoreError, A> =>
      failFast ? () => (client.connection.isReady() ? te() : Promise.resolve(E.left(down))) : te
    return <A>(te: TE.TaskEither<StoreError, A>): TE.TaskEither<StoreError, A> => deadline(guard(te))
  }
  const [boundGet, boundSet, boundTouch, boundDestroy] = [
    bounded('get'),
    bounded('set'),
    bounded('touch'),
    bounded('destroy')
  ] as const
  // waitReplicas: every tombstone (destroy, clear, an expired set) waits for that many replicas.
  const wait =
    client.waitReplicas ??
    (() =>
      Promise.reject(new Error('this client cannot send WAIT to the node that owns a key (waitReplicas needs it)')))
  const writes =
    deps.waitReplicas > 0
      ? { ...deps, confirm: { replicas: deps.waitReplicas, timeoutMs: deps.waitTimeoutMs, wait } }
      : deps
  const get = makeGet(deps)
  const cluster = client.cluster
  // ownerOf: set and touch are the owner index's, built over the store's own; without it, nothing is built.
  const ownerOf = deps.ownerOf
  const owners =
    ownerOf === undefined
      ? undefined
      : makeOwnerIndex<SessionData>({
          ...writes,
          ownerOf,
          touch: makeTouch(deps),
          ...(cluster === undefined ? {} : { acrossSlots: { keyPrefix: client.keyPrefix } })
        })
  const set = owners?.set ?? makeSet(writes)
  // The record's touch takes any Expiring; what express-session and store.access.touch pass is a SessionData.
  const touch =
    owners === undefined
      ? makeTouch(deps)
      : (sid: string, session: Expiring) => owners.touch(sid, session as SessionData)
  const destroy = makeDestroy(writes)
  const pages = {
    prefix: deps.prefix,
    keyPrefix: client.keyPrefix,
    batchSize: deps.scanCount,
    strictSessionIds: deps.strictSessionIds
  }
  // One node: its SCAN. A cluster: every master's SCAN at once, each batch of one master (of many hash slots),
  // read and tombstoned with one script call on that node instead of one command per slot.
  const source = (onlyStrings: boolean) =>
    cluster === undefined
      ? makeScanPages({ ...pages, client, onlyStrings })
      : makeClusterPages({ ...pages, cluster, onlyStrings })
  const reads = cluster === undefined ? client : makeClusterReads({ client, keyPrefix: client.keyPrefix })
  const clears = cluster === undefined ? writes : { ...writes, acrossSlots: { keyPrefix: client.keyPrefix } }
  // all/iterate read values: MGET answers null for a tombstone, so SCAN needs no TYPE filter there.
  const valuePages = source(false)
  const keyBatches = makeScanBatches({ pages: source(true) })
  const ops = {
    get: (sid: string) => boundGet(get(sid)),
    set: (sid: string, session: SessionData) => boundSet(set(sid, session)),
    touch: (sid: string, session: Expiring) => boundTouch(touch(sid, session)),
    destroy: (sid: string) => boundDestroy(destroy(sid)),
    // One node: batches of a whole page each, 4 in flight keep Redis busy while Node parses and few values wait
    // in memory. A cluster: 16, so that every master has batches in flight.
    all: makeAll({
      ...deps,
      client: reads,
      scanBatches: makeScanBatches({ pages: valuePages, inFlight: cluster === undefined ? 4 : 16 })
    }),
    ids: makeIds({ scanBatches: keyBatches }),
    length: makeLength({ scanBatches: keyBatches }),
    clear: makeClear({ ...clears, scanBatches: keyBatches, countLiveOnly: false }),
    iterate: makeIterate({ ...deps, client: reads, pages: valuePages })
  }
  // Lazy touch only where express-session's touch does something.
  const lazy = deps.touchAfterSeconds > 0 && !deps.disableTouch
  const memo = makeExpiryMemo()
  const getRemembering = lazy ? makeGetRemembering({ ...deps, memo }) : undefined
  const sessionTouch = deps.disableTouch
    ? () => TE.right(false)
    : lazy
    ? makeLazyTouch({ ...deps, touch: ops.touch, memo })
    : ops.touch
  const noIndex = TE.left(
    defect(
      new TypeError('sessionsOf and destroySessionsOf need the ownerOf option: createRedisStore(client, { ownerOf })')
    )
  )
  const [boundOwners, boundDestroyAll] = [bounded('sessionsOf'), bounded('destroySessionsOf')] as const
  const record: StoreOperations = {
    ...ops,
    sessionsOf: (owner) => (owners === undefined ? noIndex : boundOwners(owners.sessionsOf(owner))),
    destroySessionsOf: (owner, options) =>
      owners === undefined ? noIndex : boundDestroyAll(owners.destroySessionsOf(owner, options)),
    sessionGet: getRemembering === undefined ? ops.get : (sid: string) => boundGet(getRemembering(sid)),
    sessionTouch
  }
  return lifetime === undefined ? record : makeAbsoluteLifetime(lifetime)(record)
}
