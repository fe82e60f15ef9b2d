import * as O from 'fp-ts/lib/Option'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { jsonSerializer } from '../../src/serializer/json'
import { makeDestroy } from '../../src/operations/destroy'
import { makeGet } from '../../src/operations/get'
import { makeSet } from '../../src/operations/set'
import { makeTouch } from '../../src/operations/touch'
import { TOMBSTONE_SCRIPT } from '../../src/scripts'
import type { Serializer } from '../../src/serializer/serializer'
import { makeFakeRedis, type FakeRedis } from '../fakes/redis'
import { runLeft, runRight, storedSession } from '../helpers'

const depsOf = (redis: FakeRedis) => ({
  client: redis,
  prefix: 'sessions:',
  // Specs pass JSON-shaped and odd sessions, so the session type is kept loose here.
  serializer: jsonSerializer as unknown as Serializer<Record<string, any>>,
  ttlSeconds: 86400 as number | false,
  concurrencyGraceSeconds: 300,
  now: redis.now
})
const opsOf = (redis: FakeRedis, overrides: Partial<ReturnType<typeof depsOf>> = {}) => {
  const deps = { ...depsOf(redis), ...overrides }
  return { get: makeGet(deps), set: makeSet(deps), touch: makeTouch(deps), destroy: makeDestroy(deps) }
}
const commands = (redis: FakeRedis) => redis.calls.map((c) => c[0])

// --- get

const get = suite<{ redis: FakeRedis }>('makeGet')
get.before.each((ctx) => {
  ctx.redis = makeFakeRedis()
})

get('a missing session is None, in one GET', async ({ redis }) => {
  assert.equal(await runRight(opsOf(redis).get('nope')), O.none)
  assert.equal(redis.calls, [['GET', 'sessions:nope']])
})

get('a stored session comes back as SessionData (cookie.expires a Date, as its type says), in one GET', async ({ redis }) => {
  const stored = storedSession(redis.now(), 60_000, { user: 'alice' })
  redis.data.set('sessions:abc', { type: 'string', value: JSON.stringify(stored) })
  const got = await runRight(opsOf(redis).get('abc'))
  assert.ok(O.isSome(got))
  const sess = (got as O.Some<Record<string, any>>).value
  assert.is(sess['user'], 'alice')
  assert.instance(sess['cookie'].expires, Date)
  assert.is(sess['cookie'].expires.getTime(), redis.now() + 60_000)
  assert.equal(sess, { ...stored, cookie: { ...stored.cookie, expires: new Date(stored.cookie.expires) } })
  assert.equal(commands(redis), ['GET'])
})

get('a tombstone reads as None', async ({ redis }) => {
  redis.data.set('sessions:abc', { type: 'hash', fields: { destroyedAt: '1' } })
  assert.equal(await runRight(opsOf(redis).get('abc')), O.none)
})

get('a corrupt value is a ParseFailed naming the key', async ({ redis }) => {
  redis.data.set('sessions:abc', { type: 'string', value: '{not json' })
  const e = await runLeft(opsOf(redis).get('abc'))
  assert.is(e._tag, 'ParseFailed')
  assert.is((e as { key: string }).key, 'sessions:abc')
})

get('a failing GET is a CommandFailed with the cause', async ({ redis }) => {
  const boom = new Error('connection lost')
  redis.failing('GET', boom)
  const e = await runLeft(opsOf(redis).get('abc'))
  assert.equal(e, { _tag: 'CommandFailed', command: 'GET', key: 'sessions:abc', cause: boom })
})

get.run()

// --- set

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
  assert.is(redis.pttl('sessions:abc'), 12_345)
})

set('cookie.expires null or missing uses ttlSeconds', async ({ redis }) => {
  const ops = opsOf(redis, { ttlSeconds: 60 })
  await runRight(ops.set('a', { cookie: { expires: null } }))
  await runRight(ops.set('b', { cookie: {} }))
  await runRight(ops.set('c', {}))
  assert.is(redis.pttl('sessions:a'), 60_000)
  assert.is(redis.pttl('sessions:b'), 60_000)
  assert.is(redis.pttl('sessions:c'), 60_000)
})

for (const ttlSeconds of [false, 0] as const) {
  set(`with ttlSeconds ${String(ttlSeconds)} a session without expiry is refused and nothing is written`, async ({ redis }) => {
    const e = await runLeft(opsOf(redis, { ttlSeconds }).set('a', { cookie: { expires: null } }))
    assert.is(e._tag, 'InvalidSession')
    assert.equal(redis.calls, [])
    assert.is(redis.data.size, 0)
  })
}

set('an unreadable cookie.expires is refused', async ({ redis }) => {
  const e = await runLeft(opsOf(redis).set('a', { cookie: { expires: 'not a date' } }))
  assert.is(e._tag, 'InvalidSession')
  assert.is(redis.data.size, 0)
})

set('an expiry in the past removes the session (and leaves a tombstone)', async ({ redis }) => {
  const ops = opsOf(redis)
  await runRight(ops.set('a', storedSession(redis.now(), 1000)))
  const outcome = await runRight(ops.set('a', storedSession(redis.now(), -1)))
  assert.is(outcome, 'expired')
  assert.is(redis.data.get('sessions:a')?.type, 'hash')
  assert.equal(await runRight(ops.get('a')), O.none)
})

set('a tombstoned session is not written', async ({ redis }) => {
  const ops = opsOf(redis)
  await runRight(ops.set('a', storedSession(redis.now(), 1000, { n: 1 })))
  await runRight(ops.destroy('a'))
  const outcome = await runRight(ops.set('a', storedSession(redis.now(), 1000, { n: 2 })))
  assert.is(outcome, 'tombstoned')
  assert.is(redis.data.get('sessions:a')?.type, 'hash')
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
  redis.advance(300_001)
  assert.is(await runRight(ops.set('a', storedSession(redis.now(), 1000))), 'written')
})

set.run()

// --- touch

const touch = suite<{ redis: FakeRedis }>('makeTouch')
touch.before.each((ctx) => {
  ctx.redis = makeFakeRedis()
})

touch('renews the TTL of a live session without rewriting it, in one GETEX', async ({ redis }) => {
  const ops = opsOf(redis)
  await runRight(ops.set('a', storedSession(redis.now(), 1000, { n: 1 })))
  const before = redis.data.get('sessions:a')
  redis.calls.length = 0
  assert.is(await runRight(ops.touch('a', storedSession(redis.now(), 50_000, { n: 999 }))), true)
  assert.equal(redis.calls, [['GETEX', 'sessions:a', { PX: 50_000 }]])
  assert.is(redis.pttl('sessions:a'), 50_000)
  assert.is(redis.data.get('sessions:a'), before)
})

touch('never creates a key', async ({ redis }) => {
  assert.is(await runRight(opsOf(redis).touch('ghost', storedSession(redis.now(), 1000))), false)
  assert.is(redis.data.size, 0)
})

touch('never revives a tombstone', async ({ redis }) => {
  const ops = opsOf(redis)
  await runRight(ops.set('a', storedSession(redis.now(), 1000)))
  await runRight(ops.destroy('a'))
  assert.is(await runRight(ops.touch('a', storedSession(redis.now(), 1_000_000))), false)
  assert.is(redis.data.get('sessions:a')?.type, 'hash')
  assert.is(redis.pttl('sessions:a'), 300_000)
})

touch('an expiry in the past removes the session', async ({ redis }) => {
  const ops = opsOf(redis)
  await runRight(ops.set('a', storedSession(redis.now(), 1000)))
  await runRight(ops.touch('a', storedSession(redis.now(), -5)))
  assert.is(redis.data.has('sessions:a'), false)
  assert.equal(commands(redis).slice(-1), ['GETDEL'])
})

touch.run()

// --- destroy

const destroy = suite<{ redis: FakeRedis }>('makeDestroy')
destroy.before.each((ctx) => {
  ctx.redis = makeFakeRedis()
})

destroy('falls back to EVAL when the server answers NOSCRIPT, without an error', async ({ redis }) => {
  redis.flushScripts()
  assert.is(await runRight(opsOf(redis).destroy('abc')), false)
  assert.equal(commands(redis), ['EVALSHA', 'EVAL'])
  assert.is(redis.calls[0]?.[1], TOMBSTONE_SCRIPT.sha1)
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
  assert.is(redis.calls[0]?.[1], TOMBSTONE_SCRIPT.sha1)
  assert.equal(redis.data.get('sessions:a'), { type: 'hash', fields: { destroyedAt: String(redis.now()) }, expiresAt: redis.now() + 300_000 })
})

destroy('of an unknown session resolves false and still leaves a tombstone', async ({ redis }) => {
  assert.is(await runRight(opsOf(redis).destroy('x')), false)
  assert.is(redis.data.get('sessions:x')?.type, 'hash')
})

destroy('with concurrencyGraceSeconds 0 only deletes', async ({ redis }) => {
  const ops = opsOf(redis, { concurrencyGraceSeconds: 0 })
  await runRight(ops.set('a', storedSession(redis.now(), 1000)))
  assert.is(await runRight(ops.destroy('a')), true)
  assert.is(redis.data.size, 0)
})

destroy('a failing script is a CommandFailed', async ({ redis }) => {
  redis.failing('EVALSHA', new Error('READONLY You can\'t write against a read only replica.'))
  const e = await runLeft(opsOf(redis).destroy('a'))
  assert.is(e._tag, 'CommandFailed')
  assert.match(String((e as { cause: Error }).cause.message), /READONLY/)
})

destroy.run()

// --- regressions

const regressions = suite('regressions')

regressions('a ttlSeconds whose milliseconds are not whole in floating point still saves (1.001 s → PX 1001)', async () => {
  const redis = makeFakeRedis()
  const ops = opsOf(redis, { ttlSeconds: 1.001 })
  assert.is(await runRight(ops.set('a', { cookie: { expires: null } })), 'written')
  assert.is(redis.pttl('sessions:a'), 1001)
  assert.is(await runRight(ops.touch('a', { cookie: { expires: null } })), true)
})

regressions.run()
