/**
 * `length`: how many live sessions there are, counted from the batches of a `SCAN`. The type it is about is
 * `LengthDeps`.
 *
 * @since 0.1.0
 */
import * as TE from 'fp-ts/lib/TaskEither'
import type { StoreError } from '../errors'
import type { ScanBatches } from './scan-batches'

/**
 * @category model
 * @since 0.1.0
 */
export interface LengthDeps {
  readonly scanBatches: ScanBatches
}

/**
 * Counts live sessions: `SCAN` pages only, no values fetched, tombstones not counted. Like any `SCAN`-based
 * count it can include a key twice if Redis resizes its keyspace during the scan.
 *
 * @category operations
 * @since 0.1.0
 */
export const makeLength = (deps: LengthDeps) => (): TE.TaskEither<StoreError, number> =>
  deps.scanBatches(
    (batch) => TE.right(batch.length),
    0,
    (n, count) => n + count,
    { operation: 'length', done: (count) => count }
  )
