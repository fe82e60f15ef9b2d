import * as O from 'fp-ts/lib/Option'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { makeFakeRedis, type FakeRedis } from '../fakes/redis'
import { runLeft, runRight, storedSession } from '../helpers'
import { opsOf } from './fixtures'

const set = suite<{ redis: FakeRedis }>('makeSet')
set.before.each((ctx) => {
  ctx.redis = makeFakeRedis()
})

set('writes with the TTL of cookie.expires, to the millisecond, in one SET … PX … GET', async ({ redis }) => {
  const ops = opsOf(redis)
  const sess = { cookie: { expires: new Date(redis.now() + 12_345) } }
  const outcome = await runRight(ops.set('abc', sess))
  assert.is(outcome, 'written')
  assert.equal(redis.calls, [['SET', 'sessions:abc', JSON.stringify(sess), { PX: 12_345, GET: true }]])
  assert.is(redis.keyspace.pttl('sessions:abc'), 12_345)
})

set('cookie.expires null or missing uses ttlSeconds', async ({ redis }) => {
  const ops = opsOf(redis, { ttlSeconds: 60 })
  await runRight(ops.set('a', { cookie: { expires: null } }))
  await runRight(ops.set('b', { cookie: {} }))
  await runRight(ops.set('c', {}))
  assert.is(redis.keyspace.pttl('sessions:a'), 60_000)
  assert.is(redis.keyspace.pttl('sessions:b'), 60_000)
  assert.is(redis.keyspace.pttl('sessions:c'), 60_000)
})

for (const ttlSeconds of [false, 0] as const) {
  set(
    `with ttlSeconds ${String(ttlSeconds)} a session without expiry is refused and nothing is written`,
    async ({ redis }) => {
      const e = await runLeft(opsOf(redis, { ttlSeconds }).set('a', { cookie: { expires: null } }))
      assert.is(e._tag, 'InvalidSession')
      assert.equal(redis.calls, [])
      assert.is(redis.keyspace.size(), 0)
    }
  )
}

set('an unreadable cookie.expires is refused', async ({ redis }) => {
  const e = await runLeft(opsOf(redis).set('a', { cookie: { expires: 'not a date' } }))
  assert.is(e._tag, 'InvalidSession')
  assert.is(redis.keyspace.size(), 0)
})

set('an expiry in the past removes the session (and leaves a tombstone)', async ({ redis }) => {
  const ops = opsOf(redis)
  await runRight(ops.set('a', storedSession(redis.now(), 1000)))
  const outcome = await runRight(ops.set('a', storedSession(redis.now(), -1)))
  assert.is(outcome, 'expired')
  assert.is(redis.keyspace.get('sessions:a')?.type, 'hash')
  assert.equal(await runRight(ops.get('a')), O.none)
})

set('a tombstoned session is not written', async ({ redis }) => {
  const ops = opsOf(redis)
  await runRight(ops.set('a', storedSession(redis.now(), 1000, { n: 1 })))
  await runRight(ops.destroy('a'))
  const outcome = await runRight(ops.set('a', storedSession(redis.now(), 1000, { n: 2 })))
  assert.is(outcome, 'tombstoned')
  assert.is(redis.keyspace.get('sessions:a')?.type, 'hash')
  assert.equal(await runRight(ops.get('a')), O.none)
})

set('a session that cannot be serialized is a StringifyFailed and nothing is sent', async ({ redis }) => {
  const cyclic: Record<string, unknown> = { cookie: { expires: null } }
  cyclic['self'] = cyclic
  const e1 = await runLeft(opsOf(redis).set('a', cyclic))
  const e2 = await runLeft(opsOf(redis).set('b', { cookie: { expires: null }, n: BigInt(1) }))
  assert.is(e1._tag, 'StringifyFailed')
  assert.is(e2._tag, 'StringifyFailed')
  assert.equal(redis.calls, [])
})

set('after the grace period the id can be used again', async ({ redis }) => {
  const ops = opsOf(redis)
  await runRight(ops.destroy('a'))
  redis.clock.advance(300_001)
  assert.is(await runRight(ops.set('a', storedSession(redis.now(), 1000))), 'written')
})

set.run()

// --- regressions

const regressions = suite('regressions')

regressions(
  'a ttlSeconds whose milliseconds are not whole in floating point still saves (1.001 s → PX 1001)',
  async () => {
    const redis = makeFakeRedis()
    const ops = opsOf(redis, { ttlSeconds: 1.001 })
    assert.is(await runRight(ops.set('a', { cookie: { expires: null } })), 'written')
    assert.is(redis.keyspace.pttl('sessions:a'), 1001)
    assert.is(await runRight(ops.touch('a', { cookie: { expires: null } })), true)
  }
)

regressions.run()
