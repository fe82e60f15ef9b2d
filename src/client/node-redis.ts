/**
 * The node-redis adapter: turns a node-redis v4, v5 or v6 client (or anything shaped like one) into the
 * `SessionClient` contract. Every cast and every read of a node-redis internal lives here.
 *
 * @since 0.1.0
 */
import type { RedisLike, ScanArgs, ScanReply, SessionClient } from './contract'
import { addressOf, keyspaceOfNode, readThenSubscribe, type OpenSubscriber } from './keyspace'
import { connectionOf, keyPrefixOf, oncePerClient, scanReplyOf, waitVia, type ConnectionEvents } from './shared'
import { messageOf } from '../refinements'

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
  /** …and in its options, with the database (`createClient({ database })` or the URL's). */
  readonly options?: { readonly keyPrefix?: unknown; readonly database?: unknown; readonly socket?: unknown }
  /** A new client with the same options: the subscriber of `keyspace`. */
  readonly duplicate?: () => unknown
}

/** What `subscribeKeyspace` uses of the duplicate it subscribes with (node-redis v4, v5 and v6 alike). */
interface NodeRedisSubscriber extends ConnectionEvents {
  readonly connect: () => Promise<unknown>
  readonly sendCommand: (args: Array<string>) => Promise<unknown>
  readonly pSubscribe: (pattern: string, listener: (message: unknown, channel: unknown) => void) => Promise<unknown>
  readonly isReady?: boolean
  /** v4, v5 and v6: the subscriber does not keep the process alive. */
  readonly unref?: () => void
  /** v5 and v6 (v4: `disconnect`). */
  readonly destroy?: () => void
  readonly disconnect?: () => unknown
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

const noop = (): void => undefined

/** Closes a node-redis client whatever its state (closing a client that is not open throws on v4). */
const end = (client: NodeRedisSubscriber): void => {
  try {
    const ended = typeof client.destroy === 'function' ? client.destroy() : client.disconnect?.()
    if (ended instanceof Promise) ended.catch(noop)
  } catch {
    // already closed
  }
}

/**
 * A subscriber (`subscribeKeyspace`) made by `make` (a new node-redis client, not connected: a `duplicate()`),
 * unreferenced (it never keeps the process alive), connected, `CONFIG GET notify-keyspace-events`, then
 * `PSUBSCRIBE`. node-redis subscribes it again after each reconnect (measured on v4, v5 and v6: a Redis killed and
 * started again on its port).
 *
 * @internal
 */
export const nodeRedisSubscriber =
  (make: () => Promise<unknown>): OpenSubscriber =>
  (pattern, handlers) => {
    let closed = false
    let subscriber: NodeRedisSubscriber | undefined
    void Promise.resolve()
      .then(make)
      .then((made) => {
        const s = made as NodeRedisSubscriber
        if (closed) return
        subscriber = s
        s.on?.('error', noop)
        s.unref?.()
        return s.connect().then(() =>
          closed
            ? end(s)
            : readThenSubscribe(
                handlers,
                () => s.sendCommand(['CONFIG', 'GET', 'notify-keyspace-events']),
                () => s.pSubscribe(pattern, (message, channel) => handlers.onMessage(String(channel), String(message)))
              )
        )
      })
      .catch((e: unknown) => handlers.onNode({ failed: messageOf(e) }))
    return {
      isReady: () => subscriber?.isReady === true,
      close: () => {
        closed = true
        if (subscriber !== undefined) end(subscriber)
      }
    }
  }

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
    // A Sentinel client (getMasterNode) is left out: its commands and subscriptions take other arguments.
    ...(typeof extras.duplicate === 'function' && typeof extras.getMasterNode !== 'function'
      ? {
          subscribeKeyspace: keyspaceOfNode(
            addressOf(extras.options?.socket, '127.0.0.1'),
            typeof extras.options?.database === 'number' ? extras.options.database : 0,
            nodeRedisSubscriber(() => Promise.resolve((extras.duplicate as () => unknown).call(client)))
          )
        }
      : {}),
    ...(typeof send === 'function'
      ? {
          waitReplicas: waitVia((args) =>
            typeof extras.getMasterNode === 'function' ? send.call(client, false, args) : send.call(client, args)
          )
        }
      : {})
  }
})
