/**
 * The store on a real Redis Sentinel set (a primary with `appendfsync always`, one replica, one sentinel),
 * through node-redis v6 and v5 `createSentinel` clients given to `createRedisStore` as they are, and ioredis 5
 * and 6 sentinel clients through `fromIoRedis` (the same options on both majors). Single-key operations,
 * tombstones and the batched operations on one set started for the file; then, per client, a failover on a
 * fresh set: virtual users save, read and log out in a loop while the primary is SIGKILLed and the sentinel
 * promotes the replica. One `[sentinel]` line per client gives the time from the kill to the last failed
 * operation, the failed operations, the acknowledged saves lost and the acknowledged logouts undone (a
 * destroyed session a string again).
 */
import { createClient, createSentinel as createSentinel6 } from 'redis'
import { createSentinel as createSentinel5 } from 'redis-5'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createRedisStore, type RedisSessionStore } from '../../src'
import { fromIoRedis } from '../../src/ioredis'
import {
  describe,
  failureCode,
  holdBackReplication,
  logOutEach,
  outcomeOf,
  releaseReplication,
  replicaStreaming,
  replicationGap,
  session_,
  settled,
  startLoad,
  within,
  NOT_REPLICATED,
  batchedWorkAfterFailover
} from '../support/failover'
import { countKeys as countOn, sleep } from '../support/redis-group'
import { IOREDIS_MAJORS } from '../support/ioredis'
import { startSentinelSet, type SentinelSet } from '../support/sentinel'

const SESSIONS = 2_000
const USERS = 3
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
  ...IOREDIS_MAJORS.map(
    ({ name, Redis }) =>
      [
        name,
        (set: SentinelSet): Subject => {
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
      ] as const
  )
]

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
  // Generous: these specs are about the operations, not deadlines (2 000 sets on an fsync-always AOF).
  createRedisStore(subject.client, { prefix, operationTimeoutMs: 5_000 })

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

/** The store options under test in the failovers: the defaults, and logouts confirmed by one replica. */
const OPTIONS = {
  default: { operationTimeoutMs: 500 },
  waitReplicas: { operationTimeoutMs: 500, waitReplicas: 1, waitTimeoutMs: 200 }
} as const
type OptionSet = keyof typeof OPTIONS

interface Measured {
  readonly label: string
  readonly waits: boolean
  readonly prefix: string
  readonly store: RedisSessionStore
}

/** One client of `make` per option set, connected, each store under its own prefix. */
const measuredOn = async (
  set: SentinelSet,
  name: string,
  make: (set: SentinelSet) => Subject,
  subjects: Array<Subject>
): Promise<ReadonlyArray<Measured>> => {
  const measured: Array<Measured> = []
  for (const option of Object.keys(OPTIONS) as ReadonlyArray<OptionSet>) {
    const subject = make(set)
    subjects.push(subject)
    await subject.connect()
    const prefix = `fo${tag(name)}${option.length}:`
    measured.push({
      label: `${name}, ${option}`,
      waits: option === 'waitReplicas',
      prefix,
      store: createRedisStore(subject.client, { prefix, checkEvictionPolicy: false, ...OPTIONS[option] })
    })
  }
  return measured
}

/** The `TYPE` of each session's key on the node on `port`, through one connection. */
const typesOn =
  (port: number, prefix: string) =>
  async (sids: ReadonlyArray<string>): Promise<ReadonlyArray<string>> => {
    const c = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } })
    c.on('error', () => undefined)
    await c.connect()
    try {
      return await Promise.all(sids.map((sid) => c.type(`${prefix}${sid}`)))
    } finally {
      c.destroy()
    }
  }

/**
 * Per client family, on a fresh set with 2 replicas (with waitReplicas: n, keep n + 1 replicas: the promoted
 * one has a replica again once the sentinel points the other at it): two clients, the default options and
 * `waitReplicas: 1`, under load while the primary is SIGKILLed and the sentinel promotes a replica. The load
 * ends once the promotion is seen and each client has had 1.5 s without a failure (or `RECOVERY_MS` plus that).
 */
for (const [name, make] of families) {
  it(`${name}: failover: the primary SIGKILLed under traffic, a replica promoted (default, waitReplicas 1)`, async () => {
    const set = await startSentinelSet({ replicas: 2 })
    const subjects: Array<Subject> = []
    try {
      const measured = await measuredOn(set, name, make, subjects)
      const loads = measured.map((m) => startLoad(m.store, USERS, 1_500))
      let killedAt = 0
      let promotedMs = 0
      try {
        await sleep(500)
        killedAt = Date.now()
        set.signal(set.primaryPort, 'SIGKILL')
        const window = { minMs: 0, cleanMs: 1_500, maxMs: RECOVERY_MS + 2_000 }
        for (;;) {
          await sleep(200)
          if (promotedMs === 0) {
            const master = await set.currentMaster().catch(() => set.primaryPort)
            if (master !== set.primaryPort) promotedMs = Date.now() - killedAt
          }
          if (Date.now() - killedAt > window.maxMs) break
          if (promotedMs > 0 && loads.every((l) => settled(l.tally, killedAt, window))) break
        }
      } finally {
        loads.forEach((l) => l.stop())
        await Promise.all(loads.map((l) => l.done))
      }
      const master = await set.currentMaster()
      assert.ok(set.replicaPorts.includes(master), 'the sentinel promoted a replica')
      // clear() below tombstones: with waitReplicas the new primary needs the other replica, which the sentinel
      // points at it after the promotion, streaming (clear() is tried again for a while below, all the same).
      await replicaStreaming(set.command, master, 15_000).catch(() => undefined)
      for (const [i, m] of measured.entries()) {
        const tally = loads[i]?.tally
        if (tally === undefined) throw new Error('no load')
        const o = await outcomeOf(tally, killedAt, typesOn(master, m.prefix))
        console.log(`[sentinel] ${m.label}: replica promoted after ${promotedMs} ms; ${describe(o)}`)
        assert.ok(o.recoveredMs < RECOVERY_MS, `${m.label}: traffic recovered ${o.recoveredMs} ms after the kill`)
        assert.ok(o.ok > 0, `${m.label}: operations succeeded`)
        if (m.waits) assert.is(o.resurrected, 0, `${m.label}: no logout confirmed by a replica comes back`)
        else assert.is(o.unconfirmed, 0, `${m.label}: without waitReplicas no logout waits`)
        const live = await batchedWorkAfterFailover(m)
        assert.ok(live >= o.saved - o.lost, `${m.label}: length() ${live} counts the surviving saves`)
      }
    } finally {
      await Promise.all(subjects.map((s) => s.stop()))
      await set.stop()
    }
  })
}

/**
 * Resurrections made deterministic: on one set (1 replica) every client family with each option set saves
 * sessions, the replica's replication is held back (it cannot authenticate to the primary), every client logs
 * its sessions out, the primary is SIGKILLed and the sentinel promotes the replica that never got the
 * tombstones. Without the option every acknowledged logout is undone; with it none is acknowledged.
 */
it('held-back replica: logouts, the primary SIGKILLed: resurrections with and without waitReplicas', async () => {
  const set = await startSentinelSet()
  const subjects: Array<Subject> = []
  try {
    const measured: Array<Measured> = []
    for (const [name, make] of families) measured.push(...(await measuredOn(set, name, make, subjects)))
    const SIDS = Array.from({ length: 10 }, (_, i) => `d${i}`)
    for (const m of measured) {
      for (const sid of SIDS) assert.is(await m.store.access.set(sid, session_(600_000)), 'written')
    }
    // Every session is on the replica before its replication stops.
    const last = measured[measured.length - 1]
    for (;;) {
      if (last === undefined) throw new Error('no client')
      const types = await typesOn(set.replicaPort, last.prefix)(SIDS)
      if (types.every((t) => t === 'string')) break
      await sleep(50)
    }
    await holdBackReplication(set.command, set.replicaPort)
    const outcomes = await Promise.all(measured.map((m) => logOutEach(m.store, SIDS)))
    const gap = await replicationGap(set.command, set.primaryPort, set.replicaPort)
    assert.ok(gap > 0, `the replica lacks ${gap} bytes of the primary's stream`)
    const killedAt = Date.now()
    set.signal(set.primaryPort, 'SIGKILL')
    await releaseReplication(set.command, set.replicaPort)
    for (;;) {
      if ((await set.currentMaster().catch(() => 0)) === set.replicaPort) break
      if (Date.now() - killedAt > RECOVERY_MS) throw new Error('the sentinel did not promote the replica')
      await sleep(100)
    }
    const promotedMs = Date.now() - killedAt
    for (const m of measured) {
      for (;;) {
        const answered = await within(1_000, () => m.store.access.get('d0')).then(
          () => true,
          () => false
        )
        if (answered) break
        if (Date.now() - killedAt > RECOVERY_MS) throw new Error(`${m.label} does not answer after the failover`)
        await sleep(100)
      }
    }
    console.log(
      `[sentinel] held-back replica: primary killed with the replica ${gap} bytes behind; promoted after ` +
        `${promotedMs} ms, every client answering ${Date.now() - killedAt} ms after the kill`
    )
    for (const [i, m] of measured.entries()) {
      const o = outcomes[i]
      if (o === undefined) throw new Error('no outcome')
      const strings = async (sids: ReadonlyArray<string>) =>
        (await typesOn(set.replicaPort, m.prefix)(sids)).filter((t) => t === 'string').length
      const undone = await strings(o.acknowledged)
      const back = await strings(o.unconfirmed)
      console.log(
        `[sentinel] held-back replica, ${m.label}: ${undone} of ${o.acknowledged.length} acknowledged logouts ` +
          `undone; ${o.unconfirmed.length} logouts ${NOT_REPLICATED} (${back} of them a string again); ` +
          `${o.other.length} other [${o.otherCodes.join(', ')}]; ${o.timedOut} tries timed out and were made again`
      )
      assert.is(
        o.other.length,
        0,
        `${m.label}: every logout either acknowledged or unconfirmed (${o.otherCodes.join(', ')})`
      )
      if (m.waits) {
        assert.is(o.acknowledged.length, 0, `${m.label}: no logout acknowledged without a replica`)
        assert.is(o.unconfirmed.length, SIDS.length, `${m.label}: every logout rejected with ${NOT_REPLICATED}`)
        // The promoted primary has no replica: clear() tombstones, and says they are not confirmed.
        assert.is(await m.store.access.length(), SIDS.length, `${m.label}: length() on the new primary`)
        const cleared = await m.store.access.clear().then(() => 'cleared', failureCode)
        assert.is(cleared, NOT_REPLICATED, `${m.label}: clear() without a replica`)
      } else {
        assert.is(o.acknowledged.length, SIDS.length, `${m.label}: every logout acknowledged`)
        assert.is(undone, SIDS.length, `${m.label}: every acknowledged logout undone by the failover`)
        await batchedWorkAfterFailover(m)
      }
    }
  } finally {
    await Promise.all(subjects.map((s) => s.stop()))
    await set.stop()
  }
})

it.run()
