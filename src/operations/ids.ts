/**
 * `ids`: the id of every live session, from the batches of a `SCAN`. The type it is about is `IdsDeps`.
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
export interface IdsDeps {
  readonly scanBatches: ScanBatches
}

/**
 * The ids of all live sessions, each once. `SCAN` pages only, no values fetched.
 *
 * @category operations
 * @since 0.1.0
 */
export const makeIds = (deps: IdsDeps) => (): TE.TaskEither<StoreError, ReadonlyArray<string>> =>
  // The set is created per call and only grows inside this fold.
  TE.map((seen: Set<string>) => [...seen])(
    deps.scanBatches(
      (batch) => TE.right(batch),
      new Set<string>(),
      (seen, batch) => {
        for (const k of batch) seen.add(k.sid)
        return seen
      },
      { operation: 'ids', done: (batch) => batch.length }
    )
  )
