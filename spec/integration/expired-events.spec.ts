/**
 * The store's `expired` event (expiredEvents) against a real redis-server, on node-redis v4, v5 and v6 (v6 also with
 * a `keyPrefix`) and ioredis 5 and 6 (6 with a `keyPrefix`), every store under its own prefix on one server:
 *
 * - a session saved with a short maxAge expires: exactly one `expired` with its whole id; a destroyed session's
 *   tombstone expires: none; a session still alive: none;
 * - notifications off: exactly one `warning` naming the setting, and no event; `CONFIG` refused (as a managed service
 *   may): one warning saying so, and the events still come when the server has them on;
 * - Redis killed (SIGKILL) and started again on its port: the subscribers come back by themselves (time measured) and
 *   the next expiry is reported;
 * - the clients closed: no subscriber connection is left on the server.
 *
 * The Redis Cluster, with a failover, is spec/integration/expired-events-cluster.spec.ts.
 */
import { mkdtempSync, rmSync } from 'fs'
import { tmpdir } from 'os'
import { join } from 'path'
import { createClient as createClient6 } from 'redis'
import { createClient as createClient5 } from 'redis-5'
import { createClient as createClient4 } from 'redis-4'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { SessionClient } from '../../src/client/contract'
import type { NodeRedisClient } from '../../src/client/node-redis'
import { createRedisStore, type RedisSessionStore } from '../../src/express/create-redis-store'
import { fromIoRedis } from '../../src/ioredis'
import { quickBackoff as backoff } from '../support/cluster'
import { IOREDIS_MAJORS } from '../support/ioredis'
import { command, pollUntil as until, sleep } from '../support/redis-group'
import { session_ } from '../support/failover'
import { freePort, launchRedis, type Launched } from '../support/redis-server'

/** Keyspace notifications as the store needs them: keyspace channel, hash commands, expiries. */
const NOTIFY = ['--notify-keyspace-events', 'Khx']

/** A server this spec owns, that it can kill and start again on the same port. */
const server = async (args: ReadonlyArray<string>) => {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'crs-expired-'))
  let launched: Launched = await launchRedis(port, dir, args)
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: async () => {
      launched.child.kill('SIGKILL')
      await launched.exited
    },
    start: async () => void (launched = await launchRedis(port, dir, args)),
    stop: async () => {
      launched.child.kill('SIGKILL')
      await launched.exited
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** The subscriber connections on the server on `port` (pattern subscriptions, `CLIENT LIST TYPE pubsub`). */
const subscribers = async (port: number): Promise<number> =>
  String(await command(port, ['CLIENT', 'LIST', 'TYPE', 'pubsub']))
    .split('\n')
    .filter((line) => / psub=[1-9]/.test(line)).length

interface NodeRedisLike {
  connect(): Promise<unknown>
  destroy?: () => void
  disconnect(): Promise<unknown>
  on(event: string, listener: () => void): unknown
}

/** A client under test: what the store is given, the key prefix it adds, and how to connect and close it. */
interface Subject {
  readonly name: string
  readonly client: SessionClient | NodeRedisClient
  readonly keyPrefix: string
  readonly connect: () => Promise<unknown>
  readonly close: () => Promise<unknown>
}

const nodeRedis = (name: string, c: NodeRedisLike, keyPrefix = ''): Subject => {
  c.on('error', () => undefined)
  return {
    name,
    client: c as unknown as NodeRedisClient,
    keyPrefix,
    connect: () => c.connect(),
    close: async () => (typeof c.destroy === 'function' ? c.destroy() : c.disconnect())
  }
}

const subjectsOn = (url: string): ReadonlyArray<Subject> => {
  const socket = { reconnectStrategy: backoff }
  return [
    nodeRedis('node-redis v4', createClient4({ url, socket }) as unknown as NodeRedisLike),
    nodeRedis('node-redis v5', createClient5({ url, socket }) as unknown as NodeRedisLike),
    nodeRedis('node-redis v6', createClient6({ url, socket }) as unknown as NodeRedisLike),
    nodeRedis(
      'node-redis v6 keyPrefix',
      createClient6({ url, socket, keyPrefix: 'nr:' }) as unknown as NodeRedisLike,
      'nr:'
    ),
    ...IOREDIS_MAJORS.map(({ name, Redis }, i): Subject => {
      const keyPrefix = i === 1 ? 'io:' : ''
      const c = new Redis(url, {
        lazyConnect: true,
        retryStrategy: backoff,
        ...(keyPrefix === '' ? {} : { keyPrefix })
      })
      c.on('error', () => undefined)
      return {
        name: `${name}${keyPrefix === '' ? '' : ' keyPrefix'}`,
        client: fromIoRedis(c),
        keyPrefix,
        connect: () => c.connect(),
        close: async () => c.disconnect()
      }
    })
  ]
}

/** A store of `subject` under prefix `e<i>:` with what it emits recorded. */
const storeOf = (subject: Subject, i: number, grace = 1) => {
  const store: RedisSessionStore = createRedisStore(subject.client, {
    prefix: `e${i}:`,
    expiredEvents: true,
    concurrencyGraceSeconds: grace
  })
  const expired: Array<unknown> = []
  const warnings: Array<string> = []
  store.on('expired', (e: unknown) => expired.push(e))
  store.on('warning', (m: string) => warnings.push(m))
  return { subject, store, expired, warnings, key: (sid: string) => `${subject.keyPrefix}e${i}:${sid}` }
}

type Server = Awaited<ReturnType<typeof server>>
type Recorded = ReturnType<typeof storeOf>

/**
 * A server started with `args`, every client connected and a store on each, for `body`; then the clients closed and
 * the server stopped, whatever `body` did.
 */
const withStores = async (
  args: ReadonlyArray<string>,
  body: (s: Server, stores: ReadonlyArray<Recorded>) => Promise<void>
): Promise<void> => {
  const s = await server(args)
  const subjects = subjectsOn(s.url)
  try {
    await Promise.all(subjects.map((x) => x.connect()))
    await body(
      s,
      subjects.map((x, i) => storeOf(x, i))
    )
  } finally {
    await Promise.all(subjects.map((x) => x.close().catch(() => undefined)))
    await s.stop()
  }
}

/** Until every store's subscriber is on the server. */
const allSubscribed = (s: Server, stores: ReadonlyArray<Recorded>, ms = 5_000): Promise<number> =>
  until('every subscriber up', ms, async () => (await subscribers(s.port).catch(() => 0)) === stores.length)

/** Until the key of `sid` is gone from Redis in every store (expired). */
const allGone = (s: Server, stores: ReadonlyArray<Recorded>, sid: string): Promise<number> =>
  until(`every ${sid} gone`, 3_000, async () => {
    const left = await Promise.all(stores.map((t) => command(s.port, ['EXISTS', t.key(sid)])))
    return left.every((n) => Number(n) === 0)
  })

const test = suite('expiredEvents on a single redis-server')

test('a session expires: one expired event with its whole id; a tombstone expires: none', () =>
  withStores(NOTIFY, async (s, stores) => {
    await allSubscribed(s, stores)
    for (const t of stores) {
      await t.store.access.set('live-Abc_123', session_(60_000))
      await t.store.access.set('short-Xyz_789', session_(300))
      await t.store.access.set('destroyed-1', session_(60_000))
      await t.store.access.destroy('destroyed-1')
    }
    const tookMs = await until('every short session reported', 3_000, () => stores.every((t) => t.expired.length > 0))
    // The tombstones (1 s) are gone, and a while more for a stray event.
    await allGone(s, stores, 'destroyed-1')
    await sleep(300)
    console.log(`[expired] single node: the 300 ms sessions all reported ${tookMs} ms after the last save`)
    for (const t of stores) {
      assert.equal(t.expired, [{ sid: 'short-Xyz_789' }], `${t.subject.name}: exactly one event, the short session's`)
      assert.equal(t.warnings, [], `${t.subject.name}: no warning`)
      assert.ok(await t.store.access.get('live-Abc_123'), `${t.subject.name}: the live session is still there`)
    }
  }))

test('notifications off: exactly one warning naming the setting, and no event', () =>
  withStores([], async (s, stores) => {
    await until('every warning', 5_000, () => stores.every((t) => t.warnings.length > 0))
    for (const t of stores) await t.store.access.set('short', session_(100))
    await allGone(s, stores, 'short')
    await sleep(200)
    for (const t of stores) {
      assert.is(t.warnings.length, 1, `${t.subject.name}: one warning`)
      assert.match(t.warnings[0] ?? '', 'has notify-keyspace-events "", without K, h, x')
      assert.match(t.warnings[0] ?? '', 'Set notify-keyspace-events Khx ')
      assert.equal(t.expired, [], `${t.subject.name}: no event`)
    }
    console.log(`[expired] notifications off: ${JSON.stringify(stores[0]?.warnings[0])}`)
  }))

test('CONFIG refused (as on a managed service): one warning saying so; the events come all the same', () =>
  withStores([...NOTIFY, '--rename-command', 'CONFIG', ''], async (_server, stores) => {
    await until('every warning', 5_000, () => stores.every((t) => t.warnings.length > 0))
    for (const t of stores) await t.store.access.set('short', session_(100))
    await until('every short session reported', 3_000, () => stores.every((t) => t.expired.length > 0))
    await sleep(200)
    for (const t of stores) {
      assert.is(t.warnings.length, 1, `${t.subject.name}: one warning`)
      assert.match(t.warnings[0] ?? '', /could not read notify-keyspace-events on .*subscribed all the same/)
      assert.equal(t.expired, [{ sid: 'short' }], `${t.subject.name}: the event`)
    }
  }))

test('Redis killed and started again on its port: the subscribers come back, the next expiry is reported', () =>
  withStores(NOTIFY, async (s, stores) => {
    await allSubscribed(s, stores)
    await s.kill()
    await sleep(500)
    await s.start()
    const backMs = await allSubscribed(s, stores, 10_000)
    console.log(`[expired] restart: every subscriber back ${backMs} ms after the server was`)
    for (const t of stores) await t.store.access.set('after-restart', session_(200))
    await until('every expiry after the restart reported', 3_000, () => stores.every((t) => t.expired.length > 0))
    await sleep(200)
    for (const t of stores) assert.equal(t.expired, [{ sid: 'after-restart' }], t.subject.name)
    assert.ok(
      stores.every((t) => t.warnings.length === 0),
      'no warning'
    )
  }))

test('the clients closed: no subscriber connection is left', () =>
  withStores(NOTIFY, async (s, stores) => {
    await allSubscribed(s, stores)
    await Promise.all(stores.map((t) => t.subject.close()))
    const goneMs = await until('every subscriber gone', 3_000, async () => (await subscribers(s.port)) === 0)
    console.log(`[expired] clients closed: every subscriber gone within ${goneMs} ms`)
  }))

test.run()
