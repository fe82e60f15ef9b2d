/**
 * The errors of the toolkit: `StoreError`, a tagged union with one member per kind of failure, built by its
 * constructors and taken apart by `match`. Each tag means one thing. Nothing in the core throws; every failure
 * travels as a `Left<StoreError>`. Turning one into an `Error` for express-session is the facade's business
 * (`toError`).
 *
 * @since 0.1.0
 */
import type { Errors } from 'io-ts'

// --- model

/**
 * A Redis command (or script) failed: connection lost, OOM, READONLY, ACL refusal, …
 *
 * @category model
 * @since 0.1.0
 */
export interface CommandFailed {
  readonly _tag: 'CommandFailed'
  readonly command: string
  readonly key: string
  readonly cause: unknown
}

/**
 * A stored value could not be parsed by the serializer.
 *
 * @category model
 * @since 0.1.0
 */
export interface ParseFailed {
  readonly _tag: 'ParseFailed'
  readonly key: string
  readonly cause: unknown
}

/**
 * A stored value parsed, but did not pass the io-ts codec. `errors` are kept as data.
 *
 * @category model
 * @since 0.1.0
 */
export interface DecodeFailed {
  readonly _tag: 'DecodeFailed'
  readonly key: string
  readonly errors: Errors
}

/**
 * A session could not be serialized (a cycle, a BigInt, a throwing `toJSON`, …).
 *
 * @category model
 * @since 0.1.0
 */
export interface StringifyFailed {
  readonly _tag: 'StringifyFailed'
  readonly sid: string
  readonly cause: unknown
}

/**
 * A session cannot be saved as given: it is not an object, it has no expiry (`cookie.expires` missing and
 * `ttlSeconds` is `false`/`0`), or its `cookie.expires` is not a valid date.
 *
 * @category model
 * @since 0.1.0
 */
export interface InvalidSession {
  readonly _tag: 'InvalidSession'
  readonly sid: string
  readonly reason: string
}

/**
 * A session id the store refuses: not a string, empty, too long, with control characters, or outside the
 * strict alphabet when `strictSessionIds` is on. Nothing is sent to Redis.
 *
 * @category model
 * @since 0.1.0
 */
export interface InvalidId {
  readonly _tag: 'InvalidId'
  readonly reason: string
}

/**
 * A session whose serialized form is larger than `maxPayloadBytes`. Nothing is written.
 *
 * @category model
 * @since 0.1.0
 */
export interface TooLarge {
  readonly _tag: 'TooLarge'
  readonly sid: string
  readonly bytes: number
  readonly limit: number
}

/**
 * An operation that did not finish within `operationTimeoutMs`. Its command may still run in Redis.
 *
 * @category model
 * @since 0.1.0
 */
export interface TimedOut {
  readonly _tag: 'TimedOut'
  readonly operation: string
  readonly ms: number
}

/**
 * The client reports that it is not connected to Redis (it is reconnecting, or was never connected), and
 * the store was told to fail at once rather than queue (`whenDisconnected: 'fail'`). Nothing was sent.
 *
 * @category model
 * @since 0.1.0
 */
export interface Unavailable {
  readonly _tag: 'Unavailable'
  readonly operation: string
  readonly reason: string
}

/**
 * The serializer broke its contract: it returned a `Promise` (serializers are synchronous) or something
 * that is not a string or a session. A configuration error, never treated as a corrupt value.
 *
 * @category model
 * @since 0.1.0
 */
export interface SerializerFailed {
  readonly _tag: 'SerializerFailed'
  readonly method: 'parse' | 'stringify'
  readonly reason: string
}

/**
 * An exception thrown where none should be (a bug in the store, or in a function the application passed
 * in): caught and reported instead of crashing or hanging the request.
 *
 * @category model
 * @since 0.1.0
 */
export interface Defect {
  readonly _tag: 'Defect'
  readonly cause: unknown
}

/**
 * An operation the store was built without: `sessionsOf` and `destroySessionsOf` need the `ownerOf` option.
 * Nothing was sent.
 *
 * @category model
 * @since 0.1.0
 */
export interface NotConfigured {
  readonly _tag: 'NotConfigured'
  readonly operation: string
  /** The option the operation needs. */
  readonly option: string
}

/**
 * A request without `req.session` given to `saveSession`, `regenerateSession` or `destroySession`: the session
 * middleware did not run for it, or skipped the store while Redis was disconnected (`whenDisconnected: 'bypass'`).
 *
 * @category model
 * @since 0.1.0
 */
export interface NoSession {
  readonly _tag: 'NoSession'
  readonly operation: 'save' | 'regenerate' | 'destroy' | 'rotate'
}

/**
 * An owner the owner index refuses (`sessionsOf('')`, or `ownerOf` answering something that is no owner): it
 * must be a non-empty string of at most 256 UTF-8 bytes without control characters. Nothing is sent.
 *
 * @category model
 * @since 0.1.0
 */
export interface InvalidOwner {
  readonly _tag: 'InvalidOwner'
  readonly reason: string
}

/**
 * A destroy (or clear) whose tombstone the primary holds, but fewer replicas than `waitReplicas` confirmed
 * within `waitTimeoutMs` (`WAIT`): a failover right now could lose the logout.
 *
 * @category model
 * @since 0.1.0
 */
export interface NotReplicated {
  readonly _tag: 'NotReplicated'
  readonly key: string
  readonly acknowledged: number
  readonly required: number
  readonly timeoutMs: number
}

/**
 * A walk over the sessions (`all`, `ids`, `length`, `clear`) stopped at its first failed page: no page was started
 * after it, the pages already in flight were awaited, and `pages` of them (`done` sessions: read, counted or, for
 * `clear`, tombstoned) had completed. `cause` is the failure that stopped it (a `CommandFailed` naming the command,
 * a `TimedOut`, …).
 *
 * @category model
 * @since 0.1.0
 */
export interface WalkFailed {
  readonly _tag: 'WalkFailed'
  readonly operation: string
  readonly pages: number
  readonly done: number
  readonly cause: StoreError
}

/**
 * A save lost to a concurrent one (`concurrentSaves`): the session was saved by another request since this one
 * loaded it, and the save was refused rather than overwrite that change — at once with `'fail'`, or with `'merge'`
 * after `attempts` merges that each met yet another save. Nothing was written.
 *
 * @category model
 * @since 0.1.0
 */
export interface Conflict {
  readonly _tag: 'Conflict'
  readonly sid: string
  readonly mode: 'merge' | 'fail'
  readonly attempts: number
}

/**
 * Anything the store can fail with.
 *
 * @category model
 * @since 0.1.0
 */
export type StoreError =
  | CommandFailed
  | ParseFailed
  | DecodeFailed
  | StringifyFailed
  | InvalidSession
  | InvalidId
  | TooLarge
  | TimedOut
  | Unavailable
  | SerializerFailed
  | Defect
  | NotReplicated
  | NotConfigured
  | NoSession
  | InvalidOwner
  | WalkFailed
  | Conflict

// --- constructors

/**
 * @category constructors
 * @since 0.1.0
 */
export const commandFailed = (command: string, key: string, cause: unknown): StoreError => ({
  _tag: 'CommandFailed',
  command,
  key,
  cause
})

/**
 * @category constructors
 * @since 0.1.0
 */
export const parseFailed = (key: string, cause: unknown): StoreError => ({ _tag: 'ParseFailed', key, cause })

/**
 * @category constructors
 * @since 0.1.0
 */
export const decodeFailed = (key: string, errors: Errors): StoreError => ({ _tag: 'DecodeFailed', key, errors })

/**
 * @category constructors
 * @since 0.1.0
 */
export const stringifyFailed = (sid: string, cause: unknown): StoreError => ({ _tag: 'StringifyFailed', sid, cause })

/**
 * @category constructors
 * @since 0.1.0
 */
export const invalidSession = (sid: string, reason: string): StoreError => ({ _tag: 'InvalidSession', sid, reason })

/**
 * @category constructors
 * @since 0.1.0
 */
export const invalidId = (reason: string): StoreError => ({ _tag: 'InvalidId', reason })

/**
 * @category constructors
 * @since 0.1.0
 */
export const tooLarge = (sid: string, bytes: number, limit: number): StoreError => ({
  _tag: 'TooLarge',
  sid,
  bytes,
  limit
})

/**
 * @category constructors
 * @since 0.1.0
 */
export const timedOut = (operation: string, ms: number): StoreError => ({ _tag: 'TimedOut', operation, ms })

/**
 * @category constructors
 * @since 0.1.0
 */
export const unavailable = (operation: string, reason: string): StoreError => ({
  _tag: 'Unavailable',
  operation,
  reason
})

/**
 * @category constructors
 * @since 0.1.0
 */
export const serializerFailed = (method: 'parse' | 'stringify', reason: string): StoreError => ({
  _tag: 'SerializerFailed',
  method,
  reason
})

/**
 * @category constructors
 * @since 0.1.0
 */
export const defect = (cause: unknown): StoreError => ({ _tag: 'Defect', cause })

/**
 * @category constructors
 * @since 0.1.0
 */
export const notReplicated = (key: string, acknowledged: number, required: number, timeoutMs: number): StoreError => ({
  _tag: 'NotReplicated',
  key,
  acknowledged,
  required,
  timeoutMs
})

/**
 * @category constructors
 * @since 0.1.0
 */
export const notConfigured = (operation: string, option: string): StoreError => ({
  _tag: 'NotConfigured',
  operation,
  option
})

/**
 * @category constructors
 * @since 0.1.0
 */
export const noSession = (operation: 'save' | 'regenerate' | 'destroy' | 'rotate'): StoreError => ({
  _tag: 'NoSession',
  operation
})

/**
 * @category constructors
 * @since 0.1.0
 */
export const invalidOwner = (reason: string): StoreError => ({ _tag: 'InvalidOwner', reason })

/**
 * @category constructors
 * @since 0.1.0
 */
export const walkFailed = (operation: string, pages: number, done: number, cause: StoreError): StoreError => ({
  _tag: 'WalkFailed',
  operation,
  pages,
  done,
  cause
})

/**
 * @category constructors
 * @since 0.1.0
 */
export const conflict = (sid: string, mode: 'merge' | 'fail', attempts: number): StoreError => ({
  _tag: 'Conflict',
  sid,
  mode,
  attempts
})

// --- destructors

/**
 * Case analysis over `StoreError`: one function per tag.
 *
 * @example
 * import { invalidId, match, timedOut, tooLarge } from 'connect-redis-session/errors'
 *
 * // An HTTP status per failure; the compiler checks that every tag has its case.
 * const statusOf = match<number>({
 *   CommandFailed: () => 503,
 *   TimedOut: () => 503,
 *   Unavailable: () => 503,
 *   InvalidId: () => 400,
 *   InvalidSession: () => 400,
 *   TooLarge: () => 413,
 *   ParseFailed: () => 500,
 *   DecodeFailed: () => 500,
 *   StringifyFailed: () => 500,
 *   SerializerFailed: () => 500,
 *   Defect: () => 500,
 *   NotReplicated: () => 503,
 *   NotConfigured: () => 500,
 *   NoSession: () => 500,
 *   InvalidOwner: () => 400,
 *   WalkFailed: () => 503,
 *   Conflict: () => 409
 * })
 *
 * assert.strictEqual(statusOf(timedOut('get', 2000)), 503)
 * assert.strictEqual(statusOf(invalidId('empty')), 400)
 * assert.strictEqual(statusOf(tooLarge('abc', 2_000_000, 1_048_576)), 413)
 *
 * @category destructors
 * @since 0.1.0
 */
export const match =
  <B>(patterns: { readonly [K in StoreError['_tag']]: (e: Extract<StoreError, { _tag: K }>) => B }) =>
  (e: StoreError): B => {
    switch (e._tag) {
      case 'CommandFailed':
        return patterns.CommandFailed(e)
      case 'ParseFailed':
        return patterns.ParseFailed(e)
      case 'DecodeFailed':
        return patterns.DecodeFailed(e)
      case 'StringifyFailed':
        return patterns.StringifyFailed(e)
      case 'InvalidSession':
        return patterns.InvalidSession(e)
      case 'InvalidId':
        return patterns.InvalidId(e)
      case 'TooLarge':
        return patterns.TooLarge(e)
      case 'TimedOut':
        return patterns.TimedOut(e)
      case 'Unavailable':
        return patterns.Unavailable(e)
      case 'SerializerFailed':
        return patterns.SerializerFailed(e)
      case 'Defect':
        return patterns.Defect(e)
      case 'NotReplicated':
        return patterns.NotReplicated(e)
      case 'NotConfigured':
        return patterns.NotConfigured(e)
      case 'NoSession':
        return patterns.NoSession(e)
      case 'InvalidOwner':
        return patterns.InvalidOwner(e)
      case 'WalkFailed':
        return patterns.WalkFailed(e)
      case 'Conflict':
        return patterns.Conflict(e)
    }
  }
