import * as O from 'fp-ts/lib/Option'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { makeFakeRedis, type FakeRedis } from '../fakes/redis'
import { runLeft, runRight, storedSession } from '../helpers'
import { makeGet } from '../../src/operations/get'
import { commands, depsOf, opsOf } from './fixtures'

const get = suite<{ redis: FakeRedis }>('makeGet')
get.before.each((ctx) => {
  ctx.redis = makeFakeRedis()
})

get('a missing session is None, in one GET', async ({ redis }) => {
  assert.equal(await runRight(opsOf(redis).get('nope')), O.none)
  assert.equal(redis.calls, [['GET', 'sessions:nope']])
})

get(
  'a stored session comes back as SessionData (cookie.expires a Date, as its type says), in one GET',
  async ({ redis }) => {
    const stored = storedSession(redis.now(), 60_000, { user: 'alice' })
    redis.keyspace.set('sessions:abc', { type: 'string', value: JSON.stringify(stored) })
    const got = await runRight(opsOf(redis).get('abc'))
    assert.ok(O.isSome(got))
    const sess = (got as O.Some<Record<string, any>>).value
    assert.is(sess['user'], 'alice')
    assert.instance(sess['cookie'].expires, Date)
    assert.is(sess['cookie'].expires.getTime(), redis.now() + 60_000)
    assert.equal(sess, { ...stored, cookie: { ...stored.cookie, expires: new Date(stored.cookie.expires) } })
    assert.equal(commands(redis), ['GET'])
  }
)

get('a tombstone reads as None', async ({ redis }) => {
  redis.keyspace.set('sessions:abc', { type: 'hash', fields: { destroyedAt: '1' } })
  assert.equal(await runRight(opsOf(redis).get('abc')), O.none)
})

get(
  "a corrupt value is a miss by default, and with onCorrupt 'fail' a ParseFailed naming the key",
  async ({ redis }) => {
    redis.keyspace.set('sessions:abc', { type: 'string', value: '{not json' })
    assert.equal(await runRight(opsOf(redis).get('abc')), O.none)
    const e = await runLeft(makeGet({ ...depsOf(redis), onCorrupt: 'fail' })('abc'))
    assert.is(e._tag, 'ParseFailed')
    assert.is((e as { key: string }).key, 'sessions:abc')
  }
)

get('a failing GET is a CommandFailed with the cause', async ({ redis }) => {
  const boom = new Error('connection lost')
  redis.faults.fail('GET', { error: boom })
  const e = await runLeft(opsOf(redis).get('abc'))
  assert.equal(e, { _tag: 'CommandFailed', command: 'GET', key: 'sessions:abc', cause: boom })
})

get.run()
