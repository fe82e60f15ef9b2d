/**
 * `get`: reading a session, one `GET`, where a tombstone reads as no session. The type it is about is the reading
 * function, `(sid) => TaskEither<StoreError, Option<A>>`, and `GetDeps`, what it is built from.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import * as O from 'fp-ts/lib/Option'
import type * as TE from 'fp-ts/lib/TaskEither'
import { tryStringCommand } from '../client/run'
import type { RedisLike } from '../client/contract'
import type { StoreError } from '../errors'
import { makeKeyOf } from '../keys'
import { isCorrupt, parseStored, type Serializer } from '../serializer/serializer'
import { sawTombstone } from './observe'

/**
 * @category model
 * @since 0.1.0
 */
export interface GetDeps<A> {
  readonly client: Pick<RedisLike, 'get'>
  readonly prefix: string
  readonly serializer: Serializer<A>
  /** Refuse ids outside `A–Z a–z 0–9 _ -`. Default `true`; `false` accepts any id without control characters. */
  readonly strictSessionIds?: boolean
  /** Stored values larger than this are corrupt. Default 1 MiB. */
  readonly maxPayloadBytes?: number
  /**
   * A corrupt stored value: `'miss'` (`None`, after `reportCorrupt`; default, as for the store) or `'fail'` (a
   * `Left`).
   */
  readonly onCorrupt?: 'miss' | 'fail'
  /** Told about every corrupt value met, whatever `onCorrupt` says. */
  readonly reportCorrupt?: (e: StoreError) => void
}

/**
 * What to do with a failed read under `onCorrupt`: a corrupt value is reported, then a miss or a failure.
 *
 * @internal
 */
export const corruptPolicy =
  (deps: Pick<GetDeps<unknown>, 'onCorrupt' | 'reportCorrupt'>) =>
  <A>(e: StoreError): E.Either<StoreError, O.Option<A>> => {
    if (!isCorrupt(e)) return E.left(e)
    deps.reportCorrupt?.(e)
    return deps.onCorrupt === 'fail' ? E.left(e) : E.right(O.none)
  }

/**
 * Reads a session: one `GET`. A missing key is `None`; so is a tombstone, which is a hash and makes `GET`
 * answer `WRONGTYPE`. A stored value the serializer rejects (or larger than `maxPayloadBytes`) is corrupt:
 * reported, then `None` (or, with `onCorrupt: 'fail'`, a `Left` naming the key). An invalid id is an `InvalidId` and nothing
 * is sent.
 *
 * @example
 * import * as E from 'fp-ts/Either'
 * import * as O from 'fp-ts/Option'
 * import { jsonSerializer } from 'connect-redis-session'
 * import { makeGet } from 'connect-redis-session/operations'
 *
 * // makeGet needs only `get` of the client: here, a fake over a Map.
 * const data = new Map([['sessions:abc', '{"cookie":{"expires":null},"user":"alice"}']])
 * const get = makeGet({ client: { get: async (key) => data.get(key) ?? null }, prefix: 'sessions:', serializer: jsonSerializer, onCorrupt: 'fail' })
 *
 * async function main() {
 *   // get(sid) is a TaskEither: call it to run it
 *   assert.deepStrictEqual(await get('abc')(), E.right(O.some({ cookie: { expires: null }, user: 'alice' })))
 *   assert.deepStrictEqual(await get('nobody')(), E.right(O.none))
 *   data.set('sessions:bad', '{not json')
 *   const corrupt = await get('bad')()
 *   assert.ok(E.isLeft(corrupt) && corrupt.left._tag === 'ParseFailed')
 * }
 * main()
 *
 * @category operations
 * @since 0.1.0
 */
export const makeGet = <A>(deps: GetDeps<A>) => {
  const keyOf = makeKeyOf(deps)
  const parse = parseStored(deps.serializer, deps.maxPayloadBytes)
  const corrupt = corruptPolicy(deps)
  // A tombstone reads as "no session", like a missing key (a trace tells them apart).
  const none = (): E.Either<StoreError, O.Option<A>> => {
    sawTombstone()
    return E.right(O.none)
  }
  return (sid: string): TE.TaskEither<StoreError, O.Option<A>> =>
    () => {
      const key = keyOf(sid)
      if (E.isLeft(key)) return Promise.resolve(key)
      const onReply = (raw: string | null): E.Either<StoreError, O.Option<A>> => {
        if (raw === null) return E.right(O.none)
        const parsed = parse(key.right, raw, sid)
        return E.isRight(parsed) ? E.right(O.some(parsed.right)) : corrupt<A>(parsed.left)
      }
      return tryStringCommand('GET', key.right, () => deps.client.get(key.right), { onReply, onTombstone: none })()
    }
}
