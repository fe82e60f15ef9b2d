/**
 * The node-redis cluster adapter: turns a node-redis v4, v5 or v6 `createCluster()` client into the
 * `SessionClient` contract. Single-key commands go through the cluster client, which routes them by key;
 * `SCAN` goes to each master's own client. Every cast lives here.
 *
 * @since 0.1.0
 */
import type { RedisLike, ScriptArgs, SessionClient } from './contract'
import { keyspaceOfNodes, mappedAddress } from './keyspace'
import { nodeRedisCommands, nodeRedisSubscriber, scanOf, type NodeRedisClient } from './node-redis'
import { connectionOf, noScan, oncePerClient, waitVia } from './shared'

// --- model

/**
 * What the adapter needs from a node-redis cluster client: the command methods, its masters, and a way to
 * reach a master's own client.
 *
 * @category model
 * @since 0.1.0
 */
export interface NodeRedisClusterClient extends Omit<NodeRedisClient, 'scan'> {
  readonly masters: ReadonlyArray<unknown>
  /** `createCluster`'s options: `nodeAddressMap`, for `subscribeKeyspace`. */
  readonly options?: { readonly nodeAddressMap?: unknown }
  readonly nodeClient: (node: never) => unknown
  readonly isOpen?: boolean
  /** `sendCommand(firstKey, isReadonly, args)`: routed to the node that owns `firstKey`. */
  readonly sendCommand?: (firstKey: string, isReadonly: boolean, args: Array<string>) => Promise<unknown>
}

/** What `subscribeKeyspace` uses of a master's own client: its options, and `duplicate`. */
interface NodeRedisClientOptions {
  readonly options?: { readonly socket?: object }
  readonly duplicate: (overrides: Readonly<Record<string, unknown>>) => unknown
}

// --- constructors

/**
 * The `SessionClient` of a node-redis cluster client. The same cluster always gives the same adapter.
 *
 * @example
 * import { createCluster } from 'redis'
 * import { fromNodeRedisCluster } from 'connect-redis-session/client'
 *
 * const cluster = fromNodeRedisCluster(createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:7000' }] }))
 * assert.strictEqual(cluster.cluster !== undefined, true)
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromNodeRedisCluster: (cluster: NodeRedisClusterClient) => SessionClient = oncePerClient((cluster) => {
  const nodeClient = (node: unknown): Promise<NodeRedisClient> =>
    Promise.resolve((cluster.nodeClient as (node: unknown) => unknown).call(cluster, node) as NodeRedisClient)
  // node-redis clusters report no cluster-wide connection changes: express-session is never told to bypass.
  const connection = connectionOf({}, [], {
    isReady: () => cluster.isOpen !== false,
    isClosed: () => cluster.isOpen === false
  })
  // Each master once: node-redis 4 lists a master once per slot range it serves (several after a resharding).
  const masters = (): Promise<ReadonlyArray<Pick<RedisLike, 'scan'>>> =>
    Promise.all([...new Set(cluster.masters)].map((m) => nodeClient(m).then((c) => ({ scan: scanOf(c) }))))
  const info = (section: string): Promise<string> => {
    const first = cluster.masters[0]
    if (first === undefined) return Promise.resolve('')
    return nodeClient(first).then((c) => {
      const infoOf = (c as unknown as { readonly info?: (section: string) => Promise<string> }).info
      return typeof infoOf === 'function' ? infoOf.call(c, section) : ''
    })
  }
  // A subscriber to a node: a duplicate of a master's own client (its options: TLS, credentials) at the node's address
  // (through the cluster's nodeAddressMap, as node-redis maps it).
  const openAt = (host: string, port: number) =>
    nodeRedisSubscriber(() => {
      const [master] = cluster.masters
      if (master === undefined) return Promise.reject(new Error('the cluster client knows no master yet'))
      const [h, p] = mappedAddress(cluster.options?.nodeAddressMap, host, port)
      return nodeClient(master).then((c) => {
        const own = c as unknown as NodeRedisClientOptions
        return own.duplicate({ socket: { ...own.options?.socket, host: h, port: p }, readonly: false })
      })
    })
  const send = cluster.sendCommand
  // Scripts go out through sendCommand(firstKey, …), which routes them by their first key on v4, v5 and v6:
  // node-redis 4's own eval/evalSha look for the key in the wrong argument and reach a random master (MOVED).
  const script =
    (command: 'EVAL' | 'EVALSHA', send: NonNullable<NodeRedisClusterClient['sendCommand']>) =>
    (scriptOrSha: string, options: ScriptArgs): Promise<unknown> =>
      send.call(cluster, options.keys[0] ?? '', false, [
        command,
        scriptOrSha,
        String(options.keys.length),
        ...options.keys,
        ...options.arguments
      ])
  return {
    _tag: 'SessionClient',
    ...nodeRedisCommands(cluster),
    scan: noScan,
    keyPrefix: '',
    connection,
    info,
    cluster: { masters },
    ...(typeof send === 'function'
      ? { subscribeKeyspace: keyspaceOfNodes(() => send.call(cluster, '', true, ['CLUSTER', 'NODES']), openAt) }
      : {}),
    ...(typeof send === 'function'
      ? {
          eval: script('EVAL', send),
          evalSha: script('EVALSHA', send),
          // WAIT on the connection to the master that owns the key (the one that took the write).
          waitReplicas: waitVia((args, key) => send.call(cluster, key, false, args))
        }
      : {})
  }
})
