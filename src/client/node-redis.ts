/**
 * The node-redis adapter: turns a node-redis v4, v5 or v6 client (or anything shaped like one) into the
 * `SessionClient` contract. Every cast and every read of a node-redis internal lives here.
 *
 * @since 0.1.0
 */
import type { RedisLike, ScanArgs, ScanReply, SessionClient } from './contract'
import { connectionOf, keyPrefixOf, oncePerClient, scanReplyOf, waitVia, type ConnectionEvents } from './shared'

// --- model

/**
 * What the adapter needs from a node-redis client: its command methods (v4's `scan` takes a numeric cursor,
 * v5+ a string one; keys may come back as buffers) and, when present, its connection state, events and
 * `info`.
 *
 * @category model
 * @since 0.1.0
 */
export interface NodeRedisClient extends Omit<RedisLike, 'scan'> {
  readonly scan: (cursor: never, options: ScanArgs) => Promise<NodeRedisScanReply>
}

/** One `SCAN` reply of node-redis: v4's cursor is a number, v5+'s a string; keys may come back as buffers. */
interface NodeRedisScanReply {
  readonly cursor: string | number
  readonly keys: ReadonlyArray<string | Uint8Array>
}

/** The optional parts, read only inside this adapter. */
interface NodeRedisExtras extends ConnectionEvents {
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

/** Down on `'reconnecting'` and `'end'` (closed for good); ready on `'ready'`. */
const NODE_REDIS_EVENTS = [
  ['ready', 'ready'],
  ['reconnecting', 'down'],
  ['end', 'down']
] as const

/**
 * A node-redis client's `SCAN` as the contract's: string cursors, string keys.
 *
 * @internal
 */
export const scanOf = (client: NodeRedisClient) => {
  // v4 takes and returns a numeric cursor (a string cursor works: it is sent as it is).
  const scan = client.scan.bind(client) as unknown as (cursor: string, options: ScanArgs) => Promise<NodeRedisScanReply>
  return (cursor: string, options: ScanArgs): Promise<ScanReply> =>
    scan(cursor, options).then((r) => scanReplyOf(r.cursor, r.keys))
}

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
export const fromNodeRedis: (client: NodeRedisClient) => SessionClient = oncePerClient((client) => {
  const extras = client as unknown as NodeRedisExtras
  const info = extras.info
  const send = extras.sendCommand
  return {
    _tag: 'SessionClient',
    ...nodeRedisCommands(client),
    scan: scanOf(client),
    keyPrefix: keyPrefixOf(extras._keyPrefix ?? extras.options?.keyPrefix),
    connection: connectionOf(extras, NODE_REDIS_EVENTS, {
      isReady: () => extras.isReady !== false,
      isClosed: () => extras.isOpen === false
    }),
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
})
