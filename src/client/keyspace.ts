/**
 * What the adapters share for keyspace notifications (`SessionClient.subscribeKeyspace`): the channel of a key pattern, one
 * subscriber connection per node, and on a cluster the set of nodes followed as the client's view of the cluster
 * changes. A subscriber connection is made by the adapter (`OpenSubscriber`); everything else is here.
 *
 * @since 0.1.0
 * @internal
 */
import type { KeyspaceListener, KeyspaceSubscription, NodeReport } from './contract'
import { messageOf } from '../refinements'

// --- model

/**
 * One node's subscriber connection, as an adapter makes it.
 *
 * @internal
 */
export interface NodeSubscriber {
  /** `true` while the connection is up (and so subscribed: the clients subscribe again after a reconnect). */
  readonly isReady: () => boolean
  readonly close: () => void
}

/**
 * What a subscriber connection reports: each message of the pattern, and once, the node's setting or why
 * there is none.
 *
 * @internal
 */
export interface SubscriberHandlers {
  readonly onMessage: (channel: string, message: string) => void
  readonly onNode: (report: NodeReport) => void
}

/**
 * Opens a subscriber connection to one node: it connects, reads `notify-keyspace-events` (`CONFIG GET`), then
 * subscribes to `channelPattern` (`PSUBSCRIBE`), and subscribes again after every reconnect.
 *
 * @internal
 */
export type OpenSubscriber = (channelPattern: string, handlers: SubscriberHandlers) => NodeSubscriber

// --- constructors

/**
 * The address of a node, for messages: a client's connection options (`{ host, port }` or `{ path }`: node-redis's
 * `socket`, ioredis's own options), each part the client's default when not given (`defaultHost`, 6379).
 *
 * @internal
 */
export const addressOf = (options: unknown, defaultHost: string): string => {
  const {
    host = defaultHost,
    port = 6379,
    path
  } = (options ?? {}) as { host?: unknown; port?: unknown; path?: unknown }
  return typeof path === 'string' ? path : `${String(host)}:${String(port)}`
}

/** The channel prefix of keyspace notifications in database `db`. */
const channelOf = (db: number): string => `__keyspace@${db}__:`

/**
 * The value of a `CONFIG GET` reply: `[name, value]` (RESP2), or `{ name: value }` / a `Map` (RESP3, node-redis's
 * `configGet`).
 *
 * @internal
 */
export const configValue = (reply: unknown): string | undefined => {
  if (Array.isArray(reply)) return typeof reply[1] === 'string' ? reply[1] : undefined
  if (reply instanceof Map) return [...reply.values()].find((v): v is string => typeof v === 'string')
  if (typeof reply === 'object' && reply !== null)
    return Object.values(reply).find((v): v is string => typeof v === 'string')
  return undefined
}

/**
 * Reads `notify-keyspace-events` through `config`, then subscribes through `subscribe`, telling `handlers` the
 * setting (or why it could not be read: the subscription goes on) or why the subscription failed.
 *
 * @internal
 */
export const readThenSubscribe = (
  handlers: SubscriberHandlers,
  config: () => Promise<unknown>,
  subscribe: () => Promise<unknown>
): Promise<void> =>
  config()
    .then(
      (reply) => {
        const flags = configValue(reply)
        return flags === undefined ? { unreadable: `CONFIG GET answered ${JSON.stringify(reply)}` } : { flags }
      },
      (e: unknown) => ({ unreadable: messageOf(e) })
    )
    .then((setting) => subscribe().then(() => handlers.onNode(setting)))
    .catch((e: unknown) => handlers.onNode({ failed: messageOf(e) }))

/** The handlers of one node: messages of the keyspace channel as keys, the node's reports with its address. */
const handlersFor = (db: number, node: string, listener: KeyspaceListener): SubscriberHandlers => {
  const channel = channelOf(db)
  return {
    onMessage: (c, event) => {
      if (c.startsWith(channel)) listener.onEvent(c.slice(channel.length), event)
    },
    onNode: (report) => listener.onNode(node, report)
  }
}

/**
 * The keyspace notifications of one node (a standalone client), through `open` in database `db`.
 *
 * @internal
 */
export const keyspaceOfNode =
  (node: string, db: number, open: OpenSubscriber) =>
  (keyPattern: string, listener: KeyspaceListener): KeyspaceSubscription => {
    const subscriber = open(channelOf(db) + keyPattern, handlersFor(db, node, listener))
    return { close: () => subscriber.close() }
  }

/** How often the cluster's nodes are read again (`CLUSTER NODES`) for nodes to subscribe to or to let go. */
const NODES_EVERY_MS = 2_000

/** How soon the nodes are read again while none could be read yet (the client not connected yet). */
const FIRST_READ_AGAIN_MS = 200

/**
 * How long a node may be both out of `CLUSTER NODES` (or flagged failed) and disconnected before its subscriber is
 * closed: a node restarted within this time reconnects on its own, whatever the cluster says of it meanwhile.
 */
const GONE_AFTER_MS = 30_000

/** Flags of a node that cannot be subscribed to now: failing or failed, in a handshake, without an address. */
const UNREACHABLE = /^(fail\??|handshake|noaddr)$/

/**
 * Every node of a `CLUSTER NODES` reply (one line a node: `<id> <ip:port@cport[,hostname]> <flags> …`), masters and
 * replicas, as `[host, port]`, but those flagged failing, failed, in a handshake or without an address. Not
 * `CLUSTER SLOTS`: Redis 7 leaves out of it a replica that has replicated nothing yet (offset 0).
 *
 * @internal
 */
export const clusterNodes = (reply: unknown): ReadonlyArray<readonly [host: string, port: number]> => {
  const text = Buffer.isBuffer(reply) ? reply.toString() : typeof reply === 'string' ? reply : ''
  return text.split('\n').flatMap((line) => {
    const [, address = '', flags = ''] = line.trim().split(' ')
    const hostPort = address.split('@')[0] ?? ''
    const colon = hostPort.lastIndexOf(':')
    const host = hostPort.slice(0, colon)
    const port = Number(hostPort.slice(colon + 1))
    return colon > 0 && Number.isInteger(port) && port > 0 && !flags.split(',').some((f) => UNREACHABLE.test(f))
      ? [[host, port] as const]
      : []
  })
}

/**
 * A node's address through a client's address map (node-redis `nodeAddressMap`, ioredis `natMap`: an object by
 * `host:port`, or a function of it), or as it is.
 *
 * @internal
 */
export const mappedAddress = (map: unknown, host: string, port: number): readonly [host: string, port: number] => {
  const address = `${host}:${port}`
  const mapped: unknown =
    typeof map === 'function'
      ? (map as (address: string) => unknown)(address)
      : typeof map === 'object' && map !== null
      ? (map as Record<string, unknown>)[address]
      : undefined
  const { host: h, port: p } = (mapped ?? {}) as { host?: unknown; port?: unknown }
  return [typeof h === 'string' ? h : host, typeof p === 'number' ? p : port]
}

/**
 * The keyspace notifications of every node of a cluster, masters and replicas, so that a replica promoted by a
 * failover is subscribed to already (replicas send no `expired` of their own: they delete a key when their master's
 * `DEL` comes, measured on Redis 7.0). The nodes are read from `nodes()` (`CLUSTER NODES` through the client) at once
 * and every 2 s, on a timer that does not keep the process alive; `openAt(host, port)` opens a subscriber to one. A
 * node that appears is subscribed to; a node that has left the list (or is flagged failed) and whose subscriber has been disconnected
 * for 30 s is let go. Database 0 (a cluster has no other).
 *
 * @internal
 */
export const keyspaceOfNodes =
  (
    nodes: () => Promise<unknown>,
    openAt: (host: string, port: number) => OpenSubscriber,
    now: () => number = Date.now,
    everyMs: number = NODES_EVERY_MS
  ) =>
  (keyPattern: string, listener: KeyspaceListener): KeyspaceSubscription => {
    const subscribers = new Map<string, { readonly subscriber: NodeSubscriber; lastSeen: number }>()
    const pattern = channelOf(0) + keyPattern
    let closed = false
    const follow = (listed: ReadonlyArray<readonly [string, number]>): void => {
      const at = now()
      if (closed) return
      for (const [host, port] of listed) {
        const node = `${host}:${port}`
        const known = subscribers.get(node)
        if (known !== undefined) known.lastSeen = at
        else
          subscribers.set(node, {
            subscriber: openAt(host, port)(pattern, handlersFor(0, node, listener)),
            lastSeen: at
          })
      }
      for (const [node, known] of subscribers) {
        if (known.subscriber.isReady()) known.lastSeen = Math.max(known.lastSeen, at)
        else if (at - known.lastSeen > GONE_AFTER_MS) {
          known.subscriber.close()
          subscribers.delete(node)
        }
      }
    }
    // A slot map that cannot be read now (the client not connected yet, a failover under way) is read at the next tick.
    const read = (): void =>
      void Promise.resolve()
        .then(nodes)
        .then(
          (reply) => follow(clusterNodes(reply)),
          () => {
            follow([])
            // Not connected yet: read again soon rather than at the next tick.
            if (subscribers.size === 0 && !closed) setTimeout(read, FIRST_READ_AGAIN_MS).unref()
          }
        )
    read()
    const timer = setInterval(read, everyMs)
    timer.unref()
    return {
      close: () => {
        closed = true
        clearInterval(timer)
        subscribers.forEach((s) => s.subscriber.close())
        subscribers.clear()
      }
    }
  }
