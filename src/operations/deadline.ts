/**
 * Deadlines: the `withDeadline` feature gives every single-key operation of the record (`get`, `set`, `touch`,
 * `destroy`, express-session's pair, the owner index's two) a deadline of `operationTimeoutMs`, past which it is a
 * `TimedOut`; `timeLimit` is that deadline for one `TaskEither`. The type it is about is `Feature`, a decorator of
 * the operations record.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type * as TE from 'fp-ts/lib/TaskEither'
import { defect, timedOut, type StoreError } from '../errors'
import { aroundSingleKey, type Feature } from './model'

/**
 * Gives a task a deadline: past `ms` it is a `TimedOut` (code `ETIMEDOUT`), whatever Redis does. The
 * command may still run — a `set` or `destroy` that timed out may have happened — which is why every
 * operation of the store is idempotent. `undefined` or `0` means no deadline.
 *
 * node-redis's own command timeout does not cover a command already written to a hung server; this does.
 *
 * @category combinators
 * @since 0.1.0
 */
export const timeLimit =
  (operation: string, ms: number | undefined) =>
  <A>(te: TE.TaskEither<StoreError, A>): TE.TaskEither<StoreError, A> =>
    ms === undefined || ms <= 0
      ? te
      : () =>
          new Promise((resolve) => {
            const timer = setTimeout(() => resolve(E.left(timedOut(operation, ms))), ms)
            const settle = (result: E.Either<StoreError, A>): void => {
              clearTimeout(timer)
              resolve(result)
            }
            // A task that rejects breaks the TaskEither contract: a Defect, never an unhandled rejection.
            te().then(settle, (cause: unknown) => settle(E.left(defect(cause))))
          })

/**
 * The feature: each single-key operation fails with a `TimedOut` naming it (`sessionGet` and `sessionTouch` are
 * named `get` and `touch`) once `operationTimeoutMs` has passed; the clock starts when the task runs. The batched
 * operations (`all`, `clear`, …) have no deadline. `0` leaves the record as it is.
 *
 * @example
 * import * as E from 'fp-ts/Either'
 * import { pipe } from 'fp-ts/function'
 * import { baseOperations, resolveOptions, withDeadline } from 'connect-redis-session/operations'
 * import { createMemoryClient } from 'connect-redis-session/memory'
 *
 * const options = resolveOptions({ operationTimeoutMs: 50 })
 * assert.ok(E.isRight(options))
 * const deps = { ...options.right, client: createMemoryClient() }
 * // A get that never answers, as on a hung server.
 * const hung = pipe(baseOperations(deps), (ops) => ({ ...ops, get: () => () => new Promise<never>(() => undefined) }))
 * const ops = withDeadline(deps)(hung)
 *
 * async function main() {
 *   assert.deepStrictEqual(await ops.get('abc')(), E.left({ _tag: 'TimedOut', operation: 'get', ms: 50 }))
 * }
 * main()
 *
 * @category features
 * @since 0.1.0
 */
export const withDeadline = (deps: { readonly operationTimeoutMs: number }): Feature => {
  const ms = deps.operationTimeoutMs
  return ms > 0 ? aroundSingleKey((operation) => timeLimit(operation, ms)) : (ops) => ops
}
