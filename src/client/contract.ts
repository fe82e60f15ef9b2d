/**
 * The client contract: the commands the operations send, and what the store needs to know about the
 * connection beside them. Adapters (`fromNodeRedis`, `fromIoRedis`) turn a real client into it; a fake for a
 * unit test is a record of functions.
 *
 * @since 0.1.0
 */

// --- model

/**
 * Keys and arguments of a Lua script call.
 *
 * @category model
 * @since 0.1.0
 */
export interface ScriptArgs {
  readonly keys: Array<string>
  readonly arguments: Array<string>
}

/**
 * `SCAN` options.
 *
 * @category model
 * @since 0.1.0
 */
export interface ScanArgs {
  readonly MATCH: string
  readonly COUNT: number
  readonly TYPE?: string
}

/**
 * One `SCAN` reply: the next cursor (`'0'` at the end) and the keys of the page, as strings.
 *
 * @category model
 * @since 0.1.0
 */
export interface ScanReply {
  readonly cursor: string
  readonly keys: ReadonlyArray<string>
}

/**
 * The commands the operations send. Each operation asks only for the ones it uses (`Pick<RedisLike, 'get'>`),
 * so a fake client stays tiny. Keys are full store keys (`prefix + sid`); a client `keyPrefix` is added by
 * the client itself (see `SessionClient.keyPrefix`).
 *
 * @category model
 * @since 0.1.0
 */
export interface RedisLike {
  readonly get: (key: string) => Promise<string | null>
  /** `SET key value PX ms GET`: Redis refuses it (WRONGTYPE) when the key is not a string, e.g. a tombstone. */
  readonly set: (key: string, value: string, options: { readonly PX: number; readonly GET: true }) => Promise<unknown>
  /** `GETEX key PX ms`: renews a string's TTL; never creates a key; WRONGTYPE on a tombstone. */
  readonly getEx: (key: string, options: { readonly PX: number }) => Promise<string | null>
  /** `GETDEL key`: deletes a string; WRONGTYPE on a tombstone. */
  readonly getDel: (key: string) => Promise<string | null>
  readonly mGet: (keys: Array<string>) => Promise<ReadonlyArray<string | null>>
  readonly evalSha: (sha1: string, options: ScriptArgs) => Promise<unknown>
  readonly eval: (script: string, options: ScriptArgs) => Promise<unknown>
  /** One `SCAN` call; the cursor goes out and comes back as a string. */
  readonly scan: (cursor: string, options: ScanArgs) => Promise<ScanReply>
}

/**
 * A client's connection, as far as the store cares: whether commands can go out now, whether the
 * application closed it, and the moments it goes down or is ready again.
 *
 * @category model
 * @since 0.1.0
 */
export interface Connection {
  /** `false` while the client reconnects, after it was closed, or before it was connected. */
  readonly isReady: () => boolean
  /** `true` once the application closed the client on purpose. */
  readonly isClosed: () => boolean
  /**
   * Calls `listener` with `'down'` when the connection is lost and `'ready'` when it is usable again (every time; the
   * store keeps only the changes). Returns the function that removes `listener` again.
   */
  readonly onChange: (listener: (state: 'ready' | 'down') => void) => () => void
}

/**
 * How to reach every master of a Redis Cluster, for the batched operations: each master's `SCAN`, read
 * afresh at the start of every walk (so a failover or a resharding between walks is followed).
 *
 * @category model
 * @since 0.1.0
 */
export interface ClusterTopology {
  readonly masters: () => Promise<ReadonlyArray<Pick<RedisLike, 'scan'>>>
}

/**
 * What a keyspace subscription tells: each notification, and each node's `notify-keyspace-events` once its
 * subscription is up.
 *
 * @category model
 * @since 0.1.0
 */
export interface KeyspaceListener {
  /**
   * A keyspace notification: the key as Redis holds it (the client's `keyPrefix` included, as `SCAN` returns keys) and
   * the event (`expired`, `hset`, …).
   */
  readonly onEvent: (key: string, event: string) => void
  /** Once per node (`host:port`), when its subscription is first up, or failed. */
  readonly onNode: (node: string, report: NodeReport) => void
}

/**
 * How a node's keyspace subscription started: subscribed, with the node's `notify-keyspace-events` as `CONFIG GET`
 * reads it (`flags`) or why it could not be read (`unreadable`: a managed service may refuse `CONFIG`); or not
 * subscribed (`failed`, e.g. an ACL without the channel).
 *
 * @category model
 * @since 0.1.0
 */
export type NodeReport = { readonly flags: string } | { readonly unreadable: string } | { readonly failed: string }

/**
 * What `subscribeKeyspace` returns: connections of their own (a connection that subscribes can send nothing else), which
 * subscribe again after a reconnect. `close()` ends them.
 *
 * @category model
 * @since 0.1.0
 */
export interface KeyspaceSubscription {
  readonly close: () => void
}

/**
 * The whole client contract: the commands, the key prefix the client adds by itself, its connection, and
 * `INFO`. `createRedisStore` takes one of these, or a node-redis client, which it adapts with `fromNodeRedis`.
 *
 * @category model
 * @since 0.1.0
 */
export interface SessionClient extends RedisLike {
  readonly _tag: 'SessionClient'
  /**
   * The prefix the client puts before every key it sends (node-redis v6 / ioredis `keyPrefix`), `''` if none. `SCAN`
   * returns keys with it and does not add it to `MATCH`.
   */
  readonly keyPrefix: string
  readonly connection: Connection
  /** `INFO <section>`, for the startup eviction-policy check. */
  readonly info: (section: string) => Promise<string>
  /**
   * Present on a Redis Cluster client: batched operations then scan every master and group keys by hash
   * slot, so no multi-key command ever spans two slots. Single-key commands are routed by the client.
   */
  readonly cluster?: ClusterTopology
  /**
   * `WAIT replicas timeoutMs` on the connection to the node that owns `key`: how many replicas hold every
   * write made so far. Every adapter of this package has it; a `SessionClient` of your own may leave it out (then `waitReplicas` is refused).
   */
  readonly waitReplicas?: (key: string, replicas: number, timeoutMs: number) => Promise<number>
  /**
   * `true` on a client that keeps the keys in this process (the in-memory client): nothing is shared with another
   * process or kept across a restart. A store built on it with `NODE_ENV=production` emits a `warning`.
   */
  readonly inProcess?: boolean
  /**
   * Keyspace notifications (`PSUBSCRIBE __keyspace@<db>__:<keyPattern>`) of the keys matching `keyPattern` (a glob over
   * keys as Redis holds them, the client's `keyPrefix` included, as `SCAN … MATCH` takes it), on every node that holds
   * keys — every master and replica of a cluster, followed as the cluster changes. The store's `expiredEvents` needs
   * it; a client without it (Valkey GLIDE, a `SessionClient` of your own) is refused with that option.
   */
  readonly subscribeKeyspace?: (keyPattern: string, listener: KeyspaceListener) => KeyspaceSubscription
}

/**
 * A connection that is always ready and never changes: for fakes and for clients without connection state.
 *
 * @category constructors
 * @since 0.1.0
 */
export const alwaysReady: Connection = {
  isReady: () => true,
  isClosed: () => false,
  onChange: () => () => undefined
}
