/**
 * End to end: real Express + real express-session over HTTP on 127.0.0.1, against a real redis-server.
 *
 * 1. Flow, for {express 5, express 4} x {express-session 1.19, 1.17.3} on node-redis, and express 5 +
 *    express-session 1.19 with the store on ioredis 5 and 6 (`fromIoRedis`) and on Valkey GLIDE (`fromValkeyGlide`):
 *    login, reload, regenerate, logout, and the TTL the store gives browser-session and `maxAge` cookies.
 * 2. Race "logout vs slow request": a slow request that loaded the session before a logout must not save or
 *    touch it back to life after the logout. Our store must never resurrect, on node-redis, ioredis and GLIDE;
 *    the same trials against connect-redis must (which proves the check can fail).
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createClient } from 'redis'
import express from 'express'
import session from 'express-session'
import { RedisStore as ConnectRedisStore } from 'connect-redis'
import { createRedisStore } from '../../src'
import type { SessionClient } from '../../src/client/contract'
import { fromIoRedis } from '../../src/ioredis'
import { fromValkeyGlide } from '../../src/valkey-glide'
import { glideClient } from '../support/glide'
import { IOREDIS_MAJORS, type IoRedisMajor } from '../support/ioredis'
import { startRedis, type RedisServer } from '../support/redis-server'
import {
  closeAgent,
  deferred,
  express4,
  instrument,
  pool,
  randomInt,
  request,
  serve,
  session117,
  sidOfCookie,
  sleep,
  type Deferred,
  type ExpressModule,
  type Reply,
  type Served,
  type SessionModule,
  type WriteLog
} from './harness'

type Client = ReturnType<typeof createClient>

const PREFIX = 'sessions:'
const MAX_AGE = 123_456 // not a whole number of seconds: the stored TTL must keep ms precision
const DAY_MS = 86_400_000
const GRACE_MS = 300_000

const cookieOf = (reply: Reply): string => {
  assert.ok(reply.cookie, `expected a session cookie, got status ${reply.status} ${JSON.stringify(reply.body)}`)
  return reply.cookie as string
}

const login = async (port: number): Promise<{ readonly cookie: string; readonly sid: string }> => {
  const reply = await request(port, 'POST', '/login')
  assert.is(reply.status, 200)
  const cookie = cookieOf(reply)
  const sid = sidOfCookie(cookie)
  assert.is(reply.body['sid'], sid, 'the cookie carries the session id')
  return { cookie, sid }
}

// --- 1. flow

/** The store's client when it is not the node-redis one: the adapted client, and how to close it. */
interface StoreClient {
  readonly client: SessionClient
  readonly close: () => Promise<unknown>
}

const onIoRedis =
  (major: IoRedisMajor) =>
  async (url: string): Promise<StoreClient> => {
    const io = new major.Redis(url, { lazyConnect: true })
    await io.connect()
    return { client: fromIoRedis(io), close: () => io.quit() }
  }

const onValkeyGlide = async (url: string): Promise<StoreClient> => {
  const glide = await glideClient(url)
  return { client: fromValkeyGlide(glide), close: () => Promise.resolve(glide.close()) }
}

const combos: ReadonlyArray<{
  readonly name: string
  readonly express: ExpressModule
  readonly session: SessionModule
  readonly storeOn?: (url: string) => Promise<StoreClient>
}> = [
  { name: 'express 5 + express-session 1.19', express, session },
  { name: 'express 5 + express-session 1.17.3', express, session: session117 },
  { name: 'express 4 + express-session 1.19', express: express4, session },
  { name: 'express 4 + express-session 1.17.3', express: express4, session: session117 },
  // The store on ioredis 5 and 6 and on GLIDE; the checks below still read Redis through the node-redis client.
  ...IOREDIS_MAJORS.map((major) => ({
    name: `express 5 + express-session 1.19, store on ${major.name}`,
    express,
    session,
    storeOn: onIoRedis(major)
  })),
  { name: 'express 5 + express-session 1.19, store on Valkey GLIDE', express, session, storeOn: onValkeyGlide }
]

for (const combo of combos) {
  const flow = suite(`e2e flow: ${combo.name}`)
  let redis: RedisServer
  let client: Client
  let other: StoreClient | undefined
  let withMaxAge: Served
  let browser: Served

  flow.before(async () => {
    redis = await startRedis()
    client = createClient({ url: redis.url })
    await client.connect()
    other = await combo.storeOn?.(redis.url)
    const storeClient = other === undefined ? client : other.client
    const app = (cookie: session.CookieOptions): Promise<Served> =>
      serve({
        express: combo.express,
        session: combo.session,
        store: createRedisStore(storeClient),
        resave: false,
        cookie
      })
    withMaxAge = await app({ maxAge: MAX_AGE })
    browser = await app({})
  })

  flow.after(async () => {
    await withMaxAge?.close()
    await browser?.close()
    closeAgent()
    await other?.close()
    await client?.close()
    await redis?.stop()
  })

  flow('login: the cookie is returned and the session is a string under sessions:<sid>', async () => {
    const { sid } = await login(withMaxAge.port)
    assert.is(await client.type(PREFIX + sid), 'string')
    const stored = JSON.parse((await client.get(PREFIX + sid)) ?? 'null') as {
      user?: string
      cookie?: { expires?: unknown }
    }
    assert.is(stored.user, 'alice')
    assert.type(stored.cookie?.expires, 'string')
  })

  flow('a following GET sees the user, without a new cookie', async () => {
    const { cookie, sid } = await login(withMaxAge.port)
    const me = await request(withMaxAge.port, 'GET', '/me', cookie)
    assert.is(me.status, 200)
    assert.equal(me.body, { sid, user: 'alice', counter: 0 })
    assert.is(me.setCookie, undefined, 'rolling is off and nothing changed: no new cookie')
  })

  flow('req.session.reload() re-reads the session from Redis', async () => {
    const { cookie, sid } = await login(withMaxAge.port)
    // Change the stored session behind the app's back (keeping its TTL): reload must see it.
    const stored = JSON.parse((await client.get(PREFIX + sid)) ?? 'null') as Record<string, unknown>
    await client.sendCommand(['SET', PREFIX + sid, JSON.stringify({ ...stored, counter: 41 }), 'KEEPTTL'])
    const reloaded = await request(withMaxAge.port, 'POST', '/reload', cookie)
    assert.is(reloaded.status, 200)
    assert.equal(
      reloaded.body,
      { sid, user: 'alice', counter: 41 },
      'the in-memory change is dropped, the stored one is read'
    )
  })

  flow('req.session.regenerate(): a new sid; the old key becomes a tombstone, the new one a live session', async () => {
    const { cookie, sid } = await login(withMaxAge.port)
    const regen = await request(withMaxAge.port, 'POST', '/regenerate', cookie)
    assert.is(regen.status, 200)
    const newCookie = cookieOf(regen)
    const newSid = sidOfCookie(newCookie)
    assert.is(regen.body['old'], sid)
    assert.is(regen.body['sid'], newSid)
    assert.is.not(newSid, sid)
    assert.is(await client.type(PREFIX + sid), 'hash', 'the old session is a tombstone')
    assert.is(await client.type(PREFIX + newSid), 'string', 'the new session is live')
    assert.is((await request(withMaxAge.port, 'GET', '/me', newCookie)).body['user'], 'alice')
    assert.is((await request(withMaxAge.port, 'GET', '/me', cookie)).body['user'], null, 'the old cookie is logged out')
    assert.is(await client.type(PREFIX + sid), 'hash', 'a request with the old cookie writes nothing')
  })

  flow('logout (req.session.destroy) leaves a tombstone; the old cookie then has no user', async () => {
    const { cookie, sid } = await login(withMaxAge.port)
    const out = await request(withMaxAge.port, 'POST', '/logout', cookie)
    assert.is(out.status, 200)
    assert.is(out.body['destroyed'], sid)
    assert.is(await client.type(PREFIX + sid), 'hash')
    assert.ok((await client.hGet(PREFIX + sid, 'destroyedAt')) !== null, 'the tombstone records destroyedAt')
    const pttl = await client.pTTL(PREFIX + sid)
    assert.ok(pttl > 0 && pttl <= GRACE_MS, `the tombstone lives concurrencyGraceSeconds (300 s), PTTL ${pttl}`)
    const me = await request(withMaxAge.port, 'GET', '/me', cookie)
    assert.is(me.status, 200)
    assert.is(me.body['user'], null)
    assert.is.not(me.body['sid'], sid, 'express-session started a fresh, unsaved session')
    assert.is(await client.type(PREFIX + sid), 'hash', 'still a tombstone')
  })

  flow('a browser-session cookie (no maxAge) is stored with the ttlSeconds fallback (PTTL ~ 86400000)', async () => {
    const reply = await request(browser.port, 'POST', '/login')
    const sid = sidOfCookie(cookieOf(reply))
    assert.not.match(reply.setCookie ?? '', /expires=/i, 'no Expires attribute')
    const stored = JSON.parse((await client.get(PREFIX + sid)) ?? 'null') as { cookie?: { expires?: unknown } }
    assert.is(stored.cookie?.expires, null, 'cookie.expires is null')
    const pttl = await client.pTTL(PREFIX + sid)
    assert.ok(pttl > DAY_MS - 2_000 && pttl <= DAY_MS, `PTTL ${pttl} should be just under ${DAY_MS}`)
    assert.is((await request(browser.port, 'GET', '/me', cookieOf(reply))).body['user'], 'alice')
  })

  flow('with maxAge the PTTL matches maxAge to the millisecond (within a small tolerance)', async () => {
    const reply = await request(withMaxAge.port, 'POST', '/login')
    assert.match(reply.setCookie ?? '', /expires=/i)
    const sid = sidOfCookie(cookieOf(reply))
    const pttl = await client.pTTL(PREFIX + sid)
    // A whole-second TTL (SET EX ceil(ms/1000)) would give 124000 here, above maxAge.
    assert.ok(pttl > MAX_AGE - 500 && pttl <= MAX_AGE, `PTTL ${pttl} should be within 500 ms below maxAge ${MAX_AGE}`)
  })

  flow.run()
}

// --- 2. race: logout vs slow request

const TRIALS = 200
const WIDTH = 10

interface Variant {
  readonly name: string
  readonly resave: boolean
  /** Whether the slow request modifies the session (`counter++`). */
  readonly modify: boolean
  /** What express-session calls on the store at the end of the slow request. */
  readonly write: 'set' | 'touch'
}

const variants: ReadonlyArray<Variant> = [
  { name: 'resave=false, modified', resave: false, modify: true, write: 'set' },
  { name: 'resave=false, unmodified', resave: false, modify: false, write: 'touch' },
  { name: 'resave=true, modified', resave: true, modify: true, write: 'set' },
  { name: 'resave=true, unmodified', resave: true, modify: false, write: 'set' }
]

interface RaceResult {
  readonly trials: number
  /** Trials after which the session was alive again (a live key, or the old cookie still logged in). */
  readonly resurrected: number
  /** Trials where the slow request's save/touch reached the store after the logout's destroy completed. */
  readonly late: number
  /** Kinds of those late writes. */
  readonly lateKinds: ReadonlySet<string>
  /** Trials after which the key was a hash (a tombstone). */
  readonly tombstones: number
}

const race = suite('e2e race: logout vs slow request')
let raceRedis: RedisServer
let raceClient: Client
/**
 * The other clients of our store in the race, by the name of their trials: ioredis 5 and 6 (6 speaks RESP3 by
 * default) and Valkey GLIDE, made as the flow makes them. The checks still read Redis through raceClient.
 */
const RACE_CLIENTS: ReadonlyArray<readonly [kind: OnClient, make: (url: string) => Promise<StoreClient>]> = [
  ...IOREDIS_MAJORS.map((major) => [`ours on ${major.name}`, onIoRedis(major)] as const),
  ['ours on Valkey GLIDE', onValkeyGlide]
]
/** Those clients, connected, by kind. */
const raceOn = new Map<OnClient, StoreClient>()
const opened: Array<Served> = []

race.before(async () => {
  raceRedis = await startRedis()
  raceClient = createClient({ url: raceRedis.url })
  await raceClient.connect()
  for (const [kind, make] of RACE_CLIENTS) raceOn.set(kind, await make(raceRedis.url))
})

race.after(async () => {
  for (const s of opened) await s.close()
  closeAgent()
  for (const other of raceOn.values()) await other.close()
  await raceClient?.close()
  await raceRedis?.stop()
})

/** Our store on a client other than node-redis. */
type OnClient = `ours on ${string}`
type StoreKind = 'ours' | 'ours, merge' | OnClient | 'connect-redis' | 'touch-as-set'

const buildStore = (kind: StoreKind): { readonly store: session.Store; readonly prefix: string } => {
  switch (kind) {
    case 'ours':
      return { store: createRedisStore(raceClient), prefix: PREFIX }
    case 'ours, merge':
      return { store: createRedisStore(raceClient, { prefix: 'merge:', concurrentSaves: 'merge' }), prefix: 'merge:' }
    case 'connect-redis':
      return { store: new ConnectRedisStore({ client: raceClient as never, prefix: 'cr:' }), prefix: 'cr:' }
    case 'touch-as-set': {
      // A control store: connect-redis with a naive touch that rewrites the whole session, as some stores do.
      const store = new ConnectRedisStore({ client: raceClient as never, prefix: 'naive:' })
      const set = store.set.bind(store)
      store.touch = (sid, sess, cb) => set(sid, sess, cb)
      return { store, prefix: 'naive:' }
    }
    default: {
      const other = raceOn.get(kind)
      if (other === undefined) throw new Error(`no client for ${kind}`)
      const prefix = `${kind.replace(/\W+/g, '')}:`
      return { store: createRedisStore(other.client, { prefix }), prefix }
    }
  }
}

/** How long the slow request waits at most for the logout to reach its handler. */
const LOGOUT_WAIT_CAP_MS = 250

interface Sync {
  /** The slow request A has read the session and entered its handler. */
  readonly aEntered: Deferred
  /** The logout B has entered its handler and is about to call `req.session.destroy()`. */
  readonly bEntered: Deferred
  /** Whether A's delay starts when B entered its handler (3 trials in 4) or right away (free-running timing). */
  readonly waitsForLogout: boolean
}

/**
 * Makes the trials race the way that matters: A reads the session, then B (sent 0-5 ms after A entered)
 * destroys it, and in 3 trials of 4 A answers — so express-session saves or touches — a random 0-20 ms after
 * B entered its handler (with 0 ms, A's write is issued while B's destroy is still in flight). In the other
 * trials A's 0-20 ms run from its own start, so either request may finish first.
 */
const orchestrate = (served: Served): Map<string, Sync> => {
  const pending = new Map<string, Sync>()
  served.hooks.slowEntered = (sid) => {
    const sync = pending.get(sid)
    if (sync === undefined) return Promise.resolve()
    sync.aEntered.resolve()
    if (!sync.waitsForLogout) return Promise.resolve()
    return Promise.race([sync.bEntered.promise, sleep(LOGOUT_WAIT_CAP_MS)])
  }
  served.hooks.logoutEntered = (sid) => pending.get(sid)?.bEntered.resolve()
  return pending
}

/** One trial: log in, start the slow request A, log out with B while A is in flight, then look. */
const trial = async (served: Served, pending: Map<string, Sync>, log: WriteLog, prefix: string, variant: Variant) => {
  const { cookie, sid } = await login(served.port)
  const sync: Sync = { aEntered: deferred(), bEntered: deferred(), waitsForLogout: Math.random() < 0.75 }
  pending.set(sid, sync)
  const a = request(
    served.port,
    'GET',
    `/slow?trial=${encodeURIComponent(sid)}&delay=${randomInt(0, 20)}&modify=${variant.modify ? 1 : 0}`,
    cookie
  )
  await Promise.race([sync.aEntered.promise, a]) // A has loaded the session (or failed, which the asserts below report)
  await sleep(randomInt(0, 5))
  const b = request(served.port, 'POST', '/logout', cookie)
  const [ra, rb] = await Promise.all([a, b])
  pending.delete(sid)
  assert.is(ra.status, 200, `slow request failed: ${JSON.stringify(ra.body)}`)
  assert.is(ra.body['user'], 'alice', 'the slow request loaded the session before the logout')
  assert.is(rb.status, 200, `logout failed: ${JSON.stringify(rb.body)}`)
  assert.is(rb.body['destroyed'], sid)
  // Both responses are in: express-session answers only once its save/touch has completed.
  const late = [...(log.lateWrites.get(sid) ?? [])] // before the check below, whose own touch would count
  const type = await raceClient.type(prefix + sid)
  const me = await request(served.port, 'GET', '/me', cookie)
  assert.is(me.status, 200)
  return {
    resurrected: type === 'string' || me.body['user'] !== null,
    late,
    tombstone: type === 'hash'
  }
}

const runTrials = async (kind: StoreKind, variant: Variant): Promise<RaceResult> => {
  const { store, prefix } = buildStore(kind)
  const log = instrument(store)
  const served = await serve({ express, session, store, resave: variant.resave, cookie: { maxAge: 60_000 } })
  opened.push(served)
  const pending = orchestrate(served)
  const results = await pool(TRIALS, WIDTH, () => trial(served, pending, log, prefix, variant))
  return {
    trials: results.length,
    resurrected: results.filter((r) => r.resurrected).length,
    late: results.filter((r) => r.late.length > 0).length,
    lateKinds: new Set(results.flatMap((r) => r.late)),
    tombstones: results.filter((r) => r.tombstone).length
  }
}

const show = (r: RaceResult): string => `${r.resurrected}/${r.trials}`

/** The trials must really race: most slow writes land after the destroy, and they are the expected kind. */
const assertInterleaved = (label: string, r: RaceResult, variant: Variant): void => {
  assert.ok(
    r.late > r.trials / 2,
    `${label}: only ${r.late}/${r.trials} slow writes came after the logout had completed`
  )
  assert.equal(
    [...r.lateKinds],
    [variant.write],
    `${label}: late writes were ${[...r.lateKinds].join(',')}, expected ${variant.write}`
  )
}

for (const variant of variants) {
  race(
    `${variant.name} (slow request ends with store.${variant.write}): ours never resurrects, connect-redis does${
      variant.write === 'touch' ? ' not (EXPIRE), a touch-as-set store does' : ''
    }`,
    async () => {
      const ours = await runTrials('ours', variant)
      const theirs = await runTrials('connect-redis', variant)
      const control = variant.write === 'touch' ? await runTrials('touch-as-set', variant) : undefined
      console.log(
        `race ${variant.name} [store.${variant.write}]: ours ${show(ours)}, connect-redis ${show(theirs)}` +
          (control ? `, touch-as-set control ${show(control)}` : '') +
          ` (late writes: ours ${ours.late}, connect-redis ${theirs.late}${control ? `, control ${control.late}` : ''})`
      )
      assertInterleaved('ours', ours, variant)
      assertInterleaved('connect-redis', theirs, variant)
      assert.is(ours.resurrected, 0, `our store resurrected ${show(ours)} sessions`)
      assert.is(ours.tombstones, ours.trials, 'every logged-out session of ours is a tombstone')
      if (control === undefined) {
        assert.ok(theirs.resurrected > 0, `connect-redis was expected to resurrect some sessions, got ${show(theirs)}`)
      } else {
        // connect-redis touches with EXPIRE, which cannot create a key: no resurrection through touch.
        assert.is(theirs.resurrected, 0, `connect-redis touch (EXPIRE) resurrected ${show(theirs)}`)
        assertInterleaved('touch-as-set', control, variant)
        assert.ok(
          control.resurrected > 0,
          `the touch-as-set control was expected to resurrect some sessions, got ${show(control)}`
        )
      }
    }
  )
}

// The same trials with concurrentSaves: 'merge': a merge never brings a logged-out session back.
for (const variant of variants) {
  race(
    `${variant.name} (slow request ends with store.${variant.write}): ours with concurrentSaves 'merge' never resurrects`,
    async () => {
      const ours = await runTrials('ours, merge', variant)
      console.log(
        `race ${variant.name} [store.${variant.write}]: ours, merge ${show(ours)} (late writes: ${ours.late})`
      )
      assertInterleaved('ours, merge', ours, variant)
      assert.is(ours.resurrected, 0, `our store with merge resurrected ${show(ours)} sessions`)
      assert.is(ours.tombstones, ours.trials, 'every logged-out session is a tombstone')
    }
  )
}

// The same trials with our store on ioredis 5 and 6 and on GLIDE: the tombstone must hold whatever the client.
for (const [kind] of RACE_CLIENTS) {
  for (const variant of variants) {
    race(`${variant.name} (slow request ends with store.${variant.write}): ${kind} never resurrects`, async () => {
      const ours = await runTrials(kind, variant)
      console.log(`race ${variant.name} [store.${variant.write}]: ${kind} ${show(ours)} (late writes: ${ours.late})`)
      assertInterleaved(kind, ours, variant)
      assert.is(ours.resurrected, 0, `${kind} resurrected ${show(ours)} sessions`)
      assert.is(ours.tombstones, ours.trials, `every logged-out session of ${kind} is a tombstone`)
    })
  }
}

race.run()
