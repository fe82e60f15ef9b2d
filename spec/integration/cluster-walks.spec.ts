/**
 * The batched operations on a Redis Cluster (3 masters, no replicas) whose master hangs (`SIGSTOP`) or dies
 * (`SIGKILL`), through node-redis v6 `createCluster`, an ioredis 5 `Cluster` and a Valkey GLIDE `GlideClusterClient`: each page of a walk has the
 * deadline operationTimeoutMs, so `all`, `length` and `clear` fail within it plus a slack generous enough for a
 * loaded 2-core machine, with a `SessionStoreError` that says how far the walk got.
 */
import { Cluster } from 'ioredis'
import { createCluster } from 'redis'
import { suite } from 'uvu'
import { failureWithin } from '../support/failure'
import * as assert from 'uvu/assert'
import { createRedisStore, type SessionStoreError } from '../../src'
import { fromIoRedisCluster } from '../../src/ioredis'
import { fromValkeyGlideCluster } from '../../src/valkey-glide'
import { glideClusterClient } from '../support/glide'
import { storedSession } from '../helpers'
import { startCluster, type RedisCluster } from '../support/cluster'

const DEADLINE_MS = 1_000
const SLACK_MS = 2_500
/** GLIDE's default `requestTimeout`. */
const GLIDE_REQUEST_TIMEOUT_MS = 250
const SESSIONS = 600

interface Ctx {
  cluster?: RedisCluster
  stops: Array<() => Promise<unknown>>
}

const it = suite<Ctx>('Redis Cluster: a hung or dead master ends the batched operations at the deadline', {
  stops: []
})

it.before(async (ctx) => {
  ctx.cluster = await startCluster({ replicasPerMaster: 0 })
})

it.after(async (ctx) => {
  await Promise.all(ctx.stops.map((stop) => stop().catch(() => undefined)))
  await ctx.cluster?.stop()
})

/** How long `p` took to fail, and with what (see `failureWithin`). */
const failure = (p: Promise<unknown>) => failureWithin(p, DEADLINE_MS + SLACK_MS + 1_000, 'a master was stopped')

const stores = async (ctx: Ctx, cluster: RedisCluster) => {
  const v6 = createCluster({ rootNodes: [...cluster.rootNodes] })
  v6.on('error', () => undefined)
  const io = new Cluster(
    cluster.ports.map((port) => ({ host: '127.0.0.1', port })),
    { lazyConnect: true }
  )
  io.on('error', () => undefined)
  await Promise.all([v6.connect(), io.connect()])
  const glide = await glideClusterClient(cluster.ports[0] ?? 0)
  ctx.stops.push(
    () => v6.close(),
    async () => io.disconnect(),
    async () => glide.close()
  )
  const options = { operationTimeoutMs: DEADLINE_MS, scanCount: 50 }
  return [
    ['node-redis v6', createRedisStore(v6, options)],
    ['ioredis', createRedisStore(fromIoRedisCluster(io), options)],
    ['Valkey GLIDE', createRedisStore(fromValkeyGlideCluster(glide), options)]
  ] as const
}

const expectBounded = (label: string, { ms, err }: { readonly ms: number; readonly err: SessionStoreError }) => {
  assert.ok(err instanceof Error && err.name === 'SessionStoreError', `${label}: a SessionStoreError (${String(err)})`)
  assert.ok(ms < DEADLINE_MS + SLACK_MS, `${label}: failed within the deadline + slack (${Math.round(ms)} ms)`)
}

it('SIGSTOP of a master: all, length and clear fail at the deadline with ESESSION_WALK_FAILED', async (ctx) => {
  const cluster = ctx.cluster as RedisCluster
  const subjects = await stores(ctx, cluster)
  const [, seeder] = subjects[0]
  const value = { ...storedSession(Date.now(), 600_000) } as never
  for (let i = 0; i < SESSIONS; i += 100)
    await Promise.all(Array.from({ length: 100 }, (_, j) => seeder.access.set(`s${i + j}`, value)))
  for (const [label, store] of subjects) assert.is(await store.access.length(), SESSIONS, label)
  const [stopped] = await cluster.masters()
  cluster.signal(stopped as number, 'SIGSTOP')
  try {
    for (const [label, store] of subjects) {
      const results = await Promise.all([
        failure(store.access.all()),
        failure(store.access.length()),
        failure(store.access.clear())
      ])
      console.log(
        `[cluster-walks] SIGSTOP, ${label}: all=${Math.round(results[0].ms)} ms length=${Math.round(
          results[1].ms
        )} ms clear=${Math.round(results[2].ms)} ms (${results[2].err.code})`
      )
      ;(['all', 'length', 'clear'] as const).forEach((operation, i) => {
        const r = results[i] as (typeof results)[number]
        expectBounded(`${label} ${operation}`, r)
        // GLIDE fails a request on its own requestTimeout (250 ms by default), before the store's deadline.
        const bound = label === 'Valkey GLIDE' ? GLIDE_REQUEST_TIMEOUT_MS : DEADLINE_MS
        assert.ok(
          r.ms >= bound * 0.9,
          `${label} ${operation} waited for its timeout, ${bound} ms (${Math.round(r.ms)} ms)`
        )
        assert.is(r.err.code, 'ESESSION_WALK_FAILED', `${label} ${operation}`)
        assert.ok(r.err.storeError._tag === 'WalkFailed' && r.err.storeError.operation === operation)
      })
    }
  } finally {
    cluster.signal(stopped as number, 'SIGCONT')
  }
})

it('SIGKILL of a master: all fails within the deadline + slack', async (ctx) => {
  const cluster = ctx.cluster as RedisCluster
  const subjects = await stores(ctx, cluster)
  const [killed] = await cluster.masters()
  cluster.signal(killed as number, 'SIGKILL')
  for (const [label, store] of subjects) {
    const r = await failure(store.access.all())
    console.log(`[cluster-walks] SIGKILL, ${label}: all=${Math.round(r.ms)} ms (${r.err.code}: ${r.err.message})`)
    expectBounded(`${label} all`, r)
  }
})

it.run()
