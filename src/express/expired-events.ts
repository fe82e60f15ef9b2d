/**
 * The store's `expired` event (`expiredEvents: true`): a keyspace subscription through the client
 * (`SessionClient.subscribeKeyspace`), its notifications filtered (src/operations/expired-events.ts), each session
 * Redis expired emitted as `expired` with `{ sid }`. The subscription holds the store weakly and ends with the
 * client (closed by the application) or with the store (collected).
 *
 * @since 0.1.0
 * @internal
 */
import * as O from 'fp-ts/lib/Option'
import type { IO } from 'fp-ts/lib/IO'
import type { NodeReport, SessionClient } from '../client/contract'
import { matchPattern } from '../keys'
import { makeExpiredFilter, notificationsProblem } from '../operations/expired-events'
import { warn, type StoreEvents } from './connection'

/** How often a subscription looks whether its client was closed or its store collected. */
const CHECK_EVERY_MS = 1_000

/** The warning a node's report calls for, if any. */
const reportProblem = (node: string, report: NodeReport): string | undefined =>
  'flags' in report
    ? notificationsProblem(report.flags, node)
    : 'unreadable' in report
    ? `expiredEvents: could not read notify-keyspace-events on ${node} (${report.unreadable}); subscribed all the same. Expired events come only if it contains K, h and x (e.g. notify-keyspace-events Khx).`
    : `expiredEvents: could not subscribe to keyspace notifications on ${node} (${report.failed}): no expired event will come from it.`

/** The subscriptions still open, each with the function that ends it: ended when their store is collected. */
const endWithStore = new FinalizationRegistry<() => void>((end) => end())

/**
 * Subscribes `store` to the expiries of its sessions: `expired` with `{ sid }` for each session Redis expired, none
 * for a tombstone's end; one `warning` on the first node whose `notify-keyspace-events` lacks what is needed (or
 * cannot be read, or refuses the subscription). Throws a `TypeError` when the client cannot subscribe.
 *
 * @internal
 */
export const followExpiries = (
  client: SessionClient,
  store: StoreEvents,
  options: { readonly prefix: string; readonly concurrencyGraceSeconds: number; readonly now: IO<number> }
): void => {
  const subscribe = client.subscribeKeyspace
  if (subscribe === undefined)
    throw new TypeError(
      'options.expiredEvents needs a client that subscribes to keyspace notifications: node-redis (not a Sentinel client), ioredis, or the in-memory client; Valkey GLIDE is not supported (see docs/lifecycle-events.md), and a SessionClient of your own needs subscribeKeyspace'
    )
  const keyPrefix = client.keyPrefix + options.prefix
  const filter = makeExpiredFilter({ keyPrefix, graceMs: options.concurrencyGraceSeconds * 1000, now: options.now })
  const ref = new WeakRef(store)
  let warned = false
  const subscription = subscribe(matchPattern(keyPrefix), {
    onEvent: (key, event) => {
      const s = ref.deref()
      if (s !== undefined) O.map((sid: string) => s.emit('expired', { sid }))(filter.expiredSid(key, event))
    },
    onNode: (node, report) => {
      const problem = warned ? undefined : reportProblem(node, report)
      const s = ref.deref()
      if (problem === undefined || s === undefined) return
      warned = true
      warn(s, problem)
    }
  })
  let ended = false
  const end = (): void => {
    if (ended) return
    ended = true
    clearInterval(timer)
    unsubscribe()
    subscription.close()
  }
  const unsubscribed: unknown = client.connection.onChange(() => {
    if (client.connection.isClosed()) end()
  })
  const unsubscribe = (): void => {
    if (typeof unsubscribed === 'function') unsubscribed()
  }
  // A client that reports no change of state (a cluster of node-redis, GLIDE) is looked at every second.
  const timer = setInterval(() => {
    if (client.connection.isClosed() || ref.deref() === undefined) end()
  }, CHECK_EVERY_MS)
  timer.unref()
  endWithStore.register(store, end)
}
