/**
 * "Your devices" and "log out everywhere" through express 5 and express-session 1.19, with the store's owner index
 * (`ownerOf`) on the in-memory client: three browsers log in as alice, `sessionsOf` lists their sessions, and
 * `destroySessionsOf` logs out all but one — including a browser whose slow request, which loaded the session
 * before the logout, answers (and so saves) after it: its session stays destroyed.
 */
import express from 'express'
import session from 'express-session'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createRedisStore, type RedisSessionStore } from '../../src'
import { createMemoryClient } from '../../src/memory'
import { closeAgent, deferred, request, serve, sidOfCookie, type Served } from './harness'

const it = suite<{ app: Served; store: RedisSessionStore }>('e2e: log out everywhere (ownerOf)')

it.before(async (ctx) => {
  ctx.store = createRedisStore(createMemoryClient(), {
    ownerOf: (s) => (s as unknown as { user?: string }).user,
    checkEvictionPolicy: false
  })
  ctx.app = await serve({ express, session, store: ctx.store, resave: true, cookie: { maxAge: 60_000 } })
})
it.after(async (ctx) => {
  await ctx.app.close()
  closeAgent()
})

const login = async (port: number): Promise<{ readonly cookie: string; readonly sid: string }> => {
  const reply = await request(port, 'POST', '/login')
  const cookie = reply.cookie
  assert.ok(cookie !== undefined, 'login sets the session cookie')
  return { cookie, sid: sidOfCookie(cookie) }
}

it('sessionsOf lists every browser of alice; destroySessionsOf logs out all but this one', async ({ app, store }) => {
  const [here, phone, tablet] = [await login(app.port), await login(app.port), await login(app.port)]
  assert.equal(
    (await store.access.sessionsOf('alice')).map((s) => s.id).sort(),
    [here.sid, phone.sid, tablet.sid].sort()
  )
  // The tablet's slow request has read its session; it answers (and express-session saves it) after the logout.
  const entered = deferred()
  const proceed = deferred()
  app.hooks.slowEntered = () => {
    entered.resolve()
    return proceed.promise
  }
  const slow = request(app.port, 'GET', '/slow?trial=t&delay=0&modify=1', tablet.cookie)
  await entered.promise
  assert.is(await store.access.destroySessionsOf('alice', { except: here.sid }), 2)
  proceed.resolve()
  assert.is((await slow).body['user'], 'alice', 'the slow request had loaded the session before the logout')

  assert.is((await request(app.port, 'GET', '/me', here.cookie)).body['user'], 'alice')
  for (const other of [phone, tablet])
    assert.is((await request(app.port, 'GET', '/me', other.cookie)).body['user'], null, 'logged out')
  assert.equal(
    (await store.access.sessionsOf('alice')).map((s) => s.id),
    [here.sid]
  )
  assert.is(await store.access.get(tablet.sid), null, "the slow request's save did not bring the session back")
})

it.run()
