/**
 * Walking the session keys: `PageSource`, where batches of keys come from (one node's `SCAN` with `makeScanPages`),
 * and `ScanBatches`, work on those batches with a bounded number in flight (`makeScanBatches`), which `all`,
 * `ids`, `length` and `clear` are built on.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type * as TE from 'fp-ts/lib/TaskEither'
import { isScanReply, tryChecked, unexpectedReply } from '../client/run'
import type { RedisLike } from '../client/contract'
import { defect, walkFailed, type StoreError } from '../errors'
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
 * A deadline for one page of a walk (one `SCAN`, one batch read or tombstone script): past it the page is a
 * `TimedOut`. The identity where there is none; the `withDeadline` feature gives one (`withPageDeadlines`).
 *
 * @category model
 * @since 0.1.0
 */
export type PageLimit = <A>(page: TE.TaskEither<StoreError, A>) => TE.TaskEither<StoreError, A>

/**
 * What a walk is and how its progress is counted: `operation` names it in a `WalkFailed`, and `done` tells how many
 * sessions one completed page stands for (read, counted, tombstoned).
 *
 * @category model
 * @since 0.1.0
 */
export interface WalkProgress<P> {
  readonly operation: string
  readonly done: (page: P) => number
}

/**
 * Work on the batches of a scan: `work` runs on each batch of keys, up to `inFlight` batches at a time
 * while `SCAN` goes on, and `combine` folds the results in order. About `inFlight` batches of keys plus one
 * `SCAN` page (and the results not yet combined) are held at once. A failure is a `WalkFailed` that says how
 * far the walk got (`progress`).
 *
 * @category model
 * @since 0.1.0
 */
export type ScanBatches = <P, B>(
  work: (batch: ReadonlyArray<ScannedKey>) => TE.TaskEither<StoreError, P>,
  init: B,
  combine: (acc: B, page: P) => B,
  progress: WalkProgress<P>
) => TE.TaskEither<StoreError, B>

/**
 * Where batches of session keys come from: each call starts a new walk, yielding batches of keys (or a
 * failure, which ends the walk). `makeScanPages` is the one for a single Redis node; a cluster's masters or
 * an in-memory client are other sources.
 *
 * @category model
 * @since 0.1.0
 */
export type PageSource = () => AsyncIterable<E.Either<StoreError, ReadonlyArray<ScannedKey>>>

/**
 * @category model
 * @since 0.1.0
 */
export interface ScanPagesDeps {
  readonly client: Pick<RedisLike, 'scan'>
  readonly prefix: string
  /**
   * The client's own key prefix (`SessionClient.keyPrefix`), which `SCAN` returns but does not match on. Default `''`.
   */
  readonly keyPrefix?: string
  /**
   * Keys per batch handed out — each `MGET` or tombstone script works on at most this many: the store's `scanCount`.
   */
  readonly batchSize: number
  /**
   * `SCAN`'s `COUNT` hint. Default `max(batchSize, 1000)`: fewer round trips, under a millisecond of Redis work per
   * call.
   */
  readonly countHint?: number
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
  /** The deadline of each `SCAN` call. Default none. */
  readonly limit?: PageLimit | undefined
}

/**
 * @category model
 * @since 0.1.0
 */
export interface ScanBatchesDeps {
  readonly pages: PageSource
  /** Batches worked on at once. Default 16. */
  readonly inFlight?: number
  /** The deadline of each batch's work. Default none. */
  readonly limit?: PageLimit | undefined
}

/** Fewest keys a `SCAN` call is asked for by default. */
const COUNT_FLOOR = 1000

/** No deadline. */
const noLimit: PageLimit = (page) => page

// --- operations

const toScannedKeys = (deps: ScanPagesDeps) => {
  const keyPrefix = deps.keyPrefix ?? ''
  const fromClient = stripPrefix(keyPrefix)
  const fromStore = stripPrefix(deps.prefix)
  const strict = deps.strictSessionIds !== false
  return (keys: ReadonlyArray<string>): ReadonlyArray<ScannedKey> => {
    const found: Array<ScannedKey> = []
    for (const raw of keys) {
      const key = keyPrefix === '' ? raw : fromClient(raw)
      const sid = key === undefined ? undefined : fromStore(key)
      if (key !== undefined && sid !== undefined && sessionIdProblem(sid, strict) === undefined)
        found.push({ sid, key })
    }
    return found
  }
}

/**
 * The page source of one Redis node: the live sessions under `prefix`, in batches of at most `batchSize`
 * keys, from `SCAN cursor MATCH <escaped prefix>* COUNT countHint [TYPE string]`. With `TYPE string` tombstones
 * (hashes) are filtered out by Redis; every returned key is
 * checked against the prefix before use, so foreign keys are never read or deleted. The next `SCAN` is sent
 * before a page's batches are handed out, so it shares a round trip with the caller's work on them. A cursor the
 * walk has already seen (a server or fake that would go round for ever) is a wrong reply. A failed `SCAN`
 * is yielded as a `Left` and ends the pages. A key may appear on
 * two pages (a `SCAN` guarantee).
 *
 * @category operations
 * @since 0.1.0
 */
export const makeScanPages = (deps: ScanPagesDeps): PageSource => {
  const match = matchPattern((deps.keyPrefix ?? '') + deps.prefix)
  const size = Math.max(1, Math.floor(deps.batchSize))
  const count = deps.countHint ?? Math.max(size, COUNT_FLOOR)
  const args =
    deps.onlyStrings === false ? { MATCH: match, COUNT: count } : { MATCH: match, COUNT: count, TYPE: 'string' }
  const limit = deps.limit ?? noLimit
  const scan = (cursor: string) =>
    limit(tryChecked('SCAN', match, () => deps.client.scan(cursor, args), isScanReply, 'a cursor and a list of keys'))()
  const toScanned = toScannedKeys(deps)
  return async function* (): AsyncGenerator<E.Either<StoreError, ReadonlyArray<ScannedKey>>, void> {
    let pending = scan('0')
    // A SCAN visits each cursor once; one seen again would make the walk go round for ever.
    const seen = new Set<string>()
    for (;;) {
      const reply = await pending
      if (E.isLeft(reply)) {
        yield reply
        return
      }
      const { cursor, keys } = reply.right
      if (seen.has(cursor)) {
        yield E.left(unexpectedReply('SCAN', match, cursor, 'a cursor not seen before in this walk'))
        return
      }
      seen.add(cursor)
      if (cursor !== '0') pending = scan(cursor)
      const found = toScanned(keys)
      for (let i = 0; i < found.length; i += size) yield E.right(found.slice(i, i + size))
      if (cursor === '0') return
    }
  }
}

/**
 * `ScanBatches` over a page source: the source runs ahead (the next `SCAN` in flight) while up to `inFlight`
 * batches are worked on, so a scan costs about its `SCAN` round trips, not those plus the work's. The first
 * failure (a `SCAN` or a batch) ends it: no batch is started after it, the batches in flight are awaited (their
 * results count as done, a later failure among them is not reported), and it is a `WalkFailed` with the pages and
 * sessions done. Each batch's work has the deadline `limit`, so a walk whose Redis hangs ends about one deadline
 * after the hang began.
 *
 * @category operations
 * @since 0.1.0
 */
export const makeScanBatches = (deps: ScanBatchesDeps): ScanBatches => {
  const pages = deps.pages
  const inFlight = Math.max(1, deps.inFlight ?? 16)
  const limit = deps.limit ?? noLimit
  return (work, init, combine, progress) => async () => {
    type Page = Parameters<typeof combine>[1]
    let acc = init
    let completed = 0
    let done = 0
    let failure: StoreError | undefined
    const running: Array<Promise<E.Either<StoreError, Page>>> = []
    // A failure is seen as it happens, not when its batch's turn to be combined comes: no batch starts after it.
    // A task that rejects breaks the TaskEither contract: a Defect, never a rejection of the walk.
    const start = (batch: ReadonlyArray<ScannedKey>): Promise<E.Either<StoreError, Page>> =>
      limit(work(batch))()
        .catch((cause: unknown) => E.left(defect(cause)))
        .then((result) => {
          if (E.isLeft(result)) failure ??= result.left
          return result
        })
    const settleOldest = async (): Promise<void> => {
      const result = await (running.shift() as Promise<E.Either<StoreError, Page>>)
      if (E.isRight(result)) {
        acc = combine(acc, result.right)
        completed++
        done += progress.done(result.right)
      }
    }
    try {
      for await (const page of pages()) {
        if (E.isLeft(page)) {
          failure ??= page.left
          break
        }
        if (failure !== undefined) break
        running.push(start(page.right))
        while (running.length >= inFlight && failure === undefined) await settleOldest()
        if (failure !== undefined) break
      }
    } catch (cause) {
      failure ??= defect(cause)
    }
    while (running.length > 0) await settleOldest()
    return failure === undefined ? E.right(acc) : E.left(walkFailed(progress.operation, completed, done, failure))
  }
}
