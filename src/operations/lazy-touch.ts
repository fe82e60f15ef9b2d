/**
 * The `withLazyTouch` feature (`touchAfterSeconds`): express-session's `touch` skips renewing a session's expiry
 * when it was renewed less than `touchAfterSeconds` ago. What "renewed" means comes from Redis: express-session's
 * `get` reads the key's remaining TTL in the same command as the session, so a renewal made by another process
 * counts too. The type it is about is `ExpiryMemo`, where those expiries are kept.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type { IO } from 'fp-ts/lib/IO'
import * as O from 'fp-ts/lib/Option'
import type * as TE from 'fp-ts/lib/TaskEither'
import type { SessionData } from 'express-session'
import { runScript, unexpectedReply } from '../client/run'
import type { RedisLike } from '../client/contract'
import type { StoreError } from '../errors'
import { makeKeyOf } from '../keys'
import { computeTtl, type Expiring, type ExpiryBound, type TtlDeps } from '../ttl'
import { corruptPolicy, type GetDeps } from './get'
import { GET_WITH_TTL_SCRIPT } from '../scripts'
import { parseStored } from '../serializer/serializer'
import type { Feature } from './model'

// --- model

/**
 * When each recently read session's key expires (ms since the epoch), as Redis reported it. Bounded: the
 * oldest entries are dropped past `capacity`.
 *
 * @category model
 * @since 0.1.0
 * @ignore
 */
export interface ExpiryMemo {
  readonly remember: (sid: string, expiresAt: number) => void
  readonly recall: (sid: string) => number | undefined
}

/**
 * @category constructors
 * @since 0.1.0
 * @ignore
 */
export const makeExpiryMemo = (capacity = 10_000): ExpiryMemo => {
  const expiries = new Map<string, number>()
  return {
    remember: (sid, expiresAt) => {
      expiries.delete(sid)
      expiries.set(sid, expiresAt)
      if (expiries.size > capacity) expiries.delete(expiries.keys().next().value as string)
    },
    recall: (sid) => expiries.get(sid)
  }
}

// --- operations

/**
 * @category model
 * @since 0.1.0
 * @ignore
 */
export interface GetRememberingDeps<A> extends Omit<GetDeps<A>, 'client'> {
  readonly client: Pick<RedisLike, 'evalSha' | 'eval'>
  readonly memo: ExpiryMemo
  readonly now: IO<number>
}

/**
 * The reply of `GET_WITH_TTL_SCRIPT`: `[pttl]` (a tombstone), `[pttl, false→null]` (no key) or `[pttl, value]`.
 */
const isTtlAndValue = (reply: unknown): reply is readonly [number, string | null | undefined] =>
  Array.isArray(reply) &&
  reply.length >= 1 &&
  reply.length <= 2 &&
  typeof reply[0] === 'number' &&
  (reply[1] === undefined || reply[1] === null || typeof reply[1] === 'string')

/**
 * `makeGet` that also reads the key's remaining TTL in the same command (one small read-only script, one
 * round trip) and remembers when the key expires. Same answers as `makeGet`: `None` for a missing key or a
 * tombstone, corrupt values per `onCorrupt`.
 *
 * @category operations
 * @since 0.1.0
 * @ignore
 */
export const makeGetRemembering = <A>(deps: GetRememberingDeps<A>) => {
  const keyOf = makeKeyOf(deps)
  const parse = parseStored(deps.serializer, deps.maxPayloadBytes)
  const corrupt = corruptPolicy(deps)
  const getWithTtl = runScript(deps.client, GET_WITH_TTL_SCRIPT)
  return (sid: string): TE.TaskEither<StoreError, O.Option<A>> =>
    () => {
      const key = keyOf(sid)
      if (E.isLeft(key)) return Promise.resolve(key)
      return getWithTtl({ keys: [key.right], arguments: [] })().then((reply): E.Either<StoreError, O.Option<A>> => {
        if (E.isLeft(reply)) return reply
        if (!isTtlAndValue(reply.right))
          return E.left(unexpectedReply('EVALSHA', key.right, reply.right, '[pttl] or [pttl, value]'))
        const [pttl, raw] = reply.right
        if (typeof raw !== 'string') return E.right(O.none) // missing (-2) or a tombstone (-3)
        if (pttl > 0) deps.memo.remember(sid, deps.now() + pttl)
        const parsed = parse(key.right, raw, sid)
        return E.isRight(parsed) ? E.right(O.some(parsed.right)) : corrupt<A>(parsed.left)
      })
    }
}

/**
 * @category model
 * @since 0.1.0
 */
export interface LazyTouchDeps<A extends Expiring = Expiring> extends TtlDeps {
  readonly touch: (sid: string, sess: A, bound?: ExpiryBound) => TE.TaskEither<StoreError, boolean>
  readonly memo: ExpiryMemo
  readonly touchAfterSeconds: number
}

/**
 * Wraps a `touch`: when the session was read by `makeGetRemembering` (or renewed here) and renewing it now
 * would move its expiry by less than `touchAfterSeconds`, nothing is sent and the result is `false`.
 * Otherwise it touches, and remembers the new expiry. A `bound` is passed on, and counts in the renewal.
 *
 * @category operations
 * @since 0.1.0
 */
export const makeLazyTouch = <A extends Expiring>(deps: LazyTouchDeps<A>) => {
  const ttlOf = computeTtl(deps)
  const threshold = deps.touchAfterSeconds * 1000
  return (sid: string, sess: A, bound?: ExpiryBound): TE.TaskEither<StoreError, boolean> =>
    () => {
      const expiresAt = deps.memo.recall(sid)
      const ttlMs = ttlOf(sid, sess, bound)
      if (E.isLeft(ttlMs) || ttlMs.right <= 0 || expiresAt === undefined) return deps.touch(sid, sess, bound)()
      const renewedTo = deps.now() + ttlMs.right
      if (renewedTo - expiresAt < threshold) return Promise.resolve(E.right(false))
      return deps
        .touch(sid, sess, bound)()
        .then((r) => {
          // Concurrent requests of this session that read it before this renewal need not renew it again.
          if (E.isRight(r) && r.right) deps.memo.remember(sid, renewedTo)
          return r
        })
    }
}

// --- features

/**
 * @category model
 * @since 0.1.0
 */
export interface WithLazyTouchDeps
  extends Omit<GetRememberingDeps<SessionData>, 'memo'>,
    Omit<LazyTouchDeps, 'touch' | 'memo'> {}

/**
 * The feature: `sessionGet` becomes `makeGetRemembering` (built from `deps`: it reads what `get` reads, and the
 * key's TTL with it) and `sessionTouch` a lazy touch over the `sessionTouch` it decorates; the two share one
 * `ExpiryMemo`. `get` and `touch`, for direct use, stay as they are. Apply it after the features that change
 * `touch` (the owner index), so that a renewal it lets through is theirs.
 *
 * @category features
 * @since 0.1.0
 */
export const withLazyTouch =
  (deps: WithLazyTouchDeps): Feature =>
  (ops) => {
    const memo = makeExpiryMemo()
    return {
      ...ops,
      sessionGet: makeGetRemembering({ ...deps, memo }),
      sessionTouch: makeLazyTouch({ ...deps, touch: ops.sessionTouch, memo })
    }
  }
