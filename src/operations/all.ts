/**
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import * as TE from 'fp-ts/lib/TaskEither'
import { pipe } from 'fp-ts/lib/function'
import { tryCommand, type RedisLike } from '../client'
import type { StoreError } from '../errors'
import { parseIssueAt, type Serializer } from '../serializer/serializer'
import type { ScanBatches, ScannedKey } from './scan-batches'

/**
 * @category model
 * @since 0.1.0
 */
export interface AllDeps<A> {
  readonly scanBatches: ScanBatches
  readonly client: Pick<RedisLike, 'mGet'>
  readonly serializer: Serializer<A>
}

/**
 * Every live session, keyed by its id (the shape of express-session's `MemoryStore`). One `MGET` per `SCAN`
 * page; each value is paired with the key it was read from, keys that expired mid-scan are skipped, and a
 * key seen on two pages appears once.
 *
 * @category operations
 * @since 0.1.0
 */
export const makeAll = <A>(deps: AllDeps<A>) => {
  const readBatch = makeReadBatch(deps)
  return (): TE.TaskEither<StoreError, Record<string, A>> =>
    pipe(
      // The array is created per call and only grows inside this fold.
      deps.scanBatches(readBatch, new Array<readonly [string, A]>(), (acc, entries) => {
        for (const e of entries) acc.push(e)
        return acc
      }),
      // Object.fromEntries defines properties, so an id such as "__proto__" is an ordinary key.
      TE.map((entries) => Object.fromEntries(entries))
    )
}

/**
 * Reads one page of sessions with one `MGET`: each value is paired with the key it was read from, and keys
 * that expired since the `SCAN` are left out.
 *
 * @category operations
 * @since 0.1.0
 */
export const makeReadBatch =
  <A>(deps: Pick<AllDeps<A>, 'client' | 'serializer'>) =>
  (batch: ReadonlyArray<ScannedKey>): TE.TaskEither<StoreError, ReadonlyArray<readonly [string, A]>> =>
    pipe(
      tryCommand('MGET', batch[0]?.key ?? '', () => deps.client.mGet(batch.map((k) => k.key))),
      TE.flatMapEither((values) => {
        const entries: Array<readonly [string, A]> = []
        for (let i = 0; i < batch.length; i++) {
          const raw = values[i]
          if (raw === null || raw === undefined) continue
          const { sid, key } = batch[i] as ScannedKey
          const parsed = deps.serializer.parse(raw)
          if (E.isLeft(parsed)) return E.left(parseIssueAt(key)(parsed.left))
          entries.push([sid, parsed.right])
        }
        return E.right(entries)
      })
    )
