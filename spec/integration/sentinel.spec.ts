/**
 * The store on a real Redis Sentinel set (a primary with `appendfsync always`, one replica, one sentinel),
 * through node-redis v6 and v5 `createSentinel` clients given to `createRedisStore` as they are, and an ioredis
 * 5 sentinel client through `fromIoRedis`. Single-key operations, tombstones and the batched operations on
 * one set started for the file; then, per client, a failover on a fresh set: virtual users save, read and
 * log out in a loop while the primary is SIGKILLed and the sentinel promotes the replica. One `[sentinel]`
 * line per client gives the time from the kill to the last failed operation, the failed operations, the
 * acknowledged saves lost and the acknowledged logouts undone (a destroyed session a string again).
 */
import type session from 'express-session'
import Redis from 'ioredis'
import { createSentinel as createSentinel6 } from 'redis'
import { createSentinel as createSentinel5 } from 'redis-5'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createRedisStore, type RedisSessionStore } from '../../src'
import { fromIoRedis } from '../../src/ioredis'
import { countKeys as countOn } from '../support/redis-group'
import { startSentinelSet, type SentinelSet } from '../support/sentinel'

const SESSIONS = 2_000
const USERS = 4
/** Traffic must flow again this long after the kill. */
const RECOVERY_MS = 10_000

/** Reconnect quickly: every 50 ms more, at most every 500 ms. */
const backoff = (n: number): number => Math.min(Math.max(n, 1) * 50, 500)

/** A client under test: what the store is given, and how to connect and close the client behind it. */
interface Subject {
  readonly client: Parameters<typeof createRedisStore>[0]
  readonly connect: () => Promise<unknown>
  readonly stop: () => Promise<unknown>
}

interface NodeRedisSentinel {
  connect(): Promise<unknown>
  close(): Promise<unknown>
  destroy(): Promise<unknown>
  on(event: string, listener: (...args: ReadonlyArray<unknown>) => void): unknown
}

const nodeRedis = (c: NodeRedisSentinel & Parameters<typeof createRedisStore>[0]): Subject => {
  c.on('error', () => undefined)
  return {
    client: c,
    connect: () => c.connect(),
    stop: async () => {
      try {
        await c.destroy()
      } catch {
        // already closed
      }
    }
  }
}

const nodeRedisOptions = (set: SentinelSet) => {
  const socket = { connectTimeout: 500, reconnectStrategy: backoff }
  return {
    name: set.name,
    sentinelRootNodes: [{ ...set.sentinel }],
    nodeClientOptions: { socket },
    sentinelClientOptions: { socket },
    scanInterval: 1_000
  }
}

const families: ReadonlyArray<readonly [string, (set: SentinelSet) => Subject]> = [
  ['node-redis v6', (set) => nodeRedis(createSentinel6(nodeRedisOptions(set)))],
  ['node-redis v5', (set) => nodeRedis(createSentinel5(nodeRedisOptions(set)))],
  [
    'ioredis 5',
    (set) => {
      const c = new Redis({
        sentinels: [{ ...set.sentinel }],
        name: set.name,
        lazyConnect: true,
        connectTimeout: 500,
        sentinelRetryStrategy: backoff,
        retryStrategy: backoff,
        maxRetriesPerRequest: 2
      })
      c.on('error', () => undefined)
      return {
        client: fromIoRedis(c),
        connect: () => c.connect(),
        stop: async () => c.disconnect()
      }
    }
  ]
]

const session_ = (inMs: number, extra: Record<string, unknown> = {}) =>
  ({
    cookie: { originalMaxAge: inMs, expires: new Date(Date.now() + inMs), httpOnly: true, path: '/' },
    ...extra
  } as unknown as session.SessionData)

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Rejects after `ms`: a client-side bound on every operation of the virtual users. */
const within = <A>(ms: number, run: () => Promise<A>): Promise<A> =>
  new Promise<A>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
    run().then(
      (a) => {
        clearTimeout(timer)
        resolve(a)
      },
      (e: unknown) => {
        clearTimeout(timer)
        reject(e)
      }
    )
  })

type Ctx = {
  set: SentinelSet
  subjects: Map<string, Subject>
}

const it = suite<Ctx>('integration: Redis Sentinel')

const shutdown = async (ctx: Ctx): Promise<void> => {
  try {
    await Promise.all([...(ctx.subjects?.values() ?? [])].map((c) => c.stop()))
  } finally {
    await ctx.set?.stop()
  }
}

it.before(async (ctx) => {
  ctx.subjects = new Map()
  ctx.set = await startSentinelSet()
  console.log(`[sentinel] primary + replica + sentinel ready in ${ctx.set.startMs} ms`)
  try {
    for (const [name, make] of families) ctx.subjects.set(name, make(ctx.set))
    await Promise.all([...ctx.subjects.values()].map((c) => c.connect()))
  } catch (e) {
    // uvu skips `after` when `before` throws: stop the processes here.
    await shutdown(ctx)
    throw e
  }
})
it.after(shutdown)

const onPrimary = async (set: SentinelSet, ...args: ReadonlyArray<string>): Promise<unknown> =>
  set.command(await set.currentMaster(), args)

const countKeys = async (set: SentinelSet, match: string, type: 'string' | 'hash'): Promise<number> =>
  countOn(set.command, await set.currentMaster(), match, type)

const storeOf = (subject: Subject, prefix: string): RedisSessionStore =>
  createRedisStore(subject.client, { prefix, operationTimeoutMs: 500 })

const subjectOf = (ctx: Ctx, name: string): Subject => {
  const subject = ctx.subjects.get(name)
  if (subject === undefined) throw new Error(`no ${name} client`)
  return subject
}

const tag = (name: string) => name.replace(/\W+/g, '')

for (const [name] of families) {
  it(`${name}: set / get / touch / destroy through the sentinel's master; tombstones`, async (ctx) => {
    const prefix = `one${tag(name)}:`
    const s = storeOf(subjectOf(ctx, name), prefix)
    for (let i = 0; i < 20; i++) {
      const sid = `s${i}`
      assert.is(await s.access.set(sid, session_(60_000, { sid })), 'written')
      const got = await s.access.get(sid)
      assert.is((got as unknown as { sid: string }).sid, sid)
      assert.instance(got?.cookie.expires, Date)
      assert.is(await s.access.touch(sid, session_(600_000, { sid })), true)
      const pttl = Number(await onPrimary(ctx.set, 'PTTL', `${prefix}${sid}`))
      assert.ok(pttl > 599_000 && pttl <= 600_000, `PTTL ${pttl} after touch`)
      assert.is(await s.access.destroy(sid), true)
      assert.is(await onPrimary(ctx.set, 'TYPE', `${prefix}${sid}`), 'hash', `${sid} is a tombstone`)
      assert.is(await s.access.get(sid), null)
      assert.is(await s.access.set(sid, session_(60_000)), 'tombstoned')
      assert.is(await s.access.touch(sid, session_(60_000)), false)
    }
  })

  it(`${name}: ${SESSIONS} sessions: length / ids / all / iterate / clear`, async (ctx) => {
    const prefix = `many${tag(name)}:`
    const s = storeOf(subjectOf(ctx, name), prefix)
    const ids = Array.from({ length: SESSIONS }, (_, n) => `s${n}`)
    for (let from = 0; from < SESSIONS; from += 500) {
      const replies = await Promise.all(
        ids.slice(from, from + 500).map((sid, i) => s.access.set(sid, session_(600_000, { n: from + i })))
      )
      assert.ok(
        replies.every((r) => r === 'written'),
        'every set is written'
      )
    }
    await onPrimary(ctx.set, 'SET', `${prefix}cache:x`, '{"cookie":{}}')
    assert.is(await s.access.length(), SESSIONS)
    const listed = await s.access.ids()
    assert.is(listed.length, SESSIONS)
    assert.equal([...listed].sort(), [...ids].sort())
    const all = await s.access.all()
    assert.is(Object.keys(all).length, SESSIONS)
    for (const [sid, sess] of Object.entries(all))
      assert.is((sess as unknown as { n: number }).n, Number(sid.slice(1)), `id ${sid} matches its session`)
    let seen = 0
    for await (const [sid, sess] of s.access.iterate()) {
      assert.is((sess as unknown as { n: number }).n, Number(sid.slice(1)))
      seen++
    }
    assert.is(seen, SESSIONS)
    assert.is(await s.access.clear(), SESSIONS)
    assert.is(await s.access.length(), 0, 'no live session left')
    assert.is(await countKeys(ctx.set, `${prefix}*`, 'hash'), SESSIONS, 'one tombstone per cleared session')
    assert.is(await onPrimary(ctx.set, 'GET', `${prefix}cache:x`), '{"cookie":{}}', 'foreign key kept')
  })
}

interface Outcome {
  readonly recoveredMs: number
  readonly failed: number
  readonly ok: number
  readonly lost: number
  readonly resurrected: number
  /** For each lost save: when it was acknowledged, in ms after the kill (negative: before it). */
  readonly lostAckedAt: ReadonlyArray<number>
}

/**
 * Virtual users save, read and log out in a loop; the primary is SIGKILLed once traffic flows; the loop ends
 * once the sentinel reports the replica as master and operations have succeeded for a while since the last
 * failure (or `RECOVERY_MS` plus a margin after the kill, at the latest).
 */
const failover = async (set: SentinelSet, s: RedisSessionStore, prefix: string): Promise<Outcome> => {
  const saved = new Map<string, number>()
  const loggedOut = new Set<string>()
  let killedAt = 0
  let lastFailure = 0
  let failed = 0
  let ok = 0
  let promoted = false
  let done = false
  const endAt = () => (killedAt === 0 ? Infinity : killedAt + RECOVERY_MS + 2_000)

  const op = async <A>(run: () => Promise<A>): Promise<A | undefined> => {
    try {
      const a = await within(1_500, run)
      ok++
      return a
    } catch {
      if (killedAt > 0) {
        failed++
        lastFailure = Date.now()
      }
      return undefined
    }
  }

  const user = async (u: number): Promise<void> => {
    for (let i = 0; !done && i < 100_000; i++) {
      const sid = `u${u}-${i}`
      const reply = await op(() => s.access.set(sid, session_(600_000, { u, i })))
      if (reply === 'written') saved.set(sid, Date.now())
      await op(() => s.access.get(sid))
      if (i % 2 === 1 && reply === 'written') {
        const gone = await op(() => s.access.destroy(sid))
        if (gone !== undefined) {
          saved.delete(sid)
          loggedOut.add(sid)
        }
      }
      if (Date.now() > endAt()) done = true
      if (killedAt > 0 && promoted && Date.now() - Math.max(lastFailure, killedAt) > 1_500) done = true
    }
  }

  const watch = async (): Promise<void> => {
    while (!done) {
      await sleep(200)
      if (killedAt === 0) continue
      promoted = await set.currentMaster().then(
        (p) => p === set.replicaPort,
        () => false
      )
    }
  }

  const users = Array.from({ length: USERS }, (_, u) => user(u))
  const watching = watch()
  await sleep(500)
  killedAt = Date.now()
  set.signal(set.primaryPort, 'SIGKILL')
  await Promise.all([...users, watching])

  // Read back through the new primary, with no traffic left.
  const lostAckedAt: Array<number> = []
  for (const [sid, at] of saved) if ((await s.access.get(sid)) === null) lostAckedAt.push(at - killedAt)
  let resurrected = 0
  for (const sid of loggedOut) {
    if ((await set.command(set.replicaPort, ['TYPE', `${prefix}${sid}`])) === 'string') resurrected++
  }
  return {
    recoveredMs: lastFailure === 0 ? 0 : lastFailure - killedAt,
    failed,
    ok,
    lost: lostAckedAt.length,
    resurrected,
    lostAckedAt
  }
}

for (const [name, make] of families) {
  it(`${name}: failover: the primary SIGKILLed under traffic, the replica promoted`, async () => {
    const set = await startSentinelSet()
    let subject: Subject | undefined
    try {
      subject = make(set)
      await subject.connect()
      const prefix = `fo${tag(name)}:`
      const s = storeOf(subject, prefix)
      const o = await failover(set, s, prefix)
      console.log(
        `[sentinel] ${name}: recovered ${o.recoveredMs} ms after the kill; ${o.failed} failed operations (${o.ok} ok); ` +
          `${o.lost} acknowledged saves lost${
            o.lost > 0
              ? ` (acknowledged ${Math.min(...o.lostAckedAt)}…${Math.max(...o.lostAckedAt)} ms from the kill)`
              : ''
          }; ${o.resurrected} acknowledged logouts undone`
      )
      assert.is(await set.currentMaster(), set.replicaPort, 'the sentinel promoted the replica')
      assert.ok(o.recoveredMs < RECOVERY_MS, `traffic recovered ${o.recoveredMs} ms after the kill`)
      const live = await s.access.length()
      assert.is(Object.keys(await s.access.all()).length, live, 'all() agrees with length()')
      assert.is(await s.access.clear(), live)
      assert.is(await s.access.length(), 0)
    } finally {
      await subject?.stop()
      await set.stop()
    }
  })
}

it.run()
