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
import type { PageLimit } from './scan-batches'

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
export const timeLimit = (operation: string, ms: number | undefined) => {
  if (ms === undefined || ms <= 0) return <A>(te: TE.TaskEither<StoreError, A>): TE.TaskEither<StoreError, A> => te
  // One timer for all the runs in flight, not one each: with one `ms` for every run, the order in which they
  // started is the order of their deadlines, so the timer only ever waits for the oldest run still in flight.
  interface Pending {
    readonly at: number
    // Cleared once the run is answered or timed out.
    settle: ((result: E.Either<StoreError, never>) => void) | undefined
  }
  let queue: Array<Pending> = []
  let first = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  // Skips the answered runs at the head; no timer is left behind once none is in flight.
  const advance = (): void => {
    while (first < queue.length && queue[first]?.settle === undefined) first++
    if (first === queue.length) {
      queue = []
      first = 0
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
    } else if (first > 1024 && first * 2 > queue.length) {
      queue = queue.slice(first)
      first = 0
    }
  }
  const expire = (): void => {
    timer = undefined
    const now = performance.now()
    for (let p = queue[first]; p !== undefined && (p.settle === undefined || p.at <= now); p = queue[++first]) {
      const settle = p.settle
      p.settle = undefined
      settle?.(E.left(timedOut(operation, ms)))
    }
    advance()
    const next = queue[first]
    if (next !== undefined) timer = setTimeout(expire, Math.max(1, Math.ceil(next.at - now)))
  }
  return <A>(te: TE.TaskEither<StoreError, A>): TE.TaskEither<StoreError, A> =>
    () =>
      new Promise((resolve) => {
        const pending: Pending = { at: performance.now() + ms, settle: resolve }
        queue.push(pending)
        if (timer === undefined) timer = setTimeout(expire, ms)
        const settle = (result: E.Either<StoreError, A>): void => {
          if (pending.settle === undefined) return
          pending.settle = undefined
          resolve(result)
          if (queue[first] === pending) advance()
        }
        // A task that rejects breaks the TaskEither contract: a Defect, never an unhandled rejection.
        te().then(settle, (cause: unknown) => settle(E.left(defect(cause))))
      })
}

/**
 * The feature: each single-key operation fails with a `TimedOut` naming it (`sessionGet` and `sessionTouch` are
 * named `get` and `touch`) once `operationTimeoutMs` has passed; the clock starts when the task runs. The batched
 * operations (`all`, `clear`, …) have a deadline per page instead, given to their dependencies by
 * `withPageDeadlines`. `0` leaves the record as it is.
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

/**
 * What `baseOperations` takes to give each page of a walk a deadline: `pageLimit(command)`, the deadline of the pages
 * that send `command` (`SCAN`, `MGET`, `EVALSHA`, `CLUSTER SLOTS` is read under the `SCAN` one).
 *
 * @category model
 * @since 0.1.0
 */
export interface PageDeadlines {
  readonly pageLimit?: (command: string) => PageLimit
}

/**
 * The deadline feature's part in the batched operations, a decorator of their dependencies: each page of a walk
 * (`all`, `ids`, `length`, `clear`, `iterate`) — each `SCAN`, each batch read or tombstone script — is a `TimedOut`
 * naming its command once `operationTimeoutMs` has passed. A walk whose Redis hangs thus fails about one
 * `operationTimeoutMs` after the hang began, however many pages it had left. `0` leaves `deps` as they are.
 *
 * @example
 * import * as E from 'fp-ts/Either'
 * import { baseOperations, resolveOptions, withPageDeadlines } from 'connect-redis-session/operations'
 * import { createMemoryClient } from 'connect-redis-session/memory'
 *
 * const options = resolveOptions({ operationTimeoutMs: 50 })
 * assert.ok(E.isRight(options))
 * const client = createMemoryClient()
 * // A SCAN that never answers, as on a hung server.
 * const hung = { ...client, scan: () => new Promise<never>(() => undefined) }
 * const ops = baseOperations(withPageDeadlines({ ...options.right, client: hung }))
 *
 * async function main() {
 *   const result = await ops.length()()
 *   assert.ok(E.isLeft(result) && result.left._tag === 'WalkFailed' && result.left.cause._tag === 'TimedOut')
 * }
 * main()
 *
 * @category features
 * @since 0.1.0
 */
export const withPageDeadlines = <D extends { readonly operationTimeoutMs: number }>(deps: D): D & PageDeadlines => {
  const ms = deps.operationTimeoutMs
  return ms > 0 ? { ...deps, pageLimit: (command: string) => timeLimit(command, ms) } : deps
}
