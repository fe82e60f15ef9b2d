/**
 * The base of every store: `baseOperations`, the plain `StoreOperations` record, each operation one `make*` over the
 * client, with no feature applied. Features decorate it (`makeStoreOperations`).
 *
 * @since 0.1.0
 */
import * as TE from 'fp-ts/lib/TaskEither'
import { notConfigured } from '../errors'
import { makeAll } from './all'
import { makeClear } from './clear'
import { makeClusterPages, makeClusterReads } from './cluster-pages'
import type { PageDeadlines } from './deadline'
import { makeDestroy } from './destroy'
import { makeGet } from './get'
import { makeIds } from './ids'
import { makeIterate } from './iterate'
import { makeLength } from './length'
import type { StoreOperations, StoreOperationsDeps } from './model'
import type { TombstoneDeps } from './tombstone'
import { makeScanBatches, makeScanPages } from './scan-batches'
import { makeSet } from './set'
import { makeTouch } from './touch'

/**
 * The plain record: `get`, `set`, `touch`, `destroy` (one command or script each), the batched `all`, `ids`,
 * `length`, `clear` and `iterate`, `sessionGet` that is `get` and `sessionTouch` that is `touch`; `sessionsOf` and
 * `destroySessionsOf` fail with `NotConfigured` (the owner index provides them). The client decides the batched
 * path: one node's `SCAN`, or, on a Redis Cluster, every master's at once, each batch read and tombstoned with one
 * script call on its node. Tombstones are confirmed by replicas when `deps` say so (`waitForReplicas`), and each page
 * of a walk (each `SCAN`, each batch read or tombstone script) has a deadline when they give one (`pageLimit`, from
 * `withPageDeadlines`).
 *
 * @category constructors
 * @since 0.1.0
 */
export const baseOperations = (
  deps: StoreOperationsDeps & Pick<TombstoneDeps, 'confirm'> & PageDeadlines
): StoreOperations => {
  const { client } = deps
  const cluster = client.cluster
  const limit = deps.pageLimit
  const pages = {
    prefix: deps.prefix,
    keyPrefix: client.keyPrefix,
    batchSize: deps.scanCount,
    strictSessionIds: deps.strictSessionIds,
    limit: limit?.('SCAN')
  }
  // One node: its SCAN. A cluster: every master's SCAN at once, each batch of one master (of many hash slots),
  // read and tombstoned with one script call on that node instead of one command per slot.
  const source = (onlyStrings: boolean) =>
    cluster === undefined
      ? makeScanPages({ ...pages, client, onlyStrings })
      : makeClusterPages({ ...pages, cluster, onlyStrings })
  const readValues = cluster === undefined ? undefined : makeClusterReads({ client, keyPrefix: client.keyPrefix })
  const clears = cluster === undefined ? deps : { ...deps, acrossSlots: { keyPrefix: client.keyPrefix } }
  // all/iterate read values: MGET answers null for a tombstone, so SCAN needs no TYPE filter there.
  const valuePages = source(false)
  // ids and length send nothing but SCAN; clear's batches are tombstone scripts, each with a deadline.
  const keyBatches = makeScanBatches({ pages: source(true) })
  const clearBatches = makeScanBatches({ pages: source(true), limit: limit?.('EVALSHA') })
  const readCommand = cluster === undefined ? 'MGET' : 'EVALSHA'
  const get = makeGet(deps)
  const touch = makeTouch(deps)
  const unindexed = TE.left(notConfigured('sessionsOf', 'ownerOf'))
  const unindexedDestroy = TE.left(notConfigured('destroySessionsOf', 'ownerOf'))
  return {
    get,
    set: makeSet(deps),
    touch,
    destroy: makeDestroy(deps),
    // One node: batches of a whole page each, 4 in flight keep Redis busy while Node parses and few values wait
    // in memory. A cluster: 16, so that every master has batches in flight.
    all: makeAll({
      ...deps,
      readValues,
      scanBatches: makeScanBatches({
        pages: valuePages,
        inFlight: cluster === undefined ? 4 : 16,
        limit: limit?.(readCommand)
      })
    }),
    ids: makeIds({ scanBatches: keyBatches }),
    length: makeLength({ scanBatches: keyBatches }),
    clear: makeClear({ ...clears, scanBatches: clearBatches, countLiveOnly: false }),
    iterate: makeIterate({ ...deps, readValues, pages: valuePages, limit: limit?.(readCommand) }),
    sessionGet: get,
    sessionTouch: touch,
    sessionsOf: () => unindexed,
    destroySessionsOf: () => unindexedDestroy
  }
}
