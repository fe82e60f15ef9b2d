/**
 * `clear`: destroying every live session, one tombstone script per batch of keys, so that no request in flight can
 * bring one back. The type it is about is `ClearDeps`.
 *
 * @since 0.1.0
 */
import type * as TE from 'fp-ts/lib/TaskEither'
import type { StoreError } from '../errors'
import type { ScanBatches } from './scan-batches'
import { makeTombstone, type TombstoneDeps } from './tombstone'

/**
 * @category model
 * @since 0.1.0
 */
export interface ClearDeps extends TombstoneDeps {
  readonly scanBatches: ScanBatches
}

/**
 * Destroys every live session, one script call per `SCAN` page. Each removed session leaves a tombstone like
 * `destroy` does, so a request in flight cannot bring it back. Resolves to the number of sessions removed. A failure
 * is a `WalkFailed` whose `done` is the number of sessions tombstoned by the scripts that completed; a script that
 * timed out may have run too. Clearing again is safe: a tombstoned session is not seen again.
 *
 * @category operations
 * @since 0.1.0
 */
export const makeClear = (deps: ClearDeps) => {
  const tombstone = makeTombstone(deps)
  return (): TE.TaskEither<StoreError, number> =>
    deps.scanBatches(
      (batch) => tombstone(batch.map((k) => k.key)),
      0,
      (n, removed) => n + removed,
      { operation: 'clear', done: (removed) => removed }
    )
}
