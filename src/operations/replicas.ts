/**
 * `waitForReplicas` (`waitReplicas`): logouts that survive a failover. Every tombstone (`destroy`, `clear`, an expired
 * `set`, the owner index's) is confirmed by `WAIT` on the node that wrote it before the operation answers. The type it
 * is about is `TombstoneDeps`, which it decorates.
 *
 * This is a decorator of the tombstone's dependencies, not a `Feature` of the operations record, on purpose: on a
 * Redis Cluster, `clear` and `destroySessionsOf` tombstone batch by batch, each batch on one node, and each must be
 * followed by a `WAIT` on that node. A decorator of the record sees `clear()` only as a whole, and would have to wait
 * on every node at the end, after the batches of other nodes, or not at all.
 *
 * @since 0.1.0
 */
import type { SessionClient } from '../client/contract'
import type { TombstoneDeps } from './tombstone'

/**
 * @category model
 * @since 0.1.0
 */
export interface WaitForReplicasDeps {
  readonly client: Pick<SessionClient, 'waitReplicas'>
  /** How many replicas must hold each tombstone; `0`: none, the deps are left as they are. */
  readonly waitReplicas: number
  /** How long to wait for them, in ms; fewer in that time is a `NotReplicated` failure. */
  readonly waitTimeoutMs: number
}

/**
 * The deps with `confirm` set: each tombstone script is followed by `WAIT waitReplicas waitTimeoutMs` on the node
 * that ran it. A client without `waitReplicas` fails each such `WAIT` (a `CommandFailed`).
 *
 * @category combinators
 * @since 0.1.0
 */
export const waitForReplicas = <D extends WaitForReplicasDeps>(deps: D): D & Pick<TombstoneDeps, 'confirm'> => {
  if (deps.waitReplicas <= 0) return deps
  const wait =
    deps.client.waitReplicas ??
    (() =>
      Promise.reject(new Error('this client cannot send WAIT to the node that owns a key (waitReplicas needs it)')))
  return { ...deps, confirm: { replicas: deps.waitReplicas, timeoutMs: deps.waitTimeoutMs, wait } }
}
