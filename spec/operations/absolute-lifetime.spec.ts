import * as O from 'fp-ts/lib/Option'
import * as TE from 'fp-ts/lib/TaskEither'
import type { SessionData } from 'express-session'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { makeStoreOperations } from '../../src/assemble'
import { CREATED_AT_FIELD, withAbsoluteLifetime } from '../../src/operations/absolute-lifetime'
import type { StoreOperations } from '../../src/operations/model'
import { resolveOptions, type StoreOptions } from '../../src/options'
import type { ExpiryBound } from '../../src/ttl'
import { makeFakeRedis, type FakeRedis } from '../fakes/redis'
import { assertRight, runLeft, runRight, storedSession } from '../helpers'

const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000
const KEY = 'sessions:abc'

const build = (redis: FakeRedis, options: StoreOptions = {}) =>
  makeStoreOperations({ ...assertRight(resolveOptions({ now: redis.now, ...options })), client: redis })

/** A session whose cookie expires `inMs` from the fake's now, as express-session would save it. */
const sess = (redis: FakeRedis, inMs = DAY_MS, extra: Record<string, unknown> = {}) =>
  storedSession(redis.now(), inMs, extra) as unknown as SessionData
const stored = (redis: FakeRedis): Record<string, unknown> => {
  const entry = redis.keyspace.get(KEY)
  assert.ok(entry !== undefined && entry.type === 'string', `${KEY} holds a session`)
  return JSON.parse((entry as { value: string }).value) as Record<string, unknown>
}
const isTombstone = (redis: FakeRedis) => redis.keyspace.get(KEY)?.type === 'hash'
const commands = (redis: FakeRedis) => redis.calls.map((c) => c[0])

// --- the decorator over a record

const decorator = suite('withAbsoluteLifetime')

/** A record whose set and touch record the bound they were given. */
const recording = () => {
  const bounds: Array<[string, ExpiryBound | undefined]> = []
  const ops = build(makeFakeRedis())
  const spy: StoreOperations = {
    ...ops,
    set: (_sid, _session, bound) => {
      bounds.push(['set', bound])
      return TE.right('written')
    },
    touch: (_sid, _session, bound) => {
      bounds.push(['touch', bound])
      return TE.right(true)
    },
    sessionTouch: (_sid, _session, bound) => {
      bounds.push(['sessionTouch', bound])
      return TE.right(true)
    }
  }
  return { spy, bounds }
}

decorator(
  'passes notAfter = createdAt + N to set, touch and sessionTouch, or the sooner bound it was given',
  async () => {
    const now = 1_000_000
    const { spy, bounds } = recording()
    const ops = withAbsoluteLifetime({ absoluteLifetimeSeconds: 60, now: () => now })(spy)
    const stamped = { [CREATED_AT_FIELD]: now - 10_000.5 } as unknown as SessionData
    await runRight(ops.set('a', stamped))
    await runRight(ops.touch('a', stamped))
    await runRight(ops.sessionTouch('a', stamped))
    await runRight(ops.touch('a', stamped, { notAfter: now + 5_000 }))
    await runRight(ops.set('a', stamped, { notAfter: now + 90_000 }))
    assert.equal(bounds, [
      ['set', { notAfter: now + 49_999.5 }],
      ['touch', { notAfter: now + 49_999.5 }],
      ['sessionTouch', { notAfter: now + 49_999.5 }],
      ['touch', { notAfter: now + 5_000 }],
      ['set', { notAfter: now + 49_999.5 }]
    ])
  }
)

decorator('a session not stamped yet counts as created now: set stamps a copy, touch bounds at now + N', async () => {
  const now = 1_000_000
  const { spy, bounds } = recording()
  const ops = withAbsoluteLifetime({ absoluteLifetimeSeconds: 60, now: () => now })(spy)
  await runRight(ops.touch('a', {} as SessionData))
  await runRight(ops.set('a', {} as SessionData))
  assert.equal(bounds, [
    ['touch', { notAfter: now + 60_000 }],
    ['set', { notAfter: now + 60_000 }]
  ])
})

decorator('an unreadable stamp is an InvalidSession, and nothing is passed on', async () => {
  const { spy, bounds } = recording()
  const ops = withAbsoluteLifetime({ absoluteLifetimeSeconds: 60, now: () => 0 })(spy)
  const bad = { [CREATED_AT_FIELD]: 'yesterday' } as unknown as SessionData
  for (const te of [ops.set('a', bad), ops.touch('a', bad), ops.sessionTouch('a', bad)]) {
    const e = await runLeft(te)
    assert.ok(e._tag === 'InvalidSession' && /__createdAt/.test(e.reason))
  }
  assert.equal(bounds, [])
})

decorator.run()

// --- the store with the option

const store = suite('absoluteLifetimeSeconds: the store')

store('the first set stamps createdAt and caps the TTL; get returns the stamp', async () => {
  const redis = makeFakeRedis()
  const ops = build(redis, { absoluteLifetimeSeconds: 3600 })
  const session = sess(redis)
  assert.is(await runRight(ops.set('abc', session)), 'written')
  assert.is(redis.keyspace.pttl(KEY), HOUR_MS, 'a day-long cookie, capped at the hour')
  assert.is(stored(redis)[CREATED_AT_FIELD], redis.now())
  assert.not.ok(CREATED_AT_FIELD in session, "the caller's session object is not changed")
  const read = await runRight(ops.get('abc'))
  assert.ok(O.isSome(read))
  assert.is((read.value as unknown as Record<string, unknown>)[CREATED_AT_FIELD], redis.now())
})

store('an active session still ends at createdAt + N: each save and touch renews only up to the end', async () => {
  const redis = makeFakeRedis()
  const ops = build(redis, { absoluteLifetimeSeconds: 3600 })
  const createdAt = redis.now()
  assert.is(await runRight(ops.set('abc', sess(redis))), 'written')
  // A request every 10 minutes, each with a fresh day-long cookie (rolling), alternately saving and touching.
  for (let i = 1; i <= 5; i++) {
    redis.clock.advance(600_000)
    const read = await runRight(ops.sessionGet('abc'))
    assert.ok(O.isSome(read), `request ${i}: still logged in`)
    const renewed = { ...read.value, cookie: sess(redis).cookie } as SessionData
    if (i % 2 === 0) assert.is(await runRight(ops.set('abc', renewed)), 'written')
    else assert.ok(await runRight(ops.sessionTouch('abc', renewed)))
    assert.is(redis.keyspace.pttl(KEY), createdAt + HOUR_MS - redis.now(), `request ${i}: TTL capped at the end`)
    assert.is(stored(redis)[CREATED_AT_FIELD], createdAt, 'the stamp is kept, never renewed')
  }
  redis.clock.advance(600_000)
  // At createdAt + N exactly, Redis still holds the key for this last millisecond; get misses it already.
  assert.is(redis.keyspace.pttl(KEY), 0)
  assert.equal(await runRight(ops.sessionGet('abc')), O.none, 'at createdAt + N: gone, however active')
  redis.clock.advance(1)
  assert.is(redis.keyspace.get(KEY), undefined, 'then Redis drops the key')
})

store('set past the end destroys the session with a tombstone; touch past it removes it', async () => {
  const redis = makeFakeRedis()
  const ops = build(redis, { absoluteLifetimeSeconds: 60 })
  const old = sess(redis, DAY_MS, { [CREATED_AT_FIELD]: redis.now() - 61_000 })
  redis.keyspace.set(KEY, { type: 'string', value: JSON.stringify(old) })
  assert.is(await runRight(ops.set('abc', old)), 'expired')
  assert.ok(isTombstone(redis), 'a tombstone, as for an expired cookie')
  assert.is(await runRight(ops.set('abc', sess(redis))), 'tombstoned', 'a request in flight cannot save it back')

  const other = makeFakeRedis()
  const ops2 = build(other, { absoluteLifetimeSeconds: 60 })
  assert.is(await runRight(ops2.set('abc', sess(other))), 'written')
  const read = assertRight(await ops2.get('abc')())
  other.clock.advance(60_000)
  assert.ok(O.isSome(read))
  assert.ok(await runRight(ops2.touch('abc', read.value)), 'touch past the end removes the live session')
  assert.equal(commands(other).slice(-1), ['GETDEL'])
  assert.is(other.keyspace.get(KEY), undefined)
})

store('get misses a session past its end even while its key lives (a TTL set on a skewed clock)', async () => {
  const redis = makeFakeRedis()
  const ops = build(redis, { absoluteLifetimeSeconds: 60 })
  const over = sess(redis, DAY_MS, { [CREATED_AT_FIELD]: redis.now() - 60_000 })
  redis.keyspace.set(KEY, { type: 'string', value: JSON.stringify(over) })
  assert.equal(await runRight(ops.get('abc')), O.none)
  assert.equal(await runRight(ops.sessionGet('abc')), O.none)
  const within = sess(redis, DAY_MS, { [CREATED_AT_FIELD]: redis.now() - 59_999 })
  redis.keyspace.set(KEY, { type: 'string', value: JSON.stringify(within) })
  assert.ok(O.isSome(await runRight(ops.get('abc'))))
})

store('get misses a session with no stamp (saved before the option was on) or an unreadable one', async () => {
  const redis = makeFakeRedis()
  const ops = build(redis, { absoluteLifetimeSeconds: 60 })
  redis.keyspace.set(KEY, { type: 'string', value: JSON.stringify(sess(redis)) })
  assert.equal(await runRight(ops.get('abc')), O.none)
  redis.keyspace.set(KEY, { type: 'string', value: JSON.stringify(sess(redis, DAY_MS, { [CREATED_AT_FIELD]: 'x' })) })
  assert.equal(await runRight(ops.get('abc')), O.none)
  const invalid = await runLeft(ops.set('abc', sess(redis, DAY_MS, { [CREATED_AT_FIELD]: 'x' })))
  assert.is(invalid._tag, 'InvalidSession')
})

store('lazy touch: never renews past the end, and sends nothing once the cap stops moving the expiry', async () => {
  const redis = makeFakeRedis()
  const ops = build(redis, { absoluteLifetimeSeconds: 3600, touchAfterSeconds: 60 })
  const createdAt = redis.now()
  assert.is(await runRight(ops.set('abc', sess(redis))), 'written')
  redis.clock.advance(1_800_000)
  const read = await runRight(ops.sessionGet('abc'))
  assert.ok(O.isSome(read))
  const before = redis.calls.length
  // The cookie would renew to now + a day; capped, the expiry stays where it is: nothing to send.
  assert.is(
    await runRight(ops.sessionTouch('abc', { ...read.value, cookie: sess(redis).cookie } as SessionData)),
    false
  )
  assert.is(redis.calls.length, before)
  assert.is(redis.keyspace.pttl(KEY), createdAt + HOUR_MS - redis.now())
})

store('a regenerated session (a new object, no stamp) starts its own lifetime', async () => {
  const redis = makeFakeRedis()
  const ops = build(redis, { absoluteLifetimeSeconds: 3600 })
  assert.is(await runRight(ops.set('old', sess(redis))), 'written')
  redis.clock.advance(1_000_000)
  assert.is(await runRight(ops.set('new', sess(redis, DAY_MS, { user: 'alice' }))), 'written')
  assert.is(redis.keyspace.pttl('sessions:new'), HOUR_MS)
  assert.is(redis.keyspace.pttl('sessions:old'), HOUR_MS - 1_000_000)
})

store('the same commands as without the option: zero extra round trips', async () => {
  const run = async (options: StoreOptions) => {
    const redis = makeFakeRedis()
    const ops = build(redis, options)
    await runRight(ops.set('abc', sess(redis)))
    const read = await runRight(ops.sessionGet('abc'))
    assert.ok(O.isSome(read))
    await runRight(ops.sessionTouch('abc', read.value))
    await runRight(ops.get('abc'))
    await runRight(ops.destroy('abc'))
    return commands(redis)
  }
  const plain = await run({})
  assert.equal(plain, ['SET', 'GET', 'GETEX', 'GET', 'EVALSHA'])
  assert.equal(await run({ absoluteLifetimeSeconds: 3600 }), plain)
  const lazy = await run({ touchAfterSeconds: 1 })
  assert.equal(await run({ touchAfterSeconds: 1, absoluteLifetimeSeconds: 3600 }), lazy)
})

store('without the option: nothing stamped, the cookie TTL as it is, and the record is the plain one', async () => {
  const redis = makeFakeRedis()
  const ops = build(redis)
  assert.is(await runRight(ops.set('abc', sess(redis))), 'written')
  assert.is(redis.keyspace.pttl(KEY), DAY_MS)
  assert.not.ok(CREATED_AT_FIELD in stored(redis))
  redis.keyspace.set(KEY, { type: 'string', value: JSON.stringify(sess(redis)) })
  assert.ok(O.isSome(await runRight(ops.get('abc'))), 'an unstamped session is a session')
})

store('every read leaves out what get misses: past its end, no stamp, an unreadable stamp', async () => {
  const redis = makeFakeRedis()
  const ops = build(redis, { absoluteLifetimeSeconds: 60, ownerOf: (s) => (s as { userId?: string }).userId })
  const put = (sid: string, createdAt: unknown) =>
    runRight(ops.set(sid, sess(redis, DAY_MS, { userId: 'alice', [CREATED_AT_FIELD]: createdAt })))
  await put('live', redis.now() - 59_999)
  await put('past', redis.now() - 60_000)
  // Keys alive past the end (a TTL set on a skewed clock), and values stamped by no store of this option.
  const write = (sid: string, extra: Record<string, unknown>) =>
    redis.keyspace.set(`sessions:${sid}`, {
      type: 'string',
      value: JSON.stringify(sess(redis, DAY_MS, { userId: 'alice', ...extra })),
      expiresAt: redis.now() + DAY_MS
    })
  write('past', { [CREATED_AT_FIELD]: redis.now() - 60_000 })
  write('unstamped', {})
  write('unreadable', { [CREATED_AT_FIELD]: 'x' })
  for (const sid of ['past', 'unstamped', 'unreadable']) assert.equal(await runRight(ops.get(sid)), O.none, sid)
  assert.equal(Object.keys(await runRight(ops.all())), ['live'])
  const iterated: Array<string> = []
  for await (const page of ops.iterate()) if (page._tag === 'Right') iterated.push(...page.right.map(([sid]) => sid))
  assert.equal(iterated, ['live'])
  assert.equal(await runRight(ops.ids()), ['live'])
  assert.is(await runRight(ops.length()), 1)
  assert.equal(
    (await runRight(ops.sessionsOf('alice'))).map((s) => s.id),
    ['live']
  )
})

store(
  'withAbsoluteLifetime decorates get, set, touch and every read; destroy, clear and destroySessionsOf stay',
  () => {
    const ops = build(makeFakeRedis())
    const decorated = withAbsoluteLifetime({ absoluteLifetimeSeconds: 1, now: () => 0 })(ops)
    for (const name of Object.keys(ops) as Array<keyof typeof ops>) {
      const changed = !['destroy', 'clear', 'destroySessionsOf'].includes(name)
      assert.is(decorated[name] !== ops[name], changed, name)
    }
    assert.is(decorated.sessionGet, decorated.get, 'twins that were one function stay one')
    assert.is(decorated.sessionTouch, decorated.touch)
  }
)

store.run()
