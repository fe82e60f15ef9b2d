/**
 * Absolute lifetime end to end: real Express 5 + express-session 1.19 over HTTP, our store with
 * `absoluteLifetimeSeconds: 2` on a real redis-server, a cookie of a minute with `rolling: true`. A user who
 * keeps making requests (each renews the cookie: a touch, or a save when the session changed) is logged out at
 * creation + 2 s all the same; the same user on a store without the option stays logged in (the check can fail).
 * A regenerated session (a new id, as after a login) starts its own lifetime.
 */
import express from 'express'
import session from 'express-session'
import { createClient } from 'redis'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createRedisStore } from '../../src'
import { startRedis, type RedisServer } from '../support/redis-server'
import { closeAgent, request, serve, sidOfCookie, sleep, type Reply, type Served } from './harness'

type Client = ReturnType<typeof createClient>

const LIFETIME_MS = 2_000
/** Answers within this much of the end may go either way (a request in flight, a loaded machine). */
const MARGIN_MS = 300

const cookieOf = (reply: Reply): string => {
  assert.ok(reply.cookie, `expected a session cookie, got status ${reply.status} ${JSON.stringify(reply.body)}`)
  return reply.cookie as string
}

const lifetime = suite('e2e: absoluteLifetimeSeconds')
let redis: RedisServer
let client: Client
let limited: Served
let unlimited: Served

lifetime.before(async () => {
  redis = await startRedis()
  client = createClient({ url: redis.url })
  await client.connect()
  const app = (prefix: string, absoluteLifetimeSeconds?: number) =>
    serve({
      express,
      session,
      store: createRedisStore(client, {
        prefix,
        ...(absoluteLifetimeSeconds === undefined ? {} : { absoluteLifetimeSeconds })
      }),
      resave: false,
      rolling: true,
      cookie: { maxAge: 60_000 }
    })
  limited = await app('limited:', LIFETIME_MS / 1000)
  unlimited = await app('unlimited:')
})

lifetime.after(async () => {
  await limited?.close()
  await unlimited?.close()
  closeAgent()
  await client?.close()
  await redis?.stop()
})

interface Walk {
  /** Answers that came back before `end - MARGIN_MS`, and how many of them saw the user. */
  readonly before: number
  readonly loggedInBefore: number
  /** Answers sent after the end, and how many of them saw the user. */
  readonly after: number
  readonly loggedInAfter: number
  /** The largest `PTTL` seen past `end - now` (ms); `<= 0` means the key never outlived the end. */
  readonly overshootMs: number
}

/** An active user: a request every 100 ms (alternately a touch and a save) until `end + 1 s`. */
const walk = async (port: number, prefix: string, cookie: string, end: number): Promise<Walk> => {
  const sid = sidOfCookie(cookie)
  let [before, loggedInBefore, after, loggedInAfter, overshootMs] = [0, 0, 0, 0, -Infinity]
  for (let i = 0; Date.now() < end + 1_000; i++) {
    const sent = Date.now()
    const reply = await request(port, 'GET', i % 2 === 0 ? '/me' : '/slow?modify=1', cookie)
    const answered = Date.now()
    assert.is(reply.status, 200)
    const loggedIn = reply.body['user'] === 'alice'
    if (answered < end - MARGIN_MS) [before, loggedInBefore] = [before + 1, loggedInBefore + Number(loggedIn)]
    if (sent > end) [after, loggedInAfter] = [after + 1, loggedInAfter + Number(loggedIn)]
    const checked = Date.now()
    // The session's TTL, read atomically with the key's type: a save that crosses the end destroys the session and
    // leaves a tombstone (a hash, for concurrencyGraceSeconds), which is no session and may outlive the end.
    const [type, pttl] = (await client
      .multi()
      .type(prefix + sid)
      .pTTL(prefix + sid)
      .exec()) as unknown as [string, number]
    if (type === 'string' && pttl > 0) overshootMs = Math.max(overshootMs, pttl - (end - checked))
    await sleep(100)
  }
  return { before, loggedInBefore, after, loggedInAfter, overshootMs }
}

const login = async (port: number): Promise<string> => {
  const reply = await request(port, 'POST', '/login')
  assert.is(reply.status, 200)
  return cookieOf(reply)
}

const createdAtOf = async (key: string): Promise<number> => {
  const stored = JSON.parse((await client.get(key)) ?? 'null') as Record<string, unknown> | null
  assert.type(stored?.['__createdAt'], 'number', `${key} is stamped`)
  return stored?.['__createdAt'] as number
}

lifetime('an active user is logged out at creation + 2 s; the key never outlives that end', async () => {
  const cookie = await login(limited.port)
  const end = (await createdAtOf('limited:' + sidOfCookie(cookie))) + LIFETIME_MS
  const w = await walk(limited.port, 'limited:', cookie, end)
  assert.ok(w.before >= 5, `enough requests before the end (${w.before})`)
  assert.is(w.loggedInBefore, w.before, 'logged in until the end')
  assert.ok(w.after >= 3, `requests after the end (${w.after})`)
  assert.is(w.loggedInAfter, 0, 'logged out after it, however active')
  assert.ok(w.overshootMs <= 5, `the TTL was capped at the end (largest overshoot ${w.overshootMs} ms)`)
  const left = await client.type('limited:' + sidOfCookie(cookie))
  assert.ok(left === 'none' || left === 'hash', `the session is gone from Redis (the key is ${left})`)
})

lifetime('control: the same user on a store without the option stays logged in', async () => {
  const cookie = await login(unlimited.port)
  const w = await walk(unlimited.port, 'unlimited:', cookie, Date.now() + LIFETIME_MS)
  assert.ok(w.after >= 3)
  assert.is(w.loggedInAfter, w.after, 'still logged in past 2 s')
  assert.ok(w.overshootMs > 50_000, 'the cookie of a minute sets the TTL')
})

lifetime('a regenerated session starts its own lifetime', async () => {
  const cookie = await login(limited.port)
  const first = await createdAtOf('limited:' + sidOfCookie(cookie))
  await sleep(1_000)
  const regenerated = await request(limited.port, 'POST', '/regenerate', cookie)
  const renewed = cookieOf(regenerated)
  const second = await createdAtOf('limited:' + sidOfCookie(renewed))
  assert.ok(second - first >= 1_000, 'a fresh creation time')
  await sleep(Math.max(0, first + LIFETIME_MS + 100 - Date.now()))
  const me = await request(limited.port, 'GET', '/me', renewed)
  assert.is(me.body['user'], 'alice', 'logged in past the end of the session it replaced')
  const w = await walk(limited.port, 'limited:', renewed, second + LIFETIME_MS)
  assert.is(w.loggedInBefore, w.before)
  assert.is(w.loggedInAfter, 0)
})

lifetime.run()
