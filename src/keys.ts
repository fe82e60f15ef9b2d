/**
 * Key layout: one Redis key per session, `prefix + sid`. A live session is a string value; a destroyed one
 * is, for `concurrencyGraceSeconds`, a small hash (the tombstone) under the same key. One key per session
 * means every single-key operation touches exactly one hash slot. The type it is about is a session id, which
 * `sessionIdProblem` checks and `makeKeyOf` turns into a key (`Either<StoreError, string>`).
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import { invalidId, type StoreError } from './errors'

/**
 * Escapes the glob metacharacters of Redis `MATCH` (`\ * ? [ ]`) so a prefix matches only itself.
 *
 * @category keys
 * @since 0.1.0
 * @ignore
 */
export const escapeGlob = (s: string): string => s.replace(/[\\*?[\]]/g, (c) => '\\' + c)

/**
 * The `SCAN MATCH` pattern for every key under `prefix`.
 *
 * @category keys
 * @since 0.1.0
 * @ignore
 */
export const matchPattern = (prefix: string): string => escapeGlob(prefix) + '*'

/**
 * The session id of a key returned by `SCAN`, or `undefined` when the key is not under `prefix`. `SCAN` is
 * not filtered by ACL key patterns and a glob can over-match, so every returned key is checked here.
 *
 * @category keys
 * @since 0.1.0
 * @ignore
 */
export const stripPrefix =
  (prefix: string) =>
  (key: string): string | undefined =>
    key.startsWith(prefix) && key.length > prefix.length ? key.slice(prefix.length) : undefined

/**
 * Longest accepted session id, in UTF-8 bytes. express-session's own ids are 32 characters.
 *
 * @ignore
 */
export const MAX_SESSION_ID_BYTES = 256

// eslint-disable-next-line no-control-regex -- control characters are what ids must not contain
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const STRICT_ID = /^[A-Za-z0-9_-]+$/

/**
 * Why `sid` is not an acceptable session id, or `undefined` when it is: it must be a non-empty string of at
 * most 256 UTF-8 bytes, without control characters or lone surrogates (two such ids would map to one key);
 * with `strict`, only `A–Z a–z 0–9 _ -` (the alphabet of express-session's ids).
 *
 * @category keys
 * @since 0.1.0
 */
export const sessionIdProblem = (sid: unknown, strict = false): string | undefined => {
  if (typeof sid !== 'string') return `expected a string, got ${sid === null ? 'null' : typeof sid}`
  if (sid.length === 0) return 'it is empty'
  if (sid.length * 3 > MAX_SESSION_ID_BYTES && Buffer.byteLength(sid) > MAX_SESSION_ID_BYTES) {
    return `it is longer than ${MAX_SESSION_ID_BYTES} bytes`
  }
  if (strict) return STRICT_ID.test(sid) ? undefined : 'strictSessionIds allows only A-Z a-z 0-9 _ -'
  if (CONTROL.test(sid)) return 'it contains control characters'
  if (LONE_SURROGATE.test(sid)) return 'it is not well-formed Unicode'
  return undefined
}

/**
 * The key of a session id, or `InvalidId` naming what is wrong with the id. Ids are strict
 * (`A–Z a–z 0–9 _ -`) unless `strictSessionIds` is `false`.
 *
 * @category keys
 * @since 0.1.0
 * @ignore
 */
export const makeKeyOf = (deps: { readonly prefix: string; readonly strictSessionIds?: boolean }) => {
  const strict = deps.strictSessionIds !== false
  return (sid: unknown): E.Either<StoreError, string> => {
    const problem = sessionIdProblem(sid, strict)
    return problem === undefined ? E.right(deps.prefix + (sid as string)) : E.left(invalidId(problem))
  }
}
