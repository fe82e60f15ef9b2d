/**
 * Every read agrees, on a real redis-server: four sessions of one owner — a live one, one past its absolute lifetime
 * whose key is still alive (its `__createdAt` two hours old, as after a TTL computed on a clock that ran behind), a
 * corrupt one and a tombstone — and `get`, `all`, `iterate`, `ids`, `length` and `sessionsOf` all see the live one
 * only. Without `absoluteLifetimeSeconds`, `ids` and `length` read no values (a `SCAN … TYPE string` count): they
 * count the corrupt value the other reads skip, as documented.
 */
import type { SessionData } from 'express-session'
import { createClient } from 'redis'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createRedisStore, type RedisSessionStore } from '../../src'
import { rethrowSetupError } from '../helpers'
import { startRedis, type RedisServer } from '../support/redis-server'

const HOUR = 3_600_000
type Client = ReturnType<typeof createClient>

const sessionOf = (userId: string): SessionData =>
  ({
    cookie: { originalMaxAge: HOUR, expires: new Date(Date.now() + HOUR), httpOnly: true, path: '/' },
    userId
  } as unknown as SessionData)
const ownerOf = (s: SessionData): string | undefined => (s as unknown as { userId?: string }).userId

interface Ctx {
  setupError?: unknown
  server: RedisServer
  client: Client
  admin: Client
}

const it = suite<Ctx>('every read agrees about which sessions exist')

it.before(async (ctx) => {
  try {
    ctx.server = await startRedis()
    ctx.client = createClient({ url: ctx.server.url })
    ctx.admin = createClient({ url: ctx.server.url })
    await Promise.all([ctx.client.connect(), ctx.admin.connect()])
  } catch (e) {
    ctx.setupError = e
  }
})
it.before.each((ctx) => rethrowSetupError(ctx.setupError))
it.after(async (ctx) => {
  await Promise.all([ctx.client?.close(), ctx.admin?.close()])
  await ctx.server?.stop()
})

/** The four sessions of alice, each written through `store` (so each is in her index), then made what it is. */
const seed = async (ctx: Ctx, store: RedisSessionStore): Promise<void> => {
  await ctx.admin.flushAll()
  for (const sid of ['live', 'old', 'bad', 'gone'])
    assert.is(await store.access.set(sid, sessionOf('alice')), 'written')
  // Past its end, its key alive for another hour: the stamp is two hours old.
  const old = JSON.parse((await ctx.admin.get('sessions:old')) as string) as Record<string, unknown>
  await ctx.admin.set('sessions:old', JSON.stringify({ ...old, __createdAt: Date.now() - 2 * HOUR }), { KEEPTTL: true })
  await ctx.admin.set('sessions:bad', '{not json', { KEEPTTL: true })
  assert.is(await store.access.destroy('gone'), true)
  assert.is(await ctx.admin.type('sessions:gone'), 'hash')
  assert.ok((await ctx.admin.pTTL('sessions:old')) > 0, 'the key past its end is still alive')
}

/** What each read says exists. */
const reads = async (store: RedisSessionStore) => {
  const got: Array<string> = []
  for (const sid of ['live', 'old', 'bad', 'gone']) if ((await store.access.get(sid)) !== null) got.push(sid)
  const iterated: Array<string> = []
  for await (const [sid] of store.access.iterate()) iterated.push(sid)
  return {
    get: got,
    all: Object.keys(await store.access.all()).sort(),
    iterate: iterated.sort(),
    ids: [...(await store.access.ids())].sort(),
    length: await store.access.length(),
    sessionsOf: (await store.access.sessionsOf('alice')).map((s) => s.id).sort()
  }
}

it('with absoluteLifetimeSeconds: get, all, iterate, ids, length and sessionsOf see the live session only', async (ctx) => {
  const corrupt: Array<unknown> = []
  const store = createRedisStore(ctx.client, { ownerOf, absoluteLifetimeSeconds: 3600 })
  store.on('corrupt', (e) => corrupt.push(e))
  await seed(ctx, store)
  assert.equal(await reads(store), {
    get: ['live'],
    all: ['live'],
    iterate: ['live'],
    ids: ['live'],
    length: 1,
    sessionsOf: ['live']
  })
  assert.ok(corrupt.length > 0, 'the corrupt value was reported')
})

it('without it: the stamp is no end; ids and length, which read no values, count the corrupt value', async (ctx) => {
  const store = createRedisStore(ctx.client, { ownerOf })
  store.on('corrupt', () => undefined)
  await seed(ctx, store)
  assert.equal(await reads(store), {
    get: ['live', 'old'],
    all: ['live', 'old'],
    iterate: ['live', 'old'],
    ids: ['bad', 'live', 'old'],
    length: 3,
    sessionsOf: ['live', 'old']
  })
})

it.run()
