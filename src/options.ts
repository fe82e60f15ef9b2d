/**
 * Store options, their defaults, and their validation.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type { IO } from 'fp-ts/lib/IO'
import type { SessionData } from 'express-session'
import { DEFAULT_MAX_PAYLOAD_BYTES, toSerializer, type PlainSerializer, type Serializer } from './serializer/serializer'
import { jsonSerializer } from './serializer/json'

// --- model

/**
 * What `createRedisStore(client, options)` accepts. Every field is optional.
 *
 * @category model
 * @since 0.1.0
 */
export interface StoreOptions {
  /** Prepended to every session id to make its key. Default `'sessions:'`. No `{` or `}`. */
  readonly prefix?: string
  /** `COUNT` hint for `SCAN`, and so the size of each batch of `all`/`length`/`clear`. Default 100. */
  readonly scanCount?: number
  /** TTL for sessions whose cookie has no `expires` (browser-session cookies). `false`/`0`: refuse them. Default 86400. */
  readonly ttlSeconds?: number | false
  /** How long a destroyed session stays a tombstone that refuses `set`/`touch`. `0` disables tombstones. Default 300. */
  readonly concurrencyGraceSeconds?: number
  /** Lazy touch: express-session's `touch` writes nothing when the session's expiry was renewed less than this many seconds ago (as Redis reports it). `0` (default) renews on every touch. */
  readonly touchAfterSeconds?: number
  /** Make express-session's `touch` a no-op (the expiry is then renewed only by `set`). Default `false`. */
  readonly disableTouch?: boolean
  /** How sessions become strings: `{ stringify, parse }` (like `JSON`), or a toolkit `Serializer` such as `codecSerializer(codec)`. */
  readonly serializer?: PlainSerializer<SessionData> | Serializer<SessionData>
  /** Refuse session ids outside `A–Z a–z 0–9 _ -` (express-session's own alphabet). Default `false`. */
  readonly strictSessionIds?: boolean
  /** Largest serialized session, in UTF-8 bytes: bigger ones are refused on `set` and corrupt on read. Default 1 MiB. */
  readonly maxPayloadBytes?: number
  /** A stored value that cannot be parsed or fails the codec: `'miss'` (no session, and a `corrupt` event; default) or `'fail'` (an `ESESSION_CORRUPT` error). `all`/`iterate` always skip it (and emit `corrupt`). */
  readonly onCorrupt?: 'miss' | 'fail'
  /** Deadline of each single-key operation (get, set, touch, destroy), in ms: past it, an `ETIMEDOUT` error. Default: none. */
  readonly operationTimeoutMs?: number
  /** Emit express-session's `disconnect`/`connect` as the client loses and regains Redis. Default `true`. */
  readonly connectionEvents?: boolean
  /** At startup, warn (a `warning` event) when Redis's maxmemory-policy can evict tombstones. Default `true`. */
  readonly checkEvictionPolicy?: boolean
  /** The clock, in ms since the epoch. Default `Date.now`. For tests. */
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
  readonly concurrencyGraceSeconds: number
  readonly touchAfterSeconds: number
  readonly disableTouch: boolean
  readonly serializer: Serializer<SessionData>
  readonly strictSessionIds: boolean
  readonly maxPayloadBytes: number
  readonly onCorrupt: 'miss' | 'fail'
  readonly operationTimeoutMs: number
  readonly connectionEvents: boolean
  readonly checkEvictionPolicy: boolean
  readonly now: IO<number>
}

/**
 * @category constants
 * @since 0.1.0
 */
export const defaults: ResolvedOptions = {
  prefix: 'sessions:',
  scanCount: 100,
  ttlSeconds: 86400,
  concurrencyGraceSeconds: 300,
  touchAfterSeconds: 0,
  disableTouch: false,
  serializer: jsonSerializer,
  strictSessionIds: false,
  maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES,
  onCorrupt: 'miss',
  operationTimeoutMs: 0,
  connectionEvents: true,
  checkEvictionPolicy: true,
  now: Date.now
}

/** Longest accepted prefix: very long `MATCH` patterns have crashed Redis (CVE-2024-31228). */
const MAX_PREFIX_LENGTH = 128

// --- validation

type Check = (o: StoreOptions) => string | undefined

const isNonNegative = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0

const checks: ReadonlyArray<Check> = [
  ({ prefix }) =>
    prefix === undefined
      ? undefined
      : typeof prefix !== 'string'
        ? `options.prefix must be a string, got ${typeof prefix}`
        : /[{}]/.test(prefix)
          ? `options.prefix must not contain "{" or "}" (they would make a Redis Cluster hash tag): ${JSON.stringify(prefix)}`
          : prefix.length > MAX_PREFIX_LENGTH
            ? `options.prefix must be at most ${MAX_PREFIX_LENGTH} characters, got ${prefix.length}`
            : undefined,
  ({ scanCount }) =>
    scanCount === undefined || (Number.isInteger(scanCount) && scanCount > 0)
      ? undefined
      : `options.scanCount must be a positive integer, got ${String(scanCount)}`,
  ({ ttlSeconds }) =>
    ttlSeconds === undefined || ttlSeconds === false || isNonNegative(ttlSeconds)
      ? undefined
      : `options.ttlSeconds must be a non-negative number of seconds or false, got ${String(ttlSeconds)}`,
  ({ concurrencyGraceSeconds: g }) =>
    g === undefined || isNonNegative(g) ? undefined : `options.concurrencyGraceSeconds must be a non-negative number of seconds, got ${String(g)}`,
  ({ touchAfterSeconds: t }) =>
    t === undefined || isNonNegative(t) ? undefined : `options.touchAfterSeconds must be a non-negative number of seconds, got ${String(t)}`,
  ({ disableTouch }) =>
    disableTouch === undefined || typeof disableTouch === 'boolean' ? undefined : `options.disableTouch must be a boolean, got ${typeof disableTouch}`,
  ({ serializer }) =>
    serializer === undefined || (typeof serializer?.stringify === 'function' && typeof serializer?.parse === 'function')
      ? undefined
      : 'options.serializer must have stringify and parse functions',
  ({ maxPayloadBytes: m }) =>
    m === undefined || (Number.isInteger(m) && m > 0) ? undefined : `options.maxPayloadBytes must be a positive integer, got ${String(m)}`,
  ({ operationTimeoutMs: t }) =>
    t === undefined || isNonNegative(t) ? undefined : `options.operationTimeoutMs must be a non-negative number of ms, got ${String(t)}`,
  ({ onCorrupt }) =>
    onCorrupt === undefined || onCorrupt === 'miss' || onCorrupt === 'fail' ? undefined : `options.onCorrupt must be 'miss' or 'fail', got ${String(onCorrupt)}`,
  ...(['strictSessionIds', 'connectionEvents', 'checkEvictionPolicy'] as const).map(
    (name): Check =>
      (o) =>
        o[name] === undefined || typeof o[name] === 'boolean' ? undefined : `options.${name} must be a boolean, got ${typeof o[name]}`
  ),
  ({ now }) => (now === undefined || typeof now === 'function' ? undefined : 'options.now must be a function returning ms since the epoch')
]

/**
 * Fills in defaults, or names the first invalid option.
 *
 * @category constructors
 * @since 0.1.0
 */
export const resolveOptions = (options: StoreOptions = {}): E.Either<TypeError, ResolvedOptions> => {
  if (typeof options !== 'object' || options === null) return E.left(new TypeError('options must be an object'))
  const problem = checks.map((check) => check(options)).find((m) => m !== undefined)
  return problem !== undefined
    ? E.left(new TypeError(problem))
    : E.right({
        prefix: options.prefix ?? defaults.prefix,
        scanCount: options.scanCount ?? defaults.scanCount,
        ttlSeconds: options.ttlSeconds ?? defaults.ttlSeconds,
        concurrencyGraceSeconds: options.concurrencyGraceSeconds ?? defaults.concurrencyGraceSeconds,
        touchAfterSeconds: options.touchAfterSeconds ?? defaults.touchAfterSeconds,
        disableTouch: options.disableTouch ?? defaults.disableTouch,
        serializer: options.serializer === undefined ? defaults.serializer : toSerializer(options.serializer),
        strictSessionIds: options.strictSessionIds ?? defaults.strictSessionIds,
        maxPayloadBytes: options.maxPayloadBytes ?? defaults.maxPayloadBytes,
        onCorrupt: options.onCorrupt ?? defaults.onCorrupt,
        operationTimeoutMs: options.operationTimeoutMs ?? defaults.operationTimeoutMs,
        connectionEvents: options.connectionEvents ?? defaults.connectionEvents,
        checkEvictionPolicy: options.checkEvictionPolicy ?? defaults.checkEvictionPolicy,
        now: options.now ?? defaults.now
      })
}
