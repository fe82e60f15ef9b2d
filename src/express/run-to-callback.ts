/**
 * The one place a `TaskEither` is run for express-session and promise callers.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type * as TE from 'fp-ts/lib/TaskEither'
import { toError, type SessionStoreError, type StoreError } from '../errors'

/**
 * A node-style callback.
 *
 * @category model
 * @since 0.1.0
 */
export type Callback<A> = (err: SessionStoreError | null, value?: A) => void

const settle = <A>(build: () => TE.TaskEither<StoreError, A>): Promise<E.Either<SessionStoreError, A>> =>
  Promise.resolve()
    .then(() => build()())
    .then(
      (result) => E.mapLeft(toError)(result),
      (defect: unknown) =>
        E.left(Object.assign(new Error(`connect-redis-session: unexpected failure: ${String(defect)}`, { cause: defect }), {
          code: 'ESESSION_INTERNAL',
          storeError: { _tag: 'CommandFailed' as const, command: 'INTERNAL', key: '', cause: defect }
        }))
    )

/**
 * Runs `build()`'s task. With a callback, calls it exactly once, asynchronously, outside any promise chain
 * (a throwing callback is an uncaught exception, never a second call), and returns `undefined`. Without
 * one, returns a promise of the value that rejects with a `SessionStoreError`. A synchronous throw while
 * building the task is reported the same way, never thrown to the caller.
 *
 * @category adapters
 * @since 0.1.0
 */
export function runToCallback<A>(build: () => TE.TaskEither<StoreError, A>, callback: Callback<A>): undefined
export function runToCallback<A>(build: () => TE.TaskEither<StoreError, A>, callback?: undefined): Promise<A>
export function runToCallback<A>(build: () => TE.TaskEither<StoreError, A>, callback?: Callback<A>): Promise<A> | undefined
export function runToCallback<A>(build: () => TE.TaskEither<StoreError, A>, callback?: Callback<A>): Promise<A> | undefined {
  const settled = settle(build)
  if (typeof callback !== 'function') {
    return settled.then(E.match((e): Promise<A> => Promise.reject(e), (a) => Promise.resolve(a)))
  }
  void settled.then((result) =>
    process.nextTick(() => (E.isLeft(result) ? callback(result.left) : callback(null, result.right)))
  )
  return undefined
}
