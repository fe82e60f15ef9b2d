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
