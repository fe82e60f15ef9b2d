/**
 * The batched path of a Redis Cluster: every master's `SCAN`, the masters at the same time, each batch of keys
 * from one master (of one node, of many hash slots), and the way to read such a batch in one call. The type it is
 * about is `PageSource`, where the batches come from.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type { ClusterTopology, RedisLike } from '../client/contract'
import { attempt, isNotLocalKey, isUndeclaredKey, runScript, unexpectedReply } from '../client/run'
import { mGetBySlot } from '../client/slot'
import { commandFailed, type StoreError } from '../errors'
import { NODE_MGET_SCRIPT } from '../scripts'
import type { ReadValues } from './all'
import { makeScanPages, type PageSource, type ScannedKey, type ScanPagesDeps } from './scan-batches'

/**
 * @category model
 * @since 0.1.0
 */
export interface ClusterPagesDeps extends Omit<ScanPagesDeps, 'client'> {
  readonly cluster: ClusterTopology
}

type Batch = E.Either<StoreError, ReadonlyArray<ScannedKey>>

/**
 * The batches of several walks as they come, one pending batch per walk at most: the next one of a walk is asked
 * for only once its last one was taken. The first failure is yielded and ends it all.
 */
async function* interleave(walks: ReadonlyArray<AsyncIterator<Batch, void>>): AsyncGenerator<Batch, void> {
  const pending = new Map<number, Promise<readonly [number, IteratorResult<Batch, void>]>>()
  const pull = (i: number): void => {
    const walk = walks[i] as AsyncIterator<Batch, void>
    pending.set(
      i,
      walk.next().then((r) => [i, r] as const)
    )
  }
  walks.forEach((_, i) => pull(i))
  try {
    while (pending.size > 0) {
      const [i, r] = await Promise.race(pending.values())
      pending.delete(i)
      if (r.done === true) continue
      yield r.value
      if (E.isLeft(r.value)) return
      pull(i)
    }
  } finally {
    // Ended early (a failure, or the consumer stopped): the other walks stop after their pending SCAN.
    for (const i of pending.keys()) void (walks[i] as AsyncIterator<Batch, void>).return?.()
  }
}

/**
 * Walks every master of the cluster, all at once (the list is read again at the start of each walk, so a
 * failover or a resharding between walks is followed), and yields batches of at most `batchSize` keys, each
 * from one master's `SCAN` page: keys of one node, of many hash slots — work on a batch must be able to take
 * that (`makeClusterReads`, `makeTombstone` with `acrossSlots`). About two `SCAN` pages per master are held at
 * once. A failure reading the masters or scanning one of them is yielded and ends the walk. `limit` is the deadline
 * of reading the masters as well as of each `SCAN`.
 *
 * @category operations
 * @since 0.1.0
 */
export const makeClusterPages = (deps: ClusterPagesDeps): PageSource =>
  async function* (): AsyncGenerator<Batch, void> {
    const masters = await (deps.limit ?? ((te) => te))(() =>
      attempt(() => deps.cluster.masters()).then(E.right, (cause: unknown) =>
        E.left(commandFailed('CLUSTER SLOTS', '', cause))
      )
    )()
    if (E.isLeft(masters)) {
      yield masters
      return
    }
    yield* interleave(
      masters.right.map((master) => makeScanPages({ ...deps, client: master })()[Symbol.asyncIterator]())
    )
  }

/**
 * @internal
 */
export interface ClusterReadsDeps {
  /** The cluster client: routes each call by its first key, and follows `MOVED` and `ASK`. */
  readonly client: Pick<RedisLike, 'mGet' | 'evalSha' | 'eval'>
  /** The client's own key prefix (`SessionClient.keyPrefix`), which it adds to keys but not to script arguments. */
  readonly keyPrefix: string
}

/**
 * The values of the keys of one cluster master, whatever their hash slots (a batch of `makeClusterPages`): one
 * script call (`NODE_MGET_SCRIPT`), sent to the node of the first key, instead of one `MGET` per slot — about
 * one per key when sessions are spread over 16384 slots. Should a key no longer live on that node (its slot
 * moved since the `SCAN`), Redis refuses the call and the keys are read again with one `MGET` per slot, all
 * sent at once, each routed by the client (which follows `MOVED` and `ASK`). A failure names the command that
 * failed: the script's (`EVALSHA`, `EVAL`), or `MGET` for the reads slot by slot.
 *
 * The script reads keys it is given as arguments, which Redis and Valkey allow in a script without a shebang, but
 * no server lets one call declare keys of several slots in `KEYS`. A server that refuses undeclared keys
 * (Dragonfly, kvrocks in strict mode: `isUndeclaredKey`) has that batch and every later one read slot by slot,
 * each `MGET` with its keys declared: the refusal is remembered, and the script is not tried again.
 *
 * @internal
 */
export const makeClusterReads = (deps: ClusterReadsDeps): ReadValues => {
  const script = runScript(deps.client, NODE_MGET_SCRIPT)
  const prefixed = (key: string): string => deps.keyPrefix + key
  const slotBySlot = (keys: Array<string>): Promise<E.Either<StoreError, ReadonlyArray<string | null>>> =>
    attempt(() => mGetBySlot((ks) => deps.client.mGet(ks), keys, deps.keyPrefix)).then(E.right, (cause: unknown) =>
      E.left(commandFailed('MGET', keys[0] ?? '', cause))
    )
  // Set once the server refused the script's undeclared keys: every batch goes slot by slot from then on.
  let declaredOnly = false
  return (keys) => async () => {
    const first = keys[0]
    if (first === undefined) return E.right([])
    if (declaredOnly) return slotBySlot([...keys])
    const reply = await script({ keys: [first], arguments: keys.map(prefixed) })()
    if (E.isRight(reply))
      return Array.isArray(reply.right)
        ? E.right(reply.right as ReadonlyArray<string | null>)
        : E.left(unexpectedReply('EVALSHA', first, reply.right, 'a list of values'))
    const cause = reply.left._tag === 'CommandFailed' ? reply.left.cause : undefined
    if (isUndeclaredKey(cause)) declaredOnly = true
    if (declaredOnly || isNotLocalKey(cause)) return slotBySlot([...keys])
    return reply
  }
}
