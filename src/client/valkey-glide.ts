/**
 * The Valkey GLIDE adapter: turns a `GlideClient` or a `GlideClusterClient` of `@valkey/valkey-glide` 2 into the
 * `SessionClient` contract. Scripts go through GLIDE's script API (`Script`, `invokeScript`: GLIDE loads a script
 * a server does not know by itself); on a cluster, `SCAN` goes to each primary by its address. This module loads
 * `@valkey/valkey-glide` (for `Script`, `TimeUnit` and `Decoder`); the package root does not load this module.
 *
 * GLIDE has no connection events and no connection state: it reconnects on its own, without end, and fails a
 * request it could not complete within its `requestTimeout` (250 ms by default) with a `TimeoutError`. So the
 * connection this adapter reports is ready until the client is closed (`close()`): `whenDisconnected` waits and
 * `'bypass'` never bypasses, and a request meets an outage as a `CommandFailed` (`ESESSION_REDIS`) after
 * `requestTimeout`, before the store's own `operationTimeoutMs` (2 s) would.
 *
 * @since 0.1.0
 */
import {
  Decoder,
  Script as GlideScript,
  TimeUnit,
  type GlideClient,
  type GlideClusterClient,
  type InfoOptions
} from '@valkey/valkey-glide'
import type { RedisLike, ScanArgs, ScanReply, ScriptArgs, SessionClient } from './contract'
import { connectionOf, noScan, oncePerClient, scanReplyOf, waitVia } from './shared'

// --- model

/**
 * What the adapter uses of a standalone `GlideClient` (`await GlideClient.createClient(…)`).
 *
 * @category model
 * @since 0.1.0
 */
export type ValkeyGlideClient = Pick<
  GlideClient,
  'get' | 'set' | 'getex' | 'getdel' | 'mget' | 'invokeScript' | 'scan' | 'info' | 'customCommand' | 'close'
>

/**
 * What the adapter uses of a `GlideClusterClient` (`await GlideClusterClient.createClient(…)`).
 *
 * @category model
 * @since 0.1.0
 */
export type ValkeyGlideClusterClient = Pick<
  GlideClusterClient,
  'get' | 'set' | 'getex' | 'getdel' | 'mget' | 'invokeScript' | 'info' | 'customCommand' | 'close'
>

/** GLIDE's `isClosed`: protected in its types, `true` once `close()` ran (or the client gave up at creation). */
interface GlideExtras {
  readonly isClosed?: unknown
}

// --- scripts

/**
 * GLIDE's `Script` of each script source, made once per process: a `Script` lives in GLIDE's native container
 * until released, and the store's scripts are a fixed handful, kept for the life of the process. `evalSha` finds
 * them by SHA1, once `eval` made them.
 */
const scriptsBySource = new Map<string, GlideScript>()
const scriptsBySha1 = new Map<string, GlideScript>()

const glideScript = (source: string): GlideScript => {
  const known = scriptsBySource.get(source)
  if (known !== undefined) return known
  const made = new GlideScript(source)
  scriptsBySource.set(source, made)
  scriptsBySha1.set(made.getHash(), made)
  return made
}

/** What `runScript` takes for "this SHA1 is not loaded": then it calls `eval`, which makes the `Script`. */
const noScript = (sha1: string): Promise<never> =>
  Promise.reject(new Error(`NOSCRIPT no GLIDE Script made yet for ${sha1}`))

/** `String` replies whatever the client's `defaultDecoder`. */
const STRINGS = { decoder: Decoder.String } as const

const scripts = (client: Pick<ValkeyGlideClient, 'invokeScript'>): Pick<RedisLike, 'evalSha' | 'eval'> => {
  const invoke = (script: GlideScript, options: ScriptArgs): Promise<unknown> =>
    client.invokeScript(script, { keys: options.keys, args: options.arguments, ...STRINGS })
  return {
    evalSha: (sha1, options) => {
      const script = scriptsBySha1.get(sha1)
      return script === undefined ? noScript(sha1) : invoke(script, options)
    },
    eval: (source, options) => invoke(glideScript(source), options)
  }
}

// --- commands

const PX = TimeUnit.Milliseconds

/** The contract's key commands on a GLIDE client (a cluster client routes each by its key). */
const glideCommands = (client: ValkeyGlideClusterClient | ValkeyGlideClient): Omit<RedisLike, 'scan'> => ({
  get: (key) => client.get(key, STRINGS) as Promise<string | null>,
  set: (key, value, options) =>
    client.set(key, value, { expiry: { type: PX, count: options.PX }, returnOldValue: true, ...STRINGS }),
  getEx: (key, options) =>
    client.getex(key, { expiry: { type: PX, duration: options.PX }, ...STRINGS }) as Promise<string | null>,
  getDel: (key) => client.getdel(key, STRINGS) as Promise<string | null>,
  mGet: (keys) => client.mget(keys, STRINGS) as Promise<ReadonlyArray<string | null>>,
  ...scripts(client)
})

/** The words of one `SCAN`. */
const scanWords = (cursor: string, options: ScanArgs): Array<string> => [
  'SCAN',
  cursor,
  'MATCH',
  options.MATCH,
  'COUNT',
  String(options.COUNT),
  ...(options.TYPE === undefined ? [] : ['TYPE', options.TYPE])
]

/** A `SCAN` reply, `[cursor, keys]`, as the contract's; anything else is passed on for the store to refuse. */
const scanReply = (reply: unknown): unknown => {
  if (!Array.isArray(reply) || reply.length !== 2) return reply
  const [cursor, keys] = reply as [unknown, unknown]
  return (typeof cursor === 'string' || Buffer.isBuffer(cursor)) && Array.isArray(keys)
    ? scanReplyOf(String(cursor), keys as ReadonlyArray<string | Uint8Array>)
    : reply
}

/**
 * The contract's `scan` through `send`, which sends the words of one `SCAN` (to the client's node, or to one
 * node of a cluster). The reply is checked by the store (`isScanReply`), which refuses any other shape.
 */
const scanVia =
  (send: (words: Array<string>) => Promise<unknown>) =>
  (cursor: string, options: ScanArgs): Promise<ScanReply> =>
    send(scanWords(cursor, options)).then(scanReply) as Promise<ScanReply>

/** Hash slots of a Redis Cluster. */
const SLOTS = 16384

/**
 * The `host:port` of each master in a `CLUSTER SLOTS` reply (`[[start, end, [host, port, id, …], …replicas], …]`),
 * each once. A reply whose ranges leave slots without a master (a master lost and not replaced) is refused: a walk
 * over the masters it names would miss those slots' sessions without a word.
 */
const slotMasters = (reply: unknown): ReadonlyArray<string> => {
  const ranges: ReadonlyArray<unknown> = Array.isArray(reply) ? reply : []
  const masters = new Set<string>()
  let covered = 0
  for (const range of ranges) {
    const [start, end, master] = Array.isArray(range) ? (range as ReadonlyArray<unknown>) : []
    const [host, port] = Array.isArray(master) ? (master as ReadonlyArray<unknown>) : []
    if (typeof start !== 'number' || typeof end !== 'number' || typeof host !== 'string' || host === '')
      throw new TypeError(`CLUSTER SLOTS answered a range that names no master: ${JSON.stringify(range)}`)
    masters.add(`${host}:${String(port)}`)
    covered += end - start + 1
  }
  if (covered !== SLOTS)
    throw new Error(
      `CLUSTERDOWN ${SLOTS - covered} hash slots have no master in CLUSTER SLOTS: a walk would miss their sessions`
    )
  return [...masters]
}

/** A client is closed once GLIDE says so: its connection is "ready" until then (GLIDE reports nothing else). */
const glideConnection = (client: object) => {
  const isClosed = (): boolean => (client as GlideExtras).isClosed === true
  return connectionOf({}, [], { isReady: () => !isClosed(), isClosed })
}

// --- constructors

/**
 * The `SessionClient` of a standalone Valkey GLIDE client (`GlideClient`). The same client always gives the same
 * adapter. GLIDE has no key prefix; the store's `prefix` option is the one to use.
 *
 * @example
 * import { GlideClient } from '@valkey/valkey-glide'
 * import { createRedisStore } from 'connect-redis-session'
 * import { fromValkeyGlide } from 'connect-redis-session/valkey-glide'
 *
 * async function main() {
 *   const client = await GlideClient.createClient({ addresses: [{ host: '127.0.0.1', port: 6379 }], lazyConnect: true })
 *   const adapted = fromValkeyGlide(client)
 *   const store = createRedisStore(adapted)
 *   assert.strictEqual(typeof store.get, 'function')
 *   assert.strictEqual(fromValkeyGlide(client), adapted) // one adapter per client
 *   client.close()
 * }
 * main()
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromValkeyGlide: (client: ValkeyGlideClient) => SessionClient = oncePerClient((client) => ({
  _tag: 'SessionClient',
  ...glideCommands(client),
  scan: scanVia((words) => client.customCommand(words, STRINGS)),
  keyPrefix: '',
  connection: glideConnection(client),
  info: (section) => client.info([section as InfoOptions]),
  waitReplicas: waitVia((args) => client.customCommand(args))
}))

/**
 * The `SessionClient` of a Valkey GLIDE cluster client (`GlideClusterClient`): single-key commands and scripts
 * go through the client, which routes each by its key; the batched operations read the masters from the cluster's
 * slot map (`CLUSTER SLOTS` on one node, at the start of every walk) and send each its own `SCAN` by address. A slot
 * without a master, or a master GLIDE cannot reach, fails the walk (`WalkFailed`) instead of leaving sessions out.
 *
 * @example
 * import { GlideClusterClient } from '@valkey/valkey-glide'
 * import { createRedisStore } from 'connect-redis-session'
 * import { fromValkeyGlideCluster } from 'connect-redis-session/valkey-glide'
 *
 * async function main() {
 *   const cluster = await GlideClusterClient.createClient({ addresses: [{ host: '127.0.0.1', port: 7000 }], lazyConnect: true })
 *   const store = createRedisStore(fromValkeyGlideCluster(cluster))
 *   assert.strictEqual(typeof store.access.all, 'function')
 *   cluster.close()
 * }
 * main()
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromValkeyGlideCluster: (cluster: ValkeyGlideClusterClient) => SessionClient = oncePerClient((cluster) => {
  const scanAt = (address: string) =>
    scanVia((words) => cluster.customCommand(words, { route: { type: 'routeByAddress', host: address }, ...STRINGS }))
  // The masters from the cluster's slot map, not from GLIDE's `allPrimaries`: measured after a failover, GLIDE
  // left a dead master out of `allPrimaries` (a walk would have missed a third of the sessions without a word) and,
  // once that node came back as a replica, kept it in for good (a walk counted a third of them twice).
  const masters = (): Promise<ReadonlyArray<Pick<RedisLike, 'scan'>>> =>
    cluster
      .customCommand(['CLUSTER', 'SLOTS'], { route: 'randomNode', ...STRINGS })
      .then((reply) => slotMasters(reply).map((address) => ({ scan: scanAt(address) })))
  return {
    _tag: 'SessionClient',
    ...glideCommands(cluster),
    scan: noScan,
    keyPrefix: '',
    connection: glideConnection(cluster),
    info: (section) =>
      cluster.info({ sections: [section as InfoOptions], route: 'randomNode' }).then((reply) => String(reply)),
    cluster: { masters },
    // WAIT on the connection of the primary that owns the key: the one the write went to.
    waitReplicas: waitVia((args, key) => cluster.customCommand(args, { route: { type: 'primarySlotKey', key } }))
  }
})
