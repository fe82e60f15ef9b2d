/**
 * The `expired` lifecycle event (`expiredEvents`): which keyspace notifications mean that Redis expired a session,
 * and whether a node's `notify-keyspace-events` sends them. A destroyed session is a tombstone (a hash) under the
 * session's key for `concurrencyGraceSeconds`, and its end is a key expiring too: a key seen written as a hash
 * (`hset`) is remembered as a tombstone, and its `expired` is not a session's. Everything here is pure over the
 * notifications and the clock; src/express/expired-events.ts subscribes and emits.
 *
 * @since 0.1.0
 * @internal
 */
import * as O from 'fp-ts/lib/Option'
import type { IO } from 'fp-ts/lib/IO'
import { stripPrefix } from '../keys'

// --- model

/**
 * What the filter needs: the key prefix of the sessions as Redis holds them (the client's `keyPrefix` then the
 * store's `prefix`), how long a tombstone lives, and the clock.
 *
 * @internal
 */
export interface ExpiredFilterDeps {
  readonly keyPrefix: string
  readonly graceMs: number
  readonly now: IO<number>
}

/**
 * The filter: the session id a notification reports expired, if any, and how many keys it remembers.
 *
 * @internal
 */
export interface ExpiredFilter {
  readonly expiredSid: (key: string, event: string) => O.Option<string>
  /** Tombstones and recent expiries remembered: bounded by the logouts of about one grace period. */
  readonly remembered: () => number
}

// --- constants

/**
 * How long after its grace a tombstone is still remembered: Redis expires a key when a command meets it or when
 * its active expiry samples it, which on a large keyspace can be well after its TTL.
 *
 * @internal
 */
export const TOMBSTONE_SLACK_MS = 60_000

/**
 * How long an expiry is remembered so that a second report of it (two masters for a while, after a partition) is
 * not a second event.
 *
 * @internal
 */
export const REPORTED_FOR_MS = 2_000

/** Remembered keys are pruned at most this often (each prune walks only what it removes). */
const PRUNE_EVERY_MS = 1_000

// --- constructors

/** Keys with a deadline, in the order of their deadlines (each is `now` plus one fixed length). */
const deadlines = () => {
  const map = new Map<string, number>()
  return {
    map,
    put: (key: string, until: number): void => {
      map.delete(key)
      map.set(key, until)
    },
    prune: (at: number): void => {
      for (const [key, until] of map) {
        if (until > at) return
        map.delete(key)
      }
    }
  }
}

/**
 * The filter of one store's notifications. `hset` of a session key: a tombstone, remembered until its grace and
 * `TOMBSTONE_SLACK_MS` have passed. `expired` of a remembered tombstone: forgotten, no event. `expired` of any other
 * session key: its session id, once (a second report within `REPORTED_FOR_MS` is not one). Every other event, and
 * every key outside the prefix, is nothing.
 *
 * @internal
 */
export const makeExpiredFilter = (deps: ExpiredFilterDeps): ExpiredFilter => {
  const sidOf = stripPrefix(deps.keyPrefix)
  const tombstones = deadlines()
  const reported = deadlines()
  let prunedAt = deps.now()
  return {
    expiredSid: (key, event) => {
      const at = deps.now()
      if (at - prunedAt >= PRUNE_EVERY_MS) {
        prunedAt = at
        tombstones.prune(at)
        reported.prune(at)
      }
      const sid = sidOf(key)
      if (sid === undefined) return O.none
      if (event === 'hset') tombstones.put(key, at + deps.graceMs + TOMBSTONE_SLACK_MS)
      if (event !== 'expired') return O.none
      if (tombstones.map.delete(key) || reported.map.has(key)) return O.none
      reported.put(key, at + REPORTED_FOR_MS)
      return O.some(sid)
    },
    remembered: () => tombstones.map.size + reported.map.size
  }
}

// --- the server's setting

/** The notification classes the filter needs: keyspace channel (`K`), hash commands (`h`), expiries (`x`). */
const NEEDED = ['K', 'h', 'x'] as const

/**
 * Why a node whose `notify-keyspace-events` is `flags` would not send what `expiredEvents` needs, with the setting
 * to give it (the flags it has plus the ones it lacks), or `undefined` when it does. `A` stands for every class
 * (`h` and `x` among them), not for `K`.
 *
 * @internal
 */
export const notificationsProblem = (flags: string, node: string): string | undefined => {
  const missing = NEEDED.filter((c) => !flags.includes(c) && !(c !== 'K' && flags.includes('A')))
  if (missing.length === 0) return undefined
  const wanted = flags + missing.join('')
  return `expiredEvents: Redis on ${node} has notify-keyspace-events "${flags}", without ${missing.join(
    ', '
  )}: no expired event will come from it. Set notify-keyspace-events ${wanted} (redis.conf, CONFIG SET notify-keyspace-events ${wanted}, or a managed service's parameter group); the store never changes it.`
}
