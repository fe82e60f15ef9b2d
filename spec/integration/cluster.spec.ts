/**
 * The store on a real Redis Cluster (3 masters, 3 replicas, started once for the file), through node-redis v6,
 * v5 and v4 `createCluster` clients given to `createRedisStore` as they are, ioredis 5 and 6 `Cluster`s through
 * `fromIoRedisCluster` and a Valkey GLIDE `GlideClusterClient` through `fromValkeyGlideCluster`. Single-key commands land on every master; the batched operations (`length`, `ids`,
 * `all`, `iterate`, `clear`) scan each master and group keys by hash slot, so no command fails with CROSSSLOT.
 * Timings of the batched operations are printed on a `[cluster]` line per client family.
 */
import type session from 'express-session'
import { createCluster as createCluster6 } from 'redis'
import { createCluster as createCluster4 } from 'redis-4'
import { createCluster as createCluster5 } from 'redis-5'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import * as E from 'fp-ts/lib/Either'
import { createRedisStore, type RedisSessionStore } from '../../src'
import { toSessionClient } from '../../src/client/check'
import { keySlot } from '../../src/client/slot'
import { fromIoRedisCluster } from '../../src/ioredis'
import { fromValkeyGlideCluster } from '../../src/valkey-glide'
import { makeClusterReads } from '../../src/operations/cluster-pages'
import { makeTombstone } from '../../src/operations/tombstone'
import { countKeys as countOn } from '../support/redis-group'
import { startCluster, type RedisCluster } from '../support/cluster'
import { glideClusterClient } from '../support/glide'
import { IOREDIS_MAJORS, type IoRedisClusterInstance } from '../support/ioredis'

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
const ioRedis = (c: IoRedisClusterInstance): Subject => ({
  client: fromIoRedisCluster(c),
  connect: () => c.connect(),
  stop: () => c.quit()
})

const families: ReadonlyArray<readonly [string, (cluster: RedisCluster) => Subject | Promise<Subject>]> = [
  ['node-redis v6', ({ rootNodes }) => nodeRedis(createCluster6({ rootNodes: [...rootNodes] }))],
  ['node-redis v5', ({ rootNodes }) => nodeRedis(createCluster5({ rootNodes: [...rootNodes] }))],
  ['node-redis v4', ({ rootNodes }) => nodeRedis(createCluster4({ rootNodes: [...rootNodes] }))],
  ...IOREDIS_MAJORS.map(
    ({ name, Cluster }) =>
      [
        `${name} Cluster`,
        ({ ports }: RedisCluster) =>
          ioRedis(
            new Cluster(
              ports.map((port) => ({ host: '127.0.0.1', port })),
              { lazyConnect: true }
            )
          )
      ] as const
  ),
  // GLIDE connects in createClient: connect() has nothing left to do.
  [
    'Valkey GLIDE cluster',
    async ({ ports }) => {
      const c = await glideClusterClient(ports[0] ?? 0)
      return {
        client: fromValkeyGlideCluster(c),
        connect: () => Promise.resolve(),
        stop: () => Promise.resolve(c.close())
      }
    }
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
    for (const [name, make] of families) ctx.subjects.set(name, await make(ctx.cluster))
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

/** The port of the master serving `slot`, from `CLUSTER SLOTS` on `port`. */
const ownerOf = async (ctx: Ctx, slot: number): Promise<number> => {
  const [any] = await ctx.cluster.masters()
  const ranges = (await ctx.cluster.command(any ?? 0, ['CLUSTER', 'SLOTS'])) as Array<
    [number, number, [string, number]]
  >
  const range = ranges.find(([from, to]) => slot >= from && slot <= to)
  if (range === undefined) throw new Error(`no master serves slot ${slot}`)
  return Number(range[2][1])
}

/**
 * Starts moving `slot` from master `from` to master `to` as `redis-cli --cluster reshard` does: IMPORTING /
 * MIGRATING, then `migrate` some of the slot's keys at a time (the slot is half moved meanwhile), and `finish`
 * gives the slot to `to` on every master.
 */
const moveSlot = async (ctx: Ctx, slot: number, from: number, to: number) => {
  const [fromId, toId] = (await Promise.all([from, to].map((p) => ctx.cluster.command(p, ['CLUSTER', 'MYID'])))).map(
    String
  )
  await ctx.cluster.command(to, ['CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', fromId as string])
  await ctx.cluster.command(from, ['CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', toId as string])
  const migrate = (some: ReadonlyArray<string>) =>
    some.length === 0
      ? Promise.resolve()
      : ctx.cluster.command(from, ['MIGRATE', '127.0.0.1', String(to), '', '0', '5000', 'KEYS', ...some])
  return {
    migrate,
    finish: async () => {
      for (const p of await ctx.cluster.masters())
        await ctx.cluster.command(p, ['CLUSTER', 'SETSLOT', String(slot), 'NODE', toId as string])
    }
  }
}

for (const [name] of families) {
  const store = (ctx: Ctx): RedisSessionStore => {
    const subject = ctx.subjects.get(name)
    if (subject === undefined) throw new Error(`no ${name} client`)
    return createRedisStore(subject.client, {})
  }

  it(`${name}: concurrentSaves 'merge' on keys of all three masters: two loads, two saves, both changes`, async (ctx) => {
    await flush(ctx)
    const subject = ctx.subjects.get(name)
    if (subject === undefined) throw new Error(`no ${name} client`)
    const s = createRedisStore(subject.client, { concurrentSaves: 'merge' })
    for (let i = 0; i < 12; i++) {
      const sid = `merge${i}`
      await ok('set', () => s.access.set(sid, session_(60_000, { n: 0 })))
      const [a, b] = [await ok('get', () => s.access.get(sid)), await ok('get', () => s.access.get(sid))]
      assert.ok(a !== null && b !== null)
      Object.assign(a, { cart: ['apple'] })
      Object.assign(b, { theme: 'dark' })
      assert.is(await ok('set a', () => s.access.set(sid, a)), 'written')
      assert.is(await ok('set b', () => s.access.set(sid, b)), 'written')
      const now = (await ok('get', () => s.access.get(sid))) as unknown as Record<string, unknown>
      assert.equal([now['n'], now['cart'], now['theme']], [0, ['apple'], 'dark'], sid)
    }
  })

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

  it(`${name}: a slot moved since the SCAN: a master's batch is still read and cleared right, never wrongly`, async (ctx) => {
    await flush(ctx)
    const s = store(ctx)
    const client = E.getOrElseW((e: TypeError) => {
      throw e
    })(toSessionClient(ctx.subjects.get(name)?.client))
    for (let n = 0; n < 300; n++) await ok('set', () => s.access.set(`m${n}`, session_(600_000, { n })))
    // A batch as the store takes it from one master's SCAN: that master's keys, many slots.
    const [from] = await ctx.cluster.masters()
    const scanned = (await ctx.cluster.command(from ?? 0, ['SCAN', '0', 'MATCH', 'sessions:*', 'COUNT', '1000'])) as [
      string,
      Array<string>
    ]
    const batch = scanned[1]
    assert.ok(batch.length > 50, `${batch.length} keys on the first master`)
    const expected = await Promise.all(batch.map((k) => onKey(ctx, k, 'GET', k)))
    // Then a resharding moves the slot of a key in the middle of the batch to another master.
    const slot = keySlot(batch[Math.floor(batch.length / 2)] as string)
    const inSlot = batch.filter((k) => keySlot(k) === slot)
    const to = (await ctx.cluster.masters()).find((p) => p !== from) as number
    assert.is(await ownerOf(ctx, slot), from)
    const move = await moveSlot(ctx, slot, from as number, to)
    const reads = makeClusterReads({ client, keyPrefix: client.keyPrefix })
    // Half moved (the slot MIGRATING / IMPORTING): the right values, or a clear error — never a wrong value.
    await move.migrate(inSlot.slice(0, 1))
    {
      const half = await reads(batch)()
      if (E.isRight(half)) assert.equal(half.right, expected, 'half moved: every value right')
      else
        assert.match(
          half.left._tag === 'CommandFailed' ? String((half.left.cause as Error).message) : half.left._tag,
          /TRYAGAIN|ASK|MOVED|non local/,
          'half moved: a clear error'
        )
    }
    await move.migrate(inSlot.slice(1))
    await move.finish()
    assert.is(await ownerOf(ctx, slot), to)
    assert.equal(await reads(batch)(), E.right(expected), 'moved: every value right')
    const tombstone = makeTombstone({
      client,
      concurrencyGraceSeconds: 300,
      now: () => Date.now(),
      countLiveOnly: false,
      acrossSlots: { keyPrefix: client.keyPrefix }
    })
    const removed = await tombstone(batch)()
    assert.equal(removed, E.right(batch.length), 'every key of the batch removed, counted once')
    for (const k of batch) assert.is(await onKey(ctx, k, 'TYPE', k), 'hash', `${k} is a tombstone`)
    assert.is(await ok('length', () => s.access.length()), 300 - batch.length)
    // Give the slot back, so that the next family starts from the same layout.
    const back = await moveSlot(ctx, slot, to, from as number)
    await back.migrate(inSlot)
    await back.finish()
  })
}

it.run()
