/**
 * The store against a real redis-server, once per node-redis major (v4, v5, v6), plus a v6 client with a
 * `keyPrefix`, and on ioredis 5 (through `fromIoRedis`), with and without its `keyPrefix`. Commands are
 * counted on the wire with MONITOR, once per client.
 */
import session from 'express-session'
import Valkey from 'iovalkey'
import { createClient as createClient6 } from 'redis'
import { createClient as createClient5 } from 'redis-5'
import { createClient as createClient4 } from 'redis-4'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { RedisLike, SessionClient } from '../../src/client/contract'
import type { NodeRedisClient } from '../../src/client/node-redis'
import { createRedisStore, type RedisSessionStore } from '../../src/express/create-redis-store'
import { fromIoRedis } from '../../src/ioredis'
import { fromValkeyGlide } from '../../src/valkey-glide'
import { glideClient } from '../support/glide'
import { IOREDIS_MAJORS, type IoRedisInstance, type IoRedisMajor } from '../support/ioredis'
import { startRedis, type RedisServer } from '../support/redis-server'

interface AnyClient extends RedisLike {
  connect(): Promise<unknown>
  sendCommand(args: Array<string>): Promise<unknown>
  quit?: () => Promise<unknown>
  close?: () => Promise<unknown>
}

const stop = async (c: AnyClient): Promise<void> => {
  await (typeof c.close === 'function' ? c.close() : c.quit?.())
}

/** A client under test: what the store is given, and how to connect and close the client behind it. */
interface Subject {
  readonly client: SessionClient | NodeRedisClient
  readonly connect: () => Promise<unknown>
  readonly stop: () => Promise<unknown>
}
const nodeRedis = (c: AnyClient): Subject => ({ client: c, connect: () => c.connect(), stop: () => stop(c) })
// lazyConnect: ioredis would connect on its own; connect() resolves once it is ready.
const ioRedis = (c: IoRedisInstance): Subject => ({
  client: fromIoRedis(c),
  connect: () => c.connect(),
  stop: () => c.quit()
})
/** ioredis 5 and 6, and iovalkey (the Valkey project's fork of ioredis), which goes through the same adapter. */
const IOREDIS_LIKE: ReadonlyArray<readonly [string, IoRedisMajor['Redis']]> = [
  ...IOREDIS_MAJORS.map(({ name, Redis }) => [name, Redis] as const),
  ['iovalkey', Valkey]
]
// Valkey GLIDE connects in createClient: connect() has nothing left to do.
const valkeyGlide = async (url: string): Promise<Subject> => {
  const c = await glideClient(url)
  return { client: fromValkeyGlide(c), connect: () => Promise.resolve(), stop: () => Promise.resolve(c.close()) }
}

const clients: ReadonlyArray<readonly [string, (url: string) => Subject | Promise<Subject>, string]> = [
  ['node-redis v4', (url) => nodeRedis(createClient4({ url }) as unknown as AnyClient), ''],
  ['node-redis v5', (url) => nodeRedis(createClient5({ url }) as unknown as AnyClient), ''],
  ['node-redis v6', (url) => nodeRedis(createClient6({ url }) as unknown as AnyClient), ''],
  [
    'node-redis v6 with keyPrefix',
    (url) => nodeRedis(createClient6({ url, keyPrefix: 'app:' }) as unknown as AnyClient),
    'app:'
  ],
  ...IOREDIS_LIKE.flatMap(([name, Client]) => [
    [name, (url: string) => ioRedis(new Client(url, { lazyConnect: true })), ''] as const,
    [
      `${name} with keyPrefix`,
      (url: string) => ioRedis(new Client(url, { lazyConnect: true, keyPrefix: 'app:' })),
      'app:'
    ] as const
  ]),
  ['Valkey GLIDE', valkeyGlide, '']
]

const session_ = (inMs: number, extra: Record<string, unknown> = {}) =>
  ({
    cookie: { originalMaxAge: inMs, expires: new Date(Date.now() + inMs), httpOnly: true, path: '/' },
    ...extra
  } as unknown as session.SessionData)

type Ctx = {
  server: RedisServer
  subject: Subject
  admin: AnyClient
  store: RedisSessionStore
  monitor: ReturnType<typeof createClient6>
}

for (const [name, make, keyPrefix] of clients) {
  const it = suite<Ctx>(`integration: ${name}`)
  const raw = (ctx: Ctx, ...args: Array<string>) => ctx.admin.sendCommand(args)
  const k = (key: string) => keyPrefix + key

  it.before(async (ctx) => {
    ctx.server = await startRedis()
    ctx.subject = await make(ctx.server.url)
    ctx.admin = createClient6({ url: ctx.server.url }) as unknown as AnyClient
    await Promise.all([ctx.subject.connect(), ctx.admin.connect()])
  })
  it.after(async (ctx) => {
    await Promise.all([ctx.subject.stop(), stop(ctx.admin)])
    await ctx.server.stop()
  })
  it.before.each(async (ctx) => {
    await raw(ctx, 'FLUSHALL')
    ctx.store = createRedisStore(ctx.subject.client, { scanCount: 10 })
  })

  it('set / get / touch / destroy keep their promises', async (ctx) => {
    const { store } = ctx
    assert.is(await store.access.set('a', session_(60_000, { user: 'alice' })), 'written')
    const got = await store.access.get('a')
    assert.is((got as unknown as { user: string }).user, 'alice')
    assert.instance(got?.cookie.expires, Date, 'cookie.expires is a Date, as SessionData says')
    assert.type(
      JSON.parse(String(await raw(ctx, 'GET', k('sessions:a')))).cookie.expires,
      'string',
      'stored as an ISO string'
    )
    const pttl = Number(await raw(ctx, 'PTTL', k('sessions:a')))
    assert.ok(pttl > 59_000 && pttl <= 60_000, `PTTL ${pttl} matches cookie.expires to the ms`)
    assert.is(await store.access.touch('a', session_(600_000)), true)
    assert.ok(Number(await raw(ctx, 'PTTL', k('sessions:a'))) > 599_000)
    assert.is(await store.access.destroy('a'), true)
    assert.is(await raw(ctx, 'TYPE', k('sessions:a')), 'hash')
    const grace = Number(await raw(ctx, 'PTTL', k('sessions:a')))
    assert.ok(grace > 299_000 && grace <= 300_000, `tombstone lives concurrencyGraceSeconds (${grace} ms)`)
    assert.is(await store.access.get('a'), null)
    assert.is(await store.access.set('a', session_(60_000)), 'tombstoned')
    assert.is(await store.access.touch('a', session_(60_000)), false)
    assert.is(await raw(ctx, 'TYPE', k('sessions:a')), 'hash')
  })

  it('a browser-session cookie (expires null) falls back to ttlSeconds', async (ctx) => {
    await ctx.store.access.set('b', {
      cookie: { expires: null, originalMaxAge: null }
    } as unknown as session.SessionData)
    const pttl = Number(await raw(ctx, 'PTTL', k('sessions:b')))
    assert.ok(pttl > 86_399_000 && pttl <= 86_400_000, `PTTL ${pttl}`)
  })

  it('touch never creates a key; an expiry in the past removes the session', async (ctx) => {
    assert.is(await ctx.store.access.touch('ghost', session_(60_000)), false)
    assert.is(await raw(ctx, 'EXISTS', k('sessions:ghost')), 1 - 1)
    await ctx.store.access.set('old', session_(60_000))
    assert.is(await ctx.store.access.set('old', session_(-1000)), 'expired')
    assert.is(await ctx.store.access.get('old'), null)
  })

  it('SCRIPT FLUSH between operations is invisible to the caller', async (ctx) => {
    await ctx.store.access.set('f', session_(60_000))
    await raw(ctx, 'SCRIPT', 'FLUSH')
    assert.is(await ctx.store.access.touch('f', session_(60_000)), true)
    await raw(ctx, 'SCRIPT', 'FLUSH')
    assert.is(await ctx.store.access.destroy('f'), true)
    await raw(ctx, 'SCRIPT', 'FLUSH')
    assert.is(await ctx.store.access.set('g', session_(60_000)), 'written')
  })

  it('all / length / ids / clear page through SCAN, skip tombstones and foreign keys', async (ctx) => {
    const { store } = ctx
    for (let i = 0; i < 57; i++) await store.access.set(`s${i}`, session_(60_000, { n: i }))
    await store.access.destroy('s3')
    await store.access.destroy('s40')
    await raw(ctx, 'SET', k('sessions1:x'), '{"cookie":{}}')
    if (keyPrefix !== '') await raw(ctx, 'SET', 'sessions:unprefixed', '{"cookie":{}}') // outside the client's keyPrefix
    await raw(ctx, 'SET', k('other:y'), 'z')
    assert.is(await store.access.length(), 55)
    const all = await store.access.all()
    assert.is(Object.keys(all).length, 55)
    for (const [sid, s] of Object.entries(all))
      assert.is((s as unknown as { n: number }).n, Number(sid.slice(1)), `id ${sid} matches its session`)
    assert.is((await store.access.ids()).length, 55)
    assert.is(await store.access.clear(), 55)
    assert.is(await store.access.length(), 0)
    assert.is(await raw(ctx, 'TYPE', k('sessions:s7')), 'hash', 'clear leaves tombstones')
    assert.is(await raw(ctx, 'GET', k('sessions1:x')), '{"cookie":{}}', 'foreign key untouched')
    assert.is(await raw(ctx, 'GET', k('other:y')), 'z')
    if (keyPrefix !== '')
      assert.is(
        await raw(ctx, 'GET', 'sessions:unprefixed'),
        '{"cookie":{}}',
        'key outside the client prefix untouched'
      )
  })

  it('access.iterate streams every live session once per page', async (ctx) => {
    for (let i = 0; i < 35; i++) await ctx.store.access.set(`i${i}`, session_(60_000, { n: i }))
    await ctx.store.access.destroy('i7')
    const seen = new Map<string, number>()
    for await (const [sid, s] of ctx.store.access.iterate()) seen.set(sid, (s as unknown as { n: number }).n)
    assert.is(seen.size, 34)
    for (const [sid, n] of seen) assert.is(n, Number(sid.slice(1)))
  })

  it('touchAfterSeconds: express-session touches right after a read write nothing, across store instances', async (ctx) => {
    const lazyA = createRedisStore(ctx.subject.client, { touchAfterSeconds: 60 })
    const lazyB = createRedisStore(ctx.subject.client, { touchAfterSeconds: 60 })
    await lazyA.access.set('z', session_(3_600_000))
    await raw(ctx, 'PEXPIRE', k('sessions:z'), '3000000') // last renewed 10 min ago, as another process would have
    const got = await lazyB.get('z')
    assert.ok(got)
    await lazyB.touch('z', session_(3_600_000))
    assert.ok(Number(await raw(ctx, 'PTTL', k('sessions:z'))) > 3_500_000, 'stale expiry renewed')
    await lazyA.get('z')
    await raw(ctx, 'PEXPIRE', k('sessions:z'), '1234567')
    await lazyA.get('z') // reads the TTL just set: expiry far from a fresh renewal → touch renews
    await lazyA.touch('z', session_(3_600_000))
    assert.ok(Number(await raw(ctx, 'PTTL', k('sessions:z'))) > 3_500_000)
    await lazyA.get('z') // just renewed → the next touch is skipped
    await raw(ctx, 'PEXPIRE', k('sessions:z'), '3590000')
    await lazyB.get('z')
    await lazyB.touch('z', session_(3_600_000))
    const pttl = Number(await raw(ctx, 'PTTL', k('sessions:z')))
    assert.ok(pttl <= 3_590_000, `touch skipped (PTTL ${pttl})`)
  })

  it('a prefix with glob characters matches only itself', async (ctx) => {
    const store = createRedisStore(ctx.subject.client, { prefix: 'a[1]*:' })
    await store.access.set('x', session_(60_000))
    await raw(ctx, 'SET', k('a1x:y'), '{"cookie":{}}')
    await raw(ctx, 'SET', k('a[1]z:y'), '{"cookie":{}}')
    assert.equal(await store.access.ids(), ['x'])
    assert.is(await store.access.clear(), 1)
    assert.is(await raw(ctx, 'EXISTS', k('a1x:y'), k('a[1]z:y')), 2)
  })

  it.run()
}

// --- wire-level round trips and a full server, once per client

/**
 * A MONITOR line as `COMMAND arg …` (ioredis sends command names in lower case), with JSON values, numbers and SHA1s
 * shown as <json>, <n> and <sha1>; GLIDE's `SET … GET PX <n>` (the same command, options in another order) as
 * `SET … PX <n> GET`.
 */
const shape = (line: string): string => words(line).replace(/^(SET \S+ <json>) GET (PX <n>)$/, '$1 $2 GET')
const words = (line: string): string =>
  [...line.replace(/^[\d.]+ \[[^\]]*\] /, '').matchAll(/"((?:[^"\\]|\\.)*)"/g)]
    .map(([, arg = ''], i) =>
      i === 0
        ? arg.toUpperCase()
        : arg.startsWith('{')
        ? '<json>'
        : /^\d+$/.test(arg)
        ? '<n>'
        : /^[0-9a-f]{40}$/.test(arg)
        ? '<sha1>'
        : arg
    )
    .join(' ')

for (const [name, make, keyPrefix] of clients) {
  const k = (key: string) => keyPrefix + key

  const wire = suite<Ctx>(`integration: one round trip per single-key operation (MONITOR), ${name}`)
  wire.before(async (ctx) => {
    ctx.server = await startRedis()
    ctx.subject = await make(ctx.server.url)
    ctx.monitor = createClient6({ url: ctx.server.url })
    await Promise.all([ctx.subject.connect(), ctx.monitor.connect()])
    ctx.store = createRedisStore(ctx.subject.client)
  })
  wire.after(async (ctx) => {
    await ctx.subject.stop()
    ctx.monitor.destroy()
    await ctx.server.stop()
  })

  wire('get, set, touch and destroy each send one command (scripts loaded)', async (ctx) => {
    const lines: Array<string> = []
    await ctx.monitor.monitor((line: string) => lines.push(line))
    const sid = 'wire'
    const ops: ReadonlyArray<readonly [string, () => Promise<unknown>]> = [
      ['set', () => ctx.store.access.set(sid, session_(60_000))],
      ['get', () => ctx.store.access.get(sid)],
      ['touch', () => ctx.store.access.touch(sid, session_(60_000))],
      ['destroy', () => ctx.store.access.destroy(sid)]
    ]
    for (const [, op] of ops) await op() // warm: load each script once (EVALSHA → NOSCRIPT → EVAL)
    await ctx.store.access.set('other', session_(60_000))
    const counts: Record<string, number> = {}
    const sent: Record<string, Array<string>> = {}
    for (const [op, run] of ops) {
      await new Promise((r) => setTimeout(r, 30))
      lines.length = 0
      await run()
      await new Promise((r) => setTimeout(r, 30))
      const fromClient = lines.filter((l) => !/\[\d+ lua\]/.test(l))
      counts[op] = fromClient.length
      sent[op] = fromClient.map(shape)
    }
    console.log(`  commands on the wire per operation (${name}):`, JSON.stringify(counts))
    assert.equal(counts, { set: 1, get: 1, touch: 1, destroy: 1 }, JSON.stringify(sent))
    const key = k('sessions:wire')
    assert.equal(sent, {
      set: [`SET ${key} <json> PX <n> GET`],
      get: [`GET ${key}`],
      touch: [`GETEX ${key} PX <n>`],
      destroy: [`EVALSHA <sha1> <n> ${key} <n> <n>`]
    })
  })

  wire.run()

  const oom = suite<Ctx>(`integration: maxmemory reached under noeviction, ${name}`)
  oom.before(async (ctx) => {
    ctx.server = await startRedis(['--maxmemory-policy', 'noeviction'])
    ctx.subject = await make(ctx.server.url)
    ctx.admin = createClient6({ url: ctx.server.url }) as unknown as AnyClient
    await Promise.all([ctx.subject.connect(), ctx.admin.connect()])
    ctx.store = createRedisStore(ctx.subject.client)
  })
  oom.after(async (ctx) => {
    await Promise.all([ctx.subject.stop(), stop(ctx.admin)])
    await ctx.server.stop()
  })

  oom('logout still works and leaves its tombstone; saves fail loudly', async (ctx) => {
    await ctx.store.access.set('live', session_(60_000))
    await ctx.store.access.destroy('warm') // load the tombstone script before the server is full
    await ctx.store.access.set('warm2', session_(60_000))
    await ctx.admin.sendCommand(['CONFIG', 'SET', 'maxmemory', '1'])
    try {
      const err = await ctx.store.access.set('new', session_(60_000)).then(
        () => undefined,
        (e: Error & { code?: string }) => e
      )
      assert.ok(err !== undefined, 'set must fail on a full server')
      assert.is(err?.code, 'ESESSION_REDIS')
      assert.match(err?.message ?? '', /OOM/)
      assert.is(await ctx.store.access.destroy('live'), true)
      assert.is(await ctx.admin.sendCommand(['TYPE', k('sessions:live')]), 'hash')
      assert.is(await ctx.store.access.destroy('never-existed'), false)
      assert.is(await ctx.admin.sendCommand(['TYPE', k('sessions:never-existed')]), 'hash')
    } finally {
      await ctx.admin.sendCommand(['CONFIG', 'SET', 'maxmemory', '0'])
    }
  })

  oom.run()
}
