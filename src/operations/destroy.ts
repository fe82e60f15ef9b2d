/**
 * @since 0.1.0
 */
import * as TE from 'fp-ts/lib/TaskEither'
import { pipe } from 'fp-ts/lib/function'
import type { StoreError } from '../errors'
import { toKey } from '../keys'
import { makeTombstone, type TombstoneDeps } from './tombstone'

/**
 * @category model
 * @since 0.1.0
 */
export interface DestroyDeps extends TombstoneDeps {
  readonly prefix: string
}

/**
 * Ends a session: one script call that deletes it and leaves a tombstone for `concurrencyGraceSeconds`, so a
 * request still in flight cannot save or touch it back to life. Resolves to `true` when a live session was
 * removed, `false` when there was none.
 *
 * @category operations
 * @since 0.1.0
 */
export const makeDestroy = (deps: DestroyDeps) => {
  const tombstone = makeTombstone(deps)
  const key = toKey(deps.prefix)
  return (sid: string): TE.TaskEither<StoreError, boolean> =>
    pipe(
      tombstone([key(sid)]),
      TE.map((removed) => removed > 0)
    )
}
