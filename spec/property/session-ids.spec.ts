/**
 * Property 2, against a real redis-server: any session id — glob characters, braces, control characters,
 * CR/LF, NUL, astral characters, lone surrogates, very long strings, the empty string, non-strings — either
 * round-trips (set → get returns the session, destroy → get null) or is refused with ESESSION_INVALID_ID
 * before anything is sent; and no key outside the prefix is ever created, read or deleted, by the single-key
 * operations or by all / ids / length / iterate / clear. Every command the store sends is recorded by a wrapper
 * around the real client, and foreign keys are seeded and checked after every case.
 */
import type { SessionData } from 'express-session'
import fc from 'fast-check'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { RedisLike } from '../../src/client/contract'
import { createRedisStore, type RedisSessionStore } from '../../src/express/create-redis-store'
import { checkProperty, replaying, show, startRealRedis, type RealRedis } from './support'

type Ctx = { redis: RealRedis }
const it = suite<Ctx>('property: session ids (real Redis)')

it.before(async (ctx) => {
  ctx.redis = await startRealRedis()
})
it.after(async (ctx) => {
  await ctx.redis.stop()
})

// --- the oracle, written from the README / brief, not from src/keys.ts

const MAX_BYTES = 256
// eslint-disable-next-line no-control-regex -- control characters are what ids must not contain
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
/** Well-formed UTF-16 (no lone surrogate): exactly the strings that survive a UTF-8 round trip. */
const wellFormed = (s: string): boolean => Buffer.from(s, 'utf8').toString('utf8') === s
const acceptable = (sid: unknown, strict: boolean): sid is string =>
  typeof sid === 'string' &&
  sid.length > 0 &&
  Buffer.byteLength(sid, 'utf8') <= MAX_BYTES &&
  (strict ? /^[A-Za-z0-9_-]+$/.test(sid) : !CONTROL.test(sid) && wellFormed(sid))

// --- arbitraries

const PIECES = [
  '*',
  '?',
  '[',
  ']',
  '\\',
  '[a-z]',
  '\\*',
  '{',
  '}',
  '{a}',
  ':',
  '::',
  '\r',
  '\n',
  '\r\n',
  '\0',
  '\t',
  '\u001f',
  ' ',
  '\u007f',
  '\u0080',
  '\u0085',
  '\u009f',
  '\u00a0',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\ufffd',
  '\ufffe',
  '\uffff',
  '😀',
  '𝕏',
  '\u{10ffff}',
  '\ud800',
  '\udfff',
  '\udbff\udfff',
  '\udc00\ud800',
  'é',
  'e\u0301',
  '中',
  '%',
  '%2A',
  '"',
  "'",
  '/',
  '..',
  '__proto__',
  'constructor',
  'sessions:',
  'a',
  'Z',
  '0',
  '_',
  '-'
]
const pieced = fc
  .array(
    fc.oneof(
      fc.constantFrom(...PIECES),
      fc.string({ unit: 'binary', maxLength: 3 }),
      fc.string({ unit: 'grapheme', maxLength: 2 })
    ),
    { minLength: 1, maxLength: 10 }
  )
  .map((a) => a.join(''))

/** Ids around the 256-byte limit, made of 1-, 2-, 3- and 4-byte characters. */
const nearLimit = fc
  .tuple(fc.constantFrom('a', '-', 'é', '中', '😀'), fc.integer({ min: -2, max: 2 }), fc.constantFrom('', 'x', '*'))
  .map(([c, delta, tail]) => {
    const bytes = Buffer.byteLength(c)
    return c.repeat(Math.max(0, Math.floor((MAX_BYTES - tail.length) / bytes) + delta)) + tail
  })

const nonStrings: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(undefined, null, true, false, 0, -0, NaN, Infinity, 42, [], {}, ['abc'], Symbol('sid'), 10n),
  fc.integer(),
  fc.double(),
  fc.string({ minLength: 1 }).map((s) => new String(s)),
  fc.string({ minLength: 1 }).map((s) => ({ toString: () => s })),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.object({ maxDepth: 1 })
)

const sidArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: pieced },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/) },
  { weight: 2, arbitrary: nearLimit },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 60, maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: nonStrings }
)

/** Prefixes: the default one, and one full of glob characters (escaped in MATCH). */
const PREFIXES = ['sessions:', 'se*s?[x]\\:'] as const

/**
 * Keys of other applications, seeded before every case: they must never change, be read or be listed. Each
 * string holds a valid session so that a store that over-reached would return it. For the glob prefix,
 * `seQsQx:k` matches its *unescaped* pattern `se*s?[x]\:*`.
 */
const foreignKeys = (prefix: string): ReadonlyArray<readonly [string, 'string' | 'hash']> => [
  ['other:x', 'string'],
  ['other:h', 'hash'],
  [prefix, 'string'], // the prefix alone: the key of the empty id, which no operation may use
  [prefix.slice(0, -1), 'string'],
  [prefix.slice(0, -1) + '1:y', 'string'], // sessions1:y beside sessions:
  [prefix.toUpperCase() + 'z', 'string'],
  [prefix === 'sessions:' ? 'sessions\\:q' : 'seQsQx:k', 'string'],
  ['*', 'string'],
  ['', 'string']
]
const FOREIGN_VALUE = JSON.stringify({ cookie: { expires: null, originalMaxAge: null }, foreign: true })

const sessionOf = (i: number) =>
  ({
    cookie: { originalMaxAge: 600_000, expires: new Date(Date.now() + 600_000).toISOString() },
    n: i
  } as unknown as SessionData)

// --- a recording client

type Sent = { readonly command: string; readonly keys: ReadonlyArray<string> }

/** The real client, with every key each command carries recorded first. */
const recording = (client: RedisLike, sent: Array<Sent>): RedisLike => ({
  get: (key) => (sent.push({ command: 'GET', keys: [key] }), client.get(key)),
  set: (key, value, options) => (sent.push({ command: 'SET', keys: [key] }), client.set(key, value, options)),
  getEx: (key, options) => (sent.push({ command: 'GETEX', keys: [key] }), client.getEx(key, options)),
  getDel: (key) => (sent.push({ command: 'GETDEL', keys: [key] }), client.getDel(key)),
  mGet: (keys) => (sent.push({ command: 'MGET', keys: [...keys] }), client.mGet(keys)),
  evalSha: (sha1, args) => (sent.push({ command: 'EVALSHA', keys: [...args.keys] }), client.evalSha(sha1, args)),
  eval: (source, args) => (sent.push({ command: 'EVAL', keys: [...args.keys] }), client.eval(source, args)),
  scan: ((cursor: never, options: Parameters<RedisLike['scan']>[1]) => (
    sent.push({ command: 'SCAN', keys: [] }), client.scan(cursor, options)
  )) as RedisLike['scan']
})

// --- the property

const BATCH_OPS = ['all', 'ids', 'length', 'iterate', 'clear'] as const
type BatchOp = (typeof BATCH_OPS)[number]

const caseArb = fc.record({
  prefix: fc.constantFrom(...PREFIXES),
  strict: fc.boolean(),
  sids: fc.array(sidArb, { minLength: 1, maxLength: 4 }),
  batch: fc.shuffledSubarray([...BATCH_OPS])
})

const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    (v) => `resolved ${show(v)}`,
    (e: unknown) => String((e as { code?: unknown }).code)
  )

it('every id round-trips or is refused with ESESSION_INVALID_ID, and no foreign key is touched', async ({ redis }) => {
  const sent: Array<Sent> = []
  const client = recording(redis.client, sent)
  const stores = new Map<string, RedisSessionStore>()
  const storeFor = (prefix: string, strict: boolean): RedisSessionStore => {
    const name = `${prefix}|${strict}`
    const found = stores.get(name)
    if (found !== undefined) return found
    const made = createRedisStore(client, {
      prefix,
      strictSessionIds: strict,
      scanCount: 2,
      checkEvictionPolicy: false
    })
    stores.set(name, made)
    return made
  }
  let valid = 0
  let refused = 0

  await checkProperty(
    'session ids: round trip or ESESSION_INVALID_ID, foreign keys untouched (real Redis)',
    [caseArb],
    async ({ prefix, strict, sids, batch }) => {
      const store = storeFor(prefix, strict)
      const foreign = foreignKeys(prefix)
      await redis.raw('FLUSHALL')
      await Promise.all(
        foreign.map(([k, type]) =>
          type === 'string' ? redis.raw('SET', k, FOREIGN_VALUE) : redis.raw('HSET', k, 'f', FOREIGN_VALUE)
        )
      )
      sent.length = 0

      const good = [...new Set(sids.filter((s): s is string => acceptable(s, strict)))]
      const bad = sids.filter((s) => !acceptable(s, strict))
      valid += good.length
      refused += bad.length
      const what = (sid: unknown) => `id ${show(sid)} (${typeof sid}, strict ${strict}, prefix ${show(prefix)})`

      // Refused ids: every single-key operation rejects with ESESSION_INVALID_ID and sends nothing.
      for (const sid of bad) {
        const before = sent.length
        for (const [op, p] of [
          ['set', () => store.access.set(sid as string, sessionOf(0))],
          ['get', () => store.access.get(sid as string)],
          ['touch', () => store.access.touch(sid as string, sessionOf(0))],
          ['destroy', () => store.access.destroy(sid as string)]
        ] as const) {
          assert.is(await codeOf(p()), 'ESESSION_INVALID_ID', `${op} of ${what(sid)}`)
        }
        assert.is(sent.length, before, `nothing is sent for ${what(sid)}: ${show(sent.slice(before))}`)
      }

      // Accepted ids: set, and the key is exactly prefix + id.
      for (const [i, sid] of good.entries()) {
        const sess = sessionOf(i)
        assert.is(await store.access.set(sid, sess), 'written', `set of ${what(sid)}`)
        assert.is(await redis.raw('GET', prefix + sid), JSON.stringify(sess), `the key of ${what(sid)} is prefix + id`)
      }

      // Batched operations list exactly the accepted ids, never a foreign key.
      let cleared = false
      for (const op of batch as ReadonlyArray<BatchOp>) {
        const live = cleared ? [] : good
        if (op === 'all') {
          const all = await store.access.all()
          assert.equal(Object.keys(all).sort(), [...live].sort(), `all() with ${show(good)}`)
          for (const [i, sid] of live.entries())
            assert.is((all[sid] as unknown as { n: number }).n, i, `all()[${show(sid)}]`)
        } else if (op === 'ids') {
          assert.equal([...(await store.access.ids())].sort(), [...live].sort(), `ids() with ${show(good)}`)
        } else if (op === 'iterate') {
          const seen: Array<string> = []
          for await (const [sid] of store.access.iterate()) seen.push(sid)
          assert.equal(seen.sort(), [...live].sort(), `iterate() with ${show(good)}`)
        } else if (op === 'length') {
          assert.is(await store.access.length(), live.length, `length() with ${show(good)}`)
        } else {
          assert.is(await store.access.clear(), live.length, `clear() with ${show(good)}`)
          cleared = true
        }
      }

      // Then get / touch / destroy / get on each accepted id.
      for (const [i, sid] of good.entries()) {
        const got = await store.access.get(sid)
        if (cleared) assert.is(got, null, `get of ${what(sid)} after clear`)
        else assert.is((got as unknown as { n: number } | null)?.n, i, `get of ${what(sid)}`)
        assert.is(await store.access.touch(sid, sessionOf(i)), !cleared, `touch of ${what(sid)}`)
        assert.is(await store.access.destroy(sid), !cleared, `destroy of ${what(sid)}`)
        assert.is(await store.access.get(sid), null, `get of ${what(sid)} after destroy`)
        assert.is(await redis.raw('TYPE', prefix + sid), 'hash', `tombstone of ${what(sid)}`)
      }

      // Every key the store sent is under the prefix; single-key commands carry exactly prefix + an accepted id.
      const allowed = new Set(good.map((s) => prefix + s))
      for (const { command, keys } of sent) {
        for (const key of keys) {
          assert.ok(
            key.startsWith(prefix) && key.length > prefix.length,
            `${command} sent foreign key ${show(key)} (prefix ${show(prefix)})`
          )
          assert.ok(allowed.has(key), `${command} sent ${show(key)}, which is no accepted id's key`)
        }
      }

      // Redis holds the foreign keys, unchanged and without TTL, and the accepted ids' keys: nothing else.
      const keys = ((await redis.raw('KEYS', '*')) as Array<string>).sort()
      assert.equal(keys, [...new Set([...foreign.map(([k]) => k), ...allowed])].sort(), `KEYS * after ${show(sids)}`)
      // (sent together: node-redis pipelines them)
      const states = await Promise.all(
        foreign.map(([k, type]) =>
          Promise.all([
            redis.raw('TYPE', k),
            type === 'string' ? redis.raw('GET', k) : redis.raw('HGET', k, 'f'),
            redis.raw('PTTL', k)
          ])
        )
      )
      for (const [i, [k, type]] of foreign.entries()) {
        assert.equal(states[i], [type, FOREIGN_VALUE, -1], `type, value and TTL of foreign key ${show(k)}`)
      }
    }
  )
  console.log(`  [property] session ids: ${valid} accepted and ${refused} refused ids over the run`)
  if (!replaying()) assert.ok(valid > 500 && refused > 500, 'both kinds of id are exercised')
})

it.run()
