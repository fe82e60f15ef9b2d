/**
 * @since 0.1.0
 */
import * as TE from 'fp-ts/lib/TaskEither'
import { pipe } from 'fp-ts/lib/function'
import { scanStep, tryCommand, type RedisLike } from '../client'
import type { StoreError } from '../errors'
import { matchPattern, stripPrefix } from '../keys'

// --- model

/**
 * A session key found by `SCAN`: its id, and its key as the toolkit's other commands take it (store prefix
 * included, client `keyPrefix` removed).
 *
 * @category model
 * @since 0.1.0
 */
export interface ScannedKey {
  readonly sid: string
  readonly key: string
}

/**
 * A left fold over the pages of a scan: `step` runs once per non-empty page, in order, and only one page of
 * keys is held at a time.
 *
 * @category model
 * @since 0.1.0
 */
export type ScanBatches = <B>(init: B, step: (acc: B, batch: ReadonlyArray<ScannedKey>) => TE.TaskEither<StoreError, B>) => TE.TaskEither<StoreError, B>

/**
 * @category model
 * @since 0.1.0
 */
export interface ScanBatchesDeps {
  readonly client: Pick<RedisLike, 'scan'>
  readonly prefix: string
  readonly scanCount: number
  /** The client's own key prefix (node-redis v6 `keyPrefix`), which `SCAN` returns but does not match on. */
  readonly keyPrefix: string
}

// --- operations

/**
 * Pages through the live sessions under `prefix` with `SCAN cursor MATCH <escaped prefix>* COUNT scanCount
 * TYPE string`: tombstones (hashes) are filtered out by Redis, and every returned key is checked against the
 * prefix before use, so foreign keys are never read or deleted. A key may appear on two pages (a `SCAN`
 * guarantee); steps must tolerate that.
 *
 * @category operations
 * @since 0.1.0
 */
export const makeScanBatches = (deps: ScanBatchesDeps): ScanBatches => {
  const match = matchPattern(deps.keyPrefix + deps.prefix)
  const args = { MATCH: match, COUNT: deps.scanCount, TYPE: 'string' }
  const toScanned = (keys: ReadonlyArray<string>): ReadonlyArray<ScannedKey> =>
    keys.flatMap((raw) => {
      const key = stripPrefix(deps.keyPrefix)(raw) ?? (deps.keyPrefix === '' ? raw : undefined)
      const sid = key === undefined ? undefined : stripPrefix(deps.prefix)(key)
      return key === undefined || sid === undefined ? [] : [{ sid, key }]
    })
  return (init, step) => {
    const go = (cursor: string, acc: typeof init): TE.TaskEither<StoreError, typeof init> =>
      pipe(
        tryCommand('SCAN', match, () => scanStep(deps.client, cursor, args)),
        TE.flatMap((reply) => {
          const batch = toScanned(reply.keys)
          return pipe(
            batch.length === 0 ? TE.right(acc) : step(acc, batch),
            TE.flatMap((next) => (reply.cursor === '0' ? TE.right(next) : go(reply.cursor, next)))
          )
        })
      )
    return go('0', init)
  }
}
