/**
 * @since 0.1.0
 */
import * as TE from 'fp-ts/lib/TaskEither'
import { pipe } from 'fp-ts/lib/function'
import type { StoreError } from '../errors'
import { makeKeyOf } from '../keys'
import { makeTombstone, type TombstoneDeps } from './tombstone'

/**
 * @category model
 * @since 0.1.0
 */
export interface DestroyDeps extends TombstoneDeps {
  readonly prefix: string
  /** Refuse ids outside `A–Z a–z 0–9 _ -`. Default `false`. */
  readonly strictSessionIds?: boolean
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
  const keyOf = makeKeyOf(deps)
  return (sid: string): TE.TaskEither<StoreError, boolean> =>
    pipe(
      TE.fromEither(keyOf(sid)),
      TE.flatMap((key) => tombstone([key])),
      TE.map((removed) => removed > 0)
    )
}
