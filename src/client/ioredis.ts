/**
 * The ioredis adapter: turns an ioredis 5 client (standalone `new Redis(…)`, or anything shaped like one)
 * into the `SessionClient` contract. The client is described structurally: nothing here imports `ioredis`,
 * so the package type-checks and runs without it. Every cast for ioredis lives in this module.
 *
 * @since 0.1.0
 */
import type { Connection, RedisLike, ScanArgs, ScanReply, SessionClient } from './contract'
import {
  addressOf,
  keyspaceOfNode,
  keyspaceOfNodes,
  mappedAddress,
  readThenSubscribe,
  type OpenSubscriber
} from './keyspace'
import { keySlot } from './slot'
import { connectionOf, keyPrefixOf, noScan, oncePerClient, scanReplyOf, waitVia } from './shared'

// --- model

/**
 * One `SCAN` reply of ioredis: `[cursor, keys]`.
 *
 * @category model
 * @since 0.1.0
 */
export type IoRedisScanReply = readonly [cursor: string | number, keys: ReadonlyArray<string | Uint8Array>]

/**
 * ioredis's `scan` with the arguments the store sends: `MATCH` and `COUNT`, and `TYPE` when it filters.
 *
 * @category model
 * @since 0.1.0
 */
export interface IoRedisScan {
  (cursor: string, matchToken: 'MATCH', pattern: string, countToken: 'COUNT', count: number): Promise<IoRedisScanReply>
  (
    cursor: string,
    matchToken: 'MATCH',
    pattern: string,
    countToken: 'COUNT',
    count: number,
    typeToken: 'TYPE',
    type: string
  ): Promise<IoRedisScanReply>
}

/**
 * What the adapter needs from an ioredis client: its lower-case command methods with Redis's own argument
 * order, its connection `status` and events, and `options.keyPrefix`. An ioredis 5 `Redis` instance is one
 * as it is (the type is structural: the package does not depend on ioredis, not even for its types).
 *
 * @category model
 * @since 0.1.0
 */
export interface IoRedisClient {
  readonly get: (key: string) => Promise<string | null>
  /** `SET key value PX ms GET`. */
  readonly set: (
    key: string,
    value: string,
    millisecondsToken: 'PX',
    milliseconds: number,
    get: 'GET'
  ) => Promise<string | null>
  /** `GETEX key PX ms`. */
  readonly getex: (key: string, millisecondsToken: 'PX', milliseconds: number) => Promise<string | null>
  readonly getdel: (key: string) => Promise<string | null>
  /** `MGET` with the keys as one array (ioredis flattens it). */
  readonly mget: (keys: Array<string>) => Promise<ReadonlyArray<string | null>>
  /**
   * `EVALSHA sha1 numkeys …keys …args`, keys and arguments as one array (ioredis flattens it and puts its `keyPrefix`
   * before the first `numkeys`).
   */
  readonly evalsha: (sha1: string, numkeys: number, keysAndArguments: Array<string>) => Promise<unknown>
  /** `EVAL script numkeys …keys …args`, as `evalsha`. */
  readonly eval: (script: string, numkeys: number, keysAndArguments: Array<string>) => Promise<unknown>
  readonly scan: IoRedisScan
  readonly info: (section: string) => Promise<string>
  /** `'wait'`, `'connecting'`, `'connect'`, `'ready'`, `'close'`, `'reconnecting'` or `'end'`. */
  readonly status: string
  readonly on: (event: string, listener: (...args: ReadonlyArray<unknown>) => void) => unknown
  readonly options: { readonly keyPrefix?: string | undefined }
}

/** What is read only inside this adapter. */
interface IoRedisExtras {
  /** `true` on an ioredis `Cluster`, whose `SCAN` walks one node only. */
  readonly isCluster?: unknown
  /** ioredis also takes a Buffer as `keyPrefix`, although its type says string. */
  readonly options?: { readonly keyPrefix?: unknown }
  /**
   * ioredis's private flag, `true` from the moment `quit()` is sent or `disconnect()` is called until the
   * socket is closed (the status is still `'ready'` meanwhile; it is `'end'` afterwards).
   */
  readonly manuallyClosing?: unknown
  /** A new client with the same options and `override`: the subscriber of `subscribeKeyspace`. */
  readonly duplicate?: (override: Readonly<Record<string, unknown>>) => unknown
}

/** What `subscribeKeyspace` uses of the duplicate it subscribes with. */
interface IoRedisSubscriber {
  readonly status: string
  readonly on: (event: string, listener: (...args: ReadonlyArray<unknown>) => void) => unknown
  readonly config: (get: 'GET', name: string) => Promise<unknown>
  readonly psubscribe: (pattern: string) => Promise<unknown>
  readonly disconnect: () => void
}

/**
 * A subscriber (`subscribeKeyspace`) to the node of `client` (an ioredis `Redis`): `client.duplicate(override)`,
 * `CONFIG GET notify-keyspace-events`, then `PSUBSCRIBE`. ioredis subscribes it again after each reconnect
 * (`autoResubscribe`, forced on).
 */
const ioRedisSubscriber =
  (client: unknown, override: Readonly<Record<string, unknown>>): OpenSubscriber =>
  (pattern, handlers) => {
    const s = (client as Required<Pick<IoRedisExtras, 'duplicate'>>).duplicate({
      ...override,
      autoResubscribe: true,
      enableOfflineQueue: true,
      // Its first commands wait for the node however long it takes to come (not 20 attempts, ioredis's default).
      maxRetriesPerRequest: null
    }) as IoRedisSubscriber
    s.on('error', () => undefined)
    s.on('pmessage', (_pattern, channel, message) => handlers.onMessage(String(channel), String(message)))
    void readThenSubscribe(
      handlers,
      () => s.config('GET', 'notify-keyspace-events'),
      () => s.psubscribe(pattern)
    )
    return { isReady: () => s.status === 'ready', close: () => s.disconnect() }
  }

// --- constructors

/** Down on `'close'` (the socket is gone), `'reconnecting'` and `'end'` (closed for good); ready on `'ready'`. */
const IOREDIS_EVENTS = [
  ['ready', 'ready'],
  ['close', 'down'],
  ['reconnecting', 'down'],
  ['end', 'down']
] as const

const ioRedisConnection = (client: IoRedisClient, extras: IoRedisExtras): Connection => {
  // 'end': quit() or disconnect() was called (or the retryStrategy gave up); the client sends nothing again.
  const isClosed = (): boolean => client.status === 'end' || extras.manuallyClosing === true
  return connectionOf(client, IOREDIS_EVENTS, { isReady: () => client.status === 'ready' && !isClosed(), isClosed })
}

const scanOf =
  (client: Pick<IoRedisClient, 'scan'>) =>
  (cursor: string, options: ScanArgs): Promise<ScanReply> =>
    (options.TYPE === undefined
      ? client.scan(cursor, 'MATCH', options.MATCH, 'COUNT', options.COUNT)
      : client.scan(cursor, 'MATCH', options.MATCH, 'COUNT', options.COUNT, 'TYPE', options.TYPE)
    ).then(([next, keys]) => scanReplyOf(next, keys))

/** The contract's key commands on an ioredis client or cluster (a cluster routes each by its key). */
const ioRedisCommands = (
  target: Omit<IoRedisClient, 'scan' | 'info' | 'status' | 'on' | 'options'>
): Omit<RedisLike, 'scan'> => ({
  get: (key) => target.get(key),
  set: (key, value, options) => target.set(key, value, 'PX', options.PX, 'GET'),
  getEx: (key, options) => target.getex(key, 'PX', options.PX),
  getDel: (key) => target.getdel(key),
  mGet: (keys) => target.mget(keys),
  evalSha: (sha1, options) => target.evalsha(sha1, options.keys.length, [...options.keys, ...options.arguments]),
  eval: (script, options) => target.eval(script, options.keys.length, [...options.keys, ...options.arguments])
})

/**
 * The `SessionClient` of an ioredis 5 client (`new Redis(…)`, with or without `keyPrefix`). The same client
 * always gives the same adapter. An ioredis `Cluster` is refused with a `TypeError`: its `SCAN` would see
 * one node only.
 *
 * @example
 * import { Redis } from 'ioredis'
 * import { createRedisStore } from 'connect-redis-session'
 * import { fromIoRedis } from 'connect-redis-session/ioredis'
 *
 * const client = new Redis({ lazyConnect: true, keyPrefix: 'app:' })
 * const adapted = fromIoRedis(client)
 * const store = createRedisStore(adapted) // sessions at app:sessions:<sid>
 * assert.strictEqual(typeof store.get, 'function')
 * assert.strictEqual(adapted.keyPrefix, 'app:')
 * assert.strictEqual(fromIoRedis(client), adapted) // one adapter per client
 * client.disconnect()
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromIoRedis: (client: IoRedisClient) => SessionClient = oncePerClient((client) => {
  const extras = client as unknown as IoRedisExtras
  if (extras.isCluster === true) {
    throw new TypeError(
      'fromIoRedis takes a standalone ioredis client (new Redis(…)): for an ioredis Cluster use fromIoRedisCluster'
    )
  }
  const call = (client as { readonly call?: unknown }).call
  const db = (client.options as { readonly db?: unknown }).db
  return {
    _tag: 'SessionClient',
    ...ioRedisCommands(client),
    scan: scanOf(client),
    keyPrefix: keyPrefixOf(extras.options?.keyPrefix),
    connection: ioRedisConnection(client, extras),
    info: (section) => client.info(section),
    ...(typeof extras.duplicate === 'function'
      ? {
          subscribeKeyspace: keyspaceOfNode(
            addressOf(client.options, 'localhost'),
            typeof db === 'number' ? db : 0,
            ioRedisSubscriber(client, {})
          )
        }
      : {}),
    ...(typeof call === 'function'
      ? { waitReplicas: waitVia((args) => (call as (...args: Array<string>) => Promise<unknown>).apply(client, args)) }
      : {})
  }
})

// --- cluster

/** The reconnection delay of a cluster node's subscriber: 100 ms more per attempt, at most 2 s. */
const backoff = (attempt: number): number => Math.min(attempt * 100, 2_000)

/**
 * A master's own client in an ioredis `Cluster` (`nodes('master')`): `SCAN` and `INFO`, and for `waitReplicas`
 * its address and `call`.
 *
 * @category model
 * @since 0.1.0
 */
export interface IoRedisClusterNode extends Pick<IoRedisClient, 'scan' | 'info'> {
  readonly options?: { readonly host?: string | undefined; readonly port?: number | undefined }
  readonly call?: (command: string, ...args: Array<string>) => Promise<unknown>
}

/**
 * What the adapter needs from an ioredis `Cluster`: the same command methods (routed by key), its masters'
 * own clients (`nodes('master')`), its status and events, and its options.
 *
 * @category model
 * @since 0.1.0
 */
export interface IoRedisClusterClient extends Omit<IoRedisClient, 'scan' | 'info' | 'options'> {
  readonly isCluster: boolean
  readonly nodes: (role: 'master') => ReadonlyArray<IoRedisClusterNode>
  /** ioredis's slot map: for each slot, the `host:port` of its master first (then its replicas). */
  readonly slots?: ReadonlyArray<ReadonlyArray<string> | undefined>
  readonly options: {
    readonly keyPrefix?: string | undefined
    readonly redisOptions?: { readonly keyPrefix?: string | undefined } | undefined
  }
}

/**
 * The `SessionClient` of an ioredis 5 `Cluster`: single-key commands go through the cluster (routed by key),
 * the batched operations scan each master (`nodes('master')`, read again at every walk) and group keys by
 * hash slot. The same cluster always gives the same adapter.
 *
 * @example
 * import { Cluster } from 'ioredis'
 * import { createRedisStore } from 'connect-redis-session'
 * import { fromIoRedisCluster } from 'connect-redis-session/ioredis'
 *
 * const cluster = new Cluster([{ host: '127.0.0.1', port: 7000 }], { lazyConnect: true })
 * const store = createRedisStore(fromIoRedisCluster(cluster))
 * assert.strictEqual(typeof store.access.all, 'function')
 * cluster.disconnect()
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromIoRedisCluster: (cluster: IoRedisClusterClient) => SessionClient = oncePerClient((cluster) => {
  const extras = cluster as unknown as IoRedisExtras & {
    readonly options?: { readonly redisOptions?: { readonly keyPrefix?: unknown } }
  }
  const prefixed = keyPrefixOf(extras.options?.keyPrefix) || keyPrefixOf(extras.options?.redisOptions?.keyPrefix)
  // A master ioredis has lost (killed, no replica to promote) leaves `nodes('master')` while the slot map still
  // names it: a walk over the masters left would miss its sessions without a word. Refused instead.
  const masters = (): Promise<ReadonlyArray<Pick<RedisLike, 'scan'>>> => {
    const nodes = cluster.nodes('master')
    const listed = new Set(nodes.map((node) => `${node.options?.host ?? ''}:${node.options?.port ?? ''}`))
    const missing = (cluster.slots ?? []).findIndex((owners) => {
      const master = owners?.[0]
      return master !== undefined && !listed.has(master)
    })
    return missing < 0
      ? Promise.resolve(nodes.map((node) => ({ scan: scanOf(node) })))
      : Promise.reject(
          new Error(
            `CLUSTERDOWN the master of slot ${missing} (${String(
              cluster.slots?.[missing]?.[0]
            )}) is not connected: a walk would miss its sessions`
          )
        )
  }
  // A subscriber to a node: a duplicate of a master's own client (its options: TLS, credentials) at the node's address
  // (through the cluster's natMap, as ioredis maps it). ioredis makes its node clients with no retryStrategy (it
  // waits for a MOVED instead): the subscribers get one of their own.
  const natMap = (cluster.options as { readonly natMap?: unknown }).natMap
  const anyMaster = (): IoRedisClusterNode | undefined => {
    const nodes = cluster.nodes('master')
    return nodes[Math.floor(Math.random() * nodes.length)]
  }
  const clusterNodes = (): Promise<unknown> => {
    const node = anyMaster()
    return node?.call === undefined
      ? Promise.reject(new Error('the cluster client knows no master yet'))
      : node.call('CLUSTER', 'NODES')
  }
  const openAt =
    (host: string, port: number): OpenSubscriber =>
    (pattern, handlers) => {
      const [h, p] = mappedAddress(natMap, host, port)
      const base = anyMaster()
      if (base !== undefined)
        return ioRedisSubscriber(base, {
          host: h,
          port: p,
          lazyConnect: false,
          retryStrategy: backoff,
          readOnly: false
        })(pattern, handlers)
      handlers.onNode({ failed: 'the cluster client knows no master yet' })
      return { isReady: () => false, close: () => undefined }
    }
  return {
    _tag: 'SessionClient',
    ...ioRedisCommands(cluster),
    scan: noScan,
    keyPrefix: prefixed,
    connection: ioRedisConnection(cluster as unknown as IoRedisClient, extras),
    info: (section) => {
      const first = cluster.nodes('master')[0]
      return first === undefined ? Promise.resolve('') : first.info(section)
    },
    cluster: { masters },
    subscribeKeyspace: keyspaceOfNodes(clusterNodes, openAt),
    // WAIT on the connection of the master that owns the key's slot: the one the cluster sent the write to.
    waitReplicas: waitVia((args, key) => {
      const owner = cluster.slots?.[keySlot(`${prefixed}${key}`)]?.[0]
      const node = cluster
        .nodes('master')
        .find((n) => n.options !== undefined && `${n.options.host}:${n.options.port}` === owner)
      return node?.call === undefined
        ? Promise.reject(new Error(`no connection to the master of key ${key} (slot owner ${String(owner)})`))
        : node.call(...args)
    })
  }
})
