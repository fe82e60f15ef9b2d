/**
 * Two requests of one session at once, over HTTP: real Express 5 + express-session 1.19, our store on a real
 * redis-server. `/cart` sets `cart`, `/theme` sets `theme`; both wait until the other has loaded the session
 * (a rendezvous per session id), then answer, and express-session saves each at the end of its response.
 *
 * - `'overwrite'` (the default, every session store's behaviour): the later save erases the earlier change.
 * - `'merge'`: both changes survive, in every session.
 * - the same field changed by both: `'merge'` keeps one of the two values whole; `'fail'` answers one of the two
 *   `ESESSION_CONFLICT` (through `await saveSession(req)`, a 409 here).
 * - `resave: true`, `rolling: true`: 50 requests that change nothing send no `SET` (each renews the TTL instead).
 */
import express, { type NextFunction, type Request, type Response } from 'express'
import session from 'express-session'
import { createClient } from 'redis'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createRedisStore, rotateSession, saveSession, type StoreOptions } from '../../src'
import { callsDuring } from '../helpers'
import { httpClient, listen, sidOfCookie, type Listening } from '../support/http'
import { startRedis, type RedisServer } from '../support/redis-server'

type Client = ReturnType<typeof createClient>

const COOKIE_NAME = 'race.sid'
const TIMEOUT_MS = 15_000
const SESSIONS = 20

interface Fields {
  user?: string
  cart?: ReadonlyArray<string>
  theme?: string
  pick?: string
}
const fields = (req: Request): Fields => req.session as unknown as Fields

/** Resolves once `n` requests of one session id have arrived: each has loaded its session by then. */
const rendezvous = (n: number) => {
  const waiting = new Map<string, Array<() => void>>()
  return (sid: string): Promise<void> =>
    new Promise((resolve) => {
      const here = [...(waiting.get(sid) ?? []), resolve]
      if (here.length < n) return void waiting.set(sid, here)
      waiting.delete(sid)
      here.forEach((go) => go())
    })
}

const codeOf = (e: unknown): unknown => (e as { code?: unknown } | undefined)?.code

const makeApp = async (client: Client, options: StoreOptions, session_: { resave: boolean; rolling: boolean }) => {
  const store = createRedisStore(client, options)
  const both = rendezvous(2)
  const app = express()
  app.use(
    session({
      store,
      secret: 'race',
      name: COOKIE_NAME,
      saveUninitialized: false,
      cookie: { maxAge: 600_000 },
      ...session_
    })
  )
  app.post('/login', (req: Request, res: Response) => {
    fields(req).user = 'alice'
    res.json({ sid: req.sessionID })
  })
  app.post('/cart', async (req: Request, res: Response) => {
    await both(req.sessionID)
    fields(req).cart = ['apple']
    res.json({})
  })
  app.post('/theme', async (req: Request, res: Response) => {
    await both(req.sessionID)
    fields(req).theme = 'dark'
    res.json({})
  })
  // The same field from two requests, saved before the answer so that a refused save is the answer.
  app.post('/pick/:value', async (req: Request, res: Response) => {
    await both(req.sessionID)
    fields(req).pick = String(req.params['value'])
    await saveSession(req)
    res.json({ saved: true })
  })
  app.post('/rotate', async (req: Request, res: Response) => {
    const old = req.sessionID
    await rotateSession(req)
    res.json({ old, sid: req.sessionID })
  })
  app.get('/me', (req: Request, res: Response) => {
    res.json({ ...fields(req) })
  })
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return
    res.status(codeOf(err) === 'ESESSION_CONFLICT' ? 409 : 500).json({ code: codeOf(err) ?? null })
  })
  return { listening: await listen(app), store }
}

interface Ctx {
  redis: RedisServer
  client: Client
  http: ReturnType<typeof httpClient>
  apps: Array<Listening>
}

const it = suite<Ctx>('e2e concurrent saves: two requests of one session at once')

it.before(async (ctx) => {
  ctx.redis = await startRedis()
  ctx.client = createClient({ url: ctx.redis.url })
  await ctx.client.connect()
  ctx.http = httpClient(COOKIE_NAME)
  ctx.apps = []
})
it.after(async (ctx) => {
  await Promise.all((ctx.apps ?? []).map((a) => a.close()))
  ctx.http?.closeAgent()
  await ctx.client?.close()
  await ctx.redis?.stop()
})

const app = async (ctx: Ctx, options: StoreOptions, resave = false, rolling = false) => {
  const made = await makeApp(ctx.client, { prefix: `race-${ctx.apps.length}:`, ...options }, { resave, rolling })
  ctx.apps.push(made.listening)
  return made
}

const login = async (ctx: Ctx, port: number): Promise<string> => {
  const reply = await ctx.http.send(port, 'POST', '/login', undefined, TIMEOUT_MS)
  assert.is(reply.status, 200)
  assert.ok(reply.cookie, 'a session cookie')
  return reply.cookie as string
}

/** In each of `SESSIONS` sessions, `/cart` and `/theme` at once; how many sessions kept both changes. */
const cartAndTheme = async (ctx: Ctx, port: number): Promise<number> => {
  let kept = 0
  for (let i = 0; i < SESSIONS; i++) {
    const cookie = await login(ctx, port)
    const replies = await Promise.all(
      ['/cart', '/theme'].map((path) => ctx.http.send(port, 'POST', path, cookie, TIMEOUT_MS))
    )
    assert.equal(
      replies.map((r) => r.status),
      [200, 200]
    )
    const me = (await ctx.http.send(port, 'GET', '/me', cookie, TIMEOUT_MS)).body
    assert.is(me['user'], 'alice', 'the login survives')
    if (JSON.stringify(me['cart']) === '["apple"]' && me['theme'] === 'dark') kept++
  }
  return kept
}

it("'overwrite' (default): the later save erases the other's change in every session", async (ctx) => {
  const { listening } = await app(ctx, {})
  const kept = await cartAndTheme(ctx, listening.port)
  console.log(`  [concurrent-saves] overwrite: both changes kept in ${kept} of ${SESSIONS} sessions`)
  assert.is(kept, 0)
})

it("'merge': both changes survive in every session", async (ctx) => {
  const { listening } = await app(ctx, { concurrentSaves: 'merge' })
  const kept = await cartAndTheme(ctx, listening.port)
  console.log(`  [concurrent-saves] merge: both changes kept in ${kept} of ${SESSIONS} sessions`)
  assert.is(kept, SESSIONS)
})

it("the same field from both: 'merge' keeps one whole value; 'fail' refuses one save with ESESSION_CONFLICT", async (ctx) => {
  for (const mode of ['merge', 'fail'] as const) {
    const { listening } = await app(ctx, { concurrentSaves: mode })
    const port = listening.port
    for (let i = 0; i < 5; i++) {
      const cookie = await login(ctx, port)
      const replies = await Promise.all(
        ['one', 'two'].map((v) => ctx.http.send(port, 'POST', `/pick/${v}`, cookie, TIMEOUT_MS))
      )
      const statuses = replies.map((r) => r.status).sort()
      const me = (await ctx.http.send(port, 'GET', '/me', cookie, TIMEOUT_MS)).body
      assert.ok(
        me['pick'] === 'one' || me['pick'] === 'two',
        `${mode}: one of the two values, got ${String(me['pick'])}`
      )
      assert.is(me['user'], 'alice')
      if (mode === 'merge') assert.equal(statuses, [200, 200])
      else {
        assert.equal(statuses, [200, 409], 'fail: one save refused')
        const refused = replies.find((r) => r.status === 409)
        assert.is(refused?.body['code'], 'ESESSION_CONFLICT')
        const winner = replies.findIndex((r) => r.status === 200)
        assert.is(me['pick'], ['one', 'two'][winner], 'fail: the value of the save that was answered')
      }
    }
  }
})

it('resave: true, rolling: true: 50 requests that change nothing send no SET, and renew the TTL', async (ctx) => {
  const { listening } = await app(ctx, {}, true, true)
  const cookie = await login(ctx, listening.port)
  const sid = sidOfCookie(cookie)
  const key = `race-${ctx.apps.length - 1}:${sid}`
  const value = await ctx.client.get(key)
  const sent = await callsDuring(ctx.client, ['set', 'getex'], async () => {
    for (let i = 0; i < 50; i++) {
      const me = await ctx.http.send(listening.port, 'GET', '/me', cookie, TIMEOUT_MS)
      assert.is(me.body['user'], 'alice')
    }
  })
  console.log(`  [concurrent-saves] resave + rolling, 50 unchanged requests: ${sent.set} SET, ${sent.getex} GETEX`)
  assert.is(sent.set, 0)
  assert.is(sent.getex, 50)
  assert.is(await ctx.client.get(key), value, 'the stored value is the one written at login')
  const ttl = await ctx.client.pTTL(key)
  assert.ok(ttl > 590_000, `the TTL was renewed (${ttl} ms left of 600 000)`)
})

it('rotateSession: a new id keeps the data, the old cookie stops working, the old id is a tombstone', async (ctx) => {
  const { listening, store } = await app(ctx, { concurrentSaves: 'merge' })
  const port = listening.port
  const cookie = await login(ctx, port)
  const old = sidOfCookie(cookie)
  const rotated = await ctx.http.send(port, 'POST', '/rotate', cookie, TIMEOUT_MS)
  assert.is(rotated.status, 200, JSON.stringify(rotated.body))
  assert.ok(rotated.cookie, 'a new session cookie')
  const sid = sidOfCookie(rotated.cookie as string)
  assert.equal(rotated.body, { old, sid })
  assert.is.not(sid, old)
  assert.is((await ctx.http.send(port, 'GET', '/me', rotated.cookie, TIMEOUT_MS)).body['user'], 'alice')
  assert.is((await ctx.http.send(port, 'GET', '/me', cookie, TIMEOUT_MS)).body['user'], undefined, 'old cookie')
  assert.is(await ctx.client.type(`race-${ctx.apps.length - 1}:${old}`), 'hash', 'the old id holds a tombstone')
  // A request still in flight with the old id cannot save it back.
  const late = { cookie: { expires: new Date(Date.now() + 60_000), originalMaxAge: 60_000 }, user: 'alice' }
  assert.is(await store.access.set(old, late as never), 'tombstoned')
})

it.run()
