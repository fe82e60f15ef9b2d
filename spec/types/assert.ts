// Type assertions for the type tests: `assertType<Equals<A, B>>(true)` compiles only when A and B are the same type,
// `assertType<Extends<A, B>>(true)` only when A is assignable to B. Compiled by `npm test` (spec compile), never run.

/** `true` when `A` and `B` are the same type (not merely assignable to each other), else `false`. */
export type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false

/** `true` when `A` is assignable to `B`. */
export type Extends<A, B> = [A] extends [B] ? true : false

/** Compiles only when the asserted type is `true`. */
export const assertType = <T extends true>(value: T): T => value
