/**
 * The errors of the toolkit: a tagged union, built by constructors and taken apart by `matchStoreError`.
 * Nothing in the core throws; every failure travels as a `Left<StoreError>`.
 *
 * @since 0.1.0
 */
import type { Errors } from 'io-ts'
import { failure } from 'io-ts/lib/PathReporter'

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
 * the store was told to fail at once rather than queue (`whenDisconnected: 'fail'`), or a request has no
 * session to save. Nothing was sent.
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

// --- constructors

/**
 * @category constructors
 * @since 0.1.0
 */
export const commandFailed =
  (command: string, key: string) =>
  (cause: unknown): StoreError => ({ _tag: 'CommandFailed', command, key, cause })

/**
 * @category constructors
 * @since 0.1.0
 */
export const parseFailed =
  (key: string) =>
  (cause: unknown): StoreError => ({ _tag: 'ParseFailed', key, cause })

/**
 * @category constructors
 * @since 0.1.0
 */
export const decodeFailed =
  (key: string) =>
  (errors: Errors): StoreError => ({ _tag: 'DecodeFailed', key, errors })

/**
 * @category constructors
 * @since 0.1.0
 */
export const stringifyFailed =
  (sid: string) =>
  (cause: unknown): StoreError => ({ _tag: 'StringifyFailed', sid, cause })

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
export const tooLarge = (sid: string, bytes: number, limit: number): StoreError => ({ _tag: 'TooLarge', sid, bytes, limit })

/**
 * @category constructors
 * @since 0.1.0
 */
export const timedOut = (operation: string, ms: number): StoreError => ({ _tag: 'TimedOut', operation, ms })

/**
 * @category constructors
 * @since 0.1.0
 */
export const unavailable = (operation: string, reason: string): StoreError => ({ _tag: 'Unavailable', operation, reason })

/**
 * @category constructors
 * @since 0.1.0
 */
export const serializerFailed = (method: 'parse' | 'stringify', reason: string): StoreError => ({ _tag: 'SerializerFailed', method, reason })

// --- destructors

/**
 * Case analysis over `StoreError`: one function per tag.
 *
 * @category destructors
 * @since 0.1.0
 */
export const matchStoreError =
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
    }
  }

// --- adapters

/**
 * The `code` of every error the store passes on, one per kind of failure.
 *
 * @category model
 * @since 0.1.0
 */
export type SessionStoreErrorCode =
  | 'ESESSION_REDIS'
  | 'ESESSION_CORRUPT'
  | 'ESESSION_UNSERIALIZABLE'
  | 'ESESSION_INVALID'
  | 'ESESSION_INVALID_ID'
  | 'ESESSION_TOO_LARGE'
  | 'ETIMEDOUT'
  | 'ESESSION_UNAVAILABLE'
  | 'ESESSION_SERIALIZER'

/**
 * The `Error` handed to express-session and to promise callers: `code` is stable, `cause` is the original
 * failure, and `storeError` is the tagged value. `err instanceof SessionStoreError` holds.
 *
 * @category model
 * @since 0.1.0
 */
export interface SessionStoreError extends Error {
  readonly name: 'SessionStoreError'
  readonly code: SessionStoreErrorCode
  readonly cause: unknown
  readonly storeError: StoreError
}

/**
 * What `SessionStoreError` is at runtime: a function whose `prototype` every store error inherits, so that
 * `err instanceof SessionStoreError` works. Calling it (with or without `new`) builds the error of a
 * `StoreError`, like `toError`.
 *
 * @category model
 * @since 0.1.0
 */
export interface SessionStoreErrorConstructor {
  new (e: StoreError): SessionStoreError
  (e: StoreError): SessionStoreError
  readonly prototype: SessionStoreError
}

/**
 * A session id (or key) in a message: everything up to the last `:` (the prefix) and the first 4 characters
 * of the id. Ids are bearer secrets and error messages end up in logs; the full key stays available, as
 * data, in `storeError`.
 *
 * @internal
 */
export const redact = (s: string): string => {
  const cut = s.lastIndexOf(':') + 1
  const id = s.slice(cut)
  return id.length > 4 ? `${s.slice(0, cut)}${id.slice(0, 4)}…` : s
}

/** What node-redis's message-less errors mean, by constructor name. */
const SILENT_ERRORS: Readonly<Record<string, string>> = {
  TimeoutError:
    'node-redis TimeoutError: the command waited longer than the client\'s command timeout (commandOptions.timeout) without an answer; Redis is unreachable or too slow',
  AbortError: 'node-redis AbortError: the command was aborted'
}

/**
 * A failure as one readable sentence, never empty: the error's message, or, for errors without one (node-redis's
 * `TimeoutError`), what its kind means.
 *
 * @internal
 */
export const describeCause = (cause: unknown): string => {
  if (cause instanceof Error) {
    const kind = cause.constructor?.name !== undefined && cause.constructor.name !== 'Error' ? cause.constructor.name : cause.name
    if (cause.message.trim() !== '') return cause.message
    return SILENT_ERRORS[kind] ?? `${kind} (the error has no message)`
  }
  if (typeof cause === 'string' && cause.trim() !== '') return cause
  return `unknown failure (${cause === undefined ? 'no error was given' : typeof cause === 'object' ? 'a non-Error object' : String(cause)})`
}

/**
 * Each io-ts error as `path.to.field: <io-ts PathReporter message>`.
 *
 * @internal
 */
export const describeDecodeErrors = (errors: Errors): string =>
  failure(errors)
    .map((message, i) => {
      const path = (errors[i]?.context ?? [])
        .map((c) => c.key)
        .filter((k) => k !== '')
        .join('.')
      return `${path === '' ? '(root)' : path}: ${message}`
    })
    .join('; ')

/** The stable code and the message of a `StoreError`. */
const render = matchStoreError<readonly [SessionStoreErrorCode, string]>({
  CommandFailed: (x) => ['ESESSION_REDIS', `Redis ${x.command} on key "${redact(x.key)}" failed: ${describeCause(x.cause)}`],
  ParseFailed: (x) => ['ESESSION_CORRUPT', `Stored session at key "${redact(x.key)}" could not be parsed: ${describeCause(x.cause)}`],
  DecodeFailed: (x) => ['ESESSION_CORRUPT', `Stored session at key "${redact(x.key)}" is invalid: ${describeDecodeErrors(x.errors)}`],
  StringifyFailed: (x) => ['ESESSION_UNSERIALIZABLE', `Session "${redact(x.sid)}" could not be serialized: ${describeCause(x.cause)}`],
  InvalidSession: (x) => ['ESESSION_INVALID', `Session "${redact(x.sid)}" was not saved: ${x.reason}`],
  InvalidId: (x) => ['ESESSION_INVALID_ID', `Invalid session id: ${x.reason}`],
  TooLarge: (x) => ['ESESSION_TOO_LARGE', `Session "${redact(x.sid)}" was not saved: ${x.bytes} bytes serialized, maxPayloadBytes is ${x.limit}`],
  TimedOut: (x) => [
    'ETIMEDOUT',
    `Redis did not answer the session ${x.operation} within operationTimeoutMs (${x.ms} ms): Redis is down, hung or unreachable; the command may still run`
  ],
  Unavailable: (x) => ['ESESSION_UNAVAILABLE', `Session ${x.operation} failed: ${x.reason}`],
  SerializerFailed: (x) => ['ESESSION_SERIALIZER', `serializer.${x.method} ${x.reason}`]
})

/**
 * Turns a `StoreError` into a real `Error` with a stable `code` and a `cause`.
 *
 * @category adapters
 * @since 0.1.0
 */
export const toError = (e: StoreError): SessionStoreError => {
  const [code, message] = render(e)
  // The original failure where there is one (node-redis's error, the parser's, io-ts's errors); otherwise the
  // tagged value itself, so every error has a cause to inspect.
  const cause = 'cause' in e ? e.cause : e._tag === 'DecodeFailed' ? e.errors : e
  // An Error whose prototype is SessionStoreError.prototype (stack trace included), without a class.
  const error = Reflect.construct(Error, [message, { cause }], SessionStoreError) as SessionStoreError
  return Object.assign(error, { code, storeError: e })
}

/**
 * @category adapters
 * @since 0.1.0
 */
export const SessionStoreError = function SessionStoreError(e: StoreError): SessionStoreError {
  return toError(e)
} as unknown as SessionStoreErrorConstructor
Object.setPrototypeOf(SessionStoreError.prototype, Error.prototype)
Object.defineProperty(SessionStoreError.prototype, 'name', { value: 'SessionStoreError', writable: true, configurable: true, enumerable: false })
