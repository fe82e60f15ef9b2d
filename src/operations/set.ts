/**
 * @since 0.1.0
 */
import * as TE from 'fp-ts/lib/TaskEither'
import { pipe } from 'fp-ts/lib/function'
import { runScript, type RedisLike } from '../client'
import type { StoreError } from '../errors'
import { toKey } from '../keys'
import { SET_SCRIPT } from '../scripts'
import { stringifyFor, type Serializer } from '../serializer/serializer'
import { computeTtl, type Expiring, type TtlDeps } from '../ttl'
import { makeTombstone, type TombstoneDeps } from './tombstone'

/**
 * @category model
 * @since 0.1.0
 */
export interface SetDeps<A> extends TtlDeps, TombstoneDeps {
  readonly client: Pick<RedisLike, 'evalSha' | 'eval'>
  readonly prefix: string
  readonly serializer: Serializer<A>
}

/**
 * What a `set` did: wrote the session, refused it because the session was destroyed (a tombstone), or
 * destroyed it because its cookie had already expired.
 *
 * @category model
 * @since 0.1.0
 */
export type SetOutcome = 'written' | 'tombstoned' | 'expired'

/**
 * Saves a session (upsert) with its TTL from `cookie.expires` (ms precision), or `ttlSeconds` when the cookie
 * has none. One script call: it writes only when the key is free or holds a live session, so a session
 * destroyed meanwhile stays destroyed. An expiry in the past destroys the session instead. A session that
 * cannot be serialized, or has no expiry and no fallback, is a `Left` and nothing is written.
 *
 * @category operations
 * @since 0.1.0
 */
export const makeSet = <A extends Expiring>(deps: SetDeps<A>) => {
  const ttlOf = computeTtl(deps)
  const tombstone = makeTombstone(deps)
  const setScript = runScript(deps.client, SET_SCRIPT)
  const keyOf = toKey(deps.prefix)
  return (sid: string, sess: A): TE.TaskEither<StoreError, SetOutcome> => {
    const key = keyOf(sid)
    return pipe(
      TE.fromEither(ttlOf(sid, sess)),
      TE.flatMap((ttlMs) =>
        ttlMs <= 0
          ? pipe(tombstone([key]), TE.as<SetOutcome>('expired'))
          : pipe(
              TE.fromEither(stringifyFor(deps.serializer, sid, sess)),
              TE.flatMap((value) => setScript({ keys: [key], arguments: [value, String(ttlMs)] })),
              TE.map((reply): SetOutcome => (Number(reply) === 1 ? 'written' : 'tombstoned'))
            )
      )
    )
  }
}
