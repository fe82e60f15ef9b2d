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
export const withDeadline = (operation: string, ms: number | undefined) => {
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
