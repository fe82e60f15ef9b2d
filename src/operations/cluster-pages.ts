/**
 * The page source of a Redis Cluster: every master's `SCAN`, one master after the other, with each batch of
 * keys cut by hash slot so that `MGET` and the tombstone script never span two slots.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type { ClusterTopology } from '../client/contract'
import { bySlot } from '../client/slot'
import { commandFailed, type StoreError } from '../errors'
import { makeScanPages, type PageSource, type ScannedKey, type ScanPagesDeps } from './scan-batches'

/**
 * @category model
 * @since 0.1.0
 */
export interface ClusterPagesDeps extends Omit<ScanPagesDeps, 'client'> {
  readonly cluster: ClusterTopology
}

/**
 * Walks every master of the cluster (the list is read again at the start of each walk, so a failover between
 * walks is followed) and yields batches of at most `batchSize` keys, all of one hash slot. A failure reading
 * the masters or scanning one of them is yielded and ends the walk.
 *
 * @category operations
 * @since 0.1.0
 */
export const makeClusterPages = (deps: ClusterPagesDeps): PageSource => {
  const keyPrefix = deps.keyPrefix ?? ''
  const size = Math.max(1, Math.floor(deps.batchSize))
  // The slot is the one of the key as Redis sees it: with the client's own prefix.
  const slotKey = (k: ScannedKey): string => keyPrefix + k.key
  return async function* (): AsyncGenerator<E.Either<StoreError, ReadonlyArray<ScannedKey>>, void> {
    let masters: ReadonlyArray<Parameters<typeof makeScanPages>[0]['client']>
    try {
      masters = await deps.cluster.masters()
    } catch (cause) {
      yield E.left(commandFailed('CLUSTER SLOTS', '', cause))
      return
    }
    for (const master of masters) {
      for await (const batch of makeScanPages({ ...deps, client: master })()) {
        if (E.isLeft(batch)) {
          yield batch
          return
        }
        for (const group of bySlot(batch.right, slotKey, size)) yield E.right(group)
      }
    }
  }
}
