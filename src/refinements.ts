/**
 * Refinements of `unknown` shared across the package: what a value read from outside (a stored JSON value, a
 * client passed in) is, before it is used.
 *
 * @since 0.1.0
 * @internal
 */

/**
 * Any object, arrays included (`null` is not one): something whose properties can be read or walked.
 *
 * @internal
 */
export const isObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null

/**
 * An object that is not an array: a record of named fields, as a stored session and its cookie are.
 *
 * @internal
 */
export const isRecord = (u: unknown): u is Record<string, unknown> => isObject(u) && !Array.isArray(u)

/**
 * The text of a thrown value, for matching and for messages: an `Error`'s message, a string itself, anything else
 * as `String` prints it. Never throws: a value that cannot be printed (`{ toString: false }`, a revoked proxy)
 * reads as `''` here, because what a client rejects with is not ours to trust.
 *
 * @internal
 */
export const messageOf = (e: unknown): string => {
  try {
    if (e instanceof Error) return typeof e.message === 'string' ? e.message : ''
    return typeof e === 'string' ? e : String(e)
  } catch {
    return ''
  }
}
