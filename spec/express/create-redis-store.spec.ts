import { EventEmitter } from 'events'
import session from 'express-session'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  createRedisStore,
  makeStoreConstructors,
  RedisStore,
  type RedisSessionStore,
  type StoreBase
} from '../../src/express/create-redis-store'
import type { SessionStoreError } from '../../src/express/to-error'
import { createMemoryClient } from '../../src/memory'
import { makeFakeRedis, makeNodeRedisFake, type FakeRedis } from '../fakes/redis'
import { capturedProcessWarnings, storedSession } from '../helpers'

type Ctx = { redis: FakeRedis; store: RedisSessionStore }
const facade = suite<Ctx>('createRedisStore')
facade.before.each((ctx) => {
  ctx.redis = makeFakeRedis()
  ctx.store = createRedisStore(ctx.redis, { now: ctx.redis.now })
})

const sess = (redis: FakeRedis, extra: Record<string, unknown> = {}) =>
  storedSession(redis.now(), 60_000, extra) as unknown as session.SessionData

/** Calls `method` with a callback and resolves with what the callback got, checking it came once and later. */
const viaCallback = <A>(
  call: (cb: (err: SessionStoreError | null, value?: A) => void) => unknown
): Promise<{ err: SessionStoreError | null; value: A | undefined; sync: boolean }> =>
  new Promise((resolve, reject) => {
    let calls = 0
    let returned = false
    const result = call((err, value) => {
      calls++
      if (calls > 1) reject(new Error('callback called twice'))
      const sync = !returned
      setTimeout(() => (calls === 1 ? resolve({ err, value, sync }) : undefined), 20)
    })
    returned = true
    assert.is(result, undefined)
  })

facade('is an express-session Store (EventEmitter, createSession, regenerate, load) and a RedisStore', ({ store }) => {
  assert.instance(store, session.Store)
  assert.instance(store, RedisStore)
  for (const m of [
    'on',
    'emit',
    'createSession',
    'regenerate',
    'load',
    'get',
    'set',
    'touch',
    'destroy',
    'all',
    'length',
    'clear',
    'ids'
  ] as const) {
    assert.type((store as unknown as Record<string, unknown>)[m], 'function', m)
  }
  assert.ok(Object.isExtensible(store), 'express-session assigns store.generate')
})

facade('new RedisStore({ client, ...options }) and RedisStore(...) build the same kind of store', async ({ redis }) => {
  const a = new RedisStore({ client: redis, prefix: 'a:' })
  const b = RedisStore({ client: redis, prefix: 'b:' })
  await a.access.set('x', sess(redis))
  await b.access.set('x', sess(redis))
  assert.ok(redis.keyspace.get('a:x') !== undefined && redis.keyspace.get('b:x') !== undefined)
  assert.instance(b, session.Store)
})

facade('callbacks are called exactly once, asynchronously, with express-session shapes', async ({ redis, store }) => {
  const set = await viaCallback<void>((cb) => store.set('s1', sess(redis, { user: 'alice' }), cb))
  assert.equal([set.err, set.sync], [null, false])
  const got = await viaCallback<session.SessionData | null>((cb) => store.get('s1', cb))
  assert.is(got.err, null)
  assert.is((got.value as unknown as { user: string }).user, 'alice')
  assert.is((await viaCallback<number>((cb) => store.length(cb))).value, 1)
  assert.equal(Object.keys((await viaCallback<Record<string, unknown>>((cb) => store.all(cb))).value ?? {}), ['s1'])
  assert.is((await viaCallback<void>((cb) => store.destroy('s1', cb))).err, null)
  assert.is((await viaCallback<session.SessionData | null>((cb) => store.get('s1', cb))).value, null)
})

facade('without a callback, methods return promises', async ({ redis, store }) => {
  await store.set('s1', sess(redis))
  assert.ok(await store.get('s1'))
  assert.is(await store.length(), 1)
  await store.destroy('s1')
  assert.is(await store.get('s1'), null)
})

facade('errors reach the callback as Errors with a code and cause; nothing is thrown', async ({ redis }) => {
  const store = createRedisStore(redis, { ttlSeconds: false })
  const noExpiry = await viaCallback<void>((cb) =>
    store.set('s', { cookie: { expires: null } } as unknown as session.SessionData, cb)
  )
  assert.instance(noExpiry.err, Error)
  assert.is(noExpiry.err?.code, 'ESESSION_INVALID')
  assert.is(redis.keyspace.size(), 0)
  const boom = new Error('down')
  redis.faults.fail('GET', { error: boom })
  const failed = await viaCallback<unknown>((cb) => store.get('s', cb))
  assert.is(failed.err?.code, 'ESESSION_REDIS')
  assert.is(failed.err?.cause, boom)
  await store.get('s').then(
    () => assert.unreachable('should reject'),
    (e: SessionStoreError) => assert.is(e.cause, boom)
  )
})

facade('a callback that throws is not called a second time', async ({ redis, store }) => {
  let calls = 0
  const thrown = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve))
  store.set('s', sess(redis), () => {
    calls++
    throw new Error('app bug')
  })
  assert.match(String(await thrown), 'app bug')
  await new Promise((r) => setTimeout(r, 20))
  assert.is(calls, 1)
})

facade('touch renews, and with disableTouch does nothing', async ({ redis }) => {
  const store = createRedisStore(redis, { now: redis.now })
  await store.set('s', sess(redis))
  await store.touch('s', storedSession(redis.now(), 999_000) as unknown as session.SessionData)
  assert.is(redis.keyspace.pttl('sessions:s'), 999_000)
  const lazy = createRedisStore(redis, { now: redis.now, disableTouch: true })
  redis.calls.length = 0
  await lazy.touch('s', storedSession(redis.now(), 5_000) as unknown as session.SessionData)
  assert.equal(redis.calls, [])
  assert.is(redis.keyspace.pttl('sessions:s'), 999_000)
})

facade('access resolves with what each operation did', async ({ redis, store }) => {
  assert.is(await store.access.set('s', sess(redis)), 'written')
  assert.is(await store.access.touch('s', sess(redis)), true)
  assert.equal(await store.access.ids(), ['s'])
  assert.is(await store.access.destroy('s'), true)
  assert.is(await store.access.set('s', sess(redis)), 'tombstoned')
  assert.is(await store.access.get('s'), null)
  await store.access.set('t', sess(redis))
  assert.is(await store.access.clear(), 1)
})

facade('invalid construction is a TypeError naming the problem', ({ redis }) => {
  assert.throws(
    () => createRedisStore(undefined as never),
    (e: Error) => e instanceof TypeError && /client is required/.test(e.message)
  )
  assert.throws(
    () => createRedisStore({ get: () => null } as never),
    (e: Error) => e instanceof TypeError && /mGet/.test(e.message)
  )
  assert.throws(
    () => createRedisStore(redis, { scanCount: -1 }),
    (e: Error) => e instanceof TypeError && /scanCount/.test(e.message)
  )
  assert.throws(
    () => new RedisStore({ client: redis, prefix: '{x}' }),
    (e: Error) => e instanceof TypeError && /prefix/.test(e.message)
  )
})

facade('a bad argument never throws synchronously out of a method', async ({ store }) => {
  const r = await viaCallback<void>((cb) => store.set('s', null as never, cb))
  assert.is(r.err?.code, 'ESESSION_INVALID')
  assert.match(r.err?.message ?? '', 'must be an object')
  const t = await viaCallback<void>((cb) => store.touch('s', 'nope' as never, cb))
  assert.is(t.err?.code, 'ESESSION_INVALID')
})

/** What `p` rejects with; a resolved `p` fails the spec. */
const rejection = async (p: Promise<unknown>): Promise<SessionStoreError> => {
  try {
    await p
  } catch (e) {
    return e as SessionStoreError
  }
  throw new Error('expected a rejection')
}
const drain = async (entries: AsyncIterable<unknown>): Promise<number> => {
  let n = 0
  for await (const _ of entries) n++
  return n
}

facade(
  'a failed walk is a SessionStoreError that says how far it got (clear: sessions tombstoned)',
  async ({ redis, store }) => {
    for (const sid of ['a', 'b', 'c']) await store.access.set(sid, sess(redis))
    redis.faults.fail('EVALSHA', { error: new Error('OOM command not allowed') })
    const err = await rejection(store.access.clear())
    assert.instance(err, Error)
    assert.is(err.code, 'ESESSION_WALK_FAILED')
    assert.ok(err.storeError._tag === 'WalkFailed' && err.storeError.operation === 'clear')
    assert.ok(err.storeError._tag === 'WalkFailed' && err.storeError.done === 0)
    assert.match(
      err.message,
      /Session clear stopped after 0 pages \(0 sessions tombstoned;.*Redis EVALSHA .* failed: OOM/
    )
    assert.is((err.cause as SessionStoreError).code, 'ESESSION_REDIS')
  }
)

facade(
  'iterate throws a SessionStoreError: a failed SCAN, and a SCAN reply of the wrong shape alike',
  async ({ redis }) => {
    const failing = createRedisStore(redis, { now: redis.now })
    await failing.access.set('a', sess(redis))
    redis.faults.fail('SCAN', { times: 1 })
    const failed = await rejection(drain(failing.access.iterate()))
    assert.instance(failed, Error)
    assert.is(failed.code, 'ESESSION_REDIS')
    assert.match(failed.message, /Redis SCAN/)
    // A SCAN reply of a shape the walk does not expect is a coded error too, never a throw out of the walk.
    const odd = createRedisStore({ ...redis, scan: async () => null as never }, { now: redis.now })
    const wrong = await rejection(drain(odd.access.iterate()))
    assert.instance(wrong, Error)
    assert.is(wrong.name, 'SessionStoreError')
    assert.is(wrong.code, 'ESESSION_REDIS')
    assert.match(wrong.message, /SCAN/)
  }
)

facade.run()

// --- express-session's Store as a class, and express-session 1.17

const base = suite("makeStoreConstructors: whatever express-session's Store is")

/**
 * express-session's `Store` as it would be written as a class: calling it without `new` throws ("Class constructor
 * Store cannot be invoked without 'new'"), which building the store must never do.
 */
const classStore = (): { readonly Store: StoreBase; readonly constructed: () => number } => {
  let constructed = 0
  class Store extends EventEmitter {
    readonly madeBy = 'class Store'
    constructor() {
      super()
      constructed++
    }
    createSession(): void {}
    regenerate(): void {}
    load(): void {}
  }
  return { Store: Store as unknown as StoreBase, constructed: () => constructed }
}

base('a class-based Store: both constructors run it with new; instanceof holds for both; events work', async () => {
  const { Store, constructed } = classStore()
  assert.throws(() => (Store as unknown as () => void).call({}), /without 'new'/, 'the stand-in refuses a plain call')
  const stores = makeStoreConstructors(Store)
  const redis = makeFakeRedis()
  const built = [
    stores.createRedisStore(redis, { now: redis.now }),
    new stores.RedisStore({ client: redis, now: redis.now }),
    stores.RedisStore({ client: redis, now: redis.now })
  ]
  assert.is(constructed(), 3, "the class's constructor ran once per store")
  for (const store of built) {
    assert.instance(store, Store)
    assert.instance(store, stores.RedisStore)
    assert.instance(store, EventEmitter)
    assert.is((store as unknown as { madeBy: string }).madeBy, 'class Store', 'fields of the class are initialised')
    assert.is(Object.getPrototypeOf(store), stores.RedisStore.prototype)
    assert.is(stores.RedisStore.prototype.constructor, stores.RedisStore)
    const heard: Array<unknown> = []
    store.on('corrupt', (e: unknown) => heard.push(e))
    store.emit('corrupt', 'x')
    assert.equal(heard, ['x'], 'EventEmitter state is its own')
    await store.access.set('s', sess(redis))
    assert.ok(await store.get('s'))
  }
  assert.not.ok(built[0] instanceof session.Store, "a store over another Store is not express-session's")
})

base(
  'express-session 1.17 and 1.19: a store over either Store is an instance of it and serves its middleware',
  async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const session117 = require('express-session-1.17') as typeof session
    for (const module of [session117, session]) {
      const stores = makeStoreConstructors(module.Store as unknown as StoreBase)
      const redis = makeFakeRedis()
      const store = new stores.RedisStore({ client: redis, now: redis.now })
      assert.instance(store, module.Store)
      assert.instance(store, stores.RedisStore)
      assert.type(store.createSession, 'function')
      await store.access.set('s', sess(redis, { user: 'alice' }))
      // express-session's own load: get, then createSession over the request
      const loaded = await new Promise<unknown>((resolve, reject) =>
        store.load('s', (err: unknown, s: unknown) => (err ? reject(err) : resolve(s)))
      )
      assert.is((loaded as { user?: string } | undefined)?.user, 'alice')
    }
    assert.is(RedisStore.prototype, Object.getPrototypeOf(createRedisStore(makeFakeRedis())), 'the exported pair')
  }
)

base.run()

// --- the in-memory client in production

const production = suite('createRedisStore on the in-memory client, by NODE_ENV')

/** Runs `f` with NODE_ENV set to `env` (deleted for undefined), then puts the old value back. */
const withNodeEnv = async (env: string | undefined, f: () => Promise<void>): Promise<void> => {
  const old = process.env['NODE_ENV']
  if (env === undefined) delete process.env['NODE_ENV']
  else process.env['NODE_ENV'] = env
  try {
    await f()
  } finally {
    if (old === undefined) delete process.env['NODE_ENV']
    else process.env['NODE_ENV'] = old
  }
}

/** The SessionStoreWarnings `process.emitWarning` is given while `f` runs and for a moment after (not printed). */
const processWarnings = async (f: () => Promise<void>): Promise<Array<Error>> =>
  (await capturedProcessWarnings(f)).filter((w) => w.name === 'SessionStoreWarning')

const tick = () => new Promise((r) => setTimeout(r, 20))

production(
  'NODE_ENV=production: one warning event, heard by a listener attached after the store was built',
  async () => {
    await withNodeEnv('production', async () => {
      const heard: Array<string> = []
      const unheard = await processWarnings(async () => {
        const store = createRedisStore(createMemoryClient())
        store.on('warning', (m: string) => heard.push(m))
        await tick()
        await store.access.set('s', storedSession(Date.now(), 60_000) as unknown as session.SessionData)
        await tick()
      })
      assert.is(heard.length, 1, 'once, at creation; not again on use')
      assert.match(heard[0] ?? '', /^The session store runs on the in-memory client .*NODE_ENV=production/)
      assert.equal(unheard, [], 'a listener takes it: nothing on process warnings')
    })
  }
)

production('NODE_ENV=production with no listener: process.emitWarning, type SessionStoreWarning', async () => {
  await withNodeEnv('production', async () => {
    const seen = await processWarnings(async () => {
      createRedisStore(createMemoryClient())
    })
    assert.is(seen.length, 1)
    assert.match(seen[0]?.message ?? '', /in-memory client/)
    assert.is((seen[0] as Error & { code?: string }).code, 'ESESSION_WARNING')
  })
})

production('silent when NODE_ENV is unset, development or test, and for a Redis client in production', async () => {
  const heard: Array<string> = []
  const seen: Array<Error> = []
  for (const env of [undefined, 'development', 'test']) {
    await withNodeEnv(env, async () => {
      seen.push(
        ...(await processWarnings(async () => {
          createRedisStore(createMemoryClient()).on('warning', (m: string) => heard.push(`${String(env)}: ${m}`))
          createRedisStore(createMemoryClient())
        }))
      )
    })
  }
  await withNodeEnv('production', async () => {
    seen.push(
      ...(await processWarnings(async () => {
        // node-redis-shaped (adapted by fromNodeRedis): a Redis client, not an in-process one
        createRedisStore(makeNodeRedisFake()).on('warning', (m: string) => heard.push(`node-redis: ${m}`))
        createRedisStore(makeNodeRedisFake())
      }))
    )
  })
  assert.equal(heard, [])
  assert.equal(
    seen.map((w) => w.message),
    []
  )
})

production.run()
