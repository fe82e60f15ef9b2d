/**
 * Run as a child process with `node --expose-gc`: builds many stores on one client, drops them, forces a
 * collection and prints one JSON line: the heap the dropped stores still hold, and what one store costs to build.
 *
 *   node --expose-gc dropped-stores.js <client> <options> <count> [redis url]
 *
 * `client`: `node-redis` (never connected), `node-redis-connected` (needs the url), `ioredis` (lazy, never
 * connected), `ioredis-connected` (needs the url), `memory`, `memory-down` (a memory client not yet connected).
 * `options`: `default`, `bypass` (`whenDisconnected: 'bypass'`) or `unchecked` (`checkEvictionPolicy: false`).
 */
import Redis from 'ioredis'
import { createClient } from 'redis'
import { fromIoRedis } from '../../src/client/ioredis'
import { createMemoryClient } from '../../src/client/memory'
import { createRedisStore } from '../../src/express/create-redis-store'
import type { StoreOptions } from '../../src/options'

/** What the parent reads from the child's last line of output. */
export interface DroppedStoresReport {
  readonly client: string
  readonly options: string
  readonly count: number
  /** Heap used after the stores were dropped and collected, minus the heap before they were built. */
  readonly retainedBytes: number
  /** Wall time of building one store, in microseconds (mean over `count`). */
  readonly buildMicros: number
  /** The heap one store takes while it is referenced. */
  readonly keptBytes: number
}

const CHUNK = 100
const KEPT = 2000

type Made = {
  readonly client: Parameters<typeof createRedisStore>[0]
  /** Resolves once every command sent so far has its reply. */
  readonly drain: () => Promise<unknown>
  readonly close: () => Promise<unknown>
}

const clientOf = async (kind: string, url: string | undefined): Promise<Made> => {
  switch (kind) {
    case 'node-redis': {
      const client = createClient({ url: url ?? 'redis://127.0.0.1:1' })
      return { client, drain: () => Promise.resolve(), close: () => Promise.resolve() }
    }
    case 'node-redis-connected': {
      const client = createClient({ url: url ?? '' })
      await client.connect()
      return { client, drain: () => client.ping(), close: () => client.quit() }
    }
    case 'ioredis': {
      const redis = new Redis({ lazyConnect: true })
      return { client: fromIoRedis(redis), drain: () => Promise.resolve(), close: () => Promise.resolve() }
    }
    case 'ioredis-connected': {
      const redis = new Redis(url ?? '')
      await redis.ping()
      return { client: fromIoRedis(redis), drain: () => redis.ping(), close: () => redis.quit() }
    }
    case 'memory':
    case 'memory-down': {
      const memory = createMemoryClient({ connected: kind === 'memory' })
      return { client: memory, drain: () => Promise.resolve(), close: () => Promise.resolve() }
    }
    default:
      throw new Error(`unknown client ${kind}`)
  }
}

const optionsOf = (name: string): StoreOptions => {
  switch (name) {
    case 'default':
      return {}
    case 'bypass':
      return { whenDisconnected: 'bypass' }
    case 'unchecked':
      return { checkEvictionPolicy: false }
    default:
      throw new Error(`unknown options ${name}`)
  }
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r))
}

const collect = async (): Promise<number> => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run with node --expose-gc')
  // FinalizationRegistry callbacks run after a collection, in a later task: collect, let them run, again.
  for (let i = 0; i < 4; i++) {
    gc()
    await settle()
  }
  return process.memoryUsage().heapUsed
}

const main = async (): Promise<void> => {
  const [kind = 'memory', optionsName = 'default', countText = '20000', url] = process.argv.slice(2)
  const count = Number(countText)
  const made = await clientOf(kind, url)
  const options = optionsOf(optionsName)
  process.on('warning', () => undefined)
  // One store first, so that the module-level state and the client's adapter exist before the baseline.
  createRedisStore(made.client, options)
  await made.drain()
  await settle()
  const before = await collect()
  // Built in chunks, each followed by a turn of the event loop (as stores are built in an application: the
  // synchronous job ends, replies arrive); only the building is timed.
  let elapsed = 0
  for (let built = 0; built < count; built += CHUNK) {
    const started = process.hrtime.bigint()
    for (let i = 0; i < CHUNK; i++) createRedisStore(made.client, options)
    elapsed += Number(process.hrtime.bigint() - started) / 1000
    await new Promise((r) => setImmediate(r))
  }
  await made.drain()
  await settle()
  const after = await collect()
  // What a store that is kept costs: a few of them, held.
  const kept = Array.from({ length: KEPT }, () => createRedisStore(made.client, options))
  await made.drain()
  await settle()
  const withKept = await collect()
  const report: DroppedStoresReport = {
    client: kind,
    options: optionsName,
    count,
    retainedBytes: after - before,
    buildMicros: elapsed / count,
    keptBytes: Math.round((withKept - after) / kept.length)
  }
  await made.close()
  process.stdout.write(`${JSON.stringify(report)}\n`)
  process.exit(0)
}

void main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`)
  process.exit(1)
})
