import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { TOMBSTONE_ONE_SCRIPT } from '../../src/scripts'
import { makeFakeRedis, type FakeRedis } from '../fakes/redis'
import { runLeft, runRight, storedSession } from '../helpers'
import { commands, opsOf } from './fixtures'

const destroy = suite<{ redis: FakeRedis }>('makeDestroy')
destroy.before.each((ctx) => {
  ctx.redis = makeFakeRedis()
})

destroy('falls back to EVAL when the server answers NOSCRIPT, without an error', async ({ redis }) => {
  redis.faults.flushScripts()
  assert.is(await runRight(opsOf(redis).destroy('abc')), false)
  assert.equal(commands(redis), ['EVALSHA', 'EVAL'])
  assert.is(redis.calls[0]?.[1], TOMBSTONE_ONE_SCRIPT.sha1)
  redis.calls.length = 0
  await runRight(opsOf(redis).destroy('abc'))
  assert.equal(commands(redis), ['EVALSHA'])
})

destroy('replaces the session by a tombstone for concurrencyGraceSeconds, in one script call', async ({ redis }) => {
  const ops = opsOf(redis)
  await runRight(ops.set('a', storedSession(redis.now(), 1000)))
  redis.calls.length = 0
  assert.is(await runRight(ops.destroy('a')), true)
  assert.equal(commands(redis), ['EVALSHA'])
  // The one-key script: the key, the grace in ms and now, nothing else.
  assert.equal(redis.calls[0], ['EVALSHA', TOMBSTONE_ONE_SCRIPT.sha1, ['sessions:a'], ['300000', String(redis.now())]])
  assert.equal(redis.keyspace.get('sessions:a'), {
    type: 'hash',
    fields: { destroyedAt: String(redis.now()) },
    expiresAt: redis.now() + 300_000
  })
})

destroy('of an unknown session resolves false and still leaves a tombstone', async ({ redis }) => {
  assert.is(await runRight(opsOf(redis).destroy('x')), false)
  assert.is(redis.keyspace.get('sessions:x')?.type, 'hash')
})

destroy('with concurrencyGraceSeconds 0 only deletes', async ({ redis }) => {
  const ops = opsOf(redis, { concurrencyGraceSeconds: 0 })
  await runRight(ops.set('a', storedSession(redis.now(), 1000)))
  assert.is(await runRight(ops.destroy('a')), true)
  assert.is(redis.keyspace.size(), 0)
})

destroy('a failing script is a CommandFailed', async ({ redis }) => {
  redis.faults.fail('EVALSHA', { error: new Error("READONLY You can't write against a read only replica.") })
  const e = await runLeft(opsOf(redis).destroy('a'))
  assert.is(e._tag, 'CommandFailed')
  assert.match(String((e as { cause: Error }).cause.message), /READONLY/)
})

destroy.run()
