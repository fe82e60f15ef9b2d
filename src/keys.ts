/**
 * Key layout: one Redis key per session, `prefix + sid`. A live session is a string value; a destroyed one
 * is, for `concurrencyGraceSeconds`, a small hash (the tombstone) under the same key. One key per session
 * means every single-key operation touches exactly one hash slot.
 *
 * @since 0.1.0
 */

/**
 * The Redis key of a session.
 *
 * @category keys
 * @since 0.1.0
 */
export const toKey =
  (prefix: string) =>
  (sid: string): string =>
    prefix + sid

/**
 * Escapes the glob metacharacters of Redis `MATCH` (`\ * ? [ ]`) so a prefix matches only itself.
 *
 * @category keys
 * @since 0.1.0
 */
export const escapeGlob = (s: string): string => s.replace(/[\\*?[\]]/g, (c) => '\\' + c)

/**
 * The `SCAN MATCH` pattern for every key under `prefix`.
 *
 * @category keys
 * @since 0.1.0
 */
export const matchPattern = (prefix: string): string => escapeGlob(prefix) + '*'

/**
 * The session id of a key returned by `SCAN`, or `undefined` when the key is not under `prefix`. `SCAN` is
 * not filtered by ACL key patterns and a glob can over-match, so every returned key is checked here.
 *
 * @category keys
 * @since 0.1.0
 */
export const stripPrefix =
  (prefix: string) =>
  (key: string): string | undefined =>
    key.startsWith(prefix) && key.length > prefix.length ? key.slice(prefix.length) : undefined
