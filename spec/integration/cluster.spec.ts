/**
 * The store on a real Redis Cluster (3 masters, 3 replicas, started once for the file), through node-redis v6
 * and v5 `createCluster` clients given to `createRedisStore` as they are, and an ioredis 5 `Cluster` through
 * `fromIoRedisCluster`. Single-key commands land on every master; the batched operations (`length`, `ids`,
 * `all`, `iterate`, `clear`) scan each master and group keys by hash slot, so no command fails with CROSSSLOT.
 * Timings of the batched operations are printed on a `[cluster]` line per client family.
 */
import type session from 'express-session'
import { Cluster } from 'ioredis'
import { createCluster as createCluster6 } from 'redis'
import { createCluster as createCluster5 } from 'redis-5'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createRedisStore, type RedisSessionStore } from '../../src'
import { fromIoRedisCluster } from '../../src/ioredis'
import { countKeys as countOn } from '../support/redis-group'
import { startCluster, type RedisCluster } from '../support/cluster'

const SESSIONS = 10_000
const BATCH = 1_000

/** A node-redis cluster client: given to the store as it is. */
interface NodeRedisCluster {
  connect(): Promise<unknown>
  close?: () => Promise<unknown>
  quit?: () => Promise<unknown>
  destroy?: () => unknown
}

/** A client under test: what the store is given, and how to connect and close the client behind it. */
interface Subject {
  readonly client: Parameters<typeof createRedisStore>[0]
  readonly connect: () => Promise<unknown>
  readonly stop: () => Promise<unknown>
}

const nodeRedis = (c: NodeRedisCluster & Parameters<typeof createRedisStore>[0]): Subject => ({
  client: c,
  connect: () => c.connect(),
  stop: async () => {
    try {
      await (typeof c.close === 'function' ? c.close() : c.quit?.())
    } catch {
      c.destroy?.()
    }
  }
})

// lazyConnect: connect() resolves once the cluster is ready.
const ioRedis = (c: Cluster): Subject => ({
  client: fromIoRedisCluster(c),
  connect: () => c.connect(),
  stop: () => c.quit()
})

const families: ReadonlyArray<readonly [string, (cluster: RedisCluster) => Subject]> = [
  ['node-redis v6', ({ rootNodes }) => nodeRedis(createCluster6({ rootNodes: [...rootNodes] }))],
  ['node-redis v5', ({ rootNodes }) => nodeRedis(createCluster5({ rootNodes: [...rootNodes] }))],
  [
    'ioredis 5 Cluster',
    ({ ports }) =>
      ioRedis(
        new Cluster(
          ports.map((port) => ({ host: '127.0.0.1', port })),
          { lazyConnect: true }
        )
      )
  ]
]

const session_ = (inMs: number, extra: Record<string, unknown> = {}) =>
  ({
    cookie: { originalMaxAge: inMs, expires: new Date(Date.now() + inMs), httpOnly: true, path: '/' },
    ...extra
  } as unknown as session.SessionData)

/** Awaits an operation of the store, failing the test with its message (CROSSSLOT named) if it rejects. */
const ok = async <A>(label: string, run: () => Promise<A>): Promise<A> => {
  try {
    return await run()
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    const crossslot = /CROSSSLOT/.test(message) ? ' with CROSSSLOT' : ''
    assert.unreachable(`${label} rejected${crossslot}: ${message}`)
    throw e
  }
}

const timed = async <A>(times: Array<string>, label: string, run: () => Promise<A>): Promise<A> => {
  const t0 = performance.now()
  const a = await ok(label, run)
  times.push(`${label} ${Math.round(performance.now() - t0)} ms`)
  return a
}

type Ctx = {
  cluster: RedisCluster
  /** A node-redis v6 cluster client for the spec's own commands. */
  admin: ReturnType<typeof createCluster6>
  subjects: Map<string, Subject>
}

const it = suite<Ctx>('integration: Redis Cluster')

const shutdown = async (ctx: Ctx): Promise<void> => {
  try {
    await Promise.all(
      [...(ctx.subjects?.values() ?? []), ...(ctx.admin ? [nodeRedis(ctx.admin)] : [])].map((c) => c.stop())
    )
  } finally {
    await ctx.cluster?.stop()
  }
}

it.before(async (ctx) => {
  ctx.subjects = new Map()
  ctx.cluster = await startCluster()
  console.log(`[cluster] 6 nodes (3 masters + 3 replicas) ready in ${ctx.cluster.startMs} ms`)
  try {
    for (const [name, make] of families) ctx.subjects.set(name, make(ctx.cluster))
    ctx.admin = createCluster6({ rootNodes: [...ctx.cluster.rootNodes] })
    await Promise.all([ctx.admin.connect(), ...[...ctx.subjects.values()].map((c) => c.connect())])
  } catch (e) {
    // uvu skips `after` when `before` throws: stop the nodes here.
    await shutdown(ctx)
    throw e
  }
})
it.after(shutdown)

/** Runs `args` on every current master. */
const onMasters = async (ctx: Ctx, args: ReadonlyArray<string>): Promise<ReadonlyArray<unknown>> => {
  const masters = await ctx.cluster.masters()
  return Promise.all(masters.map((p) => ctx.cluster.command(p, args)))
}

const flush = async (ctx: Ctx): Promise<void> => {
  await onMasters(ctx, ['FLUSHALL'])
}

/** Runs `args` on the master holding `key`, through the admin cluster client (which routes by key). */
const onKey = (ctx: Ctx, key: string, ...args: ReadonlyArray<string>): Promise<unknown> =>
  ctx.admin.sendCommand(key, false, [...args])

/** Keys of `type` under `match` on every master, counted with `SCAN … TYPE`. */
const countKeys = async (ctx: Ctx, match: string, type: 'string' | 'hash'): Promise<number> => {
  let total = 0
  for (const port of await ctx.cluster.masters()) total += await countOn(ctx.cluster.command, port, match, type)
  return total
}

for (const [name] of families) {
  const store = (ctx: Ctx): RedisSessionStore => {
    const subject = ctx.subjects.get(name)
    if (subject === undefined) throw new Error(`no ${name} client`)
    return createRedisStore(subject.client, {})
  }

  it(`${name}: set / get / touch / destroy on keys spread over all three masters; tombstones`, async (ctx) => {
    await flush(ctx)
    const s = store(ctx)
    const ids = Array.from({ length: 30 }, (_, i) => `single${i}`)
    for (const sid of ids) assert.is(await ok('set', () => s.access.set(sid, session_(60_000, { sid }))), 'written')
    const sizes = (await onMasters(ctx, ['DBSIZE'])).map(Number)
    assert.is(sizes.length, 3, 'three masters')
    assert.ok(
      sizes.every((n) => n > 0),
      `every master holds sessions (${sizes.join(', ')})`
    )
    assert.is(
      sizes.reduce((a, b) => a + b, 0),
      ids.length
    )
    for (const sid of ids) {
      const got = await ok('get', () => s.access.get(sid))
      assert.is((got as unknown as { sid: string }).sid, sid)
      assert.instance(got?.cookie.expires, Date)
      assert.is(await ok('touch', () => s.access.touch(sid, session_(600_000, { sid }))), true)
      const pttl = Number(await onKey(ctx, `sessions:${sid}`, 'PTTL', `sessions:${sid}`))
      assert.ok(pttl > 599_000 && pttl <= 600_000, `PTTL ${pttl} after touch`)
    }
    for (const sid of ids) {
      assert.is(await ok('destroy', () => s.access.destroy(sid)), true)
      assert.is(await onKey(ctx, `sessions:${sid}`, 'TYPE', `sessions:${sid}`), 'hash', `${sid} is a tombstone`)
      assert.is(await ok('get', () => s.access.get(sid)), null)
      assert.is(await ok('set', () => s.access.set(sid, session_(60_000))), 'tombstoned')
      assert.is(await ok('touch', () => s.access.touch(sid, session_(60_000))), false)
    }
    assert.is(await countKeys(ctx, 'sessions:*', 'hash'), ids.length)
  })

  it(`${name}: ${SESSIONS} sessions: length / ids / all / iterate / clear scan every master`, async (ctx) => {
    await flush(ctx)
    const s = store(ctx)
    const times: Array<string> = []
    await timed(times, 'set', async () => {
      for (let from = 0; from < SESSIONS; from += BATCH) {
        const batch = Array.from({ length: Math.min(BATCH, SESSIONS - from) }, (_, i) => from + i)
        const replies = await Promise.all(batch.map((n) => s.access.set(`s${n}`, session_(600_000, { n }))))
        assert.ok(
          replies.every((r) => r === 'written'),
          'every set is written'
        )
      }
    })
    await onKey(ctx, 'sessions:cache:x', 'SET', 'sessions:cache:x', '{"cookie":{}}')
    await onKey(ctx, 'other:y', 'SET', 'other:y', 'z')
    const sizes = (await onMasters(ctx, ['DBSIZE'])).map(Number)
    assert.ok(
      sizes.every((n) => n > SESSIONS / 6),
      `sessions spread over the masters (${sizes.join(', ')})`
    )

    assert.is(await timed(times, 'length', () => s.access.length()), SESSIONS)
    const ids = await timed(times, 'ids', () => s.access.ids())
    assert.is(ids.length, SESSIONS)
    assert.is(new Set(ids).size, SESSIONS, 'distinct ids')
    const all = await timed(times, 'all', () => s.access.all())
    assert.is(Object.keys(all).length, SESSIONS)
    for (const [sid, sess] of Object.entries(all))
      assert.is((sess as unknown as { n: number }).n, Number(sid.slice(1)), `id ${sid} matches its session`)
    const seen = await timed(times, 'iterate', async () => {
      const m = new Map<string, number>()
      for await (const [sid, sess] of s.access.iterate()) m.set(sid, (sess as unknown as { n: number }).n)
      return m
    })
    assert.is(seen.size, SESSIONS)
    assert.is(await timed(times, 'clear', () => s.access.clear()), SESSIONS)

    assert.is(await ok('length', () => s.access.length()), 0, 'no live session left')
    assert.is(await countKeys(ctx, 'sessions:*', 'hash'), SESSIONS, 'one tombstone per cleared session')
    assert.is(await countKeys(ctx, 'sessions:*', 'string'), 1, 'only the foreign key is a string under the prefix')
    assert.is(await onKey(ctx, 'sessions:cache:x', 'GET', 'sessions:cache:x'), '{"cookie":{}}', 'foreign key kept')
    assert.is(await onKey(ctx, 'other:y', 'GET', 'other:y'), 'z', 'key outside the prefix kept')
    assert.is(await ok('set', () => s.access.set('s42', session_(60_000))), 'tombstoned')
    console.log(`[cluster] ${name}: ${SESSIONS} sessions: ${times.join(', ')}`)
  })
}

it.run()
