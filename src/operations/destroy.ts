/**
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type * as TE from 'fp-ts/lib/TaskEither'
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
 * @example
 * import * as E from 'fp-ts/Either'
 * import { makeDestroy } from 'connect-redis-session/operations'
 *
 * // A fake client: the tombstone script gets the keys and answers how many live sessions it removed.
 * const live = new Set(['sessions:abc'])
 * const script = async (_script: string, options: { readonly keys: Array<string> }) => options.keys.filter((key) => live.delete(key)).length
 * const destroy = makeDestroy({ client: { evalSha: script, eval: script }, prefix: 'sessions:', concurrencyGraceSeconds: 300, now: Date.now })
 *
 * async function main() {
 *   assert.deepStrictEqual(await destroy('abc')(), E.right(true))
 *   assert.deepStrictEqual(await destroy('abc')(), E.right(false)) // nothing left to remove
 * }
 * main()
 *
 * @category operations
 * @since 0.1.0
 */
export const makeDestroy = (deps: DestroyDeps) => {
  const tombstone = makeTombstone(deps)
  const keyOf = makeKeyOf(deps)
  const removedAny = E.map((removed: number) => removed > 0)
  return (sid: string): TE.TaskEither<StoreError, boolean> =>
    () => {
      const key = keyOf(sid)
      return E.isLeft(key) ? Promise.resolve(key) : tombstone([key.right])().then(removedAny)
    }
}
