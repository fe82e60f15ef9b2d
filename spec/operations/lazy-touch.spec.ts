import * as O from 'fp-ts/lib/Option'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { makeExpiryMemo, makeGetRemembering, makeLazyTouch } from '../../src/operations/lazy-touch'
import { makeTouch } from '../../src/operations/touch'
import { jsonSerializer } from '../../src/serializer/json'
import { makeFakeRedis, type FakeRedis } from '../fakes/redis'
import { runRight, storedSession } from '../helpers'

const HOUR = 3_600_000
const opsOf = (redis: FakeRedis, touchAfterSeconds = 60) => {
  const memo = makeExpiryMemo()
  const deps = {
    onCorrupt: 'fail' as const,
    client: redis,
    prefix: 'sessions:',
    serializer: jsonSerializer,
    ttlSeconds: 86400 as const,
    now: redis.now,
    memo,
    touchAfterSeconds
  }
  const touch = makeTouch(deps)
  return { get: makeGetRemembering(deps), touch: makeLazyTouch({ ...deps, touch }), plainTouch: touch, memo }
}
const seed = (redis: FakeRedis, sid: string, ttlMs: number) =>
  redis.keyspace.set(`sessions:${sid}`, {
    type: 'string',
    value: JSON.stringify(storedSession(redis.now(), ttlMs)),
    expiresAt: redis.now() + ttlMs
  })

const lazy = suite<{ redis: FakeRedis }>('lazy touch')
lazy.before.each((ctx) => {
  ctx.redis = makeFakeRedis()
})

lazy('get reads the session and its TTL in one command', async ({ redis }) => {
  seed(redis, 'a', HOUR)
  const ops = opsOf(redis)
  const got = await runRight(ops.get('a'))
  assert.equal(
    redis.calls.map((c) => c[0]),
    ['EVALSHA']
  )
  assert.ok(O.isSome(got))
  assert.is(ops.memo.recall('a'), redis.now() + HOUR)
})

lazy('get answers like makeGet for a missing key, a tombstone and a corrupt value', async ({ redis }) => {
  redis.keyspace.set('sessions:t', { type: 'hash', fields: { destroyedAt: '1' }, expiresAt: redis.now() + 1000 })
  redis.keyspace.set('sessions:c', { type: 'string', value: '{nope' })
  const ops = opsOf(redis)
  assert.equal(await runRight(ops.get('missing')), O.none)
  assert.equal(await runRight(ops.get('t')), O.none)
  assert.is((await ops.get('c')())._tag, 'Left')
  assert.is(ops.memo.recall('t'), undefined)
})

lazy('a touch soon after the last renewal writes nothing', async ({ redis }) => {
  seed(redis, 'a', HOUR)
  const ops = opsOf(redis)
  await runRight(ops.get('a'))
  redis.clock.advance(30_000) // renewing now would move the expiry by 30 s < 60 s
  redis.calls.length = 0
  assert.is(await runRight(ops.touch('a', storedSession(redis.now(), HOUR))), false)
  assert.equal(redis.calls, [])
})

lazy('a touch after touchAfterSeconds renews', async ({ redis }) => {
  seed(redis, 'a', HOUR)
  const ops = opsOf(redis)
  redis.clock.advance(61_000)
  await runRight(ops.get('a'))
  redis.calls.length = 0
  assert.is(await runRight(ops.touch('a', storedSession(redis.now(), HOUR))), true)
  assert.equal(redis.calls, [['GETEX', 'sessions:a', { PX: HOUR }]])
})

lazy('"last renewal" comes from Redis: a renewal by another process counts', async ({ redis }) => {
  seed(redis, 'a', HOUR)
  const here = opsOf(redis)
  const elsewhere = opsOf(redis)
  redis.clock.advance(120_000)
  // Another process renews the session now.
  await runRight(elsewhere.plainTouch('a', storedSession(redis.now(), HOUR)))
  redis.clock.advance(10_000)
  await runRight(here.get('a'))
  redis.calls.length = 0
  assert.is(await runRight(here.touch('a', storedSession(redis.now(), HOUR))), false, 'renewed 10 s ago elsewhere')
  assert.equal(redis.calls, [])
})

lazy('without a preceding get, touch renews', async ({ redis }) => {
  seed(redis, 'a', HOUR)
  assert.is(await runRight(opsOf(redis).touch('a', storedSession(redis.now(), HOUR))), true)
})

lazy('concurrent requests of one session renew it once', async ({ redis }) => {
  seed(redis, 'a', HOUR)
  const ops = opsOf(redis)
  redis.clock.advance(120_000)
  await Promise.all([runRight(ops.get('a')), runRight(ops.get('a')), runRight(ops.get('a'))])
  redis.calls.length = 0
  const touched = []
  for (let i = 0; i < 3; i++) touched.push(await runRight(ops.touch('a', storedSession(redis.now(), HOUR))))
  assert.equal(touched, [true, false, false])
  assert.is(redis.calls.filter((c) => c[0] === 'GETEX').length, 1)
})

lazy('an expired cookie is never skipped: the session is removed', async ({ redis }) => {
  seed(redis, 'a', HOUR)
  const ops = opsOf(redis)
  await runRight(ops.get('a'))
  await runRight(ops.touch('a', storedSession(redis.now(), -1)))
  assert.is(redis.keyspace.get('sessions:a') !== undefined, false)
})

lazy('the memo is bounded', () => {
  const memo = makeExpiryMemo(2)
  memo.remember('a', 1)
  memo.remember('b', 2)
  memo.remember('c', 3)
  assert.equal([memo.recall('a'), memo.recall('b'), memo.recall('c')], [undefined, 2, 3])
})

lazy.run()
