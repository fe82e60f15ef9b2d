import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { makeFakeRedis, type FakeRedis } from '../fakes/redis'
import { runRight, storedSession } from '../helpers'
import { commands, opsOf } from './fixtures'

const touch = suite<{ redis: FakeRedis }>('makeTouch')
touch.before.each((ctx) => {
  ctx.redis = makeFakeRedis()
})

touch('renews the TTL of a live session without rewriting it, in one GETEX', async ({ redis }) => {
  const ops = opsOf(redis)
  await runRight(ops.set('a', storedSession(redis.now(), 1000, { n: 1 })))
  const before = redis.keyspace.get('sessions:a')
  redis.calls.length = 0
  assert.is(await runRight(ops.touch('a', storedSession(redis.now(), 50_000, { n: 999 }))), true)
  assert.equal(redis.calls, [['GETEX', 'sessions:a', { PX: 50_000 }]])
  assert.is(redis.keyspace.pttl('sessions:a'), 50_000)
  assert.equal(redis.keyspace.get('sessions:a'), { ...before, expiresAt: redis.now() + 50_000 }, 'value not rewritten')
})

touch('never creates a key', async ({ redis }) => {
  assert.is(await runRight(opsOf(redis).touch('ghost', storedSession(redis.now(), 1000))), false)
  assert.is(redis.keyspace.size(), 0)
})

touch('never revives a tombstone', async ({ redis }) => {
  const ops = opsOf(redis)
  await runRight(ops.set('a', storedSession(redis.now(), 1000)))
  await runRight(ops.destroy('a'))
  assert.is(await runRight(ops.touch('a', storedSession(redis.now(), 1_000_000))), false)
  assert.is(redis.keyspace.get('sessions:a')?.type, 'hash')
  assert.is(redis.keyspace.pttl('sessions:a'), 300_000)
})

touch('an expiry in the past removes the session', async ({ redis }) => {
  const ops = opsOf(redis)
  await runRight(ops.set('a', storedSession(redis.now(), 1000)))
  await runRight(ops.touch('a', storedSession(redis.now(), -5)))
  assert.is(redis.keyspace.get('sessions:a') !== undefined, false)
  assert.equal(commands(redis).slice(-1), ['GETDEL'])
})

touch.run()
