/**
 * Absolute lifetime (opt-in): a session cannot outlive its creation time plus `absoluteLifetimeSeconds`, however
 * active it is. Two compositions, neither a branch inside an operation: a cap over the TTL (`capAbsoluteTtl`, for
 * `set`, `touch` and lazy touch alike) and a decorator of the operations record (`makeAbsoluteLifetime`: `set`
 * stamps the creation time, `get` misses a session past its end). No extra command.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type { IO } from 'fp-ts/lib/IO'
import * as O from 'fp-ts/lib/Option'
import * as TE from 'fp-ts/lib/TaskEither'
import type { SessionData } from 'express-session'
import type { StoreOperations } from '../assemble'
import { invalidSession, type StoreError } from '../errors'
import type { TtlOf } from '../ttl'

// --- model

/**
 * The session field that holds its creation time (ms since the epoch), stamped by the first `set`.
 *
 * @category constants
 * @since 0.1.0
 */
export const CREATED_AT_FIELD = '__createdAt'

/**
 * @category model
 * @since 0.1.0
 */
export interface AbsoluteLifetimeDeps {
  /** How long a session may live from its creation, in seconds (> 0). */
  readonly absoluteLifetimeSeconds: number
  /** Current time in ms since the epoch. */
  readonly now: IO<number>
}

type Stamp = E.Either<string, O.Option<number>>

/** The stamp of a session: none yet, a time, or a value that is not one. */
const stampOf = (sess: unknown): Stamp => {
  const value =
    typeof sess === 'object' && sess !== null ? (sess as Record<string, unknown>)[CREATED_AT_FIELD] : undefined
  if (value === undefined) return E.right(O.none)
  return typeof value === 'number' && Number.isFinite(value)
    ? E.right(O.some(value))
    : E.left(`${CREATED_AT_FIELD} must be ms since the epoch, got ${JSON.stringify(value) ?? typeof value}`)
}

// --- operations

/**
 * The cap over a TTL (`TtlDeps.capTtl`): `min(ttl, createdAt + absoluteLifetimeSeconds - now)`, in whole ms
 * rounded down so that the key never outlives the end. A session not stamped yet counts as created now; an
 * unreadable stamp is an `InvalidSession`. A cap `<= 0` makes `set` destroy the session (a tombstone) and
 * `touch` remove it.
 *
 * @category operations
 * @since 0.1.0
 */
export const capAbsoluteTtl =
  (deps: AbsoluteLifetimeDeps) =>
  (ttl: TtlOf): TtlOf => {
    const lifetimeMs = deps.absoluteLifetimeSeconds * 1000
    return (sid, sess) => {
      const stamp = stampOf(sess)
      if (E.isLeft(stamp)) return E.left(invalidSession(sid, stamp.left))
      const base = ttl(sid, sess)
      if (E.isLeft(base)) return base
      const now = deps.now()
      const left = Math.floor((O.isSome(stamp.right) ? stamp.right.value : now) + lifetimeMs - now)
      return E.right(Math.min(base.right, left))
    }
  }

/**
 * Decorates an operations record built with `capAbsoluteTtl` (as `makeStoreOperations` does for the option
 * `absoluteLifetimeSeconds`): `set` stamps a session that has no `__createdAt` with the current time (on a copy;
 * the stamp comes back with every `get`, so express-session saves it again), and `get`/`sessionGet` answer `None`
 * for a session past its end, with no stamp (saved before the option was on), or with an unreadable one. The rest is
 * unchanged. Nothing is sent that the undecorated record would not send.
 *
 * @example
 * import * as E from 'fp-ts/Either'
 * import * as O from 'fp-ts/Option'
 * import type { SessionData } from 'express-session'
 * import { capAbsoluteTtl, makeAbsoluteLifetime, makeStoreOperations, resolveOptions } from 'connect-redis-session/operations'
 * import { createMemoryClient } from 'connect-redis-session/memory'
 *
 * // A clock that moves only by client.clock.advance.
 * const client = createMemoryClient({ now: () => Date.parse('2030-01-01T00:00:00Z') })
 * const options = resolveOptions({ now: client.clock.now })
 * assert.ok(E.isRight(options))
 * const lifetime = { absoluteLifetimeSeconds: 3600, now: client.clock.now }
 * // What makeStoreOperations does itself with the option absoluteLifetimeSeconds: 3600.
 * const ops = makeAbsoluteLifetime(lifetime)(
 *   makeStoreOperations({ ...options.right, capTtl: capAbsoluteTtl(lifetime), client })
 * )
 * // A session as express-session saves it, with a cookie of a day from now.
 * const day = () => ({ cookie: { originalMaxAge: 86_400_000, expires: new Date(client.clock.now() + 86_400_000) } }) as SessionData
 *
 * async function main() {
 *   assert.deepStrictEqual(await ops.set('abc', day())(), E.right('written'))
 *   assert.strictEqual(client.keyspace.pttl('sessions:abc'), 3_600_000) // the cookie says a day: capped at the end
 *   client.clock.advance(3_000_000)
 *   const read = await ops.get('abc')()
 *   assert.ok(E.isRight(read) && O.isSome(read.right))
 *   // An active user: the session is saved with a fresh day-long cookie, and still ends at its creation + 1 h.
 *   assert.deepStrictEqual(await ops.set('abc', { ...read.right.value, cookie: day().cookie })(), E.right('written'))
 *   assert.strictEqual(client.keyspace.pttl('sessions:abc'), 600_000)
 *   client.clock.advance(600_000)
 *   assert.deepStrictEqual(await ops.get('abc')(), E.right(O.none))
 * }
 * main()
 *
 * @category operations
 * @since 0.1.0
 */
export const makeAbsoluteLifetime =
  (deps: AbsoluteLifetimeDeps) =>
  (ops: StoreOperations): StoreOperations => {
    const lifetimeMs = deps.absoluteLifetimeSeconds * 1000
    const within = (session: SessionData): boolean => {
      const stamp = stampOf(session)
      return E.isRight(stamp) && O.isSome(stamp.right) && deps.now() < stamp.right.value + lifetimeMs
    }
    const live =
      (get: StoreOperations['get']) =>
      (sid: string): TE.TaskEither<StoreError, O.Option<SessionData>> =>
        TE.map((found: O.Option<SessionData>) => O.filter(within)(found))(get(sid))
    const stamped = (session: SessionData): SessionData =>
      typeof session === 'object' && session !== null && !(CREATED_AT_FIELD in session)
        ? ({ ...session, [CREATED_AT_FIELD]: deps.now() } as SessionData)
        : session
    return {
      ...ops,
      get: live(ops.get),
      sessionGet: live(ops.sessionGet),
      set: (sid, session) => ops.set(sid, stamped(session))
    }
  }
