/**
 * `touch`: renewing a session's expiry without rewriting it, never reviving a destroyed one. The type it is about
 * is the renewing function, `(sid, session, bound?) => TaskEither<StoreError, boolean>`.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type * as TE from 'fp-ts/lib/TaskEither'
import { tryStringCommand } from '../client/run'
import type { RedisLike } from '../client/contract'
import type { StoreError } from '../errors'
import { makeKeyOf } from '../keys'
import { computeTtl, type Expiring, type ExpiryBound, type TtlDeps } from '../ttl'
import { sawTombstone } from './observe'

/**
 * @category model
 * @since 0.1.0
 */
export interface TouchDeps extends TtlDeps {
  readonly client: Pick<RedisLike, 'getEx' | 'getDel'>
  readonly prefix: string
  /** Refuse ids outside `A–Z a–z 0–9 _ -`. Default `true`; `false` accepts any id without control characters. */
  readonly strictSessionIds?: boolean
}

/**
 * Renews a session's expiry from its cookie without rewriting it: one command, `GETEX key PX ttl`. It never
 * creates a key (`GETEX` on a missing key does nothing) and never touches a tombstone (`WRONGTYPE`). An
 * expiry in the past removes the session (`GETDEL`, which leaves a tombstone alone too). With a `bound`, the TTL is
 * at most what is left until `bound.notAfter`, and a bound already past removes the session too. Resolves to `true`
 * when a live session was renewed or removed.
 *
 * @category operations
 * @since 0.1.0
 */
export const makeTouch = (deps: TouchDeps) => {
  const ttlOf = computeTtl(deps)
  const keyOf = makeKeyOf(deps)
  // A reply means a live session was renewed (or removed); null, a missing key; WRONGTYPE, a tombstone.
  const handlers = {
    onReply: (reply: string | null): E.Either<StoreError, boolean> => E.right(reply !== null),
    onTombstone: (): E.Either<StoreError, boolean> => {
      sawTombstone()
      return E.right(false)
    }
  }
  return (sid: string, sess: Expiring, bound?: ExpiryBound): TE.TaskEither<StoreError, boolean> =>
    () => {
      const key = keyOf(sid)
      if (E.isLeft(key)) return Promise.resolve(key)
      const ttlMs = ttlOf(sid, sess, bound)
      if (E.isLeft(ttlMs)) return Promise.resolve(ttlMs)
      const k = key.right
      const px = ttlMs.right
      return px > 0
        ? tryStringCommand('GETEX', k, () => deps.client.getEx(k, { PX: px }), handlers)()
        : tryStringCommand('GETDEL', k, () => deps.client.getDel(k), handlers)()
    }
}
