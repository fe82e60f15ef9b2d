/**
 * An in-process client for tests and demos: the client contract (`SessionClient`) over a `Map`, with what the
 * store observes of Redis — millisecond TTLs on a clock you can advance, tombstones as another type
 * (`WRONGTYPE` on string commands), `SET … GET`, `GETEX`, `GETDEL`, `MGET`, `SCAN` paging with Redis's glob
 * rules, the store's Lua scripts, a key prefix, and a connection that can go down and come back. No network,
 * no dependency. Faults can be injected: a command fails, hangs until released, or answers `NOSCRIPT`.
 *
 * @since 0.1.0
 */
import {
  GET_WITH_TTL_SCRIPT,
  NODE_MGET_SCRIPT,
  NODE_TOMBSTONE_SCRIPT,
  OWNER_ADD_SCRIPT,
  OWNER_LIST_SCRIPT,
  SET_IF_STORED_SCRIPT,
  TOMBSTONE_ONE_SCRIPT,
  TOMBSTONE_SCRIPT
} from '../scripts'
import type { Connection, KeyspaceListener, ScanArgs, ScanReply, ScriptArgs, SessionClient } from './contract'
import { globMatches } from './glob'

// --- model

/**
 * What a key holds: a string (a live session), a hash (a tombstone) or a sorted set (an owner index), and when it expires, in ms on the
 * client's clock (`clock.now()`); no `expiresAt` means no TTL.
 *
 * @category model
 * @since 0.1.0
 */
export type MemoryEntry =
  | { readonly type: 'string'; readonly value: string; readonly expiresAt?: number }
  | { readonly type: 'hash'; readonly fields: Readonly<Record<string, string>>; readonly expiresAt?: number }
  | { readonly type: 'zset'; readonly members: ReadonlyMap<string, number>; readonly expiresAt?: number }

/**
 * The client's clock: `now()` is the base clock (`Date.now` unless `createMemoryClient({ now })` gave
 * another) plus every `advance(ms)` so far. Expiry in the client follows it. A store keeps its own clock
 * (`Date.now`, like express-session's `cookie.expires`): give it `now: client.clock.now` only when the test
 * builds its sessions' `cookie.expires` from this clock.
 *
 * @category model
 * @since 0.1.0
 */
export interface MemoryClock {
  /** The time in ms since the epoch, as the client sees it. */
  readonly now: () => number
  /** Moves the clock `ms` forward (keys whose TTL runs out are gone at once), without waiting. */
  readonly advance: (ms: number) => void
}

/**
 * Direct access to the keys, for tests that seed or look at what the store wrote. Keys are full keys, the
 * client's `keyPrefix` included, as Redis would hold them. Expired keys are never returned (and are removed
 * when met). None of these go through the connection or the injected faults.
 *
 * @category model
 * @since 0.1.0
 */
export interface MemoryKeyspace {
  /** The entry at `key`, or `undefined` when there is none (or it expired). */
  readonly get: (key: string) => MemoryEntry | undefined
  /** Writes `entry` at `key`, replacing what was there. */
  readonly set: (key: string, entry: MemoryEntry) => void
  /** Deletes `key`; `true` when it existed. */
  readonly delete: (key: string) => boolean
  /** Every key, in no particular order. */
  readonly keys: () => ReadonlyArray<string>
  /** How many keys there are (expired ones are removed first). */
  readonly size: () => number
  /**
   * How many keys the client holds in memory, expired ones not yet reclaimed included (what `DBSIZE` counts):
   * for checking that memory stays bounded.
   */
  readonly held: () => number
  /** `PTTL key`: the remaining TTL in ms, `-1` without a TTL, `-2` when there is no such key. */
  readonly pttl: (key: string) => number
  /** Removes every key (`FLUSHDB`). */
  readonly flush: () => void
}

/**
 * The connection, under the test's control. While down, commands wait for `up()` (node-redis's and ioredis's
 * offline queue) or, with `offlineQueue: false`, are refused; once closed they are refused, as a closed client's are.
 *
 * @category model
 * @since 0.1.0
 */
export interface MemoryConnection extends Connection {
  /** The connection is lost: `isReady()` turns `false`, listeners hear `'down'`. */
  readonly down: () => void
  /** The connection is (again) ready: listeners hear `'ready'`, and commands queued meanwhile run, in order. */
  readonly up: () => void
  /** The application closes the client: `isClosed()` turns `true`, queued and later commands are refused. */
  readonly close: () => void
}

/**
 * The commands the client answers, by their Redis names, for fault injection.
 *
 * @category model
 * @since 0.1.0
 */
export type MemoryCommand = 'GET' | 'SET' | 'GETEX' | 'GETDEL' | 'MGET' | 'EVALSHA' | 'EVAL' | 'SCAN' | 'INFO' | 'WAIT'

/**
 * Faults to test an application's error paths with. A fault stays until `clear()`.
 *
 * @category model
 * @since 0.1.0
 */
export interface MemoryFaults {
  /**
   * Later calls of `command` reject with `error` (default: an `ERR` reply naming the command), `times` times
   * (default: every time) — without touching the keys.
   */
  readonly fail: (command: MemoryCommand, options?: { readonly error?: Error; readonly times?: number }) => void
  /**
   * Later calls of `command` (of every command when none is named) get no answer until the returned `release()`
   * is called; then they run, in the order they were made.
   */
  readonly hang: (command?: MemoryCommand) => () => void
  /** Forgets the loaded scripts, as `SCRIPT FLUSH` or a failover does: the next `EVALSHA` answers `NOSCRIPT`. */
  readonly flushScripts: () => void
  /** Removes every `fail` and `hang` (hung calls are released). */
  readonly clear: () => void
}

/**
 * The in-memory client: a `SessionClient` plus its clock, its keys, its connection controls and its faults.
 *
 * @category model
 * @since 0.1.0
 */
export interface MemoryClient extends SessionClient {
  /** Always `true`: a store built on this client warns when it runs with `NODE_ENV=production`. */
  readonly inProcess: true
  readonly clock: MemoryClock
  readonly keyspace: MemoryKeyspace
  readonly connection: MemoryConnection
  readonly faults: MemoryFaults
  /** `WAIT`: answers `options.replicas` (default 0) at once. */
  readonly waitReplicas: (key: string, replicas: number, timeoutMs: number) => Promise<number>
  /**
   * Keyspace notifications, as Redis sends them with `notify-keyspace-events Khx`: `expired` when a key is found
   * expired (by a command, `SCAN`, the few keys checked on every write, or `keyspace`), `hset` when a tombstone is
   * written. Delivered after the current synchronous code, as messages from a server are.
   */
  readonly subscribeKeyspace: NonNullable<SessionClient['subscribeKeyspace']>
}

/**
 * Options of `createMemoryClient`, all optional.
 *
 * @category model
 * @since 0.1.0
 */
export interface MemoryClientOptions {
  /** The base clock in ms since the epoch. Default `Date.now`; `clock.advance(ms)` adds to it. */
  readonly now?: () => number
  /** A prefix the client puts before every key it sends, as node-redis v6 and ioredis `keyPrefix` do. Default `''`. */
  readonly keyPrefix?: string
  /** `false`: the connection starts down, as a client before `connect()`; `connection.up()` connects it. Default `true`. */
  readonly connected?: boolean
  /** `false`: commands made while the connection is down are refused at once instead of waiting. Default `true`. */
  readonly offlineQueue?: boolean
  /** What `INFO memory` reports as `maxmemory_policy`. Default `'noeviction'`. */
  readonly maxmemoryPolicy?: string
  /** What `WAIT` answers. Default `0`. */
  readonly replicas?: number
}

// --- Redis's answers

const replyError = (message: string): Error => new Error(message)
const wrongType = (): Error => replyError('WRONGTYPE Operation against a key holding the wrong kind of value')
const notInteger = (): Error => replyError('ERR value is not an integer or out of range')
const LLONG_MIN = -(2n ** 63n)
const LLONG_MAX = 2n ** 63n - 1n

/** A number as Redis reads the argument it is sent as (`String(n)`): a 64-bit integer, or not one. */
const redisInteger = (n: number): bigint | undefined => {
  const text = String(n)
  if (!/^-?\d+$/.test(text)) return undefined
  const i = BigInt(text)
  return i < LLONG_MIN || i > LLONG_MAX ? undefined : i
}

/** `PX ms` of `SET`/`GETEX` at `now`: the expiry time, or Redis's refusal. */
const expiryOf = (command: 'set' | 'getex', ms: number, now: number): number => {
  const px = redisInteger(ms)
  if (px === undefined) throw notInteger()
  if (px <= 0n || px > LLONG_MAX - BigInt(Math.trunc(now)))
    throw replyError(`ERR invalid expire time in '${command}' command`)
  return now + Number(px)
}

/** FNV-1a of the key: the order of `SCAN`, stable while keys come and go, as Redis's hash order is. */
const hashOf = (key: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
  return h >>> 0
}

interface Slot {
  readonly key: string
  readonly hash: number
  entry: MemoryEntry
}

interface Gate {
  readonly opened: Promise<void>
  readonly open: () => void
}

const gate = (): Gate => {
  let open = (): void => undefined
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { opened, open }
}

/** Keys examined for expiry on every write, so that expired keys never pile up between `SCAN`s. */
const SWEEP_PER_WRITE = 4

// --- constructors

/**
 * An in-memory client that behaves, for the store, as a Redis server would: `createRedisStore(createMemoryClient())`
 * is a working store with no Redis. Its clock drives the expiry of keys, so `client.clock.advance(ms)` lets time
 * pass in a test without waiting. The store computes each TTL from `cookie.expires` on its own clock
 * (`Date.now`, the one express-session sets `cookie.expires` with); in a test that builds sessions from the
 * client's clock, give the store `now: client.clock.now`, as below. Memory is freed as Redis frees it: an expired key is removed when a command meets it, when `SCAN`
 * walks past it, and a few keys are checked on every write, so expired sessions do not pile up.
 *
 * Not a production store: one process, nothing persisted, nothing shared between processes. A store built on
 * it emits a `warning` when `NODE_ENV` is `production`.
 *
 * @example
 * import { createRedisStore } from 'connect-redis-session'
 * import { createMemoryClient } from 'connect-redis-session/memory'
 *
 * const client = createMemoryClient({ now: () => 1_700_000_000_000 })
 * const store = createRedisStore(client, { prefix: 'app:', now: client.clock.now })
 *
 * const run = async () => {
 *   const cookie = { originalMaxAge: 60_000, expires: new Date(client.clock.now() + 60_000) }
 *   await store.access.set('abc', { cookie } as never)
 *   assert.strictEqual(client.keyspace.pttl('app:abc'), 60_000)
 *   assert.strictEqual(await store.access.length(), 1)
 *
 *   client.clock.advance(60_001) // no waiting: the session's TTL has run out
 *   assert.strictEqual(await store.access.get('abc'), null)
 *
 *   // The application's error path: Redis refuses the next read.
 *   client.faults.fail('GET', { error: new Error('LOADING Redis is loading the dataset in memory') })
 *   await assert.rejects(store.access.get('abc'), /LOADING/)
 * }
 * run()
 *
 * @category constructors
 * @since 0.1.0
 */
export const createMemoryClient = (options: MemoryClientOptions = {}): MemoryClient => {
  const base = options.now ?? Date.now
  const keyPrefix = options.keyPrefix ?? ''
  const offlineQueue = options.offlineQueue !== false
  let advanced = 0
  const now = (): number => base() + advanced

  // --- keyspace notifications: `expired` and `hset`, to the subscriptions whose pattern matches the key.
  const subscriptions = new Set<{ readonly pattern: string; readonly listener: KeyspaceListener }>()
  const notify = (key: string, event: string): void =>
    subscriptions.forEach(({ pattern, listener }) => {
      if (globMatches(pattern, key)) queueMicrotask(() => listener.onEvent(key, event))
    })

  // --- the keys: Redis's lazy expiry (a key is gone once now > its expiry), and a little active expiry.
  const data = new Map<string, Slot>()
  const isExpired = (slot: Slot, at: number): boolean => slot.entry.expiresAt !== undefined && at > slot.entry.expiresAt
  const expire = (key: string): void => {
    data.delete(key)
    notify(key, 'expired')
  }
  const lookup = (key: string, at: number = now()): Slot | undefined => {
    const slot = data.get(key)
    if (slot !== undefined && isExpired(slot, at)) {
      expire(key)
      return undefined
    }
    return slot
  }
  let sweeper: Iterator<Slot> = data.values()
  const sweep = (count: number): void => {
    const at = now()
    for (let i = 0; i < count; i++) {
      let next = sweeper.next()
      if (next.done === true) {
        sweeper = data.values()
        next = sweeper.next()
        if (next.done === true) return
      }
      if (isExpired(next.value, at)) expire(next.value.key)
    }
  }
  const write = (key: string, entry: MemoryEntry): void => {
    const slot = data.get(key)
    if (slot === undefined) data.set(key, { key, hash: hashOf(key), entry })
    else slot.entry = entry
    sweep(SWEEP_PER_WRITE)
  }
  const typeOf = (key: string, at: number): string => lookup(key, at)?.entry.type ?? 'none'
  const stringAt = (key: string, at: number): (MemoryEntry & { readonly type: 'string' }) | undefined => {
    const e = lookup(key, at)?.entry
    if (e !== undefined && e.type !== 'string') throw wrongType()
    return e
  }

  // --- the store's scripts, each emulated by its SHA1; unknown scripts are not run.
  type Emulation = (keys: ReadonlyArray<string>, argv: ReadonlyArray<string>) => unknown
  const tombstone: Emulation = (keys, [grace = '', destroyedAt = '', exact]) => {
    const at = now()
    const ms = Number(grace)
    let removed = 0
    if (exact === '1') for (const key of keys) if (typeOf(key, at) === 'string') removed++
    for (const key of keys) if (lookup(key, at) !== undefined && data.delete(key) && exact !== '1') removed++
    if (ms > 0) {
      if (redisInteger(ms) === undefined) throw replyError('ERR value is not an integer or out of range (script)')
      for (const key of keys) {
        write(key, { type: 'hash', fields: { destroyedAt }, expiresAt: at + ms })
        notify(key, 'hset')
      }
    }
    return removed
  }
  const tombstoneOne: Emulation = ([key], [grace = '', destroyedAt = '']) =>
    tombstone(key === undefined ? [] : [key], [grace, destroyedAt, '1'])
  const getWithTtl: Emulation = ([key]) => {
    const e = key === undefined ? undefined : lookup(key)?.entry
    if (key === undefined || (e !== undefined && e.type !== 'string')) return [-3]
    if (e === undefined) return [-2, null]
    return [e.expiresAt === undefined ? -1 : Math.max(0, e.expiresAt - now()), e.value]
  }
  const setIfStored: Emulation = ([key], [expected, value = '', px = '']) => {
    const at = now()
    const e = key === undefined ? undefined : lookup(key, at)?.entry
    if (key === undefined || e === undefined) return 0
    if (e.type === 'hash') return -1
    if (e.type !== 'string') return 0
    if (e.value !== expected) return 2
    write(key, { type: 'string', value, expiresAt: expiryOf('set', Number(px), at) })
    return 1
  }
  // The cluster node scripts: the keys come as arguments (with the client's key prefix already), one node holds all.
  const nodeTombstone: Emulation = (_route, [grace = '', destroyedAt = '', exact = '', ...keys]) =>
    tombstone(keys, [grace, destroyedAt, exact])
  const nodeMGet: Emulation = (_route, keys) => {
    const at = now()
    return keys.map((key) => {
      const e = lookup(key, at)?.entry
      return e?.type === 'string' ? e.value : null
    })
  }
  // The owner index scripts: a sorted set, its members ordered by score, then by member (as Redis orders them).
  const zsetAt = (key: string, at: number): Map<string, number> => {
    const e = lookup(key, at)?.entry
    if (e !== undefined && e.type !== 'zset') throw wrongType()
    return new Map(e?.members ?? [])
  }
  const ranked = (members: ReadonlyMap<string, number>): Array<[string, number]> =>
    [...members].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  /** Writes the index back, pruned of scores below `now`: gone when empty, as Redis deletes an empty set. */
  const putIndex = (key: string, members: Map<string, number>, now: number, expiresAt: number | undefined): void => {
    for (const [m, score] of members) if (score < now) members.delete(m)
    if (members.size === 0) data.delete(key)
    else write(key, expiresAt === undefined ? { type: 'zset', members } : { type: 'zset', members, expiresAt })
  }
  const ownerAdd: Emulation = ([key], [clock = '', sid = '', expiry = '']) => {
    if (key === undefined) return 0
    const at = now()
    const members = zsetAt(key, at)
    const t = Number(clock)
    members.set(sid, Number(expiry))
    const last = Math.max(...members.values())
    putIndex(key, members, t, at + Math.max(1, Math.floor(last - t) + 1000))
    return members.size
  }
  const ownerList: Emulation = ([key], [clock = '', ...remove]) => {
    if (key === undefined) return []
    const at = now()
    const e = lookup(key, at)?.entry
    const members = zsetAt(key, at)
    for (const sid of remove) members.delete(sid)
    putIndex(key, members, Number(clock), e?.expiresAt)
    return ranked(members).flatMap(([m, score]) => [m, String(score)])
  }
  const emulations = new Map<string, Emulation>([
    [TOMBSTONE_SCRIPT.sha1, tombstone],
    [TOMBSTONE_ONE_SCRIPT.sha1, tombstoneOne],
    [GET_WITH_TTL_SCRIPT.sha1, getWithTtl],
    [NODE_TOMBSTONE_SCRIPT.sha1, nodeTombstone],
    [NODE_MGET_SCRIPT.sha1, nodeMGet],
    [OWNER_ADD_SCRIPT.sha1, ownerAdd],
    [OWNER_LIST_SCRIPT.sha1, ownerList],
    [SET_IF_STORED_SCRIPT.sha1, setIfStored]
  ])
  const shaOfSource = new Map(
    [
      TOMBSTONE_SCRIPT,
      TOMBSTONE_ONE_SCRIPT,
      GET_WITH_TTL_SCRIPT,
      NODE_TOMBSTONE_SCRIPT,
      NODE_MGET_SCRIPT,
      OWNER_ADD_SCRIPT,
      OWNER_LIST_SCRIPT,
      SET_IF_STORED_SCRIPT
    ].map((s) => [s.source, s.sha1])
  )
  const loaded = new Set<string>()

  // --- the connection and the faults, in front of every command.
  let state: 'ready' | 'down' | 'closed' = options.connected === false ? 'down' : 'ready'
  const listeners = new Set<(s: 'ready' | 'down') => void>()
  let queue: Array<Gate> = []
  const failures = new Map<MemoryCommand, { readonly error: Error; remaining: number }>()
  const hangs = new Map<MemoryCommand | '*', Gate>()
  const closedError = (): Error => new Error('The client is closed')

  const run = <A>(command: MemoryCommand, exec: () => A): Promise<A> => {
    if (state === 'closed') return Promise.reject(closedError())
    if (state === 'down') {
      if (!offlineQueue) return Promise.reject(new Error('The client is offline (the connection is down)'))
      const waiting = gate()
      queue.push(waiting)
      return waiting.opened.then(() => run(command, exec))
    }
    const hung = hangs.get(command) ?? hangs.get('*')
    if (hung !== undefined) return hung.opened.then(() => run(command, exec))
    const failure = failures.get(command)
    if (failure !== undefined) {
      if (--failure.remaining <= 0) failures.delete(command)
      return Promise.reject(failure.error)
    }
    try {
      return Promise.resolve(exec())
    } catch (e) {
      return Promise.reject(e)
    }
  }
  const tell = (s: 'ready' | 'down'): void => listeners.forEach((l) => l(s))
  /** Lets the queued calls run again: in order once up, or to meet the closed state and be refused. */
  const releaseQueue = (): void => {
    const waiting = queue
    queue = []
    waiting.forEach((g) => g.open())
  }

  const connection: MemoryConnection = {
    isReady: () => state === 'ready',
    isClosed: () => state === 'closed',
    onChange: (listener) => {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
    down: () => {
      if (state !== 'ready') return
      state = 'down'
      tell('down')
    },
    up: () => {
      if (state === 'ready') return
      state = 'ready'
      tell('ready')
      releaseQueue()
    },
    close: () => {
      if (state === 'closed') return
      const wasReady = state === 'ready'
      state = 'closed'
      if (wasReady) tell('down')
      releaseQueue()
    }
  }

  const faults: MemoryFaults = {
    fail: (command, o = {}) =>
      void failures.set(command, {
        error: o.error ?? replyError(`ERR ${command} failed (a fault injected into the in-memory client)`),
        remaining: o.times ?? Infinity
      }),
    hang: (command) => {
      const key = command ?? '*'
      const g = gate()
      hangs.get(key)?.open()
      hangs.set(key, g)
      return () => {
        if (hangs.get(key) === g) hangs.delete(key)
        g.open()
      }
    },
    flushScripts: () => loaded.clear(),
    clear: () => {
      failures.clear()
      const hung = [...hangs.values()]
      hangs.clear()
      hung.forEach((g) => g.open())
    }
  }

  const keyspace: MemoryKeyspace = {
    get: (key) => lookup(key)?.entry,
    set: (key, entry) => write(key, entry),
    delete: (key) => lookup(key) !== undefined && data.delete(key),
    keys: () => {
      const at = now()
      return [...data.values()].filter((s) => lookup(s.key, at) !== undefined).map((s) => s.key)
    },
    size: () => keyspace.keys().length,
    held: () => data.size,
    pttl: (key) => {
      const e = lookup(key)?.entry
      return e === undefined ? -2 : e.expiresAt === undefined ? -1 : Math.max(0, e.expiresAt - now())
    },
    flush: () => data.clear()
  }

  const k = (key: string): string => keyPrefix + key
  const scriptArgs = (args: ScriptArgs): [ReadonlyArray<string>, ReadonlyArray<string>] => [
    args.keys.map(k),
    args.arguments
  ]

  /** One `SCAN` step: keys in hash order from the cursor on, about `COUNT` examined, then `MATCH` and `TYPE`. */
  const scanStep = (cursor: string, { MATCH, COUNT, TYPE }: ScanArgs): ScanReply => {
    if (!/^\d+$/.test(cursor)) throw replyError('ERR invalid cursor')
    if (!Number.isInteger(COUNT) || COUNT < 1) throw replyError('ERR syntax error')
    const from = Number(cursor)
    const everything = MATCH === '*' // as in Redis, which never asks stringmatchlen about a lone *
    const ahead = [...data.values()]
      .filter((s) => s.hash >= from)
      .sort((a, b) => a.hash - b.hash || (a.key < b.key ? -1 : 1))
    let end = Math.min(COUNT, ahead.length)
    while (end < ahead.length && ahead[end]?.hash === ahead[end - 1]?.hash) end++
    const at = now()
    const keys = ahead
      .slice(0, end)
      .filter((s) => lookup(s.key, at) !== undefined && (everything || globMatches(MATCH, s.key)))
      .filter((s) => TYPE === undefined || s.entry.type === TYPE)
      .map((s) => s.key)
    return { cursor: end < ahead.length ? String((ahead[end - 1] as Slot).hash + 1) : '0', keys }
  }

  return {
    _tag: 'SessionClient',
    keyPrefix,
    inProcess: true,
    clock: { now, advance: (ms) => void (advanced += ms) },
    keyspace,
    connection,
    faults,
    info: (section) =>
      run('INFO', () =>
        ['memory', 'all', 'everything', 'default', ''].includes(section.toLowerCase())
          ? `# Memory\r\nmaxmemory_policy:${options.maxmemoryPolicy ?? 'noeviction'}\r\n`
          : ''
      ),
    waitReplicas: () => run('WAIT', () => options.replicas ?? 0),
    subscribeKeyspace: (pattern, listener) => {
      const subscription = { pattern, listener }
      subscriptions.add(subscription)
      queueMicrotask(() => listener.onNode('memory', { flags: 'hxK' }))
      return { close: () => void subscriptions.delete(subscription) }
    },
    get: (key) => run('GET', () => stringAt(k(key), now())?.value ?? null),
    set: (key, value, { PX }) =>
      run('SET', () => {
        const at = now()
        const expiresAt = expiryOf('set', PX, at)
        const previous = stringAt(k(key), at)
        write(k(key), { type: 'string', value, expiresAt })
        return previous?.value ?? null
      }),
    getEx: (key, { PX }) =>
      run('GETEX', () => {
        const at = now()
        const expiresAt = expiryOf('getex', PX, at)
        const e = stringAt(k(key), at)
        if (e === undefined) return null
        write(k(key), { ...e, expiresAt })
        return e.value
      }),
    getDel: (key) =>
      run('GETDEL', () => {
        const e = stringAt(k(key), now())
        if (e !== undefined) data.delete(k(key))
        return e?.value ?? null
      }),
    mGet: (keys) =>
      run('MGET', () => {
        const at = now()
        return keys.map((key) => {
          const e = lookup(k(key), at)?.entry
          return e?.type === 'string' ? e.value : null
        })
      }),
    evalSha: (sha1, args) =>
      run('EVALSHA', () => {
        const sha = sha1.toLowerCase()
        const emulation = emulations.get(sha)
        if (emulation === undefined || !loaded.has(sha))
          throw replyError('NOSCRIPT No matching script. Please use EVAL.')
        return emulation(...scriptArgs(args))
      }),
    eval: (source, args) =>
      run('EVAL', () => {
        const sha = shaOfSource.get(source)
        const emulation = sha === undefined ? undefined : emulations.get(sha)
        if (sha === undefined || emulation === undefined)
          throw replyError(
            "ERR the in-memory client runs only the store's own scripts (connect-redis-session's scripts.ts), not this one"
          )
        loaded.add(sha)
        return emulation(...scriptArgs(args))
      }),
    scan: (cursor, args) => run('SCAN', () => scanStep(cursor, args))
  }
}
