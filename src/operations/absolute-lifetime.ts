/**
 * The `withAbsoluteLifetime` feature (`absoluteLifetimeSeconds`): a session cannot outlive its creation time plus
 * `absoluteLifetimeSeconds`, however active it is. One decorator of the operations record: `set` stamps the
 * creation time, `set` and `touch` pass the end on as a bound on the key's expiry (`ExpiryBound`), and every read
 * (`get`, `all`, `iterate`, `ids`, `length`, `sessionsOf`) leaves out a session past its end. No extra command for
 * the single-key operations. The type it is about is `AbsoluteLifetimeDeps`.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type { IO } from 'fp-ts/lib/IO'
import * as O from 'fp-ts/lib/Option'
import * as TE from 'fp-ts/lib/TaskEither'
import type { SessionData } from 'express-session'
import { isObject } from '../refinements'
import { invalidSession, type StoreError } from '../errors'
import type { ExpiryBound } from '../ttl'
import { overBoth, type Feature, type OwnedSession, type StoreOperations } from './model'

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
  const value = isObject(sess) ? sess[CREATED_AT_FIELD] : undefined
  if (value === undefined) return E.right(O.none)
  return typeof value === 'number' && Number.isFinite(value)
    ? E.right(O.some(value))
    : E.left(`${CREATED_AT_FIELD} must be ms since the epoch, got ${JSON.stringify(value) ?? typeof value}`)
}

type Pages = ReturnType<StoreOperations['iterate']>

/** The pages of `iterate` with only the sessions that pass `keep`; a failure is passed on and ends them. */
async function* livePages(pages: Pages, keep: (session: SessionData) => boolean): Pages {
  for await (const page of pages) {
    yield E.map((entries: ReadonlyArray<readonly [string, SessionData]>) => entries.filter(([, s]) => keep(s)))(page)
    if (E.isLeft(page)) return
  }
}

/** The ids of the sessions `iterate` yields, each once (a session seen on two `SCAN` pages is counted once). */
const idsOf =
  (iterate: StoreOperations['iterate']): TE.TaskEither<StoreError, Set<string>> =>
  async () => {
    const seen = new Set<string>()
    for await (const page of iterate()) {
      if (E.isLeft(page)) return page
      for (const [sid] of page.right) seen.add(sid)
    }
    return E.right(seen)
  }

// --- features

/**
 * The feature. `set` stamps a session that has no `__createdAt` with the current time (on a copy; the stamp comes
 * back with every `get`, so express-session saves it again). `set`, `touch` and `sessionTouch` (lazy touch
 * included) pass `notAfter = createdAt + absoluteLifetimeSeconds` on to what they decorate — or the bound they were
 * given, when it is sooner — so the key never outlives the end; past it, `set` destroys the session (a tombstone)
 * and `touch` removes it, as for an expired cookie. A session not stamped yet counts as created now; an unreadable
 * stamp is an `InvalidSession`. Every read agrees on which sessions are live, by one predicate: a session past its
 * end, with no stamp (saved before the option was on), or with an unreadable one is none. `get` and `sessionGet`
 * answer `None` for it; `all`, `iterate` and `sessionsOf` leave it out; `ids` and `length`, which otherwise count
 * keys without reading them, read the values page by page as `iterate` does (each id once) to leave it out too.
 * `clear` and `destroySessionsOf` are unchanged: they destroy such a session as well.
 *
 * @example
 * import * as E from 'fp-ts/Either'
 * import * as O from 'fp-ts/Option'
 * import type { SessionData } from 'express-session'
 * import { pipe } from 'fp-ts/function'
 * import { baseOperations, resolveOptions, withAbsoluteLifetime } from 'connect-redis-session/operations'
 * import { createMemoryClient } from 'connect-redis-session/memory'
 *
 * // A clock that moves only by client.clock.advance.
 * const client = createMemoryClient({ now: () => Date.parse('2030-01-01T00:00:00Z') })
 * const options = resolveOptions({ now: client.clock.now, absoluteLifetimeSeconds: 3600 })
 * assert.ok(E.isRight(options))
 * const deps = { ...options.right, client }
 * // What makeStoreOperations does itself with the option absoluteLifetimeSeconds: 3600.
 * const ops = pipe(baseOperations(deps), withAbsoluteLifetime(deps))
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
 * @category features
 * @since 0.1.0
 */
export const withAbsoluteLifetime =
  (deps: AbsoluteLifetimeDeps): Feature =>
  (ops) => {
    const lifetimeMs = deps.absoluteLifetimeSeconds * 1000
    const within = (session: SessionData): boolean => {
      const stamp = stampOf(session)
      return E.isRight(stamp) && O.isSome(stamp.right) && deps.now() < stamp.right.value + lifetimeMs
    }
    const live =
      (get: StoreOperations['get']): StoreOperations['get'] =>
      (sid) =>
        TE.map((found: O.Option<SessionData>) => O.filter(within)(found))(get(sid))
    const stamped = (session: SessionData): SessionData =>
      isObject(session) && !(CREATED_AT_FIELD in session)
        ? ({ ...session, [CREATED_AT_FIELD]: deps.now() } as SessionData)
        : session
    /** The end of a session's life, or the given bound when it is sooner. */
    const endOf = (sid: string, session: SessionData, bound?: ExpiryBound): E.Either<StoreError, ExpiryBound> => {
      const stamp = stampOf(session)
      if (E.isLeft(stamp)) return E.left(invalidSession(sid, stamp.left))
      const end = (O.isSome(stamp.right) ? stamp.right.value : deps.now()) + lifetimeMs
      return E.right({ notAfter: bound === undefined ? end : Math.min(end, bound.notAfter) })
    }
    const ending =
      (touch: StoreOperations['touch']): StoreOperations['touch'] =>
      (sid, session, bound) => {
        const end = endOf(sid, session, bound)
        return E.isLeft(end) ? TE.left(end.left) : touch(sid, session, end.right)
      }
    const [get, sessionGet] = overBoth(live, ops.get, ops.sessionGet)
    // Every other read of a session sees what get sees: a session past its end is no session.
    const all: StoreOperations['all'] = () =>
      TE.map((found: Record<string, SessionData>) => {
        // A fresh record per call: the sessions past their end are taken out of it.
        for (const sid of Object.keys(found)) if (!within(found[sid] as SessionData)) delete found[sid]
        return found
      })(ops.all())
    const iterate: StoreOperations['iterate'] = () => livePages(ops.iterate(), within)
    // Which sessions are past their end only their values say: ids and length read them, page by page as iterate.
    const ids: StoreOperations['ids'] = () => TE.map((seen: Set<string>) => [...seen])(idsOf(iterate))
    const length: StoreOperations['length'] = () => TE.map((seen: Set<string>) => seen.size)(idsOf(iterate))
    const sessionsOf: StoreOperations['sessionsOf'] = (owner) =>
      TE.map((owned: ReadonlyArray<OwnedSession<SessionData>>) => owned.filter((s) => within(s.session)))(
        ops.sessionsOf(owner)
      )
    const [touch, sessionTouch] = overBoth(ending, ops.touch, ops.sessionTouch)
    return {
      ...ops,
      get,
      sessionGet,
      set: (sid, session, bound, condition) => {
        const first = stamped(session)
        const end = endOf(sid, first, bound)
        return E.isLeft(end) ? TE.left(end.left) : ops.set(sid, first, end.right, condition)
      },
      touch,
      sessionTouch,
      all,
      iterate,
      ids,
      length,
      sessionsOf
    }
  }
