/**
 * `all`: every live session, keyed by id, read batch by batch (`SCAN`, then one `MGET` per batch), skipping corrupt
 * values. The type it is about is `ReadBatchDeps`, what reading one batch of keys takes, shared with `iterate`.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import * as TE from 'fp-ts/lib/TaskEither'
import { attempt, isValues, unexpectedReply } from '../client/run'
import type { RedisLike } from '../client/contract'
import { commandFailed, type StoreError } from '../errors'
import { parseStored, type Serializer } from '../serializer/serializer'
import type { ScanBatches, ScannedKey } from './scan-batches'

/**
 * @category model
 * @since 0.1.0
 */
export interface ReadBatchDeps<A> {
  readonly client: Pick<RedisLike, 'mGet'>
  readonly serializer: Serializer<A>
  /** Stored values larger than this are corrupt. Default 1 MiB. */
  readonly maxPayloadBytes?: number
  /** Told about each corrupt value skipped. */
  readonly reportCorrupt?: (e: StoreError) => void
  /**
   * How a batch's values are read, in the order of its keys; a failure names the command that failed. Default one
   * `MGET` on `client`; a cluster reads each batch with one script call on its node (`makeClusterReads`).
   */
  readonly readValues?: ReadValues | undefined
}

/**
 * Reads the values of some keys, `null` (or `undefined`) for a key that holds none.
 *
 * @category model
 * @since 0.1.0
 */
export type ReadValues = (
  keys: ReadonlyArray<string>
) => TE.TaskEither<StoreError, ReadonlyArray<string | null | undefined>>

/**
 * @category model
 * @since 0.1.0
 */
export interface AllDeps<A> extends ReadBatchDeps<A> {
  readonly scanBatches: ScanBatches
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
  // Ids and sessions are collected first and keyed at the end: inserting into a growing object of 100k keys
  // while its sessions are still young costs V8 about a fifth more time than keying them once, at the end.
  const collect = (found: Found<A>, entries: ReadonlyArray<readonly [string, A]>): Found<A> => {
    for (const [sid, sess] of entries) {
      found.sids.push(sid)
      found.sessions.push(sess)
    }
    return found
  }
  const keyed = ({ sids, sessions }: Found<A>): Record<string, A> => {
    const out: Record<string, A> = {}
    for (let i = 0; i < sids.length; i++) {
      const sid = sids[i] as string
      // Plain assignment would make an id "__proto__" replace the result's prototype.
      if (sid === '__proto__')
        Object.defineProperty(out, sid, { value: sessions[i], enumerable: true, writable: true, configurable: true })
      else out[sid] = sessions[i] as A
    }
    return out
  }
  // The arrays are created per call and only grow inside this fold; a later page's value of an id wins.
  return (): TE.TaskEither<StoreError, Record<string, A>> =>
    TE.map(keyed)(
      deps.scanBatches(readBatch, { sids: [], sessions: [] } as Found<A>, collect, {
        operation: 'all',
        done: (entries) => entries.length
      })
    )
}

/** The sessions of `all` in page order, before they are keyed by id. */
interface Found<A> {
  readonly sids: Array<string>
  readonly sessions: Array<A>
}

/**
 * Resolves on a later turn of the event loop, once the immediates already queued have run. node-redis writes the
 * commands queued meanwhile (the next `SCAN`, the next batches' `MGET`s) from such an immediate: waiting for it
 * before parsing a batch sends them first, so Redis works on them while Node parses instead of after.
 */
const afterQueuedWrites = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * Reads one batch of sessions with one `MGET`: each value is paired with the key it was read from; keys
 * that expired (or became tombstones) since the `SCAN` are left out, and so are corrupt values, each told
 * to `reportCorrupt`. Parsing waits for the client's queued writes (see `afterQueuedWrites`).
 *
 * @category operations
 * @since 0.1.0
 */
export const makeReadBatch = <A>(deps: ReadBatchDeps<A>) => {
  const parse = parseStored(deps.serializer, deps.maxPayloadBytes)
  const readValues: ReadValues =
    deps.readValues ??
    ((keys) => () =>
      attempt(() => deps.client.mGet(keys as Array<string>)).then(E.right, (cause: unknown) =>
        E.left(commandFailed('MGET', keys[0] ?? '', cause))
      ))
  return (batch: ReadonlyArray<ScannedKey>): TE.TaskEither<StoreError, ReadonlyArray<readonly [string, A]>> =>
    () => {
      const parseAll = (
        values: ReadonlyArray<string | null | undefined>
      ): E.Either<StoreError, ReadonlyArray<readonly [string, A]>> => {
        const entries: Array<readonly [string, A]> = []
        for (let i = 0; i < batch.length; i++) {
          const raw = values[i]
          if (raw === null || raw === undefined) continue
          const { sid, key } = batch[i] as ScannedKey
          const parsed = parse(key, raw, sid)
          // One corrupt value does not fail the whole listing: it is reported and left out.
          if (E.isLeft(parsed)) deps.reportCorrupt?.(parsed.left)
          else entries.push([sid, parsed.right])
        }
        return E.right(entries)
      }
      const key = batch[0]?.key ?? ''
      return readValues(batch.map((k) => k.key))().then((values) =>
        E.isLeft(values)
          ? values
          : isValues(values.right, batch.length)
          ? afterQueuedWrites().then(() => parseAll(values.right as ReadonlyArray<string | null>))
          : E.left(unexpectedReply('MGET', key, values.right, `a list of ${batch.length} values`))
      )
    }
}
