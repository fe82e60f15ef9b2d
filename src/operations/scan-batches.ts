/**
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type * as TE from 'fp-ts/lib/TaskEither'
import { scanStep, tryCommand, type RedisLike } from '../client'
import type { StoreError } from '../errors'
import { matchPattern, sessionIdProblem, stripPrefix } from '../keys'

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
 * Work on the batches of a scan: `work` runs on each batch of keys, up to `inFlight` batches at a time
 * while `SCAN` goes on, and `combine` folds the results in order. About `inFlight` batches of keys plus one
 * `SCAN` page (and the results not yet combined) are held at once.
 *
 * @category model
 * @since 0.1.0
 */
export type ScanBatches = <P, B>(
  work: (batch: ReadonlyArray<ScannedKey>) => TE.TaskEither<StoreError, P>,
  init: B,
  combine: (acc: B, page: P) => B
) => TE.TaskEither<StoreError, B>

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
  /** Keys per batch handed out: each `SCAN` page is cut into batches of at most this many keys. Default: `scanCount`. */
  readonly batchSize?: number
  /** Batches worked on at once by `makeScanBatches`. Default 16. */
  readonly inFlight?: number
  /**
   * Add `TYPE string` to `SCAN`, so Redis leaves tombstones (hashes) out. Needed where keys are counted or
   * acted on without reading values; where values are read (`MGET` answers `null` for a tombstone) it only
   * costs Redis time. Default `true`.
   */
  readonly onlyStrings?: boolean
  /**
   * Which ids are sessions of this store: strict ones (`A–Z a–z 0–9 _ -`, the default) or any acceptable id
   * (`false`). A key under the prefix whose rest is not such an id was not written by the store (a foreign
   * `sessions:cache:home`, say) and is never returned, read or destroyed.
   */
  readonly strictSessionIds?: boolean
}

// --- operations

const toScannedKeys = (deps: ScanBatchesDeps) => {
  const fromClient = stripPrefix(deps.keyPrefix)
  const fromStore = stripPrefix(deps.prefix)
  const strict = deps.strictSessionIds !== false
  return (keys: ReadonlyArray<string>): ReadonlyArray<ScannedKey> => {
    const found: Array<ScannedKey> = []
    for (const raw of keys) {
      const key = deps.keyPrefix === '' ? raw : fromClient(raw)
      const sid = key === undefined ? undefined : fromStore(key)
      if (key !== undefined && sid !== undefined && sessionIdProblem(sid, strict) === undefined) found.push({ sid, key })
    }
    return found
  }
}

/**
 * The live sessions under `prefix`, in batches of at most `batchSize` keys, from `SCAN cursor MATCH
 * <escaped prefix>* COUNT scanCount [TYPE string]`. With `TYPE string` tombstones (hashes) are filtered out by Redis; every returned key is
 * checked against the prefix before use, so foreign keys are never read or deleted. The next `SCAN` is sent
 * before a page's batches are handed out, so it shares a round trip with the caller's work on them. A failed `SCAN` is yielded as a `Left` and ends the pages. A key may appear on
 * two pages (a `SCAN` guarantee).
 *
 * @category operations
 * @since 0.1.0
 */
export const makeScanPages = (deps: ScanBatchesDeps) => {
  const match = matchPattern(deps.keyPrefix + deps.prefix)
  const args = deps.onlyStrings === false ? { MATCH: match, COUNT: deps.scanCount } : { MATCH: match, COUNT: deps.scanCount, TYPE: 'string' }
  const scan = (cursor: string) => tryCommand('SCAN', match, () => scanStep(deps.client, cursor, args))()
  const toScanned = toScannedKeys(deps)
  const size = Math.max(1, deps.batchSize ?? deps.scanCount)
  return async function* (): AsyncGenerator<E.Either<StoreError, ReadonlyArray<ScannedKey>>, void> {
    let pending = scan('0')
    for (;;) {
      const reply = await pending
      if (E.isLeft(reply)) {
        yield reply
        return
      }
      const { cursor, keys } = reply.right
      if (cursor !== '0') pending = scan(cursor)
      const found = toScanned(keys)
      for (let i = 0; i < found.length; i += size) yield E.right(found.slice(i, i + size))
      if (cursor === '0') return
    }
  }
}

/**
 * `ScanBatches` over `makeScanPages`: the `SCAN` chain runs ahead while up to `inFlight` batches are worked on,
 * so a scan costs about its `SCAN` round trips, not those plus the work's. The first failure ends it.
 *
 * @category operations
 * @since 0.1.0
 */
export const makeScanBatches = (deps: ScanBatchesDeps): ScanBatches => {
  const pages = makeScanPages(deps)
  const inFlight = Math.max(1, deps.inFlight ?? 16)
  return (work, init, combine) => async () => {
    let acc = init
    const running: Array<Promise<E.Either<StoreError, Parameters<typeof combine>[1]>>> = []
    const settleOldest = async (): Promise<E.Either<StoreError, void>> => {
      const done = await (running.shift() as (typeof running)[number])
      if (E.isLeft(done)) return done
      acc = combine(acc, done.right)
      return E.right(undefined)
    }
    for await (const page of pages()) {
      if (E.isLeft(page)) return page
      running.push(work(page.right)())
      if (running.length >= inFlight) {
        const settled = await settleOldest()
        if (E.isLeft(settled)) return settled
      }
    }
    while (running.length > 0) {
      const settled = await settleOldest()
      if (E.isLeft(settled)) return settled
    }
    return E.right(acc)
  }
}
