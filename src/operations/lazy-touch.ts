/**
 * Lazy touch: skip renewing a session's expiry when it was renewed less than `touchAfterSeconds` ago. What
 * "renewed" means comes from Redis: `get` reads the key's remaining TTL in the same round trip as the
 * session, so a renewal made by another process counts too.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type { IO } from 'fp-ts/lib/IO'
import type * as O from 'fp-ts/lib/Option'
import type * as TE from 'fp-ts/lib/TaskEither'
import { attempt, type RedisLike } from '../client'
import type { StoreError } from '../errors'
import { makeKeyOf } from '../keys'
import { computeTtl, type Expiring, type TtlDeps } from '../ttl'
import { makeGet, type GetDeps } from './get'

// --- model

/**
 * When each recently read session's key expires (ms since the epoch), as Redis reported it. Bounded: the
 * oldest entries are dropped past `capacity`.
 *
 * @category model
 * @since 0.1.0
 */
export interface ExpiryMemo {
  readonly remember: (sid: string, expiresAt: number) => void
  readonly recall: (sid: string) => number | undefined
}

/**
 * @category constructors
 * @since 0.1.0
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
 */
export interface GetRememberingDeps<A> extends GetDeps<A> {
  readonly client: Pick<RedisLike, 'get' | 'pTTL'>
  readonly memo: ExpiryMemo
  readonly now: IO<number>
}

/**
 * `makeGet` that also reads the key's `PTTL`, sent together with the `GET` (one round trip), and remembers
 * when the key expires.
 *
 * @category operations
 * @since 0.1.0
 */
export const makeGetRemembering = <A>(deps: GetRememberingDeps<A>) => {
  const get = makeGet(deps)
  const keyOf = makeKeyOf(deps)
  return (sid: string): TE.TaskEither<StoreError, O.Option<A>> =>
    () => {
      const key = keyOf(sid)
      if (E.isLeft(key)) return Promise.resolve(key)
      // Sent together, answered in one round trip; a refused PTTL (e.g. by an ACL) only disables the skip.
      const pttl = attempt(() => deps.client.pTTL(key.right)).catch(() => -2)
      return Promise.all([get(sid)(), pttl]).then(([result, ms]) => {
        if (E.isRight(result) && result.right._tag === 'Some' && ms > 0) deps.memo.remember(sid, deps.now() + ms)
        return result
      })
    }
}

/**
 * @category model
 * @since 0.1.0
 */
export interface LazyTouchDeps extends TtlDeps {
  readonly touch: (sid: string, sess: Expiring) => TE.TaskEither<StoreError, boolean>
  readonly memo: ExpiryMemo
  readonly touchAfterSeconds: number
}

/**
 * Wraps a `touch`: when the session was read by `makeGetRemembering` (or renewed here) and renewing it now
 * would move its expiry by less than `touchAfterSeconds`, nothing is sent and the result is `false`.
 * Otherwise it touches, and remembers the new expiry.
 *
 * @category operations
 * @since 0.1.0
 */
export const makeLazyTouch = (deps: LazyTouchDeps) => {
  const ttlOf = computeTtl(deps)
  const threshold = deps.touchAfterSeconds * 1000
  return (sid: string, sess: Expiring): TE.TaskEither<StoreError, boolean> =>
    () => {
      const expiresAt = deps.memo.recall(sid)
      const ttlMs = ttlOf(sid, sess)
      if (E.isLeft(ttlMs) || ttlMs.right <= 0 || expiresAt === undefined) return deps.touch(sid, sess)()
      const renewedTo = deps.now() + ttlMs.right
      if (renewedTo - expiresAt < threshold) return Promise.resolve(E.right(false))
      return deps.touch(sid, sess)().then((r) => {
        // Concurrent requests of this session that read it before this renewal need not renew it again.
        if (E.isRight(r) && r.right) deps.memo.remember(sid, renewedTo)
        return r
      })
    }
}
