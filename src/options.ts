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
import { MAX_TTL_SECONDS } from './ttl'

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
 * What a save does when the session was saved by another request since this one loaded it (`concurrentSaves`):
 *
 * - `'overwrite'` (default): the save is written whole, and the other request's change is lost — what every
 *   session store does, and one `SET`.
 * - `'merge'`: the save is a compare-and-set on the value the request loaded (one script, one round trip). When
 *   someone saved meanwhile, the two are merged by top-level field — a field this request changed keeps its value,
 *   every other field takes the stored one, `cookie` is this request's — and the merge is saved the same way, up
 *   to 3 times, then `ESESSION_CONFLICT`.
 * - `'fail'`: the compare-and-set, and `ESESSION_CONFLICT` when another request changed the session meanwhile.
 *
 * In every mode a destroyed session stays destroyed, one that ended while the request ran is not brought back, and
 * a save that changed nothing but the cookie's expiry renews the key's TTL instead of writing the session.
 *
 * @category model
 * @since 0.1.0
 */
export type ConcurrentSaves = 'overwrite' | 'merge' | 'fail'

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
   * Default 1000: one batch per `SCAN` page (`COUNT max(scanCount, 1000)`). An integer from 1 to 10000.
   */
  readonly scanCount?: number
  /**
   * TTL for sessions whose cookie has no `expires` (browser-session cookies). `false`/`0`: refuse them. Default 86400.
   * At most 315360000 (10 years), the longest TTL the store writes.
   */
  readonly ttlSeconds?: number | false
  /**
   * connect-redis's option: a number is `ttlSeconds`; a function `(session) => seconds` gives each session its
   * lifetime in Redis whatever its cookie says (for `set` and `touch`; `<= 0` ends the session). A number, or a
   * result, above 315360000 (10 years) is refused: the option when the store is built, a result for that save.
   */
  readonly ttl?: number | ((session: SessionData) => number)
  /** connect-redis's option. Only `false` is accepted: sessions without a TTL would never leave Redis. */
  readonly disableTTL?: false
  /**
   * How long a destroyed session stays a tombstone that refuses `set`/`touch`. `0` disables tombstones. Default 300;
   * at most 86400 (1 day).
   */
  readonly concurrencyGraceSeconds?: number
  /**
   * Lazy touch: express-session's `touch` writes nothing when the session's expiry was renewed less than this many
   * seconds ago (as Redis reports it). `0` (default) renews on every touch. At most 315360000 (10 years).
   */
  readonly touchAfterSeconds?: number
  /**
   * **Absolute lifetime** (opt-in): a session ends this many seconds after it was created, however active it is.
   * Its TTL is capped at that end on every `set` and `touch`. `0` (default): no limit; at most 315360000 (10 years).
   * See docs/absolute-lifetime.md.
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
   * Largest serialized session, in UTF-8 bytes: bigger ones are refused on `set` and corrupt on read. Default 1 MiB;
   * an integer from 1 to 536870912 (512 MiB, Redis's largest string).
   */
  readonly maxPayloadBytes?: number
  /**
   * A stored value that cannot be parsed or fails the codec: `'miss'` (no session, and a `corrupt` event; default) or
   * `'fail'` (an `ESESSION_CORRUPT` error). `all`/`iterate` always skip it (and emit `corrupt`).
   */
  readonly onCorrupt?: 'miss' | 'fail'
  /**
   * Two requests of one session saving at once (a page and its XHRs, two tabs): `'overwrite'` (default) keeps the
   * later save whole, as every session store does; `'merge'` saves only if nobody saved since this request loaded
   * the session (a compare-and-set, one round trip) and otherwise merges the two by top-level field and tries again;
   * `'fail'` refuses the later save (`ESESSION_CONFLICT`). See `ConcurrentSaves`.
   */
  readonly concurrentSaves?: ConcurrentSaves
  /**
   * Deadline of each single-key operation (get, set, touch, destroy), in ms: past it, an `ETIMEDOUT` error. Default
   * 2000; `0`: none; at most 3600000 (1 hour).
   */
  readonly operationTimeoutMs?: number
  /**
   * What happens while the client is not connected: `'wait'` (default), `'fail'` or `'bypass'`. See `WhenDisconnected`.
   */
  readonly whenDisconnected?: WhenDisconnected
  /** At startup, warn (a `warning` event) when Redis's maxmemory-policy can evict tombstones. Default `true`. */
  readonly checkEvictionPolicy?: boolean
  /**
   * Emit `expired` (`{ sid }`) on the store when Redis expires a session: a subscription to Redis's keyspace
   * notifications (on every node of a cluster), which Redis must have on (`notify-keyspace-events` with `K`, `h` and
   * `x`; the store only reads the setting, and warns once when it is off). Default `false`: no subscription. See
   * docs/lifecycle-events.md.
   */
  readonly expiredEvents?: boolean
  /**
   * Logouts that survive a failover: `destroy` and `clear` answer only once this many replicas hold the
   * tombstone (`WAIT`), else fail with `ESESSION_NOT_REPLICATED`. Default `0` (off); an integer up to 100.
   */
  readonly waitReplicas?: number
  /** How long `waitReplicas` waits for the replicas, in ms. Default 1000; an integer from 1 to 3600000 (1 hour). */
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
   * sessions that expire first. Default `0`: no cap; at most 10000.
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
  readonly concurrentSaves: ConcurrentSaves
  readonly operationTimeoutMs: number
  readonly whenDisconnected: WhenDisconnected
  readonly checkEvictionPolicy: boolean
  readonly expiredEvents: boolean
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
  concurrentSaves: 'overwrite',
  operationTimeoutMs: 2000,
  whenDisconnected: 'wait',
  checkEvictionPolicy: true,
  expiredEvents: false,
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

/**
 * The range of a numeric option, checked when the store is built: an integer or any finite number, from `min` to
 * `max` (in `unit`), with `why` the reason for `max` as an error message shows it.
 */
interface Range {
  readonly integer: boolean
  readonly unit: string
  readonly min: number
  readonly max: number
  readonly why: string
}

/** Up to 10 years: far beyond any cookie (browsers keep one at most 400 days), far below what Redis refuses. */
const TTL_RANGE: Range = { integer: false, unit: 'seconds', min: 0, max: MAX_TTL_SECONDS, why: '10 years' }

/** Longest deadline: an hour is more than any Redis command should take, and far below setTimeout's 24.8 days. */
const MAX_DEADLINE_MS = 3_600_000

/**
 * The range of each numeric option. Redis's own limits: a string value is at most 512 MiB
 * (`proto-max-bulk-len`), and `SET … PX` refuses a TTL that `now + ttl` cannot hold in a signed 64-bit ms count
 * (`ERR invalid expire time`), or that is no integer. Product limits keep each option where it still means
 * something: one `SCAN` page never walks the whole keyspace, a tombstone outlives any request but not a day.
 */
const RANGES = {
  scanCount: { integer: true, unit: 'keys', min: 1, max: 10_000, why: 'one SCAN page must not walk the keyspace' },
  ttlSeconds: TTL_RANGE,
  ttl: TTL_RANGE,
  concurrencyGraceSeconds: { integer: false, unit: 'seconds', min: 0, max: 86_400, why: '1 day' },
  touchAfterSeconds: TTL_RANGE,
  absoluteLifetimeSeconds: TTL_RANGE,
  maxPayloadBytes: { integer: true, unit: 'bytes', min: 1, max: 536_870_912, why: "512 MiB, Redis's largest string" },
  operationTimeoutMs: { integer: false, unit: 'ms', min: 0, max: MAX_DEADLINE_MS, why: '1 hour' },
  waitReplicas: { integer: true, unit: 'replicas', min: 0, max: 100, why: 'more than any deployment has' },
  waitTimeoutMs: { integer: true, unit: 'ms', min: 1, max: MAX_DEADLINE_MS, why: '1 hour' },
  maxSessionsPerOwner: {
    integer: true,
    unit: 'sessions',
    min: 0,
    max: 10_000,
    why: 'a save over the cap reads them all'
  }
} as const satisfies Readonly<Partial<Record<keyof StoreOptions, Range>>>

const inRange = (range: Range, n: unknown): n is number =>
  typeof n === 'number' &&
  Number.isFinite(n) &&
  (!range.integer || Number.isInteger(n)) &&
  n >= range.min &&
  n <= range.max

/** What an option's range says in an error message: `an integer of keys from 1 to 10000 (…)`. */
const describeRange = (r: Range): string =>
  `${r.integer ? 'an integer' : 'a number'} of ${r.unit} from ${r.min} to ${r.max} (${r.why})`

/** The check of a numeric option; `or` names the other values it accepts (`false`, a function). */
const numeric =
  (name: keyof typeof RANGES, or = ''): Check =>
  (o) => {
    const value = o[name]
    return value === undefined || inRange(RANGES[name], value)
      ? undefined
      : `options.${name} must be ${describeRange(RANGES[name])}${or}, got ${show(value)}`
  }

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

const checkOwnerIndex: Check = (o) => {
  const { ownerOf, ownerIndexPrefix, maxSessionsPerOwner: max, prefix } = o
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
  const outOfRange = numeric('maxSessionsPerOwner')(o)
  if (outOfRange !== undefined) return outOfRange
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

const checkTtl: Check = (o) => {
  const { ttl, ttlSeconds } = o
  if (ttl === undefined) return undefined
  if (ttlSeconds !== undefined)
    return "options.ttl and options.ttlSeconds: give one of them (ttl is connect-redis's name)"
  return typeof ttl === 'function' ? undefined : numeric('ttl', ', or a function (session) => seconds')(o)
}

const checks: ReadonlyArray<Check> = [
  checkPrefix,
  numeric('scanCount'),
  (o) => (o.ttlSeconds === false ? undefined : numeric('ttlSeconds', ', or false')(o)),
  checkTtl,
  ({ disableTTL }) =>
    disableTTL === undefined || disableTTL === false
      ? undefined
      : disableTTL === true
      ? 'options.disableTTL: true is not supported: a session without a TTL never leaves Redis (nor does its key when the browser drops the cookie). Give long-lived sessions a long cookie maxAge, or a ttl function'
      : `options.disableTTL must be false, got ${show(disableTTL)}`,
  numeric('concurrencyGraceSeconds'),
  numeric('touchAfterSeconds'),
  numeric('absoluteLifetimeSeconds'),
  numeric('operationTimeoutMs'),
  numeric('waitReplicas'),
  numeric('waitTimeoutMs'),
  boolean('disableTouch'),
  boolean('strictSessionIds'),
  boolean('checkEvictionPolicy'),
  boolean('expiredEvents'),
  checkSerializer,
  checkOwnerIndex,
  numeric('maxPayloadBytes'),
  ({ onCorrupt }) =>
    onCorrupt === undefined || onCorrupt === 'miss' || onCorrupt === 'fail'
      ? undefined
      : `options.onCorrupt must be 'miss' or 'fail', got ${show(onCorrupt)}`,
  ({ concurrentSaves: c }) =>
    c === undefined || c === 'overwrite' || c === 'merge' || c === 'fail'
      ? undefined
      : `options.concurrentSaves must be 'overwrite', 'merge' or 'fail', got ${show(c)}`,
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
  'concurrentSaves',
  'operationTimeoutMs',
  'whenDisconnected',
  'checkEvictionPolicy',
  'expiredEvents',
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
    concurrentSaves: options.concurrentSaves ?? defaults.concurrentSaves,
    operationTimeoutMs: options.operationTimeoutMs ?? defaults.operationTimeoutMs,
    whenDisconnected: options.whenDisconnected ?? defaults.whenDisconnected,
    checkEvictionPolicy: options.checkEvictionPolicy ?? defaults.checkEvictionPolicy,
    expiredEvents: options.expiredEvents ?? defaults.expiredEvents,
    waitReplicas: options.waitReplicas ?? defaults.waitReplicas,
    waitTimeoutMs: options.waitTimeoutMs ?? defaults.waitTimeoutMs,
    ownerOf: options.ownerOf,
    ownerIndexPrefix: options.ownerIndexPrefix ?? defaults.ownerIndexPrefix,
    maxSessionsPerOwner: options.maxSessionsPerOwner ?? defaults.maxSessionsPerOwner,
    now: options.now ?? defaults.now
  })
}
