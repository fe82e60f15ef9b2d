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

/** How often the client's view of the cluster is read again for nodes to subscribe to or to let go. */
const NODES_EVERY_MS = 1_000

/**
 * How long a node may be both out of the client's view of the cluster and disconnected before its subscriber is
 * closed: a node restarted within this time reconnects on its own, whatever the client's view says.
 */
const GONE_AFTER_MS = 30_000

/**
 * The keyspace notifications of every node of a cluster: `nodes()` is the client's view of the cluster (each
 * node's address and how to open a subscriber to it), read at once and every second on a timer that does not keep
 * the process alive. A node that appears is subscribed to; a node that has left the view and whose subscriber has
 * been disconnected for 30 s is let go. Database 0 (a cluster has no other).
 *
 * @internal
 */
export const keyspaceOfNodes =
  (nodes: () => ReadonlyMap<string, OpenSubscriber>, now: () => number = Date.now) =>
  (keyPattern: string, listener: KeyspaceListener): KeyspaceSubscription => {
    const subscribers = new Map<string, { readonly subscriber: NodeSubscriber; lastSeen: number }>()
    const pattern = channelOf(0) + keyPattern
    const follow = (): void => {
      const at = now()
      let listed: ReadonlyMap<string, OpenSubscriber>
      try {
        listed = nodes()
      } catch {
        return
      }
      for (const [node, open] of listed) {
        const known = subscribers.get(node)
        if (known !== undefined) known.lastSeen = at
        else subscribers.set(node, { subscriber: open(pattern, handlersFor(0, node, listener)), lastSeen: at })
      }
      for (const [node, known] of subscribers) {
        if (known.subscriber.isReady()) known.lastSeen = Math.max(known.lastSeen, at)
        else if (at - known.lastSeen > GONE_AFTER_MS) {
          known.subscriber.close()
          subscribers.delete(node)
        }
      }
    }
    follow()
    const timer = setInterval(follow, NODES_EVERY_MS)
    timer.unref()
    return {
      close: () => {
        clearInterval(timer)
        subscribers.forEach((s) => s.subscriber.close())
        subscribers.clear()
      }
    }
  }
