/**
 * A serializer that validates what it reads with an io-ts codec.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import { pipe } from 'fp-ts/lib/function'
import type { SessionData } from 'express-session'
import type { Decoder, Encoder, Errors } from 'io-ts'
import { failure } from 'io-ts/lib/PathReporter'
import { safeJsonParse, safeJsonStringify } from './json'
import type { ParseIssue, Serializer } from './serializer'
import { asSessionData } from './session'

/**
 * A codec for the **stored JSON shape** of a session (`cookie.expires` is an ISO string there). Any io-ts
 * `Type` fits; only `decode` is required, `encode` is used when present.
 *
 * @category model
 * @since 0.1.0
 */
export type SessionCodec<A> = Pick<Decoder<unknown, A>, 'decode'> & Partial<Pick<Encoder<A, unknown>, 'encode'>>

/**
 * A JSON serializer whose `parse` runs `codec.decode` on the parsed value (after prototype scrubbing).
 * Invalid data is a `Left` carrying io-ts's errors, which the store reports with the key and failing paths.
 * The codec describes the stored JSON (`StoredSession`: `cookie.expires` an ISO string); the decoded value is
 * then checked and revived by `asSessionData`, so the store hands back `SessionData` (`cookie.expires` a
 * `Date`).
 *
 * @example
 * import * as E from 'fp-ts/Either'
 * import * as t from 'io-ts'
 * import { createClient } from 'redis'
 * import { codecSerializer, createRedisStore } from 'connect-redis-session'
 *
 * // The stored JSON: `cookie.expires` is an ISO string (or null) there.
 * const StoredSession = t.type({ cookie: t.type({ expires: t.union([t.string, t.null]) }), userId: t.string })
 * const serializer = codecSerializer(StoredSession)
 * createRedisStore(createClient(), { serializer })
 *
 * const valid = serializer.parse('{"cookie":{"expires":"2030-01-01T00:00:00.000Z"},"userId":"u1"}')
 * assert.ok(E.isRight(valid) && valid.right.cookie.expires instanceof Date) // handed back as SessionData
 * // A value the codec rejects is corrupt: the store emits `corrupt`, then answers a miss (or fails, per onCorrupt).
 * const invalid = serializer.parse('{"cookie":{"expires":null},"userId":42}')
 * assert.ok(E.isLeft(invalid) && invalid.left._tag === 'Invalid')
 *
 * @category serializers
 * @since 0.1.0
 */
export const codecSerializer = <A>(codec: SessionCodec<A>): Serializer<SessionData> => {
  const serializer = makeCodecSerializer(codec)
  return {
    _tag: 'Serializer',
    stringify: serializer.stringify as Serializer<SessionData>['stringify'],
    parse: (raw, context) => E.flatMap(serializer.parse(raw, context), asSessionData)
  }
}

/**
 * `codecSerializer` keeping the codec's own type, for custom stores built from the operations.
 *
 * @category serializers
 * @since 0.1.0
 */
export const makeCodecSerializer = <A>(codec: SessionCodec<A>): Serializer<A> => ({
  _tag: 'Serializer',
  stringify: (value) =>
    pipe(
      E.tryCatch(
        () => (codec.encode === undefined ? value : codec.encode(value)),
        (e) => e
      ),
      E.flatMap(safeJsonStringify)
    ),
  parse: (raw) =>
    pipe(
      safeJsonParse(raw),
      E.flatMap((value) =>
        E.tryCatch(
          () => codec.decode(value),
          (e) => e
        )
      ),
      E.mapLeft((cause): ParseIssue => ({ _tag: 'Unparsable', cause })),
      E.flatMap(E.mapLeft((errors): ParseIssue => ({ _tag: 'Invalid', errors })))
    )
})

/**
 * Each io-ts error as `path.to.field: <io-ts PathReporter message>`, for error messages.
 *
 * @category errors
 * @since 0.1.0
 * @ignore
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
