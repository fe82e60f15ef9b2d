/**
 * The README's advice for critical writes (login, privilege changes), over HTTP: real Express 5 +
 * express-session 1.19, our store on a real redis-server, `maxPayloadBytes` at its default (1 MiB).
 *
 * The old advice, `await req.session.save()`, waits for nothing: `save()` returns the session, not a promise,
 * and express-session swallows the store's error of a `save()` without callback. A login whose session is too
 * large then answers 200 with nothing stored. `await saveSession(req)` rejects with the store's error instead
 * (500 `ESESSION_TOO_LARGE`), and once it resolves the session is in Redis. `regenerateSession` and
 * `destroySession` are the same promises over `req.session.regenerate` / `destroy`.
 */
import express, { type NextFunction, type Request, type Response } from 'express'
import session, { type SessionData } from 'express-session'
import type { IncomingMessage, ServerResponse } from 'http'
import { createClient } from 'redis'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createRedisStore, destroySession, regenerateSession, saveSession, type RedisSessionStore } from '../../src'
import { httpClient, listen, sidOfCookie, type HttpReply, type Listening } from '../support/http'
import { startRedis, type RedisServer } from '../support/redis-server'

type Client = ReturnType<typeof createClient>

const PREFIX = 'sessions:'
const COOKIE_NAME = 'advice.sid'
const TIMEOUT_MS = 15_000
/** 2 MB of session data: over the default maxPayloadBytes (1 MiB). */
const LARGE = 'x'.repeat(2_000_000)

/** The session fields the routes use, read without augmenting express-session's global `SessionData`. */
interface Fields {
  user?: string | undefined
  blob?: string | undefined
}
const fields = (req: Request): Fields => req.session as unknown as Fields

const codeOf = (e: unknown): unknown => (e as { code?: unknown } | undefined)?.code

interface App {
  readonly listening: Listening
  readonly store: RedisSessionStore
  /** Codes of the errors express-session handed to `next(err)` after the response had been sent. */
  readonly lateErrors: Array<unknown>
}

/**
 * Routes (Express 5 forwards a rejected async handler to the error handler, which answers 500 `{ code, message, sid }`):
 * - `POST /login-old-advice`  user + 2 MB, `await req.session.save()`; replies `{ sid, thenable }`
 *   (`thenable`: whether save() returned something an await could wait for)
 * - `POST /login-large`       user + 2 MB, `await saveSession(req)`; replies `{ sid }`
 * - `POST /login`             user, `await saveSession(req)`, then reads it back through the store; replies
 *                             `{ sid, saved, stored }` (`saved`: store.set had called back by then)
 * - `GET  /me`                replies `{ sid, user }` (`null` when logged out)
 * - `POST /regenerate`        `await regenerateSession(req)`, carries the user over, `await saveSession(req)`;
 *                             replies `{ old, oldDestroyed, sid, oldStored, newStored }` as read through the store
 * - `POST /logout`            `await destroySession(req)`; replies `{ destroyed, done, stored, hasSession }`
 */
const makeApp = async (client: Client): Promise<App> => {
  const store = createRedisStore(client)
  const lateErrors: Array<unknown> = []
  // Session ids whose store.set has called back: a read-back on the same connection would see a SET that was
  // merely sent (Redis answers in order), so this is what tells "saved" from "on its way".
  // Same for store.destroy (regenerate and logout).
  const setsDone = new Set<string>()
  const destroysDone = new Set<string>()
  type Cb = (err?: unknown) => void
  const writable = store as unknown as {
    set: (sid: string, sess: SessionData, cb?: Cb) => unknown
    destroy: (sid: string, cb?: Cb) => unknown
  }
  const set = writable.set.bind(store)
  const destroy = writable.destroy.bind(store)
  const noting =
    (done: Set<string>, sid: string, cb: Cb | undefined): Cb =>
    (err) => {
      if (err === undefined || err === null) done.add(sid)
      cb?.(err)
    }
  writable.set = (sid, sess, cb) => set(sid, sess, noting(setsDone, sid, cb))
  writable.destroy = (sid, cb) => destroy(sid, noting(destroysDone, sid, cb))
  const app = express()
  app.use(session({ store, secret: 'save advice', name: COOKIE_NAME, resave: false, saveUninitialized: false }))

  app.post('/login-old-advice', async (req: Request, res: Response) => {
    fields(req).user = 'alice'
    fields(req).blob = LARGE
    // The old README advice, `await req.session.save()`, in two steps to look at what save() returns.
    const returned: unknown = req.session.save()
    await returned
    res.json({ sid: req.sessionID, thenable: typeof (returned as { then?: unknown } | undefined)?.then === 'function' })
  })
  app.post('/login-large', async (req: Request, res: Response) => {
    fields(req).user = 'alice'
    fields(req).blob = LARGE
    await saveSession(req)
    res.json({ sid: req.sessionID })
  })
  app.post('/login', async (req: Request, res: Response) => {
    fields(req).user = 'alice'
    await saveSession(req)
    const saved = setsDone.has(req.sessionID)
    res.json({ sid: req.sessionID, saved, stored: await store.access.get(req.sessionID) })
  })
  app.get('/me', (req: Request, res: Response) => {
    res.json({ sid: req.sessionID, user: fields(req).user ?? null })
  })
  app.post('/regenerate', async (req: Request, res: Response) => {
    const old = req.sessionID
    const user = fields(req).user
    await regenerateSession(req)
    const oldDestroyed = destroysDone.has(old)
    fields(req).user = user
    await saveSession(req)
    res.json({
      old,
      oldDestroyed,
      sid: req.sessionID,
      oldStored: await store.access.get(old),
      newStored: await store.access.get(req.sessionID)
    })
  })
  app.post('/logout', async (req: Request, res: Response) => {
    const sid = req.sessionID
    await destroySession(req)
    res.json({
      destroyed: sid,
      done: destroysDone.has(sid),
      stored: await store.access.get(sid),
      hasSession: req.session !== undefined
    })
  })
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) {
      lateErrors.push(codeOf(err))
      return
    }
    res.status(500).json({
      code: codeOf(err) ?? null,
      message: err instanceof Error ? err.message : String(err),
      sid: req.sessionID ?? null
    })
  })
  // express-session hands a save that failed at the end of the response to next(err) after the error handler
  // above may already have run: record it here rather than let Express's final handler log it and destroy the
  // keep-alive socket.
  const done =
    (req: Request, res: Response) =>
    (err?: unknown): void => {
      if (err !== undefined && err !== null) lateErrors.push(codeOf(err) ?? String(err))
      if (!res.headersSent) res.status(err ? 500 : 404).json({ code: codeOf(err) ?? null, sid: req.sessionID ?? null })
    }
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    app(req as Request, res as Response, done(req as Request, res as Response))
  }

  return { listening: await listen(handler), store, lateErrors }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

interface Ctx {
  redis: RedisServer
  client: Client
  app: App
  http: ReturnType<typeof httpClient>
}

const it = suite<Ctx>('e2e save advice: critical writes are awaited for real')

it.before(async (ctx) => {
  ctx.redis = await startRedis()
  ctx.client = createClient({ url: ctx.redis.url })
  await ctx.client.connect()
  ctx.app = await makeApp(ctx.client)
  ctx.http = httpClient(COOKIE_NAME)
})
it.after(async (ctx) => {
  await ctx.app?.listening.close()
  ctx.http?.closeAgent()
  await ctx.client?.close()
  await ctx.redis?.stop()
})
it.before.each((ctx) => {
  ctx.app.lateErrors.length = 0
})

const send = (ctx: Ctx, method: 'GET' | 'POST', path: string, cookie?: string): Promise<HttpReply> =>
  ctx.http.send(ctx.app.listening.port, method, path, cookie, TIMEOUT_MS)

const login = async (ctx: Ctx): Promise<{ readonly cookie: string; readonly sid: string }> => {
  const reply = await send(ctx, 'POST', '/login')
  assert.is(reply.status, 200, JSON.stringify(reply.body))
  assert.ok(reply.cookie, 'a session cookie')
  const cookie = reply.cookie as string
  return { cookie, sid: sidOfCookie(cookie) }
}

it('the trap: `await req.session.save()` waits for nothing, so a too-large login answers 200 with nothing stored', async (ctx) => {
  const reply = await send(ctx, 'POST', '/login-old-advice')
  assert.is(reply.status, 200, 'the client is told it is logged in')
  assert.is(reply.body['thenable'], false, 'save() returned no promise: the await waited for nothing')
  assert.ok(reply.cookie, 'and gets a session cookie')
  const sid = sidOfCookie(reply.cookie as string)
  assert.is(reply.body['sid'], sid)
  assert.is(await ctx.client.exists(PREFIX + sid), 0, 'nothing was stored for that session id')
  assert.is(await ctx.app.store.access.get(sid), null)
  const me = await send(ctx, 'GET', '/me', reply.cookie)
  assert.is(me.body['user'], null, 'the next request is not logged in')
  // express-session hands the error of a save() without callback to a no-op, and counts the session as
  // saved, so it does not save again when the response ends: the error reaches nobody, not even next(err).
  await sleep(200)
  assert.equal(ctx.app.lateErrors, [], 'the store error was dropped')
})

it('`await saveSession(req)`: a too-large login answers 500 ESESSION_TOO_LARGE and nothing is stored', async (ctx) => {
  const reply = await send(ctx, 'POST', '/login-large')
  assert.is(reply.status, 500, JSON.stringify(reply.body))
  assert.is(reply.body['code'], 'ESESSION_TOO_LARGE', JSON.stringify(reply.body))
  const sid = reply.body['sid']
  assert.type(sid, 'string')
  assert.is(await ctx.client.exists(PREFIX + String(sid)), 0, 'nothing stored for that session id')
  assert.is(await ctx.app.store.access.get(String(sid)), null)
  assert.equal(await ctx.client.keys(PREFIX + '*'), [], 'nothing stored at all')
  if (reply.cookie !== undefined) assert.is((await send(ctx, 'GET', '/me', reply.cookie)).body['user'], null)
})

it('`await saveSession(req)`: a normal login is in Redis before the response is sent', async (ctx) => {
  const reply = await send(ctx, 'POST', '/login')
  assert.is(reply.status, 200, JSON.stringify(reply.body))
  const sid = sidOfCookie(reply.cookie ?? '')
  assert.is(reply.body['sid'], sid)
  const stored = reply.body['stored'] as { user?: unknown; cookie?: unknown } | null
  assert.is(reply.body['saved'], true, 'store.set had called back when the promise resolved')
  assert.ok(stored, 'read back from inside the route, right after the await')
  assert.is(stored.user, 'alice')
  assert.ok(stored.cookie, 'a whole session, cookie included')
  assert.is(await ctx.client.type(PREFIX + sid), 'string')
  assert.is((await send(ctx, 'GET', '/me', reply.cookie)).body['user'], 'alice')
  assert.equal(ctx.app.lateErrors, [])
})

it('`await regenerateSession(req)`: a new id, the old one a tombstone', async (ctx) => {
  const { cookie, sid } = await login(ctx)
  const reply = await send(ctx, 'POST', '/regenerate', cookie)
  assert.is(reply.status, 200, JSON.stringify(reply.body))
  assert.is(reply.body['old'], sid)
  const fresh = reply.body['sid']
  assert.type(fresh, 'string')
  assert.ok(fresh !== sid, 'a new session id')
  assert.ok(reply.cookie, 'a new cookie')
  assert.is(sidOfCookie(reply.cookie as string), fresh)
  assert.is(reply.body['oldDestroyed'], true, 'store.destroy of the old id had called back when the promise resolved')
  assert.is(reply.body['oldStored'], null, 'the old id is gone once the promise resolved')
  assert.is((reply.body['newStored'] as { user?: unknown } | null)?.user, 'alice', 'the new one is stored')
  assert.is(await ctx.client.type(PREFIX + sid), 'hash', 'the old key is a tombstone')
  assert.is(await ctx.app.store.access.get(sid), null)
  assert.is((await send(ctx, 'GET', '/me', cookie)).body['user'], null, 'the old cookie no longer logs in')
  assert.is((await send(ctx, 'GET', '/me', reply.cookie)).body['user'], 'alice', 'the new cookie does')
})

it('`await destroySession(req)`: the session is removed before the response', async (ctx) => {
  const { cookie, sid } = await login(ctx)
  const reply = await send(ctx, 'POST', '/logout', cookie)
  assert.is(reply.status, 200, JSON.stringify(reply.body))
  assert.equal(
    reply.body,
    { destroyed: sid, done: true, stored: null, hasSession: false },
    'store.destroy had called back when the promise resolved'
  )
  assert.is(await ctx.client.type(PREFIX + sid), 'hash', 'a tombstone')
  assert.is(await ctx.app.store.access.get(sid), null)
  assert.is((await send(ctx, 'GET', '/me', cookie)).body['user'], null)
})

it('without req.session each helper rejects with ESESSION_NO_SESSION', async () => {
  const helpers = [
    ['saveSession', saveSession],
    ['regenerateSession', regenerateSession],
    ['destroySession', destroySession]
  ] as const
  for (const [name, helper] of helpers) {
    assert.type(helper, 'function', `${name} is exported from the package root`)
    const fake = {} as unknown as Parameters<typeof helper>[0]
    const outcome = await helper(fake).then(
      () => 'resolved',
      (e: unknown) => e
    )
    assert.instance(outcome, Error, `${name} rejects with an Error`)
    assert.is(codeOf(outcome), 'ESESSION_NO_SESSION', name)
  }
})

it.run()
