// What a new user meets in their first hour (issue 7): values that are what their types say, errors that can
// be told apart with instanceof and a code, options that are never silently ignored, serializers that cannot
// hand express-session a Promise, warnings that cannot vanish, and foreign keys the store never touches.
import { EventEmitter } from 'events'
import session from 'express-session'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createRedisStore, RedisStore, SessionStoreError } from '../../src'
import { makeFakeRedis, type FakeRedis } from '../fakes/redis'
import { capturedProcessWarnings, storedSession } from '../helpers'

const sess = (redis: FakeRedis, extra: Record<string, unknown> = {}) =>
  storedSession(redis.now(), 60_000, extra) as unknown as session.SessionData

const rejection = (p: Promise<unknown>): Promise<SessionStoreError> =>
  p.then(
    () => assert.unreachable('expected a rejection') as never,
    (e: SessionStoreError) => e
  )

const throwsTypeError = (f: () => unknown, message: RegExp): void => {
  try {
    f()
  } catch (e) {
    assert.instance(e, TypeError)
    assert.match((e as Error).message, message)
    return
  }
  assert.unreachable(`expected a TypeError matching ${String(message)}`)
}

// --- types that say what the values are

const types = suite('honest values')

types('access.get, the callback get, all and iterate give cookie.expires as a Date, as SessionData says', async () => {
  const redis = makeFakeRedis()
  const store = createRedisStore(redis, { now: redis.now })
  await store.access.set('s', sess(redis, { user: 'alice' }))
  const viaAccess = await store.access.get('s')
  assert.is(viaAccess?.cookie.expires?.getTime(), redis.now() + 60_000)
  const viaCallback = await new Promise<session.SessionData | null | undefined>((resolve) =>
    store.get('s', (_e, v) => resolve(v))
  )
  assert.instance(viaCallback?.cookie.expires, Date)
  assert.instance((await store.access.all())['s']?.cookie.expires, Date)
  for await (const [, s] of store.access.iterate()) assert.instance(s.cookie.expires, Date)
  // What express-session does with it is unchanged: it builds its Cookie from the Date.
  const req = { sessionID: 's', sessionStore: store } as unknown as Parameters<session.Store['createSession']>[0]
  const loaded = store.createSession(req, viaAccess as session.SessionData)
  assert.is(loaded.cookie.expires?.getTime(), redis.now() + 60_000)
})

types(
  'a stored value without a cookie object is corrupt (a miss and a corrupt event), never a crash in express-session',
  async () => {
    const redis = makeFakeRedis({
      'sessions:nocookie': '{"user":"alice"}',
      'sessions:baddate': '{"cookie":{"expires":"soon"}}'
    })
    const store = createRedisStore(redis, { now: redis.now })
    const corrupt: Array<SessionStoreError> = []
    store.on('corrupt', (e: SessionStoreError) => corrupt.push(e))
    assert.is(await store.access.get('nocookie'), null)
    assert.is(await store.access.get('baddate'), null)
    assert.equal(
      corrupt.map((e) => e.code),
      ['ESESSION_CORRUPT', 'ESESSION_CORRUPT']
    )
    assert.match(corrupt[0]?.message ?? '', /no cookie object/)
  }
)

types('errors are instances of SessionStoreError (and Error), with a code from the documented union', async () => {
  const redis = makeFakeRedis()
  redis.faults.fail('GET', { error: new Error('boom') })
  const err = await rejection(createRedisStore(redis).access.get('s'))
  assert.ok(err instanceof SessionStoreError, 'instanceof SessionStoreError')
  assert.ok(err instanceof Error, 'instanceof Error')
  assert.is(err.name, 'SessionStoreError')
  assert.is(err.code, 'ESESSION_REDIS')
  assert.match(String(err.stack), /^SessionStoreError: Redis GET/)
  assert.not.ok(new Error('x') instanceof SessionStoreError)
})

// --- options that are never silently ignored

const options = suite('options are never silently ignored')

options('connect-redis ttl as a function sets each session its own lifetime, on set and on touch', async () => {
  const redis = makeFakeRedis()
  const ttl = (s: session.SessionData): number => ((s as unknown as { role?: string }).role === 'admin' ? 60 : 3600)
  const store = createRedisStore(redis, { now: redis.now, ttl })
  // Cookies that expire in 10 minutes: the function decides instead.
  const tenMinutes = (extra: Record<string, unknown>) =>
    storedSession(redis.now(), 600_000, extra) as unknown as session.SessionData
  await store.access.set('admin', tenMinutes({ role: 'admin' }))
  await store.access.set('user', tenMinutes({ role: 'user' }))
  assert.is(redis.keyspace.pttl('sessions:admin'), 60_000, 'the function wins over cookie.expires')
  assert.is(redis.keyspace.pttl('sessions:user'), 3_600_000)
  redis.clock.advance(10_000)
  await store.access.touch('admin', tenMinutes({ role: 'admin' }))
  assert.is(redis.keyspace.pttl('sessions:admin'), 60_000, 'touch renews to the function’s lifetime')
  const zero = createRedisStore(redis, { now: redis.now, ttl: () => 0 })
  assert.is(await zero.access.set('user', sess(redis)), 'expired', 'a lifetime <= 0 ends the session')
})

options('a ttl function that throws or returns a non-number is an ESESSION_INVALID error naming it', async () => {
  const redis = makeFakeRedis()
  const throwing = createRedisStore(redis, {
    ttl: () => {
      throw new Error('no role')
    }
  })
  const err = await rejection(throwing.access.set('s', sess(redis)))
  assert.is(err.code, 'ESESSION_INVALID')
  assert.match(err.message, /options\.ttl\(session\) threw: no role/)
  const wrong = createRedisStore(redis, { ttl: (() => '60') as unknown as () => number })
  assert.match(
    (await rejection(wrong.access.set('s', sess(redis)))).message,
    /must return a number of seconds, got string/
  )
  assert.is(redis.keyspace.size(), 0, 'nothing written')
})

options('ttl as a number is the fallback TTL of browser-session cookies (ttlSeconds)', async () => {
  const redis = makeFakeRedis()
  const store = createRedisStore(redis, { now: redis.now, ttl: 120 })
  await store.access.set('s', { cookie: { expires: null, originalMaxAge: null } } as unknown as session.SessionData)
  assert.is(redis.keyspace.pttl('sessions:s'), 120_000)
  throwsTypeError(() => createRedisStore(redis, { ttl: 120, ttlSeconds: 60 }), /give one of them/)
})

options('disableTTL: true is refused with the reason; disableTTL: false is accepted', () => {
  const redis = makeFakeRedis()
  throwsTypeError(() => createRedisStore(redis, { disableTTL: true } as never), /disableTTL: true is not supported/)
  createRedisStore(redis, { disableTTL: false })
})

options('an unknown option is a TypeError naming it, with the option it probably meant', () => {
  const redis = makeFakeRedis()
  throwsTypeError(
    () => createRedisStore(redis, { ttlSecond: 60 } as never),
    /options\.ttlSecond is not an option.*did you mean ttlSeconds\?/
  )
  throwsTypeError(() => createRedisStore(redis, { connectionEvents: true } as never), /whenDisconnected: 'bypass'/)
  throwsTypeError(
    () => new RedisStore({ client: redis, logErrors: true } as never),
    /options\.logErrors is not an option/
  )
})

options('an invalid value names its type when its text would mislead', () => {
  const redis = makeFakeRedis()
  throwsTypeError(() => createRedisStore(redis, { ttlSeconds: '3600' as never }), /got "3600" \(a string\)/)
  throwsTypeError(() => createRedisStore(redis, { operationTimeoutMs: '500' as never }), /got "500" \(a string\)/)
})

options('arguments in the wrong place are named as such', () => {
  const redis = makeFakeRedis()
  throwsTypeError(
    () => new RedisStore(redis as never),
    /RedisStore takes an options object: new RedisStore\(\{ client, \.\.\.options \}\), not new RedisStore\(client\)/
  )
  throwsTypeError(
    () => createRedisStore({ client: redis } as never),
    /createRedisStore takes the client as its first argument/
  )
  throwsTypeError(() => new RedisStore({} as never), /options\.client is required/)
  throwsTypeError(() => createRedisStore(redis, { client: redis } as never), /first argument/)
})

// --- serializers

const serializers = suite('asynchronous serializers')

serializers('an async parse or stringify is refused when the store is built', () => {
  const redis = makeFakeRedis()
  throwsTypeError(
    () =>
      createRedisStore(redis, {
        serializer: { stringify: JSON.stringify, parse: async (t: string) => JSON.parse(t) } as never
      }),
    /serializer\.parse is an async function/
  )
  throwsTypeError(
    () =>
      createRedisStore(redis, {
        serializer: { stringify: async (s: unknown) => JSON.stringify(s), parse: JSON.parse } as never
      }),
    /serializer\.stringify is an async function/
  )
})

serializers(
  'a parse that returns a promise is an ESESSION_SERIALIZER error, never a Promise handed on as the session',
  async () => {
    const redis = makeFakeRedis()
    const store = createRedisStore(redis, {
      now: redis.now,
      serializer: { stringify: JSON.stringify, parse: (t: string) => Promise.reject(new Error(t)) as never }
    })
    const unhandled: Array<unknown> = []
    const onUnhandled = (e: unknown): void => void unhandled.push(e)
    process.on('unhandledRejection', onUnhandled)
    try {
      await store.access.set('s', sess(redis))
      const viaCallback = await new Promise<[SessionStoreError | null, unknown]>((resolve) =>
        store.get('s', (e, v) => resolve([e, v]))
      )
      assert.is(viaCallback[0]?.code, 'ESESSION_SERIALIZER')
      assert.is(viaCallback[1], undefined)
      assert.match(
        viaCallback[0]?.message ?? '',
        /serializer\.parse returned a Promise: serializers must be synchronous/
      )
      await new Promise((r) => setTimeout(r, 20))
      assert.equal(unhandled, [], 'the dropped promise does not become an unhandled rejection')
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  }
)

serializers('a stringify that returns a promise writes nothing and says why', async () => {
  const redis = makeFakeRedis()
  const store = createRedisStore(redis, {
    now: redis.now,
    serializer: { stringify: (s: unknown) => Promise.resolve(JSON.stringify(s)) as never, parse: JSON.parse }
  })
  const err = await rejection(store.access.set('s', sess(redis)))
  assert.is(err.code, 'ESESSION_SERIALIZER')
  assert.match(err.message, /serializer\.stringify returned a Promise/)
  assert.is(redis.keyspace.size(), 0)
})

// --- warnings and foreign keys

const edges = suite('warnings and foreign keys')

edges('a warning with no listener goes to process.emitWarning instead of vanishing', async () => {
  const client = Object.assign(new EventEmitter(), makeFakeRedis(), {
    isReady: true,
    info: async () => 'maxmemory_policy:allkeys-lru\r\n'
  })
  const warned = await capturedProcessWarnings(() => createRedisStore(client))
  const ours = warned.filter((w) => w.name === 'SessionStoreWarning')
  assert.is(ours.length, 1)
  assert.match(ours[0]?.message ?? '', /allkeys-lru/)
})

edges('ids with glob characters or braces are refused by default (ESESSION_INVALID_ID, nothing sent)', async () => {
  const redis = makeFakeRedis()
  const store = createRedisStore(redis)
  for (const sid of ['a*', 'a?b', 'a[1]', '{tag}x', 'a:b', 'a b']) {
    const err = await rejection(store.access.get(sid))
    assert.is(err.code, 'ESESSION_INVALID_ID', sid)
  }
  assert.equal(redis.calls, [])
  const wide = createRedisStore(redis, { strictSessionIds: false })
  assert.is(await wide.access.get('a:b'), null, 'strictSessionIds: false accepts them')
})

edges('clear, all, ids and length never touch a key under the prefix that the store cannot have written', async () => {
  const redis = makeFakeRedis({
    'sessions:cache:homepage': '<html>',
    'sessions:counter:1': '7',
    counter: '3',
    'cache:homepage': '<html>'
  })
  const store = createRedisStore(redis, { now: redis.now })
  await store.access.set('abc', sess(redis))
  assert.equal(await store.access.ids(), ['abc'])
  assert.is(await store.access.length(), 1)
  assert.equal(Object.keys(await store.access.all()), ['abc'])
  assert.is(await store.access.clear(), 1)
  for (const key of ['sessions:cache:homepage', 'sessions:counter:1', 'counter', 'cache:homepage']) {
    assert.is(redis.keyspace.get(key)?.type, 'string', `${key} untouched`)
  }
  assert.is(redis.keyspace.get('sessions:abc')?.type, 'hash', 'the session became a tombstone')
})

edges('prefix "" is refused: the store would claim every key in Redis', () => {
  throwsTypeError(() => createRedisStore(makeFakeRedis(), { prefix: '' }), /must not be empty/)
  throwsTypeError(() => createRedisStore(makeFakeRedis(), { prefix: 'sess' }), /must end with a separator/)
  createRedisStore(makeFakeRedis(), { prefix: 'sess:' })
  createRedisStore(makeFakeRedis(), { prefix: 'app/sessions/' })
})

types.run()
options.run()
serializers.run()
edges.run()
