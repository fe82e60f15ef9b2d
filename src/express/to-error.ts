/**
 * The edge of the toolkit: a `StoreError` rendered as the `Error` express-session and promise callers get,
 * with a stable `code`, a message that says what happened (ids cut, io-ts paths spelled out) and a `cause`.
 *
 * @since 0.1.0
 */
import { codeOf, type SessionStoreErrorCode as ErrorCode } from '../error-codes'
import { match, type StoreError } from '../errors'
import { messageOf } from '../refinements'
import { describeDecodeErrors } from '../serializer/codec'

// --- model

/**
 * The `code` of every error the store passes on, one per kind of failure (defined in src/error-codes.ts).
 *
 * @category model
 * @since 0.1.0
 */
export type SessionStoreErrorCode = ErrorCode

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
    "node-redis TimeoutError: the command waited longer than the client's command timeout (commandOptions.timeout) without an answer; Redis is unreachable or too slow",
  AbortError: 'node-redis AbortError: the command was aborted'
}

/** An error's kind (`TimeoutError`, …): its constructor's name, else its `name`; `'Error'` when neither reads. */
const errorKind = (cause: Error): string => {
  try {
    const byConstructor: unknown = cause.constructor?.name
    if (typeof byConstructor === 'string' && byConstructor !== '' && byConstructor !== 'Error') return byConstructor
    return typeof cause.name === 'string' && cause.name !== '' ? cause.name : 'Error'
  } catch {
    return 'Error'
  }
}

/**
 * A failure as one readable sentence, never empty: the error's message, or, for errors without one (node-redis's
 * `TimeoutError`), what its kind means.
 *
 * @internal
 */
export const describeCause = (cause: unknown): string => {
  if (cause instanceof Error) {
    const message = messageOf(cause)
    if (message.trim() !== '') return message
    const kind = errorKind(cause)
    return SILENT_ERRORS[kind] ?? `${kind} (the error has no message)`
  }
  if (typeof cause === 'string' && cause.trim() !== '') return cause
  return `unknown failure (${
    cause === undefined ? 'no error was given' : typeof cause === 'object' ? 'a non-Error object' : messageOf(cause)
  })`
}

/** The message of a `StoreError`. */
const render: (e: StoreError) => string = match<string>({
  CommandFailed: (x) => `Redis ${x.command} on key "${redact(x.key)}" failed: ${describeCause(x.cause)}`,
  ParseFailed: (x) => `Stored session at key "${redact(x.key)}" could not be parsed: ${describeCause(x.cause)}`,
  DecodeFailed: (x) => `Stored session at key "${redact(x.key)}" is invalid: ${describeDecodeErrors(x.errors)}`,
  StringifyFailed: (x) => `Session "${redact(x.sid)}" could not be serialized: ${describeCause(x.cause)}`,
  InvalidSession: (x) => `Session "${redact(x.sid)}" was not saved: ${x.reason}`,
  InvalidId: (x) => `Invalid session id: ${x.reason}`,
  TooLarge: (x) =>
    `Session "${redact(x.sid)}" was not saved: ${x.bytes} bytes serialized, maxPayloadBytes is ${x.limit}`,
  TimedOut: (x) =>
    `Redis did not answer the session ${x.operation} within operationTimeoutMs (${x.ms} ms): Redis is down, hung or unreachable; the command may still run`,
  Unavailable: (x) => `Session ${x.operation} failed: ${x.reason}`,
  SerializerFailed: (x) => `serializer.${x.method} ${x.reason}`,
  Defect: (x) => `The session store hit an unexpected exception: ${describeCause(x.cause)}`,
  NotReplicated: (x) =>
    `Session at key "${redact(x.key)}" was destroyed on the primary, but ${x.acknowledged} of ${
      x.required
    } replicas confirmed it within ${x.timeoutMs} ms (WAIT): a failover now could bring it back`,
  NotConfigured: (x) =>
    `Session ${x.operation} needs the ${x.option} option, which this store was built without: createRedisStore(client, { ${x.option} })`,
  NoSession: (x) =>
    `Session ${x.operation} failed: req.session is undefined: the session middleware did not run for this request, or it skipped the store while Redis was disconnected (whenDisconnected: bypass)`,
  InvalidOwner: (x) => `Invalid owner: ${x.reason}`,
  WalkFailed: (x) =>
    `Session ${x.operation} stopped after ${x.pages} pages (${x.done} sessions ${
      x.operation === 'clear' ? 'tombstoned' : 'done'
    }; the pages in flight were awaited, none was started after the failure): ${render(x.cause)}`,
  Conflict: (x) =>
    x.mode === 'fail'
      ? `Session "${redact(
          x.sid
        )}" was saved by another request since this one loaded it; not saved (concurrentSaves: 'fail')`
      : `Session "${redact(x.sid)}" was saved by other requests during each of ${
          x.attempts
        } merges; not saved (concurrentSaves: 'merge')`
})

/**
 * Turns a `StoreError` into a real `Error` with a stable `code` and a `cause` (what `SessionStoreError(e)` does).
 *
 * @internal
 */
export const toError = (e: StoreError): SessionStoreError => {
  const code = codeOf(e)
  const message = render(e)
  // The original failure where there is one (node-redis's error, the parser's, io-ts's errors); otherwise the
  // tagged value itself, so every error has a cause to inspect.
  // A walk's cause is a StoreError: it is rendered as an Error of its own (its code, its message).
  const cause =
    e._tag === 'WalkFailed' ? toError(e.cause) : 'cause' in e ? e.cause : e._tag === 'DecodeFailed' ? e.errors : e
  // An Error whose prototype is SessionStoreError.prototype (stack trace included), without a class.
  const error = Reflect.construct(Error, [message, { cause }], SessionStoreError) as SessionStoreError
  return Object.assign(error, { code, storeError: e })
}

/**
 * The `Error` of a `StoreError`, with or without `new`: a stable `code`, a message with ids cut, the original failure
 * as `cause`, and the tagged value as `storeError`. Every error a store method reports is one of these.
 *
 * @example
 * import { SessionStoreError } from 'connect-redis-session'
 * import * as StoreError from 'connect-redis-session/errors'
 *
 * const err = SessionStoreError(StoreError.tooLarge('s3cr3t-session-id', 2_000_000, 1_048_576))
 *
 * assert.ok(err instanceof SessionStoreError && err instanceof Error)
 * assert.strictEqual(err.code, 'ESESSION_TOO_LARGE')
 * assert.strictEqual(err.storeError._tag, 'TooLarge') // the tagged value, as data
 * assert.ok(!err.message.includes('s3cr3t-session-id')) // ids are secrets: a message shows only their first characters
 *
 * @category adapters
 * @since 0.1.0
 */
export const SessionStoreError = function SessionStoreError(e: StoreError): SessionStoreError {
  return toError(e)
} as unknown as SessionStoreErrorConstructor
Object.setPrototypeOf(SessionStoreError.prototype, Error.prototype)
Object.defineProperty(SessionStoreError.prototype, 'name', {
  value: 'SessionStoreError',
  writable: true,
  configurable: true,
  enumerable: false
})
