/**
 * `iterate`: every live session as `[sid, session]`, streamed page by page, so that memory does not grow with the
 * number of sessions. The type it is about is `IterateDeps`.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type { StoreError } from '../errors'
import { makeReadBatch, type ReadBatchDeps } from './all'
import type { PageLimit, PageSource } from './scan-batches'

/**
 * @category model
 * @since 0.1.0
 */
export interface IterateDeps<A> extends ReadBatchDeps<A> {
  /** Batches of keys, e.g. `makeScanPages(deps)`. */
  readonly pages: PageSource
  /** The deadline of each batch read. Default none. */
  readonly limit?: PageLimit | undefined
}

/**
 * Streams every live session, one batch at a time: one `MGET` per batch of keys, the next `SCAN` in flight
 * meanwhile. Memory stays at a page or two of keys and one batch of sessions, whatever their number. A failure is
 * yielded as a
 * `Left` and ends the stream; each read has the deadline `limit`. Unlike `all`, a session seen on two `SCAN` pages is yielded twice.
 *
 * @category operations
 * @since 0.1.0
 */
export const makeIterate = <A>(deps: IterateDeps<A>) => {
  const read = makeReadBatch(deps)
  const limit = deps.limit
  const readBatch = limit === undefined ? read : (batch: Parameters<typeof read>[0]) => limit(read(batch))
  return async function* (): AsyncGenerator<E.Either<StoreError, ReadonlyArray<readonly [string, A]>>, void> {
    for await (const page of deps.pages()) {
      const entries = E.isLeft(page) ? page : await readBatch(page.right)()
      yield entries
      if (E.isLeft(entries)) return
    }
  }
}
