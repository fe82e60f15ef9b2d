/**
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import * as O from 'fp-ts/lib/Option'
import * as TE from 'fp-ts/lib/TaskEither'
import { pipe } from 'fp-ts/lib/function'
import { tryCommand, type RedisLike } from '../client'
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

const isWrongType = (e: StoreError): boolean =>
  e._tag === 'CommandFailed' && e.cause instanceof Error && e.cause.message.startsWith('WRONGTYPE')

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
export const makeGet =
  <A>(deps: GetDeps<A>) =>
  (sid: string): TE.TaskEither<StoreError, O.Option<A>> => {
    const key = toKey(deps.prefix)(sid)
    return pipe(
      tryCommand('GET', key, () => deps.client.get(key)),
      TE.orElse((e) => (isWrongType(e) ? TE.right(null) : TE.left(e))),
      TE.flatMapEither((raw) =>
        raw === null ? E.right(O.none) : pipe(deps.serializer.parse(raw), E.mapLeft(parseIssueAt(key)), E.map(O.some))
      )
    )
  }
