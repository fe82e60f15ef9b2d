/**
 * Options the store accepts must work against a real redis-server: with any `ttlSeconds` and
 * `concurrencyGraceSeconds` that `createRedisStore` accepts, a browser-session cookie (no `expires`) is saved
 * with a TTL of `ttlSeconds`, renewed by touch, and destroyed into a tombstone that lives the grace period.
 *
 * It found that `computeTtl` sent `ttlSeconds * 1000` unrounded: `ttlSeconds: 1.001` gave `SET … PX
 * 1000.9999999999999`, which Redis refuses, so every save of a browser-session cookie failed. Fixed in
 * src/ttl.ts (Math.ceil); the fake client now refuses fractional PX as Redis does.
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

const browserSession = { cookie: { originalMaxAge: null, expires: null } } as unknown as SessionData

it('any accepted ttlSeconds / concurrencyGraceSeconds: set, touch and destroy of a browser-session cookie succeed, with those TTLs', async ({
  redis
}) => {
  let n = 0
  await checkProperty('TTL options on real Redis', [secondsArb, secondsArb], async (ttlSeconds, graceSeconds) => {
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

it.run()
