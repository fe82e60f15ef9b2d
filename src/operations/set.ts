/**
 * `set`: saving a session, `SET … GET` with its TTL, without ever overwriting a tombstone. The type it is about is
 * `SetOutcome`, what a `set` did.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import * as TE from 'fp-ts/lib/TaskEither'
import { runScript, tryStringCommand, unexpectedReply } from '../client/run'
import type { RedisLike } from '../client/contract'
import type { StoreError } from '../errors'
import { makeKeyOf } from '../keys'
import { stringifyBounded, type Serializer } from '../serializer/serializer'
import { computeTtl, type Expiring, type ExpiryBound, type TtlDeps } from '../ttl'
import { SET_IF_STORED_SCRIPT } from '../scripts'
import type { SetCondition, SetOutcome } from './model'
import { sawFirstWrite } from './observe'
import { makeTombstone, type TombstoneDeps } from './tombstone'

/**
 * @category model
 * @since 0.1.0
 */
export interface SetDeps<A> extends TtlDeps, TombstoneDeps {
  readonly client: Pick<RedisLike, 'set' | 'evalSha' | 'eval'>
  readonly prefix: string
  readonly serializer: Serializer<A>
  /** Refuse ids outside `A–Z a–z 0–9 _ -`. Default `true`; `false` accepts any id without control characters. */
  readonly strictSessionIds?: boolean
  /** Sessions whose serialized form is larger than this are refused (`TooLarge`). Default 1 MiB. */
  readonly maxPayloadBytes?: number
}

/**
 * Saves a session (upsert) with its TTL from `cookie.expires` (ms precision), or `ttlSeconds` when the cookie
 * has none; an invalid id, a session over `maxPayloadBytes`, or one without expiry is refused before
 * anything is sent. One command, `SET key value PX ttl GET`: Redis aborts it with `WRONGTYPE` when the key holds a
 * tombstone (a hash), so a session destroyed meanwhile stays destroyed; it writes when the key is free or
 * holds a live session. An expiry in the past destroys the session instead. With a `bound`, the TTL is at most
 * what is left until `bound.notAfter` (rounded down), and a bound already past destroys it too. A session that
 * cannot be serialized, or has no expiry and no fallback, is a `Left` and nothing is written.
 *
 * @example
 * import * as E from 'fp-ts/Either'
 * import { makeSet } from 'connect-redis-session/operations'
 * import { fromPlainSerializer } from 'connect-redis-session/serializer'
 *
 * type Session = { readonly cookie: { readonly expires: string }; readonly user: string }
 *
 * // A fake client: SET is recorded (and answers the previous value, none), and the tombstone script (for an expired
 * // session) removes nothing.
 * const sent: Array<[string, string, number]> = []
 * const client = {
 *   set: async (key: string, value: string, options: { readonly PX: number }) => (sent.push([key, value, options.PX]), null),
 *   evalSha: async () => 0,
 *   eval: async () => 0
 * }
 * const now = () => Date.parse('2030-01-01T00:00:00Z')
 * const set = makeSet({ client, prefix: 'sessions:', serializer: fromPlainSerializer<Session>(JSON), now, ttlSeconds: 86400, concurrencyGraceSeconds: 300 })
 *
 * async function main() {
 *   const session: Session = { cookie: { expires: '2030-01-01T01:00:00Z' }, user: 'alice' }
 *   assert.deepStrictEqual(await set('abc', session)(), E.right('written'))
 *   assert.deepStrictEqual(sent, [['sessions:abc', JSON.stringify(session), 3_600_000]]) // TTL from the cookie, in ms
 *   // A cookie already expired destroys the session instead of writing it.
 *   assert.deepStrictEqual(await set('old', { cookie: { expires: '2029-12-31T00:00:00Z' }, user: 'bob' })(), E.right('expired'))
 * }
 * main()
 *
 * @category operations
 * @since 0.1.0
 */
export const makeSet = <A extends Expiring>(deps: SetDeps<A>) =>
  makeSetReplying(
    deps,
    (): SetOutcome => 'written',
    (outcome): SetOutcome => outcome
  )

/**
 * A save checked and ready to send: its key, its TTL in ms and, when the TTL is positive, the serialized session.
 *
 * @internal
 */
export interface PreparedSet {
  readonly key: string
  readonly ttlMs: number
  /** Absent when `ttlMs <= 0`: the session is over, and is destroyed rather than written. */
  readonly value?: string
  /** The stored value the save is conditional on (`SetCondition`). */
  readonly ifStored?: string
}

/**
 * Everything a `set` checks before it sends anything, in order: the id, the TTL (the `ttl` function runs here, once),
 * and, unless the session is over, its serialized form and size.
 *
 * @internal
 */
export const makePrepareSet = <A extends Expiring>(deps: SetDeps<A>) => {
  const ttlOf = computeTtl(deps)
  const keyOf = makeKeyOf(deps)
  return (sid: string, sess: A, bound?: ExpiryBound, condition?: SetCondition): E.Either<StoreError, PreparedSet> => {
    const key = keyOf(sid)
    if (E.isLeft(key)) return key
    const ttlMs = ttlOf(sid, sess, bound)
    if (E.isLeft(ttlMs)) return ttlMs
    if (ttlMs.right <= 0) return E.right({ key: key.right, ttlMs: ttlMs.right })
    const value = stringifyBounded(deps.serializer, sid, sess, deps.maxPayloadBytes)
    if (E.isLeft(value)) return value
    return E.right(
      condition === undefined
        ? { key: key.right, ttlMs: ttlMs.right, value: value.right }
        : { key: key.right, ttlMs: ttlMs.right, value: value.right, ifStored: condition.ifStored }
    )
  }
}

/**
 * Sends a prepared save: `SET … PX … GET`, or the tombstone of a session that is over; a save conditional on the
 * stored value (`ifStored`) is the compare-and-set script instead (`SET_IF_STORED_SCRIPT`), which writes nothing
 * but says what it found when the key holds another value (`'changed'`), a tombstone, or nothing (`'ended'`).
 * `written` gets the value the save replaced (what `SET … GET` replied, `null` when there was none; the condition's
 * value), for a feature that needs the session as it was (the owner index, on an owner change).
 *
 * @internal
 */
export const makeSendSet = <B>(
  deps: Pick<SetDeps<unknown>, 'client'> & TombstoneDeps,
  written: (previous: unknown) => B,
  other: (outcome: Exclude<SetOutcome, 'written'>) => B
) => {
  const tombstone = makeTombstone(deps)
  const setIfStored = runScript(deps.client, SET_IF_STORED_SCRIPT)
  const expired = other('expired')
  const handlers = {
    onReply: (previous: unknown): E.Either<StoreError, B> => {
      if (previous === null) sawFirstWrite()
      return E.right(written(previous))
    },
    // Redis aborted the SET: the key holds a tombstone.
    onTombstone: (): E.Either<StoreError, B> => E.right(other('tombstoned'))
  }
  const conditional = (key: string, value: string, ttlMs: number, ifStored: string): TE.TaskEither<StoreError, B> =>
    TE.flatMapEither((reply: unknown): E.Either<StoreError, B> => {
      switch (reply) {
        case 1:
          return E.right(written(ifStored))
        case 2:
          return E.right(other('changed'))
        case -1:
          return E.right(other('tombstoned'))
        case 0:
          return E.right(other('ended'))
        default:
          return E.left(unexpectedReply('EVALSHA', key, reply, 'one of 1, 2, -1, 0'))
      }
    })(setIfStored({ keys: [key], arguments: [ifStored, value, String(ttlMs)] }))
  return ({ key, ttlMs, value, ifStored }: PreparedSet): TE.TaskEither<StoreError, B> =>
    value === undefined || ttlMs <= 0
      ? TE.as(expired)(tombstone([key]))
      : ifStored !== undefined
      ? conditional(key, value, ttlMs, ifStored)
      : tryStringCommand('SET', key, () => deps.client.set(key, value, { PX: ttlMs, GET: true } as const), handlers)
}

/**
 * `makeSet`, with what each outcome maps to (see `makeSendSet`).
 *
 * @internal
 */
export const makeSetReplying = <A extends Expiring, B>(
  deps: SetDeps<A>,
  written: (previous: unknown) => B,
  other: (outcome: Exclude<SetOutcome, 'written'>) => B
) => {
  const prepare = makePrepareSet(deps)
  const send = makeSendSet(deps, written, other)
  return (sid: string, sess: A, bound?: ExpiryBound, condition?: SetCondition): TE.TaskEither<StoreError, B> =>
    () => {
      const prepared = prepare(sid, sess, bound, condition)
      return E.isLeft(prepared) ? Promise.resolve(prepared) : send(prepared.right)()
    }
}
