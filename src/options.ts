/**
 * Store options, their defaults, and their validation.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type { IO } from 'fp-ts/lib/IO'
import type { SessionData } from 'express-session'
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  isAsyncFunction,
  type PlainSerializer,
  type Serializer
} from './serializer/serializer'
import { sessionSerializer } from './serializer/session'
import { jsonSerializer } from './serializer/json'

// --- model

/**
 * What the store does while its client is not connected to Redis (killed, restarting, partitioned):
 *
 * - `'wait'` (default): operations go to the client, which queues them while it reconnects; each fails with
 *   `ETIMEDOUT` once `operationTimeoutMs` passes. Short blips go unnoticed; an outage is a coded error in
 *   bounded time.
 * - `'fail'`: while the client reports it is not ready, single-key operations fail at once with
 *   `ESESSION_UNAVAILABLE` and nothing is queued.
 * - `'bypass'`: the store emits express-session's `disconnect`/`connect` events, and express-session then
 *   runs requests **without `req.session`** until Redis is back: every route must check `req.session`.
 *
 * @category model
 * @since 0.1.0
 */
export type WhenDisconnected = 'wait' | 'fail' | 'bypass'

/**
 * What `createRedisStore(client, options)` accepts. Every field is optional; an unknown field is an error.
 *
 * @category model
 * @since 0.1.0
 */
export interface StoreOptions {
  /**
   * Put before each session id to make its key. Default `'sessions:'`. Not empty, no `{` or `}`, ends with a separator
   * such as `:`.
   */
  readonly prefix?: string
  /**
   * Keys per batch of the batched operations (each `MGET` of `all`/`iterate`, each tombstone script of `clear`).
   * Default 1000: one batch per `SCAN` page (`COUNT max(scanCount, 1000)`).
   */
  readonly scanCount?: number
  /**
   * TTL for sessions whose cookie has no `expires` (browser-session cookies). `false`/`0`: refuse them. Default 86400.
   */
  readonly ttlSeconds?: number | false
  /**
   * connect-redis's option: a number is `ttlSeconds`; a function `(session) => seconds` gives each session its
   * lifetime in Redis whatever its cookie says (for `set` and `touch`; `<= 0` ends the session).
   */
  readonly ttl?: number | ((session: SessionData) => number)
  /** connect-redis's option. Only `false` is accepted: sessions without a TTL would never leave Redis. */
  readonly disableTTL?: false
  /**
   * How long a destroyed session stays a tombstone that refuses `set`/`touch`. `0` disables tombstones. Default 300.
   */
  readonly concurrencyGraceSeconds?: number
  /**
   * Lazy touch: express-session's `touch` writes nothing when the session's expiry was renewed less than this many
   * seconds ago (as Redis reports it). `0` (default) renews on every touch.
   */
  readonly touchAfterSeconds?: number
  /**
   * **Absolute lifetime** (opt-in): a session ends this many seconds after it was created, however active it is.
   * Its TTL is capped at that end on every `set` and `touch`. `0` (default): no limit. See docs/absolute-lifetime.md.
   */
  readonly absoluteLifetimeSeconds?: number
  /** Make express-session's `touch` a no-op (the expiry is then renewed only by `set`). Default `false`. */
  readonly disableTouch?: boolean
  /**
   * How sessions become strings: `{ stringify, parse }` (like `JSON`, synchronous), or a toolkit `Serializer` such as
   * `codecSerializer(codec)`.
   */
  readonly serializer?: PlainSerializer<SessionData> | Serializer<SessionData>
  /**
   * Accept only ids made of `A–Z a–z 0–9 _ -` (express-session's own alphabet). Default `true`; `false` accepts any id
   * without control characters.
   */
  readonly strictSessionIds?: boolean
  /**
   * Largest serialized session, in UTF-8 bytes: bigger ones are refused on `set` and corrupt on read. Default 1 MiB.
   */
  readonly maxPayloadBytes?: number
  /**
   * A stored value that cannot be parsed or fails the codec: `'miss'` (no session, and a `corrupt` event; default) or
   * `'fail'` (an `ESESSION_CORRUPT` error). `all`/`iterate` always skip it (and emit `corrupt`).
   */
  readonly onCorrupt?: 'miss' | 'fail'
  /**
   * Deadline of each single-key operation (get, set, touch, destroy), in ms: past it, an `ETIMEDOUT` error. Default
   * 2000; `0`: none.
   */
  readonly operationTimeoutMs?: number
  /**
   * What happens while the client is not connected: `'wait'` (default), `'fail'` or `'bypass'`. See `WhenDisconnected`.
   */
  readonly whenDisconnected?: WhenDisconnected
  /** At startup, warn (a `warning` event) when Redis's maxmemory-policy can evict tombstones. Default `true`. */
  readonly checkEvictionPolicy?: boolean
  /**
   * Logouts that survive a failover: `destroy` and `clear` answer only once this many replicas hold the
   * tombstone (`WAIT`), else fail with `ESESSION_NOT_REPLICATED`. Default `0` (off).
   */
  readonly waitReplicas?: number
  /** How long `waitReplicas` waits for the replicas, in ms. Default 1000. */
  readonly waitTimeoutMs?: number
  /**
   * The owner of a session (a user id), or `undefined` for an anonymous one: turns on the owner index, for
   * `store.access.sessionsOf(owner)` and `destroySessionsOf(owner)`. Costs one round trip more per `set` and per
   * renewing `touch`. Off by default. See docs/per-user-sessions.md.
   */
  readonly ownerOf?: (session: SessionData) => string | undefined
  /**
   * Put before an owner to make its index key. Default `'session-owners:'`. Like `prefix`, and neither may start with
   * the other: the batched operations must never take an index for a session.
   */
  readonly ownerIndexPrefix?: string
  /**
   * With `ownerOf`: at most this many sessions per owner; a `set` beyond it destroys (with tombstones) that owner's
   * sessions that expire first. Default `0`: no cap.
   */
  readonly maxSessionsPerOwner?: number
  /** The clock, in ms since the epoch. Default `Date.now`, the clock express-session sets `cookie.expires` with. For tests. */
  readonly now?: IO<number>
}

/**
 * Options after defaults and validation.
 *
 * @category model
 * @since 0.1.0
 */
export interface ResolvedOptions {
  readonly prefix: string
  readonly scanCount: number
  readonly ttlSeconds: number | false
  /** Each session's TTL in seconds, overriding its cookie (connect-redis's `ttl` function), if given. */
  readonly ttlFor: ((session: SessionData) => number) | undefined
  readonly concurrencyGraceSeconds: number
  readonly touchAfterSeconds: number
  /** `0`: off. */
  readonly absoluteLifetimeSeconds: number
  readonly disableTouch: boolean
  readonly serializer: Serializer<SessionData>
  readonly strictSessionIds: boolean
  readonly maxPayloadBytes: number
  readonly onCorrupt: 'miss' | 'fail'
  readonly operationTimeoutMs: number
  readonly whenDisconnected: WhenDisconnected
  readonly checkEvictionPolicy: boolean
  readonly waitReplicas: number
  readonly waitTimeoutMs: number
  readonly ownerOf: ((session: SessionData) => string | undefined) | undefined
  readonly ownerIndexPrefix: string
  readonly maxSessionsPerOwner: number
  readonly now: IO<number>
}

/**
 * @category constants
 * @since 0.1.0
 * @ignore
 */
export const defaults: ResolvedOptions = {
  prefix: 'sessions:',
  scanCount: 1000,
  ttlSeconds: 86400,
  ttlFor: undefined,
  concurrencyGraceSeconds: 300,
  touchAfterSeconds: 0,
  absoluteLifetimeSeconds: 0,
  disableTouch: false,
  serializer: jsonSerializer,
  strictSessionIds: true,
  maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES,
  onCorrupt: 'miss',
  operationTimeoutMs: 2000,
  whenDisconnected: 'wait',
  checkEvictionPolicy: true,
  waitReplicas: 0,
  waitTimeoutMs: 1000,
  ownerOf: undefined,
  ownerIndexPrefix: 'session-owners:',
  maxSessionsPerOwner: 0,
  now: Date.now
}

/** Longest accepted prefix: very long `MATCH` patterns have crashed Redis (CVE-2024-31228). */
const MAX_PREFIX_LENGTH = 128

/** Characters a strict session id is made of: a prefix must not end with one, or it would run into the id. */
const ID_CHARACTER = /[A-Za-z0-9_-]$/

// --- validation

type Check = (o: StoreOptions) => string | undefined

/** A value as an error message shows it: its text and, where that could mislead, its type. */
const show = (u: unknown): string =>
  typeof u === 'string'
    ? `${JSON.stringify(u)} (a string)`
    : typeof u === 'function'
    ? 'a function'
    : typeof u === 'bigint'
    ? `${String(u)}n (a bigint)`
    : typeof u === 'object' && u !== null
    ? Array.isArray(u)
      ? 'an array'
      : 'an object'
    : String(u)

const isNonNegative = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0

const nonNegative =
  (name: keyof StoreOptions, unit: string): Check =>
  (o) =>
    o[name] === undefined || isNonNegative(o[name])
      ? undefined
      : `options.${name} must be a non-negative number of ${unit}, got ${show(o[name])}`

const boolean =
  (name: keyof StoreOptions): Check =>
  (o) =>
    o[name] === undefined || typeof o[name] === 'boolean'
      ? undefined
      : `options.${name} must be a boolean, got ${show(o[name])}`

const prefixProblem = (name: 'prefix' | 'ownerIndexPrefix', prefix: unknown): string | undefined => {
  if (prefix === undefined) return undefined
  if (typeof prefix !== 'string') return `options.${name} must be a string, got ${show(prefix)}`
  if (prefix === '')
    return `options.${name} must not be empty: every key in Redis would be a session key, and clear() would destroy keys the store never wrote`
  if (/[{}]/.test(prefix))
    return `options.${name} must not contain "{" or "}" (they would make a Redis Cluster hash tag): ${JSON.stringify(
      prefix
    )}`
  if (prefix.length > MAX_PREFIX_LENGTH)
    return `options.${name} must be at most ${MAX_PREFIX_LENGTH} characters, got ${prefix.length}`
  if (ID_CHARACTER.test(prefix)) {
    return `options.${name} must end with a separator such as ":" (got ${JSON.stringify(prefix)}): a key is ${name} + ${
      name === 'prefix' ? 'session id' : 'owner'
    }, so "${prefix}" would also claim foreign keys such as "${prefix}cache"`
  }
  return undefined
}

const checkPrefix: Check = ({ prefix }) => prefixProblem('prefix', prefix)

const checkOwnerIndex: Check = ({ ownerOf, ownerIndexPrefix, maxSessionsPerOwner: max, prefix }) => {
  if (ownerOf !== undefined && typeof ownerOf !== 'function')
    return `options.ownerOf must be a function (session) => owner | undefined, got ${show(ownerOf)}`
  const problem = prefixProblem('ownerIndexPrefix', ownerIndexPrefix)
  if (problem !== undefined) return problem
  const index = ownerIndexPrefix ?? defaults.ownerIndexPrefix
  const sessions = prefix ?? defaults.prefix
  if (typeof sessions === 'string' && (index.startsWith(sessions) || sessions.startsWith(index)))
    return `options.ownerIndexPrefix (${JSON.stringify(index)}) and options.prefix (${JSON.stringify(
      sessions
    )}) must not start with one another: clear() would take an owner index for a session`
  if (max !== undefined && !(Number.isInteger(max) && max >= 0))
    return `options.maxSessionsPerOwner must be a non-negative integer, got ${show(max)}`
  if ((max ?? 0) > 0 && ownerOf === undefined) return 'options.maxSessionsPerOwner needs options.ownerOf'
  return undefined
}

const checkSerializer: Check = ({ serializer }) => {
  if (serializer === undefined) return undefined
  if (typeof serializer?.stringify !== 'function' || typeof serializer?.parse !== 'function')
    return 'options.serializer must have stringify and parse functions'
  const async = (['parse', 'stringify'] as const).filter((m) => isAsyncFunction(serializer[m]))
  return async.length > 0
    ? `options.serializer.${async.join(' and ')} ${
        async.length > 1 ? 'are async functions' : 'is an async function'
      }: serializers must be synchronous (connect-redis let parse return a promise; this store refuses one rather than hand express-session a Promise as the session)`
    : undefined
}

const checkTtl: Check = ({ ttl, ttlSeconds }) => {
  if (ttl === undefined) return undefined
  if (ttlSeconds !== undefined)
    return "options.ttl and options.ttlSeconds: give one of them (ttl is connect-redis's name)"
  return typeof ttl === 'function' || isNonNegative(ttl)
    ? undefined
    : `options.ttl must be a non-negative number of seconds or a function (session) => seconds, got ${show(ttl)}`
}

const checks: ReadonlyArray<Check> = [
  checkPrefix,
  ({ scanCount }) =>
    scanCount === undefined || (Number.isInteger(scanCount) && scanCount > 0)
      ? undefined
      : `options.scanCount must be a positive integer, got ${show(scanCount)}`,
  ({ ttlSeconds }) =>
    ttlSeconds === undefined || ttlSeconds === false || isNonNegative(ttlSeconds)
      ? undefined
      : `options.ttlSeconds must be a non-negative number of seconds or false, got ${show(ttlSeconds)}`,
  checkTtl,
  ({ disableTTL }) =>
    disableTTL === undefined || disableTTL === false
      ? undefined
      : disableTTL === true
      ? 'options.disableTTL: true is not supported: a session without a TTL never leaves Redis (nor does its key when the browser drops the cookie). Give long-lived sessions a long cookie maxAge, or a ttl function'
      : `options.disableTTL must be false, got ${show(disableTTL)}`,
  nonNegative('concurrencyGraceSeconds', 'seconds'),
  nonNegative('touchAfterSeconds', 'seconds'),
  nonNegative('absoluteLifetimeSeconds', 'seconds'),
  nonNegative('operationTimeoutMs', 'ms'),
  ({ waitReplicas: w }) =>
    w === undefined || (Number.isInteger(w) && w >= 0)
      ? undefined
      : `options.waitReplicas must be a non-negative integer, got ${show(w)}`,
  ({ waitTimeoutMs: w }) =>
    w === undefined || (Number.isInteger(w) && w > 0)
      ? undefined
      : `options.waitTimeoutMs must be a positive integer of ms, got ${show(w)}`,
  boolean('disableTouch'),
  boolean('strictSessionIds'),
  boolean('checkEvictionPolicy'),
  checkSerializer,
  checkOwnerIndex,
  ({ maxPayloadBytes: m }) =>
    m === undefined || (Number.isInteger(m) && m > 0)
      ? undefined
      : `options.maxPayloadBytes must be a positive integer, got ${show(m)}`,
  ({ onCorrupt }) =>
    onCorrupt === undefined || onCorrupt === 'miss' || onCorrupt === 'fail'
      ? undefined
      : `options.onCorrupt must be 'miss' or 'fail', got ${show(onCorrupt)}`,
  ({ whenDisconnected: w }) =>
    w === undefined || w === 'wait' || w === 'fail' || w === 'bypass'
      ? undefined
      : `options.whenDisconnected must be 'wait', 'fail' or 'bypass', got ${show(w)}`,
  ({ now }) =>
    now === undefined || typeof now === 'function'
      ? undefined
      : `options.now must be a function returning ms since the epoch, got ${show(now)}`
]

/** Every option name `StoreOptions` has. */
const KNOWN: ReadonlyArray<keyof StoreOptions> = [
  'prefix',
  'scanCount',
  'ttlSeconds',
  'ttl',
  'disableTTL',
  'concurrencyGraceSeconds',
  'touchAfterSeconds',
  'absoluteLifetimeSeconds',
  'disableTouch',
  'serializer',
  'strictSessionIds',
  'maxPayloadBytes',
  'onCorrupt',
  'operationTimeoutMs',
  'whenDisconnected',
  'checkEvictionPolicy',
  'waitReplicas',
  'waitTimeoutMs',
  'ownerOf',
  'ownerIndexPrefix',
  'maxSessionsPerOwner',
  'now'
]

/** Options that were renamed or that belong elsewhere, with what to write instead. */
const MOVED: Readonly<Record<string, string>> = {
  connectionEvents:
    "options.connectionEvents was replaced by whenDisconnected: use whenDisconnected: 'bypass' for connectionEvents: true",
  client: 'options.client: createRedisStore takes the client as its first argument: createRedisStore(client, options)',
  ttlMs: 'options.ttlMs is not an option: use ttlSeconds (seconds)'
}

/** Edit distance, to suggest the option a typo meant. */
const distance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number
      row[j] = Math.min(
        above + 1,
        (row[j - 1] as number) + 1,
        diagonal + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1)
      )
      diagonal = above
    }
  }
  return row[b.length] as number
}

const unknownOption = (name: string): string => {
  const moved = MOVED[name]
  if (moved !== undefined) return moved
  const closest = KNOWN.map((k) => [k, distance(name, k)] as const).sort((x, y) => x[1] - y[1])[0]
  const hint =
    closest !== undefined && closest[1] <= Math.max(2, Math.floor(name.length / 3))
      ? ` (did you mean ${closest[0]}?)`
      : ''
  return `options.${name} is not an option of this store${hint}; the options are ${KNOWN.join(', ')}`
}

/**
 * Fills in defaults, or names the first invalid option. Unknown option names are errors, so that a typo or a
 * connect-redis option this store does not have never goes unnoticed.
 *
 * @category constructors
 * @since 0.1.0
 */
export const resolveOptions = (options: StoreOptions = {}): E.Either<TypeError, ResolvedOptions> => {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    return E.left(new TypeError(`options must be an object, got ${show(options)}`))
  const unknown = Object.keys(options).find((k) => !(KNOWN as ReadonlyArray<string>).includes(k))
  if (unknown !== undefined) return E.left(new TypeError(unknownOption(unknown)))
  const problem = checks.map((check) => check(options)).find((m) => m !== undefined)
  if (problem !== undefined) return E.left(new TypeError(problem))
  const ttl = options.ttl
  const timeout = options.operationTimeoutMs ?? defaults.operationTimeoutMs
  const waitMs = options.waitTimeoutMs ?? defaults.waitTimeoutMs
  if ((options.waitReplicas ?? 0) > 0 && timeout > 0 && waitMs >= timeout) {
    return E.left(
      new TypeError(
        `options.waitTimeoutMs (${waitMs}) must be below operationTimeoutMs (${timeout}): the deadline would end every logout first`
      )
    )
  }
  return E.right({
    prefix: options.prefix ?? defaults.prefix,
    scanCount: options.scanCount ?? defaults.scanCount,
    ttlSeconds: options.ttlSeconds ?? (typeof ttl === 'number' ? ttl : defaults.ttlSeconds),
    ttlFor: typeof ttl === 'function' ? ttl : undefined,
    concurrencyGraceSeconds: options.concurrencyGraceSeconds ?? defaults.concurrencyGraceSeconds,
    touchAfterSeconds: options.touchAfterSeconds ?? defaults.touchAfterSeconds,
    absoluteLifetimeSeconds: options.absoluteLifetimeSeconds ?? defaults.absoluteLifetimeSeconds,
    disableTouch: options.disableTouch ?? defaults.disableTouch,
    serializer: options.serializer === undefined ? defaults.serializer : sessionSerializer(options.serializer),
    strictSessionIds: options.strictSessionIds ?? defaults.strictSessionIds,
    maxPayloadBytes: options.maxPayloadBytes ?? defaults.maxPayloadBytes,
    onCorrupt: options.onCorrupt ?? defaults.onCorrupt,
    operationTimeoutMs: options.operationTimeoutMs ?? defaults.operationTimeoutMs,
    whenDisconnected: options.whenDisconnected ?? defaults.whenDisconnected,
    checkEvictionPolicy: options.checkEvictionPolicy ?? defaults.checkEvictionPolicy,
    waitReplicas: options.waitReplicas ?? defaults.waitReplicas,
    waitTimeoutMs: options.waitTimeoutMs ?? defaults.waitTimeoutMs,
    ownerOf: options.ownerOf,
    ownerIndexPrefix: options.ownerIndexPrefix ?? defaults.ownerIndexPrefix,
    maxSessionsPerOwner: options.maxSessionsPerOwner ?? defaults.maxSessionsPerOwner,
    now: options.now ?? defaults.now
  })
}
