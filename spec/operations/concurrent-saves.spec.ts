import { randomBytes } from 'crypto'
import * as O from 'fp-ts/lib/Option'
import type { SessionData } from 'express-session'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { makeStoreOperations } from '../../src/assemble'
import { CREATED_AT_FIELD } from '../../src/operations/absolute-lifetime'
import { makeSaveBases, mergeSessions, sameButExpiry, unchangedSince } from '../../src/operations/concurrent-saves'
import type { StoreOperations } from '../../src/operations/model'
import { resolveOptions, type StoreOptions } from '../../src/options'
import { encryptedSerializer } from '../../src/serializer/encrypted'
import { makeFakeRedis, type FakeRedis } from '../fakes/redis'
import { assertLeft, assertRight, runLeft, runRight, storedSession } from '../helpers'

const DAY_MS = 86_400_000
const KEY = 'sessions:abc'

// --- the rules, pure

const rules = suite('mergeSessions and unchangedSince')

const cookie = { originalMaxAge: 60_000, expires: '2030-01-01T00:00:00.000Z', httpOnly: true, path: '/' }

rules('a field changed here keeps this value; every other field takes the stored one; cookie is ours', () => {
  const base = { cookie, cart: ['apple'], theme: 'light', n: 1 }
  const ours = { cookie: { ...cookie, expires: 'ours' }, cart: ['apple', 'pear'], theme: 'light', n: 1 }
  const theirs = { cookie: { ...cookie, expires: 'theirs' }, cart: ['apple'], theme: 'dark', n: 2 }
  assert.equal(mergeSessions(base, ours, theirs), {
    cookie: { ...cookie, expires: 'ours' },
    cart: ['apple', 'pear'],
    theme: 'dark',
    n: 2
  })
})

rules('deletions: deleted here wins; deleted there and unchanged here is deleted; added on both sides', () => {
  const base = { cookie, coupon: 'X', flash: 'hi', keep: 1 }
  const ours = { cookie, flash: 'hi', keep: 1, mine: true } // coupon used, mine added
  const theirs = { cookie, coupon: 'X', keep: 1, theirs: true } // flash shown, theirs added
  assert.equal(mergeSessions(base, ours, theirs), { cookie, keep: 1, mine: true, theirs: true })
  // Deleted here while changed there: this request changed it (by deleting it), so it stays deleted.
  assert.equal(mergeSessions(base, { cookie, flash: 'hi', keep: 1 }, { ...base, coupon: 'Y' }), {
    cookie,
    flash: 'hi',
    keep: 1
  })
})

rules('the same field changed on both sides: one whole value (ours), never a mix of the two', () => {
  const base = { cookie, user: { id: 1, name: 'a', roles: ['r'] } }
  const ours = { cookie, user: { id: 1, name: 'b', roles: ['r'] } }
  const theirs = { cookie, user: { id: 1, name: 'a', roles: ['r', 's'] } }
  assert.equal(mergeSessions(base, ours, theirs), ours)
})

rules('unchangedSince: only the cookie expiry may move; any other cookie field or any field counts', () => {
  const base = { cookie, user: { id: 1 } }
  assert.ok(unchangedSince(base, { cookie: { ...cookie, expires: new Date(0) }, user: { id: 1 } }))
  assert.not.ok(unchangedSince(base, { cookie: { ...cookie, originalMaxAge: 1 }, user: { id: 1 } }))
  assert.not.ok(unchangedSince(base, { cookie, user: { id: 2 } }))
  assert.not.ok(unchangedSince(base, { cookie, user: { id: 1 }, extra: null }))
  assert.not.ok(unchangedSince(base, { cookie }))
})

rules('sameButExpiry: serialized sessions equal but inside the cookie expiry values, and nowhere else', () => {
  const at = (ms: number) => new Date(1_900_000_000_000 + ms).toISOString()
  const text = (cookie: Record<string, unknown>, rest: Record<string, unknown> = { user: 'alice' }) =>
    JSON.stringify({ cookie, ...rest })
  const express = (ms: number) => ({ originalMaxAge: 60_000, expires: at(ms), httpOnly: true, path: '/' })
  assert.ok(sameButExpiry(text(express(0)), text(express(0))))
  assert.ok(sameButExpiry(text(express(5_000)), text(express(0))), 'a rolling cookie')
  const fastify = (ms: number) => ({ expires: at(ms), originalMaxAge: 60_000, originalExpires: at(ms - 9), path: '/' })
  assert.ok(sameButExpiry(text(fastify(5_000)), text(fastify(0))), "@fastify/session's originalExpires")
  assert.not.ok(sameButExpiry(text(express(0), { user: 'bob__' }), text(express(0))), 'a field, same length')
  assert.not.ok(sameButExpiry(text(express(0), { user: 'alicia' }), text(express(0))), 'a field, longer')
  assert.not.ok(
    sameButExpiry(text({ ...express(0), path: '/b' }), text({ ...express(0), path: '/a' })),
    'another cookie field'
  )
  const nested = (ms: number) => text(express(0), { plan: { expires: at(ms) } })
  assert.not.ok(sameButExpiry(nested(5_000), nested(0)), 'an expires outside the cookie is a field like any other')
  const quoted = (ms: number) => text({ ...express(ms), path: '/"expires":"x' })
  assert.ok(sameButExpiry(quoted(5_000), quoted(0)), 'quotes inside cookie strings')
  assert.not.ok(sameButExpiry('{"user":"a"}', '{"user":"b"}'), 'no cookie')
  // @fastify/session stores no originalExpires at login, and one on every later save.
  const { originalExpires: _, ...atLogin } = fastify(0)
  assert.ok(sameButExpiry(text(fastify(5_000)), text(atLogin)), 'originalExpires appears')
  const last = (ms: number) => text({ path: '/', expires: at(ms) })
  assert.ok(sameButExpiry(last(5_000), last(0)), 'expires last in the cookie')
  assert.not.ok(sameButExpiry(text({ ...express(0), httpOnly: false }), text(express(0))), 'a boolean of the cookie')
})

rules.run()

// --- the feature, on the operations record over the in-memory client

const it = suite('withConcurrentSaves')

const build = (redis: FakeRedis, options: StoreOptions = {}): StoreOperations =>
  makeStoreOperations({
    ...assertRight(resolveOptions({ now: redis.now, ...options })),
    client: redis,
    saveBases: makeSaveBases()
  })

const sess = (redis: FakeRedis, extra: Record<string, unknown> = {}, inMs = DAY_MS) =>
  storedSession(redis.now(), inMs, extra) as unknown as SessionData

const stored = (redis: FakeRedis): Record<string, unknown> => {
  const entry = redis.keyspace.get(KEY)
  assert.ok(entry?.type === 'string', `${KEY} holds a session`)
  return JSON.parse((entry as { value: string }).value) as Record<string, unknown>
}

/** A request: loads the session (the store's get), changes it with `change`, and returns it to be saved. */
const load = async (ops: StoreOperations): Promise<Record<string, unknown>> => {
  const found = await runRight(ops.get('abc'))
  assert.ok(O.isSome(found), 'the session loads')
  return found.value as unknown as Record<string, unknown>
}
const save = (ops: StoreOperations, session: Record<string, unknown>) =>
  ops.set('abc', session as unknown as SessionData)()

const commands = (redis: FakeRedis) => redis.calls.map((c) => c[0])

/** Two requests load the session, then save one after the other, each having changed its own field. */
const twoRequests = async (options: StoreOptions) => {
  const redis = makeFakeRedis()
  const ops = build(redis, options)
  await runRight(ops.set('abc', sess(redis, { n: 0 })))
  const a = await load(ops)
  const b = await load(ops)
  a['cart'] = ['apple']
  b['theme'] = 'dark'
  redis.calls.length = 0
  const first = await save(ops, a)
  const firstCommands = commands(redis)
  redis.calls.length = 0
  const second = await save(ops, b)
  return { redis, ops, first, second, firstCommands, secondCommands: commands(redis) }
}

it("'merge': both changes survive; no conflict is one script call, a conflict one GET and one more call", async () => {
  const r = await twoRequests({ concurrentSaves: 'merge' })
  assert.equal(assertRight(r.first), 'written')
  assert.equal(assertRight(r.second), 'written')
  assert.equal(r.firstCommands, ['EVALSHA'])
  assert.equal(r.secondCommands, ['EVALSHA', 'GET', 'EVALSHA'])
  const now = stored(r.redis)
  assert.equal([now['n'], now['cart'], now['theme']], [0, ['apple'], 'dark'])
})

it("'fail': the later save is ESESSION_CONFLICT and writes nothing; 'overwrite' loses the first change", async () => {
  const failed = await twoRequests({ concurrentSaves: 'fail' })
  assert.equal(assertRight(failed.first), 'written')
  const e = assertLeft(failed.second)
  assert.equal(e, { _tag: 'Conflict', sid: 'abc', mode: 'fail', attempts: 1 })
  assert.equal(stored(failed.redis)['cart'], ['apple'])
  assert.is(stored(failed.redis)['theme'], undefined)

  const overwritten = await twoRequests({})
  assert.equal(overwritten.secondCommands, ['SET'])
  assert.is(stored(overwritten.redis)['cart'], undefined, 'today: the later save erases the first change')
  assert.is(stored(overwritten.redis)['theme'], 'dark')
})

it("'fail' is no conflict when the other save changed only the cookie: it is saved over it", async () => {
  const redis = makeFakeRedis()
  const ops = build(redis, { concurrentSaves: 'fail' })
  await runRight(ops.set('abc', sess(redis, { n: 0 })))
  const a = await load(ops)
  // Another writer (an old process, connect-redis) saves the same fields with a new cookie expiry.
  await redis.set(KEY, JSON.stringify(sess(redis, { n: 0 }, DAY_MS + 5_000)), { PX: DAY_MS, GET: true })
  a['n'] = 1
  assert.is(assertRight(await save(ops, a)), 'written')
  assert.is(stored(redis)['n'], 1)
})

it('every mode: a save that changed nothing but the cookie expiry renews the TTL (GETEX), never writes', async () => {
  for (const concurrentSaves of ['overwrite', 'merge', 'fail'] as const) {
    const redis = makeFakeRedis()
    const ops = build(redis, { concurrentSaves })
    await runRight(ops.set('abc', sess(redis, { user: { id: 7 } }, 60_000)))
    const before = redis.keyspace.get(KEY)
    const a = await load(ops)
    redis.clock.advance(10_000)
    // express-session's rolling cookie: the expiry moves on, nothing else.
    a['cookie'] = { ...(a['cookie'] as object), expires: new Date(redis.now() + 60_000) }
    redis.calls.length = 0
    assert.is(assertRight(await save(ops, a)), 'written', concurrentSaves)
    assert.equal(commands(redis), ['GETEX'], concurrentSaves)
    const after = redis.keyspace.get(KEY)
    assert.is((after as { value: string }).value, (before as { value: string }).value, 'the value is not rewritten')
    assert.is(after?.expiresAt, redis.now() + 60_000, 'the TTL runs from the new expiry')
  }
})

it('a destroyed session stays destroyed: the tombstone wins over the save and over a merge', async () => {
  for (const concurrentSaves of ['overwrite', 'merge', 'fail'] as const) {
    const redis = makeFakeRedis()
    const ops = build(redis, { concurrentSaves })
    await runRight(ops.set('abc', sess(redis)))
    const a = await load(ops)
    assert.is(await runRight(ops.destroy('abc')), true)
    a['user'] = 'mallory'
    assert.is(assertRight(await save(ops, a)), 'tombstoned', concurrentSaves)
    assert.is(redis.keyspace.get(KEY)?.type, 'hash', concurrentSaves)
  }
})

it("'merge' and 'fail': a session that ended while the request ran is not brought back ('ended')", async () => {
  for (const concurrentSaves of ['merge', 'fail'] as const) {
    const redis = makeFakeRedis()
    const ops = build(redis, { concurrentSaves })
    await runRight(ops.set('abc', sess(redis, {}, 60_000)))
    const a = await load(ops)
    redis.keyspace.delete(KEY) // it expired, or its tombstone did
    a['user'] = 'alice'
    assert.is(assertRight(await save(ops, a)), 'ended', concurrentSaves)
    assert.is(redis.keyspace.get(KEY), undefined, concurrentSaves)
  }
})

it("'merge' gives up after 3 merges that each met another save: ESESSION_CONFLICT, 4 calls, nothing written", async () => {
  const redis = makeFakeRedis()
  await runRight(build(redis).set('abc', sess(redis, { n: 0 })))
  // Another request saves before each of this one's attempts.
  let n = 0
  const busy: FakeRedis = {
    ...redis,
    evalSha: async (sha1, args) => {
      await redis.set(KEY, JSON.stringify(sess(redis, { n: ++n })), { PX: DAY_MS, GET: true })
      return redis.evalSha(sha1, args)
    }
  }
  const contended = build(busy, { concurrentSaves: 'merge' })
  const b = await load(contended)
  b['mine'] = true
  const e = await runLeft(contended.set('abc', b as unknown as SessionData))
  assert.equal(e, { _tag: 'Conflict', sid: 'abc', mode: 'merge', attempts: 3 })
  assert.is(n, 4)
  assert.is(stored(redis)['mine'], undefined)
  assert.is(stored(redis)['n'], 4)
})

it('encryption: the condition is the stored ciphertext, and the merge reads both sides through the serializer', async () => {
  const redis = makeFakeRedis()
  const serializer = encryptedSerializer({ keys: [{ id: 'k1', key: randomBytes(32) }] })
  const ops = build(redis, { concurrentSaves: 'merge', serializer })
  await runRight(ops.set('abc', sess(redis, { n: 0 })))
  assert.ok(String((redis.keyspace.get(KEY) as { value: string }).value).startsWith('v1.'))
  const a = await load(ops)
  const b = await load(ops)
  a['cart'] = ['apple']
  b['theme'] = 'dark'
  assert.is(assertRight(await save(ops, a)), 'written')
  assert.is(assertRight(await save(ops, b)), 'written')
  const now = assertRight(await ops.get('abc')())
  assert.ok(O.isSome(now))
  const v = now.value as unknown as Record<string, unknown>
  assert.equal([v['cart'], v['theme']], [['apple'], 'dark'])
  // Unchanged but for the expiry: ciphertext cannot be compared as text; read back, it is compared by field.
  const c = await load(ops)
  c['cookie'] = { ...(c['cookie'] as object), expires: new Date(redis.now() + 2 * DAY_MS) }
  redis.calls.length = 0
  assert.is(assertRight(await save(ops, c)), 'written')
  assert.equal(commands(redis), ['GETEX'])
})

it('owner index: an owner set by the other request moves the merged session into that owner index', async () => {
  const redis = makeFakeRedis()
  const ownerOf = (s: SessionData) => (s as { userId?: string }).userId
  const ops = build(redis, { concurrentSaves: 'merge', ownerOf })
  await runRight(ops.set('abc', sess(redis)))
  const page = await load(ops)
  const login = await load(ops)
  login['userId'] = 'alice'
  assert.is(assertRight(await save(ops, login)), 'written')
  page['cart'] = ['apple']
  assert.is(assertRight(await save(ops, page)), 'written')
  assert.equal(stored(redis)['userId'], 'alice', 'the login survives the page save')
  const listed = await runRight(ops.sessionsOf('alice'))
  assert.equal(
    listed.map((s) => s.id),
    ['abc']
  )
})

it('absolute lifetime: the creation stamp survives a merge; lazy touch: its read knows the base too', async () => {
  const redis = makeFakeRedis()
  const ops = build(redis, { concurrentSaves: 'merge', absoluteLifetimeSeconds: 3600, touchAfterSeconds: 60 })
  await runRight(ops.set('abc', sess(redis)))
  const stamp = stored(redis)[CREATED_AT_FIELD]
  assert.type(stamp, 'number')
  const viaSessionGet = await runRight(ops.sessionGet('abc'))
  assert.ok(O.isSome(viaSessionGet))
  const a = viaSessionGet.value as unknown as Record<string, unknown>
  const b = await load(ops)
  a['cart'] = ['apple']
  b['theme'] = 'dark'
  redis.calls.length = 0
  assert.is(assertRight(await save(ops, a)), 'written')
  assert.equal(commands(redis), ['EVALSHA'], 'a conditional save: the base came with the lazy-touch read')
  assert.is(assertRight(await save(ops, b)), 'written')
  assert.equal(
    [stored(redis)['cart'], stored(redis)['theme'], stored(redis)[CREATED_AT_FIELD]],
    [['apple'], 'dark', stamp]
  )
})

it('a copy the store did not hand out, unchanged since the last read of its id, is renewed (GETEX)', async () => {
  const redis = makeFakeRedis()
  const ops = build(redis, {})
  await runRight(ops.set('abc', sess(redis, { user: 'alice' })))
  const copy = { ...(await load(ops)) } // @fastify/session copies each session it loads
  copy['cookie'] = { ...(copy['cookie'] as object), expires: new Date(redis.now() + DAY_MS), originalExpires: 'x' }
  redis.calls.length = 0
  assert.is(assertRight(await save(ops, copy)), 'written')
  assert.equal(commands(redis), ['GETEX'])
  assert.is(assertRight(await ops.set('nobody', copy as unknown as SessionData)()), 'written', 'another id: SET')
  assert.equal(commands(redis), ['GETEX', 'SET'])
})

it('an unchanged save of a session that is gone says why: tombstoned, ended, or for a copy the save as before', async () => {
  const redis = makeFakeRedis()
  const ops = build(redis, {})
  await runRight(ops.set('abc', sess(redis)))
  const stale = await load(ops)
  assert.is(await runRight(ops.destroy('abc')), true)
  assert.is(assertRight(await save(ops, stale)), 'tombstoned', 'a stale session the store handed out')
  redis.keyspace.delete(KEY)
  assert.is(assertRight(await save(ops, stale)), 'ended', 'not brought back')
  assert.is(redis.keyspace.get(KEY), undefined)
  // A copy after get, destroy (no grace) and the same content saved again: the destroy forgot the read, it is written.
  const plain = build(redis, { concurrencyGraceSeconds: 0 })
  await runRight(plain.set('abc', sess(redis, { user: 'alice' })))
  const copy = { ...(await load(plain)) }
  assert.is(await runRight(plain.destroy('abc')), true)
  redis.calls.length = 0
  assert.is(assertRight(await save(plain, copy)), 'written')
  assert.equal(commands(redis), ['SET'])
  assert.is(stored(redis)['user'], 'alice')
})

it('a session the store did not hand out (a new one, a copy) is saved as before: one SET', async () => {
  const redis = makeFakeRedis()
  const ops = build(redis, { concurrentSaves: 'merge' })
  assert.is(await runRight(ops.set('abc', sess(redis))), 'written')
  const copy = { ...(await load(ops)), cart: ['apple'] }
  redis.calls.length = 0
  assert.is(assertRight(await save(ops, copy)), 'written')
  assert.equal(commands(redis), ['SET'])
})

it.run()
