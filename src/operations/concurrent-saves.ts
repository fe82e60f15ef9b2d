/**
 * The `withConcurrentSaves` feature (`concurrentSaves`): two requests of one session that save at once no longer
 * erase each other's changes. Each save knows the value its request loaded (`SaveBases`, filled as the store parses
 * what it reads), so it can be a compare-and-set on that value, a three-way merge when someone saved meanwhile
 * (`mergeSessions`), and no write at all when nothing but the cookie's expiry changed.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import * as O from 'fp-ts/lib/Option'
import * as TE from 'fp-ts/lib/TaskEither'
import type { SessionData } from 'express-session'
import { conflict, type StoreError } from '../errors'
import type { ConcurrentSaves } from '../options'
import { isRecord } from '../refinements'
import type { Serializer } from '../serializer/serializer'
import type { ExpiryBound } from '../ttl'
import { overBoth, type Feature, type SetCondition, type SetOutcome, type StoreOperations } from './model'

// --- model

/**
 * The value each session object was read from: the stored bytes (ciphertext with encryption), keyed by the object
 * the store handed out, held weakly (an object nobody holds any more is forgotten with it). `carry` passes it on to
 * a copy, as express-session's `createSession` makes one of every session it loads. `lastRead` is the value a `get`
 * last read for a session id (the 10,000 ids read last): for a save of an object the store did not hand out, which
 * can only be compared with it, never made conditional on it.
 *
 * @category model
 * @since 0.1.0
 */
export interface SaveBases {
  readonly remember: (session: object, stored: string) => void
  readonly recall: (session: object) => string | undefined
  readonly carry: (from: object, to: object) => void
  readonly noteRead: (sid: string, stored: string) => void
  readonly lastRead: (sid: string) => string | undefined
  /** Forgets the value last read for `sid` (it was written or destroyed since), or for every id. */
  readonly forget: (sid?: string) => void
}

/**
 * @category model
 * @since 0.1.0
 */
export interface ConcurrentSavesDeps {
  readonly concurrentSaves: ConcurrentSaves
  /** The store's serializer, to read a base or the stored session back for a comparison or a merge. */
  readonly serializer: Serializer<SessionData>
  readonly bases: SaveBases
}

// --- constructors

/**
 * @category constructors
 * @since 0.1.0
 */
export const makeSaveBases = (capacity = 10_000): SaveBases => {
  const bases = new WeakMap<object, string>()
  const byId = new Map<string, string>()
  return {
    remember: (session, stored) => void bases.set(session, stored),
    noteRead: (sid, stored) => {
      byId.delete(sid)
      byId.set(sid, stored)
      if (byId.size > capacity) byId.delete(byId.keys().next().value as string)
    },
    recall: (session) => bases.get(session),
    lastRead: (sid) => byId.get(sid),
    forget: (sid) => (sid === undefined ? byId.clear() : void byId.delete(sid)),
    carry: (from, to) => {
      const stored = bases.get(from)
      if (stored !== undefined) bases.set(to, stored)
    }
  }
}

/**
 * `serializer`, remembering for each session it parses the value it parsed it from (`SaveBases`).
 *
 * @category constructors
 * @since 0.1.0
 */
export const rememberingBases = <A>(serializer: Serializer<A>, bases: SaveBases): Serializer<A> => ({
  ...serializer,
  parse: (raw, context) => {
    const parsed = serializer.parse(raw, context)
    if (E.isRight(parsed) && typeof parsed.right === 'object' && parsed.right !== null)
      bases.remember(parsed.right, raw)
    return parsed
  }
})

// --- merging

type Fields = Readonly<Record<string, unknown>>

const has = (o: Fields, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k)

/** Whether field `k` is the same in `a` and `b`: both absent, or both present with the same JSON. */
const sameField = (a: Fields, b: Fields, k: string): boolean =>
  has(a, k) === has(b, k) && (!has(a, k) || JSON.stringify(a[k]) === JSON.stringify(b[k]))

/** The top-level fields (but `cookie`) where `a` and `b` differ. */
const changedFields = (a: Fields, b: Fields): ReadonlyArray<string> =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => k !== 'cookie' && !sameField(a, b, k))

/**
 * The cookie's JSON without its expiry, which a rolling session moves on every request: `expires`, and
 * `originalExpires`, where @fastify/session keeps the expiry the cookie was loaded with.
 */
const cookieText = (cookie: unknown): string =>
  JSON.stringify(cookie, (key, value: unknown) =>
    key === 'expires' || key === 'originalExpires' ? undefined : value
  ) ?? ''

/**
 * Whether `ours` is `base` but for the cookie's expiry: every top-level field has the same JSON, and so has the
 * cookie once `expires` is left out.
 *
 * @category merging
 * @since 0.1.0
 */
export const unchangedSince = (base: Fields, ours: Fields): boolean => {
  // The first difference ends it: most saves changed something, and find it early.
  const keys = Object.keys(ours)
  if (keys.length !== Object.keys(base).length) return false
  for (const k of keys) {
    if (k !== 'cookie' && (!has(base, k) || JSON.stringify(base[k]) !== JSON.stringify(ours[k]))) return false
  }
  return cookieText(base['cookie']) === cookieText(ours['cookie'])
}

/**
 * The three-way merge of a save with the session another request stored since this one loaded `base`, by top-level
 * field: a field this request changed (`ours` differs from `base`: a new value, a new field, a deleted field) keeps
 * this request's value; every other field takes the stored one (`theirs`: changed there, deleted there, or the
 * same); `cookie` is this request's. A field is compared by its JSON, so an object changed in place counts as
 * changed, and an array is one value.
 *
 * @example
 * import { mergeSessions } from 'connect-redis-session/operations'
 *
 * const base = { cookie: { expires: null }, cart: ['apple'], theme: 'light', coupon: 'X' }
 * const ours = { cookie: { expires: null }, cart: ['apple', 'pear'], theme: 'light' } // cart changed, coupon used
 * const theirs = { cookie: { expires: null }, cart: ['apple'], theme: 'dark', coupon: 'X' } // theme changed
 * assert.deepStrictEqual(mergeSessions(base, ours, theirs), { cookie: { expires: null }, cart: ['apple', 'pear'], theme: 'dark' })
 *
 * @category merging
 * @since 0.1.0
 */
export const mergeSessions = (base: Fields, ours: Fields, theirs: Fields): Record<string, unknown> => {
  const merged: Record<string, unknown> = {}
  for (const k of new Set([...Object.keys(ours), ...Object.keys(theirs)])) {
    const from = k === 'cookie' || !sameField(base, ours, k) ? ours : theirs
    if (has(from, k)) merged[k] = from[k]
  }
  return merged
}

/**
 * A serialized session without its cookie's expiry: the JSON text with the entries `expires` and `originalExpires`
 * (where @fastify/session keeps the expiry the cookie was loaded with) taken out of the top-level `"cookie":{…}`,
 * each with one comma. `undefined` when the text has no such object. The cookie holds no nested object
 * (express-session's and @fastify/session's hold strings, numbers, booleans and null), so it ends at its first `}`
 * outside a string.
 */
const withoutExpiry = (text: string): string | undefined => {
  const open = text.indexOf('"cookie":{')
  if (open < 0) return undefined
  let out = ''
  let kept = 0 // text[kept..] is not yet in out
  let entry = open + 10 // where the current entry starts
  let key = ''
  let keyStart = -1
  let inString = false
  let afterColon = false
  for (let i = open + 10; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92 /* \ */) i++
      else if (c === 34 /* " */) {
        inString = false
        if (!afterColon) key = text.slice(keyStart, i)
      }
      continue
    }
    if (c === 34) {
      inString = true
      keyStart = i + 1
      if (!afterColon) entry = i
    } else if (c === 58 /* : */) afterColon = true
    else if (c === 44 /* , */ || c === 125 /* } */) {
      if (afterColon && (key === 'expires' || key === 'originalExpires')) {
        // An entry followed by a comma goes with it; the last one takes the comma before it, if any.
        const from = c === 44 ? entry : text.charCodeAt(entry - 1) === 44 ? entry - 1 : entry
        out += text.slice(kept, from)
        kept = c === 44 ? i + 1 : i
      }
      afterColon = false
      if (c === 125) return out + text.slice(kept)
    } else if (c === 123 /* { */ || c === 91 /* [ */) return undefined
  }
  return undefined
}

/**
 * Whether two serialized sessions are the same but for the cookie's expiry: equal, or equal once the cookie's
 * `expires` and `originalExpires` are taken out of both. String work only, no parse: the unchanged check of every
 * save of a JSON-stored session.
 *
 * @internal
 */
export const sameButExpiry = (text: string, stored: string): boolean => {
  if (text === stored) return true
  const a = withoutExpiry(text)
  return a !== undefined && a === withoutExpiry(stored)
}

// --- features

/** Merges after the first compare-and-set: at most this many, then `ESESSION_CONFLICT`. */
const MAX_MERGES = 3

/**
 * The feature. For a session the store handed out (its base known), `set`:
 *
 * 1. writes nothing when the session is its base but for the cookie's expiry: it renews the key's TTL (the record's
 *    `touch`) and answers `'written'`; when there is no live session to renew, the conditional save (which writes
 *    nothing then) says why, `'tombstoned'` or `'ended'`. The stored cookie keeps
 *    the expiry of the last write; the key's TTL is what ends a session, and express-session sets the cookie's
 *    expiry anew on each request, so nothing reads the stored one until the next real write replaces it.
 * 2. with `'overwrite'`, writes the session as the record's `set` does;
 * 3. with `'merge'` or `'fail'`, writes it only if the key still holds the base (`SetCondition`). When another
 *    request saved meanwhile (`'changed'`), the stored session is read (the record's `get`, one round trip) and,
 *    when it differs from the base in more than its cookie, `'fail'` answers `ESESSION_CONFLICT`; otherwise the two
 *    are merged (`mergeSessions`) and the merge is saved on the same condition, now on what was read. After
 *    `MAX_MERGES` merges that each met yet another save, `ESESSION_CONFLICT`.
 *
 * A tombstone wins over every save (`'tombstoned'`), and a session that ended while the request ran (expired,
 * destroyed and its tombstone gone) is not brought back (`'ended'`). A session whose base is not known (a new
 * session, a copy: @fastify/session copies every session it loads into an object of its own) is compared with the
 * value a `get` last read for its id (`SaveBases.lastRead`; a write or a destroy of the id forgets it): unchanged,
 * its TTL is renewed as in 1 (and when there is nothing to renew, it is saved as ever); otherwise it is written as
 * the record's `set` does, in every mode (a save that cannot tell which load it comes from cannot be conditional).
 * The comparison only ever skips a write, of a session equal to a value Redis held a moment ago: whatever Redis
 * holds now was written since, and is kept.
 *
 * @category features
 * @since 0.1.0
 */
export const withConcurrentSaves =
  (deps: ConcurrentSavesDeps): Feature =>
  (ops: StoreOperations): StoreOperations => {
    const read = (sid: string, raw: string): Fields | undefined => {
      const parsed = deps.serializer.parse(raw, { sid })
      return E.isRight(parsed) && isRecord(parsed.right) ? parsed.right : undefined
    }
    /**
     * Whether `session` is `stored` but for the cookie's expiry. JSON text (the default serializer, a codec): its
     * serialized form compared as text (`sameButExpiry`), no parse; anything else (ciphertext): `stored` read back
     * and compared by field (`unchangedSince`).
     */
    const unchanged = (sid: string, session: SessionData, stored: string): boolean => {
      if (stored.charCodeAt(0) === 123 /* { */) {
        const text = deps.serializer.stringify(session, { sid })
        return E.isRight(text) && sameButExpiry(text.right, stored)
      }
      const base = read(sid, stored)
      return base !== undefined && unchangedSince(base, session as unknown as Fields)
    }

    /**
     * The save of an unchanged session: the record's `touch` (sent at once), `'written'` when it renewed a live
     * session. When there was none, what is there decides, as it would have for the save: for a session the store
     * handed out, the conditional save, which writes nothing and says which (`'tombstoned'` or `'ended'`); for a
     * copy, the save itself, as ever. A second round trip, only for a session that is gone.
     */
    const renewal =
      (
        sid: string,
        session: SessionData,
        bound: ExpiryBound | undefined,
        stored: string | undefined
      ): TE.TaskEither<StoreError, SetOutcome> =>
      () =>
        ops
          .touch(sid, session, bound)()
          .then((alive) => {
            if (E.isLeft(alive) || alive.right)
              return E.isLeft(alive) ? alive : E.right<StoreError, SetOutcome>('written')
            if (stored === undefined) return written(sid, session, bound)()
            return ops
              .set(sid, session, bound, { ifStored: stored })()
              .then(E.map((outcome): SetOutcome => (outcome === 'changed' ? 'ended' : outcome)))
          })

    /** The record's `set`, after which the value last read for the id is no longer what Redis holds. */
    const written =
      (sid: string, session: SessionData, bound: ExpiryBound | undefined, condition?: SetCondition) =>
      (): Promise<E.Either<StoreError, SetOutcome>> => {
        deps.bases.forget(sid)
        return ops.set(sid, session, bound, condition)()
      }

    /** Saves `ours` on the condition that the key holds `stored` (read as `base`), merging `merges` times at most. */
    const saveOver = (
      sid: string,
      ours: SessionData,
      bound: ExpiryBound | undefined,
      stored: string,
      known: Fields | undefined,
      merges: number
    ): TE.TaskEither<StoreError, SetOutcome> =>
      TE.flatMap((outcome: SetOutcome): TE.TaskEither<StoreError, SetOutcome> => {
        if (outcome !== 'changed') return TE.right(outcome)
        const mode = deps.concurrentSaves === 'fail' ? 'fail' : 'merge'
        if (merges >= MAX_MERGES) return TE.left(conflict(sid, mode, merges))
        return TE.flatMap((found: O.Option<SessionData>): TE.TaskEither<StoreError, SetOutcome> => {
          // Gone between the two round trips (or past its absolute lifetime): not brought back.
          if (O.isNone(found)) return TE.right('ended')
          const theirs = found.value as unknown as Fields
          const now = deps.bases.recall(found.value)
          if (now === undefined) return TE.left(conflict(sid, mode, merges))
          // A base that no longer parses (the serializer changed): a merge with no field known to be unchanged.
          const base = known ?? read(sid, stored) ?? {}
          if (mode === 'fail' && changedFields(base, theirs).length > 0) return TE.left(conflict(sid, mode, 1))
          const merged = mergeSessions(base, ours as unknown as Fields, theirs) as unknown as SessionData
          return saveOver(sid, merged, bound, now, theirs, merges + 1)
        })(ops.get(sid))
      })(ops.set(sid, ours, bound, { ifStored: stored }))

    // Each session a get hands out: the value it was read from, noted for its id too (`lastRead`).
    const noting =
      (get: StoreOperations['get']): StoreOperations['get'] =>
      (sid) =>
      () =>
        // Not TE.map, which calls the task a microtask later: the command leaves now, as without the feature.
        get(sid)().then((found) => {
          const stored = E.isRight(found) && O.isSome(found.right) ? deps.bases.recall(found.right.value) : undefined
          if (stored !== undefined) deps.bases.noteRead(sid, stored)
          return found
        })
    const [get, sessionGet] = overBoth(noting, ops.get, ops.sessionGet)

    return {
      ...ops,
      get,
      sessionGet,
      set: (sid, session, bound, condition) => {
        const stored = condition?.ifStored ?? deps.bases.recall(session)
        if (stored === undefined) {
          // Not handed out by the store (a new session, a copy: @fastify/session copies each session it loads):
          // unchanged since the last read of its id, it is renewed; otherwise written whole, as ever.
          const last = deps.bases.lastRead(sid)
          return last !== undefined && unchanged(sid, session, last)
            ? renewal(sid, session, bound, undefined)
            : written(sid, session, bound, condition)
        }
        if (unchanged(sid, session, stored)) return renewal(sid, session, bound, stored)
        if (deps.concurrentSaves === 'overwrite' && condition === undefined) return written(sid, session, bound)
        const conditional = saveOver(sid, session, bound, stored, undefined, 0)
        return () => {
          deps.bases.forget(sid)
          return conditional()
        }
      },
      // A destroyed id's last read is no base for anything any more.
      destroy: (sid) => () => {
        deps.bases.forget(sid)
        return ops.destroy(sid)()
      },
      clear: () => () => {
        deps.bases.forget()
        return ops.clear()()
      },
      destroySessionsOf: (owner, options) => () => {
        deps.bases.forget()
        return ops.destroySessionsOf(owner, options)()
      }
    }
  }
