/**
 * Under @fastify/session (Fastify 5, @fastify/cookie), our store on a real redis-server: @fastify/session saves on
 * every request by default (`rolling: true`), and copies each session it loads into an object of its own, field by
 * field. 50 requests that change nothing send no `SET` (each renews the TTL with `GETEX`), a request that changes
 * the session is written, and the stored value keeps its data.
 */
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify, { type FastifyInstance } from 'fastify'
import { createClient } from 'redis'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createRedisStore } from '../../src'
import { callsDuring } from '../helpers'
import { httpClient } from '../support/http'
import { startRedis, type RedisServer } from '../support/redis-server'

type Client = ReturnType<typeof createClient>

const COOKIE_NAME = 'sessionId'
const TIMEOUT_MS = 15_000

interface Ctx {
  redis: RedisServer
  client: Client
  app: FastifyInstance
  port: number
  http: ReturnType<typeof httpClient>
}

const it = suite<Ctx>('e2e @fastify/session: unchanged sessions are not rewritten')

it.before(async (ctx) => {
  ctx.redis = await startRedis()
  ctx.client = createClient({ url: ctx.redis.url })
  await ctx.client.connect()
  const store = createRedisStore(ctx.client, { prefix: 'fz:' })
  const app = Fastify()
  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    secret: 'a fastify session secret of 32+ chars',
    store: store as never,
    cookieName: COOKIE_NAME,
    cookie: { secure: false, maxAge: 600_000 },
    saveUninitialized: false
  })
  app.post('/login', async (req) => {
    req.session.set('user' as never, 'alice' as never)
    return { ok: true }
  })
  app.post('/visit', async (req) => {
    const n = Number(req.session.get('visits' as never) ?? 0) + 1
    req.session.set('visits' as never, n as never)
    return { visits: n }
  })
  app.get('/me', async (req) => ({ user: req.session.get('user' as never) ?? null }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  ctx.app = app
  ctx.port = (app.server.address() as { port: number }).port
  ctx.http = httpClient(COOKIE_NAME)
})
it.after(async (ctx) => {
  await ctx.app?.close()
  ctx.http?.closeAgent()
  await ctx.client?.close()
  await ctx.redis?.stop()
})

it('50 requests that change nothing send no SET and renew the TTL; a change is written', async (ctx) => {
  const login = await ctx.http.send(ctx.port, 'POST', '/login', undefined, TIMEOUT_MS)
  assert.is(login.status, 200)
  const cookie = login.cookie as string
  assert.ok(cookie, 'a session cookie')
  const [key] = (await ctx.client.keys('fz:*')) as Array<string>
  assert.ok(key !== undefined)
  const value = await ctx.client.get(key)
  const sent = await callsDuring(ctx.client, ['set', 'getex'], async () => {
    for (let i = 0; i < 50; i++) {
      const me = await ctx.http.send(ctx.port, 'GET', '/me', cookie, TIMEOUT_MS)
      assert.is(me.body['user'], 'alice')
    }
  })
  console.log(`  [fastify-session] 50 unchanged requests: ${sent.set} SET, ${sent.getex} GETEX`)
  assert.is(sent.set, 0)
  assert.is(sent.getex, 50)
  assert.is(await ctx.client.get(key), value, 'the stored value is the one written at login')
  assert.ok((await ctx.client.pTTL(key)) > 590_000, 'the TTL was renewed')
  const changed = await callsDuring(ctx.client, ['set'], async () => {
    const visit = await ctx.http.send(ctx.port, 'POST', '/visit', cookie, TIMEOUT_MS)
    assert.equal(visit.body, { visits: 1 })
  })
  assert.is(changed.set, 1, 'a change is written')
  const stored = JSON.parse(String(await ctx.client.get(key))) as Record<string, unknown>
  assert.equal([stored['user'], stored['visits']], ['alice', 1])
})

it.run()
