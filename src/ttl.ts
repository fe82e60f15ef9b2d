/**
 * The TTL of a session: how long it lives in Redis, in milliseconds, from its cookie (or the `ttl` function, or
 * the `ttlSeconds` fallback), under an optional bound on its expiry. The type it is about is `TtlOf`; `set`,
 * `touch` and lazy touch all compute a session's TTL through it.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type { IO } from 'fp-ts/lib/IO'
import { invalidSession, type StoreError } from './errors'
import { messageOf } from './refinements'

// --- model

/**
 * The part of a session the TTL depends on. `expires` is a `Date` on a live express-session cookie and an ISO
 * string on a session read back from JSON; `null` is a browser-session cookie (no `maxAge`).
 *
 * @category model
 * @since 0.1.0
 */
export interface Expiring {
  readonly cookie?: { readonly expires?: Date | string | number | null | undefined } | null | undefined
}

/**
 * @category model
 * @since 0.1.0
 */
export interface TtlDeps {
  /** Current time in ms since the epoch. */
  readonly now: IO<number>
  /** Fallback TTL in seconds for sessions without `cookie.expires`; `false` (or `0`) refuses them. */
  readonly ttlSeconds: number | false
  /**
   * Each session's TTL in seconds, whatever its cookie says (connect-redis's `ttl` function): different
   * lifetimes per role, say. A result `<= 0` means the session is over; a throw, a non-number or a result above
   * `MAX_TTL_SECONDS` is an `InvalidSession`.
   */
  readonly ttlFor?: ((session: never) => number) | undefined
}

/**
 * An upper bound on a key's expiry, in ms since the epoch: the key must not outlive it (absolute lifetime passes
 * one to `set` and `touch`). A bound already past makes the session over.
 *
 * @category model
 * @since 0.1.0
 */
export interface ExpiryBound {
  readonly notAfter: number
}

/**
 * A session's remaining life in ms (`<= 0`: over), or why it has none; with a `bound`, at most what is left
 * until `bound.notAfter`.
 *
 * @category model
 * @since 0.1.0
 */
export type TtlOf = (sid: string, sess: Expiring, bound?: ExpiryBound) => E.Either<StoreError, number>

// --- constants

/**
 * The longest TTL the store writes, in seconds: 10 years. Browsers keep a cookie at most 400 days, and Redis refuses a
 * TTL only past what a signed 64-bit count of ms since the epoch holds (`ERR invalid expire time`), so this bound
 * costs no real session and keeps every TTL a whole number of ms well inside a double's integers. `ttlSeconds` and
 * the other lifetimes are checked against it when the store is built, a `ttl` function's result on each save.
 *
 * @category constants
 * @since 0.1.0
 * @internal
 */
export const MAX_TTL_SECONDS = 315_360_000

const MAX_TTL_MS = MAX_TTL_SECONDS * 1000

// --- operations

const ttlFromFunction = (
  ttlFor: (session: never) => number,
  sid: string,
  sess: Expiring
): E.Either<StoreError, number> => {
  let seconds: unknown
  try {
    seconds = ttlFor(sess as never)
  } catch (e) {
    return E.left(invalidSession(sid, `options.ttl(session) threw: ${messageOf(e)}`))
  }
  if (typeof seconds !== 'number' || Number.isNaN(seconds) || seconds === Infinity)
    return E.left(
      invalidSession(
        sid,
        `options.ttl(session) must return a number of seconds, got ${
          typeof seconds === 'number' ? String(seconds) : typeof seconds
        }`
      )
    )
  if (seconds > MAX_TTL_SECONDS)
    return E.left(
      invalidSession(
        sid,
        `options.ttl(session) returned ${seconds} seconds, more than the longest TTL the store writes (${MAX_TTL_SECONDS}, 10 years)`
      )
    )
  return E.right(seconds <= 0 ? 0 : Math.ceil(seconds * 1000))
}

const baseTtl =
  (deps: TtlDeps) =>
  (sid: string, sess: Expiring): E.Either<StoreError, number> => {
    if (typeof sess !== 'object' || sess === null)
      return E.left(invalidSession(sid, `the session must be an object, got ${sess === null ? 'null' : typeof sess}`))
    if (deps.ttlFor !== undefined) return ttlFromFunction(deps.ttlFor, sid, sess)
    const expires = sess.cookie?.expires
    if (expires === undefined || expires === null) {
      return deps.ttlSeconds === false || deps.ttlSeconds === 0
        ? E.left(invalidSession(sid, 'the session has no cookie.expires and the store has no ttlSeconds fallback'))
        : E.right(Math.ceil(deps.ttlSeconds * 1000)) // Redis wants whole milliseconds (1.001 * 1000 is 1000.999…)
    }
    const at = expires instanceof Date ? expires.getTime() : new Date(expires).getTime()
    // A cookie more than 10 years away (a browser keeps it 400 days at most) is kept in Redis for 10 years.
    return Number.isFinite(at)
      ? E.right(Math.min(MAX_TTL_MS, Math.ceil(at - deps.now())))
      : E.left(invalidSession(sid, `cookie.expires is not a valid date: ${String(expires)}`))
  }

/**
 * The remaining life of a session in milliseconds: `ttlFor(session)` when given, else `cookie.expires - now`
 * when the cookie has an expiry (at most 10 years), else `ttlSeconds`; with a `bound`, at most `bound.notAfter - now`, rounded down
 * so that the key never outlives it. A result `<= 0` means the session is already over. A session without expiry
 * when `ttlSeconds` is `false`/`0`, or with an unreadable `expires`, is a `Left`.
 *
 * @category operations
 * @since 0.1.0
 * @ignore
 */
export const computeTtl = (deps: TtlDeps): TtlOf => {
  const ttlOf = baseTtl(deps)
  return (sid, sess, bound) => {
    const ttl = ttlOf(sid, sess)
    if (bound === undefined || E.isLeft(ttl)) return ttl
    const left = Math.floor(bound.notAfter - deps.now())
    return Number.isNaN(left)
      ? E.left(invalidSession(sid, `its expiry bound is not a time: ${String(bound.notAfter)}`))
      : E.right(Math.min(ttl.right, left))
  }
}
