/**
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type * as TE from 'fp-ts/lib/TaskEither'
import { defect, timedOut, type StoreError } from '../errors'

/**
 * Gives an operation a deadline: past `ms` it is a `TimedOut` (code `ETIMEDOUT`), whatever Redis does. The
 * command may still run — a `set` or `destroy` that timed out may have happened — which is why every
 * operation of the store is idempotent. `undefined` or `0` means no deadline.
 *
 * node-redis's own command timeout does not cover a command already written to a hung server; this does.
 *
 * @category operations
 * @since 0.1.0
 */
export const withDeadline =
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
