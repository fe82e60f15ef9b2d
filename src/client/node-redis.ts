/**
 * The node-redis adapter: turns a node-redis v4, v5 or v6 client (or anything shaped like one) into the
 * `SessionClient` contract. Every cast and every read of a node-redis internal lives here.
 *
 * @since 0.1.0
 */
import type { Connection, RedisLike, ScanArgs, ScanReply, SessionClient } from './contract'

// --- model

/**
 * What the adapter needs from a node-redis client: its command methods (v4's `scan` takes a numeric cursor,
 * v5+ a string one; keys may come back as buffers) and, when present, its connection state, events and
 * `info`.
 *
 * @category model
 * @since 0.1.0
 */
export interface NodeRedisClient {
  readonly get: (key: string) => Promise<string | null>
  readonly set: (key: string, value: string, options: { readonly PX: number; readonly GET: true }) => Promise<unknown>
  readonly getEx: (key: string, options: { readonly PX: number }) => Promise<string | null>
  readonly getDel: (key: string) => Promise<string | null>
  readonly mGet: (keys: Array<string>) => Promise<ReadonlyArray<string | null>>
  readonly evalSha: (sha1: string, options: { keys: Array<string>; arguments: Array<string> }) => Promise<unknown>
  readonly eval: (script: string, options: { keys: Array<string>; arguments: Array<string> }) => Promise<unknown>
  readonly scan: (cursor: never, options: ScanArgs) => Promise<NodeRedisScanReply>
}

/** The optional parts, read only inside this adapter. */
interface NodeRedisExtras {
  readonly on?: (event: string, listener: (...args: ReadonlyArray<unknown>) => void) => unknown
  readonly isReady?: boolean
  readonly isOpen?: boolean
  readonly info?: (section: string) => Promise<string>
  /** `sendCommand(args)`; on a `createSentinel()` client `sendCommand(isReadonly, args)`. */
  readonly sendCommand?: (...args: Array<unknown>) => Promise<unknown>
  /** Only a node-redis v5+ `createSentinel()` client has it. */
  readonly getMasterNode?: unknown
  /** node-redis v6 keeps `createClient({ keyPrefix })` here (a private field)… */
  readonly _keyPrefix?: unknown
  /** …and in its options. */
  readonly options?: { readonly keyPrefix?: unknown }
}

/**
 * The command methods a node-redis client must have.
 *
 * @category constants
 * @since 0.1.0
 * @ignore
 */
export const NODE_REDIS_COMMANDS = ['get', 'set', 'getEx', 'getDel', 'mGet', 'evalSha', 'eval', 'scan'] as const

// --- constructors

const keyPrefixOf = (client: NodeRedisExtras): string => {
  const prefix: unknown = client._keyPrefix ?? client.options?.keyPrefix
  return typeof prefix === 'string' ? prefix : prefix instanceof Uint8Array ? Buffer.from(prefix).toString() : ''
}

const connectionOf = (client: NodeRedisExtras): Connection => {
  const listeners = new Set<(state: 'ready' | 'down') => void>()
  if (typeof client.on === 'function') {
    const tell = (state: 'ready' | 'down') => () => listeners.forEach((l) => l(state))
    client.on('ready', tell('ready'))
    client.on('reconnecting', tell('down'))
    client.on('end', tell('down'))
  }
  return {
    isReady: () => client.isReady !== false,
    isClosed: () => client.isOpen === false,
    onChange: (listener) => void listeners.add(listener)
  }
}

type NodeRedisScanReply = { readonly cursor: string | number; readonly keys: ReadonlyArray<string | Uint8Array> }

/**
 * A node-redis client's `SCAN` as the contract's: string cursors, string keys.
 *
 * @internal
 */
export const scanOf = (client: NodeRedisClient) => {
  const scan = client.scan.bind(client) as unknown as (cursor: string, options: ScanArgs) => Promise<NodeRedisScanReply>
  // v4 takes and returns a numeric cursor (a string cursor works: it is sent as it is); keys may be buffers.
  return (cursor: string, options: ScanArgs): Promise<ScanReply> =>
    scan(cursor, options).then((r) => ({
      cursor: String(r.cursor),
      keys: r.keys.map((k) => (typeof k === 'string' ? k : Buffer.from(k).toString()))
    }))
}

/**
 * `WAIT replicas timeoutMs` through a raw command sender, its reply as a number.
 *
 * @internal
 */
export const waitVia =
  (send: (args: Array<string>) => Promise<unknown>) =>
  (_key: string, replicas: number, timeoutMs: number): Promise<number> =>
    send(['WAIT', String(replicas), String(Math.max(0, Math.round(timeoutMs)))]).then(Number)

/**
 * The contract's key commands on a node-redis client or cluster (a cluster routes each by its key).
 *
 * @internal
 */
export const nodeRedisCommands = (target: Omit<NodeRedisClient, 'scan'>): Omit<RedisLike, 'scan'> => ({
  get: (key) => target.get(key),
  set: (key, value, options) => target.set(key, value, options),
  getEx: (key, options) => target.getEx(key, options),
  getDel: (key) => target.getDel(key),
  mGet: (keys) => target.mGet(keys),
  evalSha: (sha1, options) => target.evalSha(sha1, options),
  eval: (script, options) => target.eval(script, options)
})

/** One adapted client per node-redis client, so that every store on it shares one set of listeners. */
const adapted = new WeakMap<object, SessionClient>()

/**
 * The `SessionClient` of a node-redis client (v4, v5, v6, also a cluster-less `createClient({ keyPrefix })`).
 * The same client always gives the same adapter.
 *
 * @example
 * import { createClient } from 'redis'
 * import { fromNodeRedis } from 'connect-redis-session/client'
 *
 * const redis = createClient()
 * const client = fromNodeRedis(redis)
 *
 * assert.strictEqual(client._tag, 'SessionClient')
 * assert.strictEqual(client.keyPrefix, '')
 * assert.strictEqual(client.connection.isReady(), false) // until `await redis.connect()`
 * assert.strictEqual(fromNodeRedis(redis), client) // one adapter per client
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromNodeRedis = (client: NodeRedisClient): SessionClient => {
  const known = adapted.get(client)
  if (known !== undefined) return known
  const extras = client as unknown as NodeRedisExtras
  const info = extras.info
  const send = extras.sendCommand
  const made: SessionClient = {
    _tag: 'SessionClient',
    ...nodeRedisCommands(client),
    scan: scanOf(client),
    keyPrefix: keyPrefixOf(extras),
    connection: connectionOf(extras),
    // A node-redis-shaped client without INFO (a fake) has nothing to check: an empty reply.
    info: (section) => (typeof info === 'function' ? info.call(client, section) : Promise.resolve('')),
    // One connection per client: WAIT counts the writes this client made, the key's included. A sentinel
    // client's sendCommand takes `isReadonly` first (false: the master's connection, the one that wrote the
    // tombstone as long as masterPoolSize is 1, its default).
    ...(typeof send === 'function'
      ? {
          waitReplicas: waitVia((args) =>
            typeof extras.getMasterNode === 'function' ? send.call(client, false, args) : send.call(client, args)
          )
        }
      : {})
  }
  adapted.set(client, made)
  return made
}
