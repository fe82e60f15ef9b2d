/**
 * Options the store accepts must work against a real redis-server: with any `ttlSeconds` and
 * `concurrencyGraceSeconds` that `createRedisStore` accepts, a browser-session cookie (no `expires`) is saved
 * with a TTL of `ttlSeconds`, renewed by touch, and destroyed into a tombstone that lives the grace period.
 *
 * It found that `computeTtl` sent `ttlSeconds * 1000` unrounded: `ttlSeconds: 1.001` gave `SET … PX
 * 1000.9999999999999`, which Redis refuses, so every save of a browser-session cookie failed. Fixed in
 * src/ttl.ts (Math.ceil); the fake client now refuses fractional PX as Redis does.
 *
 * And every number is either refused when the store is built (a `TypeError` naming the option and its range) or
 * works: no option value, and no result of a `ttl` function, makes Redis refuse a command (`ESESSION_REDIS`). Before
 * the bounds, `ttlSeconds: 1e20` was accepted and every save failed with `ERR value is not an integer or out of
 * range`.
 */
import type { SessionData } from 'express-session'
import fc from 'fast-check'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createRedisStore } from '../../src/express/create-redis-store'
import { checkProperty, startRealRedis, type RealRedis } from './support'

const it = suite<{ redis: RealRedis }>('property: accepted TTL options work on real Redis')

it.before(async (ctx) => {
  ctx.redis = await startRealRedis()
})
it.after(async (ctx) => {
  await ctx.redis.stop()
})

/**
 * Seconds as people write them: whole, computed from ms (`ms / 1000`), or any double. At least 10 s, so that
 * the real time a case takes never expires a key before it is checked.
 */
const secondsArb = fc.oneof(
  fc.integer({ min: 10, max: 10 * 86_400 }),
  fc.integer({ min: 10_000, max: 10_000_000 }).map((ms) => ms / 1000),
  fc.double({ min: 10, max: 10 * 86_400, noNaN: true })
)

/** Grace periods: the same, up to the 1-day bound of concurrencyGraceSeconds. */
const graceArb = secondsArb.filter((s) => s <= 86_400)

const browserSession = { cookie: { originalMaxAge: null, expires: null } } as unknown as SessionData

it('any accepted ttlSeconds / concurrencyGraceSeconds: set, touch and destroy of a browser-session cookie succeed, with those TTLs', async ({
  redis
}) => {
  let n = 0
  await checkProperty('TTL options on real Redis', [secondsArb, graceArb], async (ttlSeconds, graceSeconds) => {
    const store = createRedisStore(redis.client, {
      ttlSeconds,
      concurrencyGraceSeconds: graceSeconds,
      checkEvictionPolicy: false
    })
    const sid = `opt-${n++}`
    const key = `sessions:${sid}`
    const tell = `ttlSeconds ${ttlSeconds}, concurrencyGraceSeconds ${graceSeconds}`
    assert.is(await store.access.set(sid, browserSession).catch((e: Error) => e.message), 'written', `set with ${tell}`)
    const ttl = Number(await redis.raw('PTTL', key))
    assert.ok(ttl <= Math.ceil(ttlSeconds * 1000) && ttl >= ttlSeconds * 1000 - 1000, `PTTL ${ttl} with ${tell}`)
    assert.is(await store.access.touch(sid, browserSession).catch((e: Error) => e.message), true, `touch with ${tell}`)
    assert.is(await store.access.destroy(sid).catch((e: Error) => e.message), true, `destroy with ${tell}`)
    assert.is(await redis.raw('TYPE', key), 'hash', `a tombstone with ${tell}`)
    const grace = Number(await redis.raw('PTTL', key))
    assert.ok(
      grace <= Math.ceil(graceSeconds * 1000) && grace >= graceSeconds * 1000 - 1000,
      `tombstone PTTL ${grace} with ${tell}`
    )
  })
})

/** Any number: the bounds and just past them, any double (NaN, ±Infinity, huge, tiny), any integer. */
const anyNumberArb = fc.oneof(
  fc.constantFrom(0, 1, 86_400, 86_401, 315_360_000, 315_360_001, 1e20, -1, 0.0001),
  fc.double(),
  fc.integer({ min: -1, max: 400_000_000 }),
  fc.double({ min: 0, max: 315_360_000, noNaN: true })
)

/** The documented range of each TTL-like option (docs/options.md). */
const MAX_SECONDS = { ttlSeconds: 315_360_000, concurrencyGraceSeconds: 86_400, absoluteLifetimeSeconds: 315_360_000 }

const inDocumentedRange = (n: number, max: number): boolean => Number.isFinite(n) && n >= 0 && n <= max

const errorOf = (e: unknown): string => (e instanceof Error ? `${(e as Error & { code?: string }).code}` : String(e))

it('any number: a TypeError naming the option and its range at construction, or set/touch/destroy that Redis takes', async ({
  redis
}) => {
  let n = 0
  const names = Object.keys(MAX_SECONDS) as ReadonlyArray<keyof typeof MAX_SECONDS>
  await checkProperty('any TTL option value', [fc.constantFrom(...names), anyNumberArb], async (name, value) => {
    const options = { [name]: value, checkEvictionPolicy: false }
    const valid = inDocumentedRange(value, MAX_SECONDS[name])
    let store: ReturnType<typeof createRedisStore>
    try {
      store = createRedisStore(redis.client, options)
    } catch (e) {
      assert.instance(e, TypeError)
      assert.match(
        (e as Error).message,
        new RegExp(`^options\\.${name} must be a number of seconds from 0 to ${MAX_SECONDS[name]} `)
      )
      assert.not.ok(valid, `${name}: ${value} is in the documented range but was refused`)
      return
    }
    assert.ok(valid, `${name}: ${value} is outside the documented range but was accepted`)
    const sid = `any-${n++}`
    // ttlSeconds is the TTL of a browser-session cookie; the others apply to any session.
    const sess =
      name === 'ttlSeconds'
        ? browserSession
        : ({ cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) } } as unknown as SessionData)
    const outcomes = [
      await store.access.set(sid, sess).then(String, errorOf),
      await store.access.touch(sid, sess).then(String, errorOf),
      await store.access.destroy(sid).then(String, errorOf)
    ]
    const refused = name === 'ttlSeconds' && value === 0 ? ['ESESSION_INVALID'] : []
    for (const outcome of outcomes)
      assert.ok(
        ['written', 'expired', 'true', 'false', ...refused].includes(outcome),
        `${name}: ${value}: ${outcomes.join(', ')}`
      )
  })
})

it('a ttl function returning any number: written, expired or ESESSION_INVALID with nothing written, never ESESSION_REDIS', async ({
  redis
}) => {
  let n = 0
  await checkProperty('any ttl function result', [anyNumberArb], async (seconds) => {
    const store = createRedisStore(redis.client, { ttl: () => seconds, checkEvictionPolicy: false })
    const sid = `fn-${n++}`
    const outcome = await store.access.set(sid, browserSession).then(String, errorOf)
    const expected =
      Number.isNaN(seconds) || seconds > 315_360_000 ? 'ESESSION_INVALID' : seconds <= 0 ? 'expired' : 'written'
    assert.is(outcome, expected, `ttl() = ${seconds}`)
    if (outcome === 'ESESSION_INVALID') assert.is(await redis.raw('EXISTS', `sessions:${sid}`), 0, 'nothing written')
  })
})

it('ttl: () => 1e20 on real Redis: ESESSION_INVALID naming the result, and no key written', async ({ redis }) => {
  const store = createRedisStore(redis.client, { ttl: () => 1e20, checkEvictionPolicy: false })
  const e = await store.access.set('huge-ttl', browserSession).then(
    () => assert.unreachable('the save should fail') as never,
    (err: Error & { code?: string }) => err
  )
  assert.is(e.code, 'ESESSION_INVALID')
  assert.match(e.message, 'options.ttl(session) returned 100000000000000000000 seconds, more than the longest TTL')
  assert.is(await redis.raw('EXISTS', 'sessions:huge-ttl'), 0)
  assert.is(
    await store.access.touch('huge-ttl', browserSession).catch((err: { code?: string }) => err.code),
    'ESESSION_INVALID'
  )
})

it.run()
