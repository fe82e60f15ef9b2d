/**
 * Switching from connect-redis loses no logged-in user.
 *
 * Sessions are written by connect-redis 10 (its default `sess:` prefix, one JSON string per session, `EX`
 * seconds from `cookie.expires` or its `ttl` fallback) on a real redis-server, then read, counted, touched,
 * rewritten and destroyed through our store opened with `prefix: 'sess:'` on the same Redis. Then the
 * connect-redis option names on our store (`ttl` number or function, `disableTTL`, unknown names), and the
 * switch end to end over HTTP: log in through an app on connect-redis, replace its store by ours, and the
 * old cookie still logs in, the counter keeps counting, and logout through ours ends the session.
 */
import { randomBytes } from 'crypto'
import type { Request } from 'express'
import express from 'express'
import session, { type SessionData } from 'express-session'
import { RedisStore as ConnectRedisStore } from 'connect-redis'
import { createClient } from 'redis'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createRedisStore, RedisStore, type RedisSessionStore, type RedisStoreOptions } from '../../src'
import { startRedis, type RedisServer } from '../support/redis-server'
import { closeAgent, request, serve, sidOfCookie, sleep, type Served } from '../e2e/harness'

type Client = ReturnType<typeof createClient>
type StoreOptionsArg = NonNullable<Parameters<typeof createRedisStore>[1]>

const PREFIX = 'sess:'
const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000

/** The session fields these specs use, read without augmenting express-session's global `SessionData`. */
interface User {
  readonly id: number
  readonly name: string
  readonly role: 'admin' | 'member'
}
interface Fields {
  user?: User | undefined
  counter?: number | undefined
}
const fieldsOf = (s: unknown): Fields => (s ?? {}) as Fields

/** An id as express-session makes them (uid-safe, 24 bytes): 32 characters of base64url. */
const newSid = (): string => randomBytes(24).toString('base64url')

/** express-session's `Cookie` takes its options in the constructor; its types declare no constructor. */
const Cookie = session.Cookie as unknown as new (options: session.CookieOptions) => session.Cookie

/**
 * A session as express-session hands it to a store: a real `Cookie` (`maxAge` → `expires` in the future;
 * `null` → a browser-session cookie, `expires: null`) and a logged-in user.
 */
const sessionOf = (maxAgeMs: number | null, user: User, counter = 0): SessionData =>
  ({
    cookie: new Cookie(
      maxAgeMs === null
        ? { httpOnly: true, path: '/', sameSite: 'lax' }
        : { maxAge: maxAgeMs, httpOnly: true, path: '/', sameSite: 'lax' }
    ),
    user,
    counter
  } as unknown as SessionData)

const alice: User = { id: 1, name: 'alice', role: 'member' }
const bob: User = { id: 2, name: 'bob', role: 'admin' }
const carol: User = { id: 3, name: 'carol', role: 'member' }

/** The `expires` a session's cookie carries, as epoch ms (`null` for a browser-session cookie). */
const expiresMs = (s: SessionData): number | null => {
  const e = (s.cookie as { expires?: Date | string | null }).expires
  return e === null || e === undefined ? null : new Date(e).getTime()
}

/** What express-session does with a session a store returns: `createSession` turns `cookie.expires` into a `Date`. */
const load = (store: RedisSessionStore, sid: string, stored: SessionData): SessionData =>
  store.createSession({ sessionID: sid } as unknown as Request, JSON.parse(JSON.stringify(stored)) as SessionData)

/** What `f` throws, or `undefined` when it returns. */
const thrownBy = (f: () => unknown): unknown => {
  try {
    f()
    return undefined
  } catch (e) {
    return e
  }
}
const describe = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : `no error (${String(e)})`)

const codeOf = (e: unknown): unknown => (e as { code?: unknown } | undefined)?.code

interface Ctx {
  server: RedisServer
  client: Client
  theirs: ConnectRedisStore
  ours: RedisSessionStore
}

const pttl = (ctx: Ctx, key: string): Promise<number> => ctx.client.pTTL(key)

/** Asserts `lo < value <= hi`. */
const within = (value: number, lo: number, hi: number, what: string): void => {
  assert.ok(value > lo && value <= hi, `${what}: ${value} not in (${lo}, ${hi}]`)
}

const open = (name: string) => {
  const it = suite<Ctx>(name)
  it.before(async (ctx) => {
    ctx.server = await startRedis()
    ctx.client = createClient({ url: ctx.server.url })
    await ctx.client.connect()
  })
  it.after(async (ctx) => {
    await ctx.client?.close()
    await ctx.server?.stop()
  })
  it.before.each(async (ctx) => {
    await ctx.client.flushAll()
    ctx.theirs = new ConnectRedisStore({ client: ctx.client })
    ctx.ours = createRedisStore(ctx.client, { prefix: PREFIX })
  })
  return it
}

// --- 1. sessions written by connect-redis, served by our store

const read = open('connect-redis → ours: the sessions connect-redis wrote')

read(
  'get returns each session with its user, and cookie.expires as the Date written, to the millisecond',
  async (ctx) => {
    const written: ReadonlyArray<readonly [string, SessionData]> = [
      [newSid(), sessionOf(HOUR_MS, alice, 3)],
      [newSid(), sessionOf(HOUR_MS, bob, 7)],
      [newSid(), sessionOf(null, carol)] // browser-session cookie: connect-redis used its ttl fallback (86400 s)
    ]
    for (const [sid, s] of written) await ctx.theirs.set(sid, s)
    for (const [sid, s] of written) {
      assert.is(
        await ctx.client.type(PREFIX + sid),
        'string',
        'connect-redis layout: one string per session at sess:<sid>'
      )
      const got = await ctx.ours.access.get(sid)
      assert.ok(got, `our store finds the session connect-redis wrote for ${fieldsOf(s).user?.name}`)
      assert.equal(fieldsOf(got).user, fieldsOf(s).user)
      assert.is(fieldsOf(got).counter, fieldsOf(s).counter)
      assert.is(got.cookie.originalMaxAge, s.cookie.originalMaxAge)
      assert.equal(await ctx.ours.get(sid), got, 'the express-session get answers the same session')
      const loaded = load(ctx.ours, sid, got)
      const want = expiresMs(s)
      if (want === null) {
        assert.is(loaded.cookie.expires ?? null, null, 'a browser-session cookie stays one')
      } else {
        assert.instance(loaded.cookie.expires, Date)
        assert.is((loaded.cookie.expires as Date).getTime(), want, 'cookie.expires comes back as the Date written')
      }
    }
    // Reads change no TTL: connect-redis's own expiries stand.
    within(
      await pttl(ctx, PREFIX + written[0]![0]),
      HOUR_MS - 5_000,
      HOUR_MS,
      'alice: connect-redis EX from cookie.expires'
    )
    within(await pttl(ctx, PREFIX + written[2]![0]), DAY_MS - 5_000, DAY_MS, 'carol: connect-redis ttl fallback')
  }
)

read('length / ids / all see the sessions connect-redis wrote, and nothing else', async (ctx) => {
  const sids = [newSid(), newSid(), newSid()]
  await ctx.theirs.set(sids[0]!, sessionOf(HOUR_MS, alice))
  await ctx.theirs.set(sids[1]!, sessionOf(HOUR_MS, bob))
  await ctx.theirs.set(sids[2]!, sessionOf(null, carol))
  await ctx.client.set('sessions:' + newSid(), '{"cookie":{"expires":null}}') // our default prefix: not sess:
  await ctx.client.set('other:key', 'x')
  assert.is(await ctx.theirs.length(), 3, 'connect-redis counts 3')
  assert.is(await ctx.ours.access.length(), 3)
  assert.equal([...(await ctx.ours.access.ids())].sort(), [...sids].sort())
  const all = await ctx.ours.access.all()
  assert.equal(Object.keys(all).sort(), [...sids].sort())
  assert.equal(
    sids.map((sid) => fieldsOf(all[sid]).user?.name),
    ['alice', 'bob', 'carol']
  )
})

read('touch renews the TTL connect-redis set, to the new cookie expiry at millisecond precision', async (ctx) => {
  const sid = newSid()
  const s = sessionOf(HOUR_MS, alice)
  await ctx.theirs.set(sid, s)
  const before = await pttl(ctx, PREFIX + sid)
  within(before, HOUR_MS - 5_000, HOUR_MS, 'connect-redis EX')
  // express-session touches with the cookie it recomputed on this request: a later expiry, not whole seconds.
  const renewed = load(ctx.ours, sid, (await ctx.ours.access.get(sid))!)
  const target = 2 * HOUR_MS + 123
  const t0 = Date.now()
  renewed.cookie.expires = new Date(t0 + target)
  assert.is(await ctx.ours.access.touch(sid, renewed), true, 'a live session was renewed')
  const after = await pttl(ctx, PREFIX + sid)
  const elapsed = Date.now() - t0
  assert.ok(after > before, `PTTL grew (${before} → ${after})`)
  within(
    after,
    target - elapsed - 50,
    target,
    'PTTL is the new cookie expiry to the ms (whole seconds would overshoot)'
  )
  assert.equal(fieldsOf(await ctx.ours.access.get(sid)).user, alice, 'touch keeps the value')
})

read('set rewrites a connect-redis session in place, and connect-redis could still read it back', async (ctx) => {
  const sid = newSid()
  await ctx.theirs.set(sid, sessionOf(HOUR_MS, alice, 1))
  const loaded = load(ctx.ours, sid, (await ctx.ours.access.get(sid))!)
  const next = { ...loaded, counter: 2, user: { ...alice, name: 'alice b.' } } as unknown as SessionData
  const t0 = Date.now()
  assert.is(await ctx.ours.access.set(sid, next), 'written')
  assert.is(await ctx.client.type(PREFIX + sid), 'string', 'still one string at sess:<sid>')
  const raw = JSON.parse((await ctx.client.get(PREFIX + sid)) ?? 'null') as Fields & { cookie: { expires: string } }
  assert.is(raw.counter, 2)
  assert.is(raw.user?.name, 'alice b.')
  assert.is(new Date(raw.cookie.expires).getTime(), expiresMs(loaded), 'cookie.expires stored unchanged')
  within(
    await pttl(ctx, PREFIX + sid),
    (expiresMs(loaded) ?? 0) - Date.now() - 50,
    (expiresMs(loaded) ?? 0) - t0,
    'PTTL from cookie.expires'
  )
  const back = (await ctx.theirs.get(sid)) as SessionData | null
  assert.is(fieldsOf(back).counter, 2, 'a rollback to connect-redis reads what ours wrote')
  assert.is(fieldsOf(await ctx.ours.access.get(sid)).counter, 2)
})

read(
  'destroy removes a connect-redis session and leaves a tombstone: a stale copy saved later is refused',
  async (ctx) => {
    const sid = newSid()
    const other = newSid()
    await ctx.theirs.set(sid, sessionOf(HOUR_MS, alice))
    await ctx.theirs.set(other, sessionOf(HOUR_MS, bob))
    const stale = (await ctx.ours.access.get(sid))!
    assert.is(await ctx.ours.access.destroy(sid), true, 'a live session was removed')
    assert.is(await ctx.ours.access.get(sid), null)
    assert.is(await ctx.ours.get(sid), null)
    assert.is(await ctx.client.type(PREFIX + sid), 'hash', 'the key is a tombstone now')
    assert.is(await ctx.ours.access.set(sid, stale), 'tombstoned', 'a request still in flight cannot save it back')
    assert.is(await ctx.ours.access.touch(sid, stale), false)
    assert.is(await ctx.ours.access.get(sid), null, 'still gone')
    assert.is(await ctx.ours.access.length(), 1, 'the tombstone is not a session')
    assert.equal(await ctx.ours.access.ids(), [other])
    assert.equal(fieldsOf(await ctx.ours.access.get(other)).user, bob, 'the other session is untouched')
  }
)

read('a session connect-redis wrote with 2 s left expires on schedule when read through our store', async (ctx) => {
  const sid = newSid()
  const s = sessionOf(2_000, alice)
  const expiresAt = expiresMs(s) ?? 0
  await ctx.theirs.set(sid, s) // EX ceil(2000 ms / 1000) = 2
  within(await pttl(ctx, PREFIX + sid), 0, 2_000, 'connect-redis gave it 2 s')
  assert.equal(fieldsOf(await ctx.ours.access.get(sid)).user, alice)
  assert.equal(fieldsOf(await ctx.ours.get(sid)).user, alice, 'express-session get')
  await sleep(Math.max(0, expiresAt - 800 - Date.now()))
  assert.ok(await ctx.ours.get(sid), 'still there shortly before it expires')
  within(await pttl(ctx, PREFIX + sid), 0, 1_000, 'reading did not extend it')
  await sleep(Math.max(0, expiresAt + 300 - Date.now()))
  assert.is(await ctx.ours.access.get(sid), null, 'gone once its 2 s are over')
  assert.is(await ctx.ours.get(sid), null)
  assert.is(await ctx.client.exists(PREFIX + sid), 0)
  assert.is(await ctx.ours.access.length(), 0)
})

read.run()

// --- 2. connect-redis's option names on our store

const opts = open("connect-redis's options on our store")

/** The `ttl` function of the brief: admins get 60 s, everyone else an hour, whatever their cookie says. */
const byRole = (s: unknown): number => (fieldsOf(s).user?.role === 'admin' ? 60 : 3600)

opts('ttl as a function overrides cookie.expires on set, exactly like connect-redis', async (ctx) => {
  const ours = createRedisStore(ctx.client, { prefix: PREFIX, ttl: (s) => byRole(s) })
  const theirs = new ConnectRedisStore({ client: ctx.client, prefix: 'cr:', ttl: (s) => byRole(s) })
  const cases: ReadonlyArray<readonly [string, SessionData, number]> = [
    ['admin, 1-day cookie', sessionOf(DAY_MS, bob), 60_000],
    ['admin, browser-session cookie', sessionOf(null, bob), 60_000],
    ['member, 10 s cookie', sessionOf(10_000, alice), HOUR_MS],
    ['member, 1-day cookie', sessionOf(DAY_MS, carol), HOUR_MS],
    ['member, browser-session cookie', sessionOf(null, alice), HOUR_MS]
  ]
  for (const [what, s, ms] of cases) {
    const sid = newSid()
    assert.is(await ours.access.set(sid, s), 'written', what)
    await theirs.set(sid, s)
    within(await pttl(ctx, PREFIX + sid), ms - 2_000, ms, `ours, ${what}`)
    within(await pttl(ctx, 'cr:' + sid), ms - 2_000, ms, `connect-redis, ${what}`)
    assert.equal(fieldsOf(await ours.access.get(sid)).user, fieldsOf(s).user)
  }
})

opts('ttl as a function governs touch too, exactly like connect-redis', async (ctx) => {
  const ours = createRedisStore(ctx.client, { prefix: PREFIX, ttl: (s) => byRole(s) })
  const theirs = new ConnectRedisStore({ client: ctx.client, prefix: 'cr:', ttl: (s) => byRole(s) })
  const cases: ReadonlyArray<readonly [string, SessionData, number]> = [
    ['admin', sessionOf(DAY_MS, bob), 60_000],
    ['member', sessionOf(10_000, alice), HOUR_MS]
  ]
  for (const [what, s, ms] of cases) {
    const sid = newSid()
    await ours.access.set(sid, s)
    await theirs.set(sid, s)
    // As if the session had been idle: little time left, then a request comes in and express-session touches.
    await ctx.client.pExpire(PREFIX + sid, 5_000)
    await ctx.client.pExpire('cr:' + sid, 5_000)
    assert.is(await ours.access.touch(sid, s), true, what)
    await ours.touch(sid, s) // the express-session method, as express-session calls it
    await theirs.touch(sid, s)
    within(await pttl(ctx, PREFIX + sid), ms - 2_000, ms, `ours after touch, ${what}`)
    within(await pttl(ctx, 'cr:' + sid), ms - 2_000, ms, `connect-redis after touch, ${what}`)
  }
})

opts('ttl as a number is the fallback for cookies without expiry, like ttlSeconds (and connect-redis)', async (ctx) => {
  const ours = createRedisStore(ctx.client, { prefix: PREFIX, ttl: 120 })
  const theirs = new ConnectRedisStore({ client: ctx.client, prefix: 'cr:', ttl: 120 })
  const browser = newSid()
  const withExpiry = newSid()
  assert.is(await ours.access.set(browser, sessionOf(null, alice)), 'written')
  await theirs.set(browser, sessionOf(null, alice))
  within(await pttl(ctx, PREFIX + browser), 118_000, 120_000, 'ours: browser-session cookie gets ttl')
  within(await pttl(ctx, 'cr:' + browser), 118_000, 120_000, 'connect-redis: browser-session cookie gets ttl')
  const s = sessionOf(HOUR_MS, alice)
  assert.is(await ours.access.set(withExpiry, s), 'written')
  within(await pttl(ctx, PREFIX + withExpiry), HOUR_MS - 5_000, HOUR_MS, 'a cookie with expires keeps its own expiry')
  await ctx.client.pExpire(PREFIX + browser, 5_000)
  assert.is(await ours.access.touch(browser, sessionOf(null, alice)), true)
  within(await pttl(ctx, PREFIX + browser), 118_000, 120_000, 'touch of a browser-session cookie renews to ttl')
})

opts('disableTTL: true is refused with a TypeError naming it; disableTTL: false is accepted', async (ctx) => {
  // The types allow only `false`; a JavaScript caller (or a config object typed loosely) can still pass `true`.
  const refused = [
    () => createRedisStore(ctx.client, { prefix: PREFIX, disableTTL: true } as unknown as StoreOptionsArg),
    () => new RedisStore({ client: ctx.client, prefix: PREFIX, disableTTL: true } as unknown as RedisStoreOptions)
  ]
  for (const build of refused) {
    const e = thrownBy(build)
    assert.ok(
      e instanceof TypeError && /disableTTL/.test(e.message),
      `expected a TypeError naming disableTTL, got ${describe(e)}`
    )
  }
  const a = createRedisStore(ctx.client, { prefix: PREFIX, disableTTL: false })
  const b = new RedisStore({ client: ctx.client, prefix: PREFIX, disableTTL: false })
  const sid = newSid()
  assert.is(await a.access.set(sid, sessionOf(HOUR_MS, alice)), 'written')
  within(await pttl(ctx, PREFIX + sid), HOUR_MS - 5_000, HOUR_MS, 'sessions still expire')
  assert.equal(fieldsOf(await b.access.get(sid)).user, alice)
})

opts('every connect-redis option name is accepted at once; an unknown name is a TypeError naming it', async (ctx) => {
  const store = createRedisStore(ctx.client, {
    prefix: PREFIX,
    scanCount: 50,
    serializer: JSON,
    ttl: 120,
    disableTouch: true,
    disableTTL: false
  })
  const sid = newSid()
  await store.set(sid, sessionOf(HOUR_MS, alice))
  await ctx.client.pExpire(PREFIX + sid, 5_000)
  await store.touch(sid, sessionOf(DAY_MS, alice))
  within(await pttl(ctx, PREFIX + sid), 0, 5_000, 'disableTouch: express-session touch renews nothing')
  for (const typo of [{ prefx: 'sess:' }, { ttlSecond: 60 }, { disableTtl: true }]) {
    const name = Object.keys(typo)[0]!
    const e = thrownBy(() => createRedisStore(ctx.client, typo as unknown as StoreOptionsArg))
    assert.ok(
      e instanceof TypeError && e.message.includes(name),
      `expected a TypeError naming ${name}, got ${describe(e)}`
    )
  }
})

opts("strictSessionIds is on by default: express-session's ids pass, others are refused before Redis", async (ctx) => {
  const sid = newSid()
  assert.is(await ctx.ours.access.set(sid, sessionOf(HOUR_MS, alice)), 'written')
  for (const bad of ['a:b', 'a*', 'sess id']) {
    const err = await ctx.ours.access.get(bad).then(
      () => undefined,
      (e: unknown) => e
    )
    assert.is(codeOf(err), 'ESESSION_INVALID_ID', `${JSON.stringify(bad)} refused`)
  }
  const loose = createRedisStore(ctx.client, { prefix: PREFIX, strictSessionIds: false })
  assert.is(await loose.access.get('a:b'), null, 'strictSessionIds: false still accepts it')
})

opts.run()

// --- 3. end to end: swap connect-redis for ours under a running app

const http = suite('connect-redis → ours over HTTP: the logged-in user stays logged in')
let redis: RedisServer
let client: Client
const served: Array<Served> = []

http.before(async () => {
  redis = await startRedis()
  client = createClient({ url: redis.url })
  await client.connect()
})
http.after(async () => {
  for (const s of served) await s.close()
  closeAgent()
  await client?.close()
  await redis?.stop()
})

const app = async (store: session.Store): Promise<Served> => {
  const s = await serve({ express, session, store, resave: false, cookie: { maxAge: HOUR_MS } })
  served.push(s)
  return s
}

http('log in on connect-redis, switch the app to ours with prefix sess:, keep counting, log out', async () => {
  // 1. The app as it runs today: connect-redis, default prefix sess:.
  const before = await app(new ConnectRedisStore({ client }))
  const login = await request(before.port, 'POST', '/login')
  assert.is(login.status, 200)
  assert.ok(login.cookie, 'a session cookie')
  const cookie = login.cookie as string
  const sid = sidOfCookie(cookie)
  assert.is(await client.type(PREFIX + sid), 'string', 'connect-redis stored it at sess:<sid>')
  const counted = await request(before.port, 'GET', '/slow?trial=x&delay=0&modify=1', cookie)
  assert.equal(counted.body, { sid, user: 'alice' })
  assert.equal((await request(before.port, 'GET', '/me', cookie)).body, { sid, user: 'alice', counter: 1 })
  await before.close()

  // 2. The same app (same secret, same cookie name) restarted on our store over the same Redis.
  const after = await app(createRedisStore(client, { prefix: PREFIX }))
  await client.pExpire(PREFIX + sid, 600_000) // as if it had idled: the next request must renew it
  const me = await request(after.port, 'GET', '/me', cookie)
  assert.is(me.status, 200)
  assert.equal(me.body, { sid, user: 'alice', counter: 1 }, 'still logged in, with the counter connect-redis stored')
  within(await client.pTTL(PREFIX + sid), HOUR_MS - 5_000, HOUR_MS, 'our touch renewed the cookie expiry')
  assert.is((await request(after.port, 'GET', '/slow?trial=y&delay=0&modify=1', cookie)).status, 200)
  assert.equal(
    (await request(after.port, 'GET', '/me', cookie)).body,
    { sid, user: 'alice', counter: 2 },
    'the counter keeps counting'
  )
  assert.is(await client.type(PREFIX + sid), 'string', 'still the connect-redis layout')
  assert.is(fieldsOf(JSON.parse((await client.get(PREFIX + sid)) ?? 'null')).counter, 2)

  // 3. Logout through ours: the old cookie no longer logs in, and the key is a tombstone.
  const logout = await request(after.port, 'POST', '/logout', cookie)
  assert.is(logout.status, 200)
  assert.equal(logout.body, { destroyed: sid })
  assert.is(await client.type(PREFIX + sid), 'hash', 'a tombstone')
  const gone = await request(after.port, 'GET', '/me', cookie)
  assert.is(gone.status, 200)
  assert.is(gone.body['user'], null, 'the old cookie no longer logs in')
  assert.ok(gone.body['sid'] !== sid, 'express-session starts a new session')
})

http.run()
