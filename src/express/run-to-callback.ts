/**
 * The one place a `TaskEither` is run for express-session and promise callers.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type * as TE from 'fp-ts/lib/TaskEither'
import { identity } from 'fp-ts/lib/function'
import { defect, type StoreError } from '../errors'
import { toError, type SessionStoreError } from './to-error'

/**
 * A node-style callback.
 *
 * @category model
 * @since 0.1.0
 */
export type Callback<A> = (err: SessionStoreError | null, value?: A) => void

/** An exception where none should be: a `Defect`, reported like any other failure. */
const thrown = (cause: unknown): E.Either<StoreError, never> => E.left(defect(cause))

/**
 * Runs the task built by `build`, maps its value with `f`, and hands the outcome to `callback` or to the
 * returned promise. One promise step after the task itself; see `runToCallback`.
 *
 * @internal
 */
export function runMapped<A, B>(
  build: () => TE.TaskEither<StoreError, A>,
  f: (a: A) => B,
  callback: Callback<B>
): undefined
export function runMapped<A, B>(
  build: () => TE.TaskEither<StoreError, A>,
  f: (a: A) => B,
  callback?: undefined
): Promise<B>
export function runMapped<A, B>(
  build: () => TE.TaskEither<StoreError, A>,
  f: (a: A) => B,
  callback?: Callback<B>
): Promise<B> | undefined
export function runMapped<A, B>(
  build: () => TE.TaskEither<StoreError, A>,
  f: (a: A) => B,
  callback?: Callback<B>
): Promise<B> | undefined {
  let task: Promise<E.Either<StoreError, A>>
  try {
    task = build()()
  } catch (e) {
    task = Promise.resolve(thrown(e))
  }
  if (typeof callback !== 'function') {
    return task.then(
      (r) => (E.isRight(r) ? f(r.right) : Promise.reject(toError(r.left))),
      (e: unknown) => Promise.reject(toError(defect(e)))
    )
  }
  const finish = (r: E.Either<StoreError, A>): void => {
    try {
      if (E.isRight(r)) callback(null, f(r.right))
      else callback(toError(r.left))
    } catch (thrown) {
      // A throwing callback is the app's own error: rethrown outside the promise chain as an uncaught
      // exception, and the callback is never called a second time.
      process.nextTick(() => {
        throw thrown
      })
    }
  }
  task.then(finish, (e: unknown) => finish(thrown(e)))
  return undefined
}

/**
 * Runs `build()`'s task. With a callback, calls it exactly once, asynchronously, outside any promise chain
 * (a throwing callback is an uncaught exception, never a second call), and returns `undefined`. Without
 * one, returns a promise of the value that rejects with a `SessionStoreError`. A synchronous throw while
 * building the task is reported the same way, never thrown to the caller.
 *
 * @category adapters
 * @since 0.1.0
 * @internal
 */
export function runToCallback<A>(build: () => TE.TaskEither<StoreError, A>, callback: Callback<A>): undefined
export function runToCallback<A>(build: () => TE.TaskEither<StoreError, A>, callback?: undefined): Promise<A>
export function runToCallback<A>(
  build: () => TE.TaskEither<StoreError, A>,
  callback?: Callback<A>
): Promise<A> | undefined
export function runToCallback<A>(
  build: () => TE.TaskEither<StoreError, A>,
  callback?: Callback<A>
): Promise<A> | undefined {
  return runMapped(build, identity, callback)
}
