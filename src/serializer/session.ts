/**
 * The two shapes of a session: as Redis stores it (JSON, `cookie.expires` an ISO string) and as the store
 * hands it back (`SessionData`, `cookie.expires` a `Date`, as its type says).
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type { SessionData } from 'express-session'
import { isRecord } from '../refinements'
import { toSerializer, unparsable, type ParseIssue, type PlainSerializer, type Serializer } from './serializer'

// --- model

/**
 * An express-session cookie in its stored JSON shape: what `Cookie.prototype.toJSON` writes.
 *
 * @category model
 * @since 0.1.0
 */
export interface StoredCookie {
  readonly originalMaxAge?: number | null
  /** An ISO date, or `null` for a browser-session cookie. */
  readonly expires?: string | null
  readonly secure?: boolean | 'auto'
  readonly httpOnly?: boolean
  readonly domain?: string
  readonly path?: string
  readonly sameSite?: boolean | 'lax' | 'strict' | 'none'
  readonly priority?: 'low' | 'medium' | 'high'
  readonly partitioned?: boolean
}

/**
 * A session as Redis holds it: your `SessionData` fields, and the cookie in its JSON shape. This is what an
 * io-ts codec given to `codecSerializer` describes.
 *
 * @category model
 * @since 0.1.0
 */
export type StoredSession = Omit<SessionData, 'cookie'> & { readonly cookie: StoredCookie }

// --- destructors

/**
 * A parsed value as the `SessionData` its type promises: an object with a `cookie` object whose `expires`
 * is a `Date` (revived from the stored ISO string or epoch ms), `null` or absent. Anything else is
 * corrupt: express-session would fail on it (`reading 'expires'`). The value is changed in place (it comes
 * fresh from the parser).
 *
 * @category serializers
 * @since 0.1.0
 */
export const asSessionData = (value: unknown): E.Either<ParseIssue, SessionData> => {
  if (!isRecord(value)) return unparsable('the stored session is not an object')
  const cookie = value['cookie']
  if (!isRecord(cookie)) return unparsable('the stored session has no cookie object')
  const expires = cookie['expires']
  if (typeof expires === 'string' || typeof expires === 'number') {
    const date = new Date(expires)
    if (Number.isNaN(date.getTime()))
      return unparsable(`the stored cookie.expires is not a date: ${JSON.stringify(expires)}`)
    cookie['expires'] = date
  } else if (expires !== undefined && expires !== null && !(expires instanceof Date)) {
    return unparsable(`the stored cookie.expires is not a date: ${typeof expires}`)
  }
  return E.right(value as unknown as SessionData)
}

// --- constructors

/**
 * The store's serializer from what the options give: a toolkit `Serializer` is used as it is (it answers
 * for its own output, as `jsonSerializer` and `codecSerializer` do); a plain `{ stringify, parse }` pair
 * is wrapped so that a throw, a `Promise` or a value that is not a session never reaches express-session.
 *
 * @category constructors
 * @since 0.1.0
 * @internal
 */
export const sessionSerializer = (
  s: PlainSerializer<SessionData> | Serializer<SessionData>
): Serializer<SessionData> => {
  const serializer = toSerializer(s)
  return serializer === s
    ? serializer
    : {
        _tag: 'Serializer',
        stringify: serializer.stringify,
        parse: (raw, context) => E.flatMap(serializer.parse(raw, context), asSessionData)
      }
}
