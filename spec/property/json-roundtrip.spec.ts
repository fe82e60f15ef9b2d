/**
 * Property 1, against a real redis-server: arbitrary JSON sessions round-trip through `store.access.set` /
 * `get` (their stored JSON shape, `cookie.expires` revived as a `Date`), and no stored value — written by the store or planted raw in Redis with
 * escaped keys — can change a prototype, through the store, through express-session's `createSession`, or
 * through a naive deep merge done by the application afterwards.
 */
import session from 'express-session'
import fc from 'fast-check'
import * as t from 'io-ts'
import { isDeepStrictEqual } from 'util'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createRedisStore, type RedisSessionStore } from '../../src/express/create-redis-store'
import { codecSerializer } from '../../src/serializer/codec'
import {
  asReadBack,
  checkProperty,
  jsonShape,
  objectsIn,
  show,
  startRealRedis,
  withoutPrototypeKeys,
  type RealRedis
} from './support'

type Ctx = { redis: RealRedis; stores: Record<'json' | 'codec', RedisSessionStore> }
type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [k: string]: Json }

const it = suite<Ctx>('property: JSON sessions round-trip (real Redis)')

// The codec describes the stored JSON shape; t.type keeps the members it does not mention.
const StoredSession = t.type({ cookie: t.type({ expires: t.union([t.string, t.null]) }) })

it.before(async (ctx) => {
  ctx.redis = await startRealRedis()
  await ctx.redis.raw('FLUSHALL')
  const options = { checkEvictionPolicy: false } as const
  ctx.stores = {
    json: createRedisStore(ctx.redis.client, options),
    codec: createRedisStore(ctx.redis.client, { ...options, serializer: codecSerializer(StoredSession) })
  }
})
it.after(async (ctx) => {
  await ctx.redis.stop()
})

// --- arbitraries

const DAY = 86_400_000
const MAX_DATE_MS = 8.64e15

/** `cookie.expires`: null (browser-session cookie: ttlSeconds), a minute to a year ahead, or far in the future (up to the last Date). */
const expiresArb: fc.Arbitrary<string | null> = fc.oneof(
  fc.constant(null),
  fc.integer({ min: 60_000, max: 365 * DAY }).map((ms) => new Date(Date.now() + ms).toISOString()),
  fc.integer({ min: Date.UTC(2100, 0, 1), max: MAX_DATE_MS }).map((ms) => new Date(ms).toISOString())
)

const cookieArb = fc.record(
  {
    originalMaxAge: fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 10 * 365 * DAY })),
    expires: expiresArb,
    httpOnly: fc.boolean(),
    secure: fc.boolean(),
    path: fc.constantFrom('/', '/app'),
    sameSite: fc.constantFrom('lax', 'strict', 'none', true, false)
  },
  { requiredKeys: ['originalMaxAge', 'expires'] }
)

const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue(),
  fc.jsonValue({ stringUnit: 'binary' }),
  fc.jsonValue({ stringUnit: 'grapheme' })
)

/** A session: the cookie plus members of any JSON value (fc.jsonValue keys include `__proto__`, `constructor`, … now and then). */
const sessionArb = fc
  .tuple(cookieArb, fc.dictionary(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), anyJson, { maxKeys: 8 }))
  .map(([cookie, members]) => {
    const s: Record<string, unknown> = { ...members }
    Object.defineProperty(s, 'cookie', { value: cookie, enumerable: true, writable: true, configurable: true })
    return s
  })

// Hostile members: keys that name prototypes, values shaped to pollute one when merged with [[Set]].
const POLLUTE: Json = { polluted: 'yes' }
const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'polluted', 'toString', 'valueOf', 'hasOwnProperty', 'a']
const hostileKey = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_KEYS) },
  { weight: 1, arbitrary: fc.string() }
)

const { tree: hostileTree } = fc.letrec<{ tree: Json; object: Json; array: Json }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<Json>(null, true, 0, 'x', POLLUTE, { prototype: POLLUTE }, [POLLUTE]),
    tie('object'),
    tie('array')
  ),
  object: fc.dictionary(hostileKey, tie('tree'), { maxKeys: 5 }),
  array: fc.array(tie('tree'), { maxLength: 3 })
}))

/** A session object whose members (and cookie members) use hostile keys, as own properties. */
const hostileSessionArb = fc
  .tuple(
    fc.dictionary(hostileKey, hostileTree, { maxKeys: 6 }),
    fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'prototype', 'polluted'), hostileTree, { maxKeys: 3 }),
    expiresArb
  )
  .map(([members, cookieMembers, expires]) => {
    const cookie: Record<string, unknown> = { ...cookieMembers, originalMaxAge: null }
    Object.defineProperty(cookie, 'expires', { value: expires, enumerable: true, writable: true, configurable: true })
    const s: Record<string, unknown> = { ...members }
    Object.defineProperty(s, 'cookie', { value: cookie, enumerable: true, writable: true, configurable: true })
    return s
  })

// The same, as JSON text written straight into Redis: each character of a key may be a \u escape (either
// hex case), and whitespace may sit around the colon — the spellings a regex pre-check could miss.
type Entries = ReadonlyArray<readonly [string, Node]>
type Node =
  | { readonly kind: 'leaf'; readonly json: Json }
  | { readonly kind: 'object'; readonly entries: Entries }
  | { readonly kind: 'array'; readonly items: ReadonlyArray<Node> }

const { node: nodeArb } = fc.letrec<{ node: Node; object: Node; array: Node }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<Json>(null, 1, 'x', POLLUTE, { prototype: POLLUTE }).map((json): Node => ({ kind: 'leaf', json })),
    tie('object'),
    tie('array')
  ),
  // Duplicate keys allowed: JSON.parse keeps the last one.
  object: fc
    .array(fc.tuple(hostileKey, tie('node')), { maxLength: 4 })
    .map((entries): Node => ({ kind: 'object', entries })),
  array: fc.array(tie('node'), { maxLength: 3 }).map((items): Node => ({ kind: 'array', items }))
}))

const spacing = fc.constantFrom('', ' ', '\n', '\t', '\r\n ')
const escapeMask = fc.tuple(
  fc.integer({ min: 0, max: 2 ** 30 }),
  fc.integer({ min: 0, max: 2 ** 30 }),
  spacing,
  spacing
)

/** JSON text of `node`; `marks` (one per key, cycled) decide which characters of each key are \u-escaped. */
const toText = (node: Node, marks: ReadonlyArray<readonly [number, number, string, string]>): string => {
  let i = 0
  const key = (k: string): string => {
    const [escaped, upper, before, after] = marks[i++ % marks.length] ?? [0, 0, '', '']
    const body = [...k]
      .map((c, j) => {
        if (((escaped >> j % 30) & 1) === 0 || c.length > 1) return JSON.stringify(c).slice(1, -1)
        const hex = c.charCodeAt(0).toString(16).padStart(4, '0')
        return '\\u' + (((upper >> j % 30) & 1) === 1 ? hex.toUpperCase() : hex)
      })
      .join('')
    return `"${body}"${before}:${after}`
  }
  const go = (n: Node): string =>
    n.kind === 'leaf'
      ? JSON.stringify(n.json)
      : n.kind === 'array'
      ? `[${n.items.map(go).join(',')}]`
      : `{${n.entries.map(([k, v]) => key(k) + go(v)).join(',')}}`
  return go(node)
}

const rawSessionArb = fc
  .tuple(
    fc.array(fc.tuple(hostileKey, nodeArb), { maxLength: 5 }),
    fc.array(fc.tuple(fc.constantFrom('__proto__', 'constructor', 'prototype', 'polluted'), nodeArb), { maxLength: 3 }),
    fc.array(escapeMask, { minLength: 1, maxLength: 6 }),
    fc.boolean()
  )
  .map(([members, cookieMembers, marks, cookieFirst]) => {
    const cookie: Node = {
      kind: 'object',
      entries: [
        ['expires', { kind: 'leaf', json: null }],
        ['originalMaxAge', { kind: 'leaf', json: null }],
        ...cookieMembers
      ]
    }
    const entries: Entries = cookieFirst
      ? [['cookie', cookie], ...members.filter(([k]) => k !== 'cookie')]
      : [...members.filter(([k]) => k !== 'cookie'), ['cookie', cookie]]
    return toText({ kind: 'object', entries }, marks)
  })

// --- checks

/**
 * A typical vulnerable consumer: a recursive merge with [[Get]]/[[Set]], as old lodash.merge did. It walks
 * into `target.__proto__` and `target.constructor.prototype`, which is how `__proto__` and
 * `constructor.prototype` payloads pollute.
 */
const naiveMerge = (target: any, source: any, fresh: () => object): void => {
  for (const k in source) {
    const v = source[k]
    if (typeof v === 'object' && v !== null) {
      if (typeof target[k] !== 'object' || target[k] === null) target[k] = fresh()
      naiveMerge(target[k], v, fresh)
    } else target[k] = v
  }
}

/**
 * Merges `value` into a world of its own: the target and every object the merge creates inherit from a
 * sandbox that plays Object.prototype — no prototype of its own, a `constructor` whose `prototype` points
 * back at it, and a `__proto__` accessor like Object.prototype's — so a payload that gets through pollutes
 * the sandbox, never the test process. Reports whether the sandbox gained a member or a prototype.
 */
const mergePollutes = (value: unknown): string | undefined => {
  const ctor: { prototype?: unknown } = Object.create(null)
  const sandbox: object = Object.create(null, {
    constructor: { value: ctor, writable: true, enumerable: false, configurable: true },
    ['__proto__']: {
      get(this: object) {
        return Object.getPrototypeOf(this)
      },
      set(this: object, proto: unknown) {
        if (typeof proto === 'object') Object.setPrototypeOf(this, proto)
      },
      enumerable: false,
      configurable: true
    }
  })
  ctor.prototype = sandbox
  const fresh = (): object => Object.create(sandbox)
  const target = fresh()
  naiveMerge(target, value, fresh)
  const bad: Array<string> = []
  if (Object.getPrototypeOf(target) !== sandbox) bad.push('the target changed prototype')
  if (ctor.prototype !== sandbox) bad.push('constructor.prototype was replaced')
  const gained = Reflect.ownKeys(sandbox).filter((k) => k !== 'constructor' && k !== '__proto__')
  if (gained.length > 0) bad.push(`the prototype gained ${gained.map(String).join(', ')}`)
  if (Object.getPrototypeOf(sandbox) !== null) bad.push('the prototype changed prototype')
  return bad.length === 0 ? undefined : bad.join('; ')
}

/** What a session read back must satisfy, whatever its stored text: no prototype can be changed with it. */
const assertHarmless = (store: RedisSessionStore, sid: string, got: unknown): void => {
  for (const o of objectsIn(got)) {
    const proto = Object.getPrototypeOf(o)
    assert.ok(
      proto === Object.prototype || proto === Array.prototype || (o instanceof Date && proto === Date.prototype),
      `an object read back has prototype ${Object.prototype.toString.call(proto)}: ${show(got)}`
    )
    assert.not.ok(Object.prototype.hasOwnProperty.call(o, '__proto__'), `an own __proto__ key survived: ${show(got)}`)
    const ctor = Object.getOwnPropertyDescriptor(o, 'constructor')?.value
    assert.not.ok(
      typeof ctor === 'object' && ctor !== null && Object.prototype.hasOwnProperty.call(ctor, 'prototype'),
      `constructor.prototype survived: ${show(got)}`
    )
  }
  assert.is(({} as any).polluted, undefined)
  // The application copies it around, then express-session builds its Session and Cookie from it.
  const polluted = mergePollutes(got)
  assert.is(polluted, undefined, `a naive deep merge of ${show(got)}: ${polluted ?? ''}`)
  const req = { sessionID: sid, sessionStore: store } as unknown as Parameters<RedisSessionStore['createSession']>[0]
  const built = store.createSession(req, got as session.SessionData)
  assert.ok(Object.getPrototypeOf(built) === session.Session.prototype, 'createSession gives a Session')
  assert.ok(
    Object.getPrototypeOf(built.cookie) === session.Cookie.prototype,
    `createSession gives a Cookie, got prototype ${show(Object.getPrototypeOf(built.cookie))}`
  )
}

const assertSameJson = (got: unknown, expected: unknown, sent: unknown): void => {
  if (!isDeepStrictEqual(got, expected))
    assert.unreachable(
      `round trip changed the session:\n sent     ${show(sent)}\n expected ${show(expected)}\n got      ${show(got)}`
    )
}

let counter = 0
const nextSid = (tag: string): string => `${tag}-${(counter++).toString(36)}`

const TEN_YEARS_MS = 315_360_000_000

const pttlBounds = (sess: Record<string, unknown>): readonly [number, number] => {
  const expires = (sess['cookie'] as { expires: string | null }).expires
  if (expires === null) return [86_400_000 - 10_000, 86_400_000]
  // A cookie more than 10 years away is kept 10 years (the store's bound on a TTL).
  const ms = Math.min(new Date(expires).getTime() - Date.now(), TEN_YEARS_MS)
  return [ms - 10_000, ms + 10_000]
}

// --- properties

it('any JSON session: set then get returns its JSON shape (own __proto__ / constructor.prototype members dropped), with its TTL', async (ctx) => {
  await checkProperty(
    'JSON round trip, jsonSerializer and codecSerializer (real Redis)',
    [sessionArb, fc.constantFrom('json' as const, 'codec' as const)],
    async (sess, which) => {
      const store = ctx.stores[which]
      const sid = nextSid('rt')
      assert.is(await store.access.set(sid, sess as unknown as session.SessionData), 'written')
      const got = await store.access.get(sid)
      assertSameJson(got, asReadBack(withoutPrototypeKeys(jsonShape(sess))), sess)
      const pttl = Number(await ctx.redis.raw('PTTL', `sessions:${sid}`))
      const [lo, hi] = pttlBounds(sess)
      assert.ok(
        pttl >= lo && pttl <= hi,
        `PTTL ${pttl} for cookie.expires ${show(
          (sess['cookie'] as { expires: unknown }).expires
        )} (expected ${lo}..${hi})`
      )
      assertHarmless(store, sid, got)
    }
  )
})

it('hostile session objects (own __proto__ / constructor / prototype members) never change a prototype', async (ctx) => {
  await checkProperty(
    'hostile objects through set/get (real Redis)',
    [hostileSessionArb, fc.constantFrom('json' as const, 'codec' as const)],
    async (sess, which) => {
      const store = ctx.stores[which]
      const sid = nextSid('ho')
      assert.is(await store.access.set(sid, sess as unknown as session.SessionData), 'written')
      const got = await store.access.get(sid)
      assertSameJson(got, asReadBack(withoutPrototypeKeys(jsonShape(sess))), sess)
      assertHarmless(store, sid, got)
    }
  )
})

it('hostile JSON text planted in Redis (escaped keys, odd whitespace) never changes a prototype', async (ctx) => {
  await checkProperty(
    'hostile JSON text read by get (real Redis)',
    [rawSessionArb, fc.constantFrom('json' as const, 'codec' as const)],
    async (text, which) => {
      const store = ctx.stores[which]
      const sid = nextSid('tx')
      await ctx.redis.raw('SET', `sessions:${sid}`, text, 'PX', '60000')
      const got = await store.access.get(sid)
      assert.ok(got !== null, `the planted session was not read back: ${text}`)
      assertSameJson(got, asReadBack(withoutPrototypeKeys(JSON.parse(text))), text)
      assertHarmless(store, sid, got)
    }
  )
})

it.run()
