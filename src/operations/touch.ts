/**
 * @since 0.1.0
 */
import * as TE from 'fp-ts/lib/TaskEither'
import { pipe } from 'fp-ts/lib/function'
import { runScript, type RedisLike } from '../client'
import type { StoreError } from '../errors'
import { toKey } from '../keys'
import { TOUCH_SCRIPT } from '../scripts'
import { computeTtl, type Expiring, type TtlDeps } from '../ttl'

/**
 * @category model
 * @since 0.1.0
 */
export interface TouchDeps extends TtlDeps {
  readonly client: Pick<RedisLike, 'evalSha' | 'eval'>
  readonly prefix: string
}

/**
 * Renews a session's expiry from its cookie, without rewriting it: one script call. It never creates a key
 * and never revives a tombstone; an expiry in the past removes the session. Resolves to `true` when a live
 * session was renewed.
 *
 * @category operations
 * @since 0.1.0
 */
export const makeTouch = (deps: TouchDeps) => {
  const ttlOf = computeTtl(deps)
  const touchScript = runScript(deps.client, TOUCH_SCRIPT)
  const keyOf = toKey(deps.prefix)
  return (sid: string, sess: Expiring): TE.TaskEither<StoreError, boolean> =>
    pipe(
      TE.fromEither(ttlOf(sid, sess)),
      TE.flatMap((ttlMs) => touchScript({ keys: [keyOf(sid)], arguments: [String(ttlMs)] })),
      TE.map((reply) => Number(reply) === 1)
    )
}
