/**
 * How sessions become Redis strings and back. Inside the toolkit a serializer is a pair of pure functions
 * returning `Either` (`Serializer<A>`); a plain `{ stringify, parse }` pair, as connect-redis takes, is accepted too.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type { Errors } from 'io-ts'
import { decodeFailed, parseFailed, serializerFailed, stringifyFailed, tooLarge, type StoreError } from '../errors'
import { isObject } from '../refinements'

// --- model

/**
 * Why a stored value could not be read: it is not parseable, or it parsed but failed validation.
 *
 * @category model
 * @since 0.1.0
 */
export type ParseIssue =
  | { readonly _tag: 'Unparsable'; readonly cause: unknown }
  | { readonly _tag: 'Invalid'; readonly errors: Errors }
  /** The serializer itself broke its contract (it returned a `Promise`): a configuration error, not corrupt data. */
  | { readonly _tag: 'Broken'; readonly reason: string }

/**
 * What the store tells a serializer about the value at hand: the session id it is read for or written for.
 * Plain serializers ignore it; `encryptedSerializer` binds the value to it.
 *
 * @category model
 * @since 0.1.0
 */
export interface SerializerContext {
  readonly sid: string
}

/**
 * A serializer in the toolkit's own form: total functions, failures as `Left`. The store passes a
 * `SerializerContext` as the second argument; a serializer that does not need it takes one argument.
 *
 * @category model
 * @since 0.1.0
 */
export interface Serializer<A> {
  readonly _tag: 'Serializer'
  readonly stringify: (value: A, context?: SerializerContext) => E.Either<unknown, string>
  readonly parse: (raw: string, context?: SerializerContext) => E.Either<ParseIssue, A>
}

/**
 * A serializer as connect-redis takes it: two plain functions that may throw (like the global `JSON`).
 *
 * @category model
 * @since 0.1.0
 */
export interface PlainSerializer<A> {
  readonly stringify: (value: A) => string
  readonly parse: (text: string) => A
}

// --- constructors

const isThenable = (u: unknown): u is PromiseLike<unknown> =>
  (typeof u === 'object' || typeof u === 'function') &&
  u !== null &&
  typeof (u as { readonly then?: unknown }).then === 'function'

/** A promise handed back by a serializer is dropped: its rejection must not become an unhandled one. */
const drop = (p: PromiseLike<unknown>): void => {
  try {
    p.then(undefined, () => undefined)
  } catch {
    // a thenable whose then throws: nothing to drop
  }
}

const ASYNC =
  'returned a Promise: serializers must be synchronous (parse and stringify must return their result, not a promise of it)'

/**
 * Whether `f` is an `async` function (or an async generator): such a serializer can only return promises.
 *
 * @internal
 */
export const isAsyncFunction = (f: unknown): boolean =>
  typeof f === 'function' && /^Async/.test(f.constructor?.name ?? '')

/**
 * Wraps a plain `{ stringify, parse }` pair so that a throw (or a non-string result) becomes a `Left`. A
 * `Promise` returned by either is refused (`SerializerFailed`, code `ESESSION_SERIALIZER`), never passed on
 * as a session or a stored value.
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromPlainSerializer = <A>(plain: PlainSerializer<A>): Serializer<A> => ({
  _tag: 'Serializer',
  stringify: (value) =>
    E.flatMap(
      E.tryCatch(
        () => plain.stringify(value) as unknown,
        (e) => e
      ),
      (s) => {
        if (typeof s === 'string') return E.right(s)
        if (isThenable(s)) {
          drop(s)
          return E.left(serializerFailed('stringify', ASYNC))
        }
        return E.left(serializerFailed('stringify', `returned ${s === null ? 'null' : typeof s}, not a string`))
      }
    ),
  parse: (raw) =>
    E.flatMap(
      E.tryCatch(
        () => plain.parse(raw) as unknown,
        (cause): ParseIssue => ({ _tag: 'Unparsable', cause })
      ),
      (value) => {
        if (!isThenable(value)) return E.right(value as A)
        drop(value)
        return E.left({ _tag: 'Broken', reason: ASYNC })
      }
    )
})

const isSerializer = <A>(s: Serializer<A> | PlainSerializer<A>): s is Serializer<A> =>
  '_tag' in s && s._tag === 'Serializer'

/**
 * Accepts either form of serializer.
 *
 * @category constructors
 * @since 0.1.0
 * @ignore
 */
export const toSerializer = <A>(s: Serializer<A> | PlainSerializer<A>): Serializer<A> =>
  isSerializer(s) ? s : fromPlainSerializer(s)

// --- errors

/**
 * An `Unparsable` issue, its cause a `TypeError` with `message`.
 *
 * @internal
 */
export const unparsable = (message: string): E.Either<ParseIssue, never> =>
  E.left({ _tag: 'Unparsable', cause: new TypeError(message) })

/**
 * A `ParseIssue` for the value stored at `key`, as a `StoreError`.
 *
 * @category errors
 * @since 0.1.0
 * @ignore
 */
export const parseIssueAt =
  (key: string) =>
  (issue: ParseIssue): StoreError =>
    issue._tag === 'Unparsable'
      ? parseFailed(key, issue.cause)
      : issue._tag === 'Invalid'
      ? decodeFailed(key, issue.errors)
      : serializerFailed('parse', issue.reason)

/**
 * Serializes `value` for session `sid`, failures as `StringifyFailed`.
 *
 * @category errors
 * @since 0.1.0
 * @ignore
 */
export const stringifyFor = <A>(serializer: Serializer<A>, sid: string, value: A): E.Either<StoreError, string> => {
  const text = serializer.stringify(value, { sid })
  return E.isRight(text) ? text : E.left(isSerializerFailure(text.left) ? text.left : stringifyFailed(sid, text.left))
}

const isSerializerFailure = (u: unknown): u is StoreError => isObject(u) && u['_tag'] === 'SerializerFailed'

// --- limits

/**
 * Default `maxPayloadBytes`: 1 MiB.
 *
 * @category constants
 * @since 0.1.0
 * @ignore
 */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024

/** UTF-8 size of `s`, computed only when it could exceed `limit` (a UTF-16 unit is at most 3 bytes). */
const exceeds = (s: string, limit: number): number | undefined => {
  if (s.length * 3 <= limit) return undefined
  const bytes = Buffer.byteLength(s)
  return bytes > limit ? bytes : undefined
}

/**
 * Parses the value stored at `key` for session `sid` (passed on to the serializer). A value larger than `maxBytes` is not parsed at all and reported like
 * an unparseable one (`ParseFailed`): it is corrupt as far as the store is concerned.
 *
 * @category serializers
 * @since 0.1.0
 * @ignore
 */
export const parseStored =
  <A>(serializer: Serializer<A>, maxBytes: number = DEFAULT_MAX_PAYLOAD_BYTES) =>
  (key: string, raw: string, sid?: string): E.Either<StoreError, A> => {
    const bytes = exceeds(raw, maxBytes)
    if (bytes !== undefined)
      return E.left(
        parseFailed(key, new RangeError(`stored value of ${bytes} bytes exceeds maxPayloadBytes (${maxBytes})`))
      )
    const parsed = serializer.parse(raw, sid === undefined ? undefined : { sid })
    return E.isLeft(parsed) ? E.left(parseIssueAt(key)(parsed.left)) : parsed
  }

/**
 * Serializes `value` for session `sid`; a result larger than `maxBytes` is `TooLarge`.
 *
 * @category serializers
 * @since 0.1.0
 * @ignore
 */
export const stringifyBounded = <A>(
  serializer: Serializer<A>,
  sid: string,
  value: A,
  maxBytes: number = DEFAULT_MAX_PAYLOAD_BYTES
): E.Either<StoreError, string> => {
  const text = stringifyFor(serializer, sid, value)
  if (E.isLeft(text)) return text
  const bytes = exceeds(text.right, maxBytes)
  return bytes === undefined ? text : E.left(tooLarge(sid, bytes, maxBytes))
}

/**
 * Whether an error means "the stored value is unusable" (unparseable, invalid, or too large).
 *
 * @category errors
 * @since 0.1.0
 * @ignore
 */
export const isCorrupt = (e: StoreError): boolean => e._tag === 'ParseFailed' || e._tag === 'DecodeFailed'
