/**
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import * as O from 'fp-ts/lib/Option'
import * as TE from 'fp-ts/lib/TaskEither'
import { tryStringCommand, type RedisLike } from '../client'
import type { StoreError } from '../errors'
import { toKey } from '../keys'
import { parseIssueAt, type Serializer } from '../serializer/serializer'

/**
 * @category model
 * @since 0.1.0
 */
export interface GetDeps<A> {
  readonly client: Pick<RedisLike, 'get'>
  readonly prefix: string
  readonly serializer: Serializer<A>
}

/**
 * Reads a session: one `GET`. A missing key is `None`; so is a tombstone, which is a hash and makes `GET`
 * answer `WRONGTYPE`. A stored value the serializer rejects is a `Left` naming the key.
 *
 * @example
 * import { makeGet, jsonSerializer } from 'connect-redis-session'
 *
 * const get = makeGet({ client, prefix: 'sessions:', serializer: jsonSerializer })
 * const result = await get('abc')() // Either<StoreError, Option<SessionData>>
 *
 * @category operations
 * @since 0.1.0
 */
export const makeGet = <A>(deps: GetDeps<A>) => {
  const keyOf = toKey(deps.prefix)
  // A tombstone reads as "no session", like a missing key.
  const none = (): E.Either<StoreError, O.Option<A>> => E.right(O.none)
  return (sid: string): TE.TaskEither<StoreError, O.Option<A>> => {
    const key = keyOf(sid)
    const onReply = (raw: string | null): E.Either<StoreError, O.Option<A>> => {
      if (raw === null) return E.right(O.none)
      const parsed = deps.serializer.parse(raw)
      return E.isLeft(parsed) ? E.left(parseIssueAt(key)(parsed.left)) : E.right(O.some(parsed.right))
    }
    return tryStringCommand('GET', key, () => deps.client.get(key), { onReply, onTombstone: none })
  }
}
