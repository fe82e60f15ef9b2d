/**
 * The owner index (`ownerOf`) on real Redis: one redis-server (node-redis v6, ioredis 5 through `fromIoRedis`
 * with a `keyPrefix`, Valkey GLIDE) and a Redis Cluster of 3 masters and 3 replicas (node-redis v6 `createCluster`,
 * ioredis 5 `Cluster`, GLIDE's `GlideClusterClient`), where an owner's index and its sessions live in different hash slots. Each client runs the same
 * behaviour: listing, owner change, destroy-all with tombstones, the cap, and the logout race of destroy-all
 * against saves of that user in flight. The single node also measures the index's memory per session
 * (`MEMORY USAGE`), printed on an `[owners]` line.
 */
import type { SessionData } from 'express-session'
import Redis, { Cluster } from 'ioredis'
import { createClient, createCluster } from 'redis'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createRedisStore, type RedisSessionStore } from '../../src'
import { keySlot } from '../../src/client/slot'
import { fromIoRedis, fromIoRedisCluster } from '../../src/ioredis'
import { fromValkeyGlide, fromValkeyGlideCluster } from '../../src/valkey-glide'
import { glideClient, glideClusterClient } from '../support/glide'
import type { GlideClient } from '@valkey/valkey-glide'
import { rethrowSetupError } from '../helpers'
import { startCluster, type RedisCluster } from '../support/cluster'
import { startRedis, type RedisServer } from '../support/redis-server'

const MIN = 60_000
const ownerOf = (s: SessionData): string | undefined => (s as { userId?: string }).userId
const sessionOf = (ttlMs: number, userId?: string, extra: Record<string, unknown> = {}): SessionData =>
  ({
    cookie: { originalMaxAge: ttlMs, expires: new Date(Date.now() + ttlMs), httpOnly: true, path: '/' },
    ...(userId === undefined ? {} : { userId }),
    ...extra
  } as unknown as SessionData)

/** What each test needs: a store with `ownerOf` (and one with a cap), and a way to read a key's type. */
interface Subject {
  readonly store: RedisSessionStore
  readonly capped: RedisSessionStore
  /** `TYPE` of a full key (the client's keyPrefix included). */
  readonly typeOf: (key: string) => Promise<string>
  /** The client's own key prefix, put before every key in Redis. */
  readonly keyPrefix: string
  readonly stop: () => Promise<unknown>
}

const ids = (sessions: ReadonlyArray<{ readonly id: string }>): Array<string> => sessions.map((s) => s.id).sort()

/** The behaviour every client must show; `tag` keeps the clients' ids and owners apart. */
const behaviour = (name: string, subject: () => Subject) => {
  const it = suite<{ setupError?: unknown }>(`integration: owner index, ${name}`)
  it.before.each((ctx) => rethrowSetupError(ctx.setupError))
  const u = (s: string): string => `${name.replace(/[^a-z0-9]/gi, '')}${s}`

  it('sessionsOf lists an owner’s sessions across slots; anonymous ones are in no index', async () => {
    const { store } = subject()
    const mine = Array.from({ length: 12 }, (_, i) => u(`dev${i}`))
    for (const sid of mine) await store.access.set(sid, sessionOf(10 * MIN, u('alice')))
    await store.access.set(u('guest'), sessionOf(10 * MIN))
    assert.ok(new Set(mine.map((sid) => keySlot(`sessions:${sid}`))).size > 1, 'the sessions are in many slots')
    const listed = await store.access.sessionsOf(u('alice'))
    assert.equal(ids(listed), [...mine].sort())
    for (const s of listed) {
      assert.is(ownerOf(s.session), u('alice'))
      assert.ok(Math.abs(s.expiresAt - (Date.now() + 10 * MIN)) < 5_000, 'expiresAt is the session’s expiry')
    }
  })

  it('an owner change moves the session; destroy and expiry drop ids on the next read', async () => {
    const { store, typeOf, keyPrefix } = subject()
    await store.access.set(u('s'), sessionOf(MIN))
    await store.access.set(u('s'), sessionOf(MIN, u('bob')))
    assert.equal(ids(await store.access.sessionsOf(u('bob'))), [u('s')])
    await store.access.set(u('s'), sessionOf(MIN, u('carol')))
    assert.equal(await store.access.sessionsOf(u('bob')), [])
    assert.is(await typeOf(`session-owners:${u('bob')}`), 'none', "bob's index left with its last id")
    assert.equal(ids(await store.access.sessionsOf(u('carol'))), [u('s')])
    assert.is(await typeOf(`session-owners:${u('carol')}`), 'zset')
    await store.access.destroy(u('s'))
    assert.equal(await store.access.sessionsOf(u('carol')), [])
    assert.is(await typeOf(`${keyPrefix}session-owners:${u('carol')}`), 'none')
    // A session that expires on its own leaves its owner's index with it.
    await store.access.set(u('short'), sessionOf(300, u('dave')))
    await new Promise((r) => setTimeout(r, 1_500))
    assert.equal(await store.access.sessionsOf(u('dave')), [])
    assert.is(await typeOf(`${keyPrefix}session-owners:${u('dave')}`), 'none', 'the index expired too')
  })

  it('destroySessionsOf tombstones all but except; saves and touches of them are refused', async () => {
    const { store, typeOf, keyPrefix } = subject()
    const mine = Array.from({ length: 8 }, (_, i) => u(`d${i}`))
    for (const sid of mine) await store.access.set(sid, sessionOf(MIN, u('erin')))
    await store.access.set(u('frank1'), sessionOf(MIN, u('frank')))
    assert.is(await store.access.destroySessionsOf(u('erin'), { except: u('d0') }), 7)
    for (const sid of mine.slice(1)) {
      assert.is(await typeOf(`${keyPrefix}sessions:${sid}`), 'hash', `${sid} is a tombstone`)
      assert.is(await store.access.set(sid, sessionOf(MIN, u('erin'))), 'tombstoned')
      assert.is(await store.access.touch(sid, sessionOf(MIN, u('erin'))), false)
    }
    assert.equal(ids(await store.access.sessionsOf(u('erin'))), [u('d0')])
    assert.equal(ids(await store.access.sessionsOf(u('frank'))), [u('frank1')])
  })

  it('the logout race: saves of that user in flight around destroySessionsOf bring nothing back', async () => {
    const { store } = subject()
    const mine = Array.from({ length: 40 }, (_, i) => u(`r${i}`))
    for (const sid of mine) await store.access.set(sid, sessionOf(MIN, u('gina')))
    // Each device's slow request re-saves its session at its own moment: the first ones are sent before the
    // logout, the others a few event-loop turns into it, or after it.
    const hops = (n: number): Promise<void> =>
      n <= 0 ? Promise.resolve() : new Promise<void>((r) => setImmediate(r)).then(() => hops(n - 1))
    const saves = mine.map((sid, i) =>
      (i < 8 ? Promise.resolve() : hops(i - 8)).then(() =>
        store.access.set(sid, sessionOf(MIN, u('gina'), { cart: [i] }))
      )
    )
    const destroyed = await store.access.destroySessionsOf(u('gina'))
    const outcomes = await Promise.all(saves)
    const late = await Promise.all(mine.map((sid) => store.access.set(sid, sessionOf(MIN, u('gina')))))
    const count = (o: string, among: ReadonlyArray<string>) => among.filter((x) => x === o).length
    console.log(
      `[owners] ${name} race: destroySessionsOf removed ${destroyed}; in-flight saves written ${count(
        'written',
        outcomes
      )} (destroyed with the rest), refused ${count('tombstoned', outcomes)}`
    )
    assert.is(count('tombstoned', late), mine.length, 'every save after the logout is refused')
    for (const sid of mine) assert.is(await store.access.get(sid), null, `${sid} stays destroyed`)
    assert.equal(await store.access.sessionsOf(u('gina')), [])
  })

  it('maxSessionsPerOwner: the session expiring first goes, the one written stays', async () => {
    const { capped } = subject()
    await capped.access.set(u('c1'), sessionOf(5 * MIN, u('hal')))
    await capped.access.set(u('c2'), sessionOf(10 * MIN, u('hal')))
    await capped.access.set(u('c3'), sessionOf(2 * MIN, u('hal')))
    assert.equal(ids(await capped.access.sessionsOf(u('hal'))), [u('c2'), u('c3')])
    assert.is(await capped.access.set(u('c1'), sessionOf(MIN, u('hal'))), 'tombstoned')
  })

  return it
}

// --- one node

const single = (() => {
  let server: RedisServer
  let node: ReturnType<typeof createClient>
  let io: Redis
  let glide: GlideClient | undefined
  let setupError: unknown
  const subjects = new Map<string, Subject>()
  const before = async (): Promise<void> => {
    try {
      server = await startRedis()
      node = createClient({ url: server.url })
      io = new Redis(server.url, { lazyConnect: true, keyPrefix: 'app:' })
      await Promise.all([node.connect(), io.connect()])
      const typeOf = (key: string) => node.type(key)
      const make = (client: Parameters<typeof createRedisStore>[0], keyPrefix: string): Subject => ({
        store: createRedisStore(client, { ownerOf }),
        capped: createRedisStore(client, { ownerOf, maxSessionsPerOwner: 2 }),
        typeOf: (key) => typeOf(key.startsWith(keyPrefix) ? key : keyPrefix + key),
        keyPrefix,
        stop: () => Promise.resolve()
      })
      subjects.set('node-redis', make(node, ''))
      subjects.set('ioredis keyPrefix', make(fromIoRedis(io), 'app:'))
      glide = await glideClient(server.url)
      subjects.set('Valkey GLIDE', make(fromValkeyGlide(glide), ''))
    } catch (e) {
      setupError = e
    }
  }
  const after = async (): Promise<void> => {
    await Promise.allSettled([node?.close(), io?.quit(), Promise.resolve(glide?.close())])
    await server?.stop()
  }
  return { before, after, subjects, node: () => node, port: () => server.port, error: () => setupError }
})()

const memory = suite<{ setupError?: unknown }>('integration: owner index memory per session')
memory.before(single.before)
memory.before.each(() => rethrowSetupError(single.error()))

memory('MEMORY USAGE of the index, per session: many sessions of one owner, one session per owner', async () => {
  const node = single.node()
  const store = createRedisStore(node, { ownerOf, prefix: 'mem:', ownerIndexPrefix: 'mem-owners:' })
  const N = 1000
  const rows: Array<string> = []
  for (const perOwner of [1, 10, 100, 1000]) {
    await node.flushDb()
    const owners = N / perOwner
    for (let o = 0; o < owners; o++)
      await Promise.all(
        Array.from({ length: perOwner }, (_, i) =>
          store.access.set(`s${o}x${i}xABCDEFGHIJKLMNOPQRSTUVWXYZ`, sessionOf(MIN, `user-${o}`))
        )
      )
    let bytes = 0
    for (let o = 0; o < owners; o++)
      bytes += Number(await node.sendCommand(['MEMORY', 'USAGE', `mem-owners:user-${o}`, 'SAMPLES', '0']))
    const encoding = String(await node.sendCommand(['OBJECT', 'ENCODING', 'mem-owners:user-0']))
    rows.push(`${perOwner} sessions/owner: ${(bytes / N).toFixed(1)} B per session (${encoding})`)
    assert.ok(bytes / N < 300, `the index costs ${bytes / N} bytes per session`)
  }
  console.log(`[owners] index memory, 32-character ids: ${rows.join('; ')}`)
  await node.flushDb()
})

const byClient = (name: string) =>
  behaviour(name, () => {
    const s = single.subjects.get(name)
    if (s === undefined) throw new Error(`no client ${name}`)
    return s
  })
const onNode = byClient('node-redis')
const onGlide = byClient('Valkey GLIDE')
const onIo = byClient('ioredis keyPrefix')
onNode.before(() => undefined)
onIo.after(single.after)

// --- a cluster

let cluster: RedisCluster | undefined
const clusterSubjects = new Map<string, Subject>()
let clusterSetupError: unknown
const startClusterSubjects = async (): Promise<void> => {
  try {
    cluster = await startCluster()
    const node = createCluster({ rootNodes: [...cluster.rootNodes] })
    const io = new Cluster(
      cluster.ports.map((port) => ({ host: '127.0.0.1', port })),
      { lazyConnect: true }
    )
    await Promise.all([node.connect(), io.connect()])
    const glide = await glideClusterClient(cluster.ports[0] ?? 0)
    const typeOf = (key: string) => node.type(key)
    const make = (client: Parameters<typeof createRedisStore>[0], stop: () => Promise<unknown>): Subject => ({
      store: createRedisStore(client, { ownerOf }),
      capped: createRedisStore(client, { ownerOf, maxSessionsPerOwner: 2 }),
      typeOf,
      keyPrefix: '',
      stop
    })
    clusterSubjects.set(
      'cluster node-redis',
      make(node, () => node.close())
    )
    clusterSubjects.set(
      'cluster ioredis',
      make(fromIoRedisCluster(io), () => io.quit())
    )
    clusterSubjects.set(
      'cluster Valkey GLIDE',
      make(fromValkeyGlideCluster(glide), async () => glide.close())
    )
  } catch (e) {
    clusterSetupError = e
  }
}
const clusterBehaviour = (name: string) => {
  const it = behaviour(name, () => {
    if (clusterSetupError !== undefined) throw clusterSetupError
    const s = clusterSubjects.get(name)
    if (s === undefined) throw new Error(`no client ${name}`)
    return s
  })
  return it
}
const onClusterNode = clusterBehaviour('cluster node-redis')
const onClusterGlide = clusterBehaviour('cluster Valkey GLIDE')
const onClusterIo = clusterBehaviour('cluster ioredis')
onClusterNode.before(startClusterSubjects)
onClusterIo.after(async () => {
  await Promise.allSettled([...clusterSubjects.values()].map((s) => s.stop()))
  await cluster?.stop()
})

/**
 * A save whose index write or whose `SET` is refused, by ACL users who may not write one of the two key spaces:
 * the index is written first, so a refused index write stores nothing, and a refused `SET` leaves only an id that
 * the next read drops.
 */
const steps = suite<{ setupError?: unknown }>('integration: owner index, a refused step of a save (ACL)')
steps.before.each(() => rethrowSetupError(single.error()))

/** A node-redis client of a new ACL user with `rules` (and every command). */
const restricted = async (user: string, rules: ReadonlyArray<string>) => {
  await single.node().sendCommand(['ACL', 'SETUSER', user, 'on', '>pw', 'resetkeys', ...rules, '+@all'])
  const client = createClient({ url: `redis://${user}:pw@127.0.0.1:${single.port()}` })
  await client.connect()
  return client
}

steps('the index write refused (NOPERM): the save fails, and nothing is stored', async () => {
  const client = await restricted('noindex', ['~sessions:*'])
  try {
    const store = createRedisStore(client, { ownerOf, checkEvictionPolicy: false })
    const failed = await store.access.set('aclNoIndex', sessionOf(MIN, 'aclAlice')).then(
      () => 'resolved',
      (e: Error & { code?: string }) => `${e.code}: ${e.message}`
    )
    assert.match(failed, /^ESESSION_REDIS: Redis EVALSHA .*NOPERM/)
    assert.is(await single.node().exists('sessions:aclNoIndex'), 0, 'no session stored')
  } finally {
    await client.close()
  }
})

steps('the SET refused after the index write: the save fails; sessionsOf lists nothing and drops the id', async () => {
  const client = await restricted('nosave', ['~session-owners:*', '%R~sessions:*'])
  try {
    const store = createRedisStore(client, { ownerOf, checkEvictionPolicy: false })
    const failed = await store.access.set('aclNoSave', sessionOf(MIN, 'aclBob')).then(
      () => 'resolved',
      (e: Error & { code?: string }) => `${e.code}: ${e.message}`
    )
    assert.match(failed, /^ESESSION_REDIS: Redis SET .*NOPERM/)
    const node = single.node()
    assert.is(await node.exists('sessions:aclNoSave'), 0)
    assert.equal(await node.zRange('session-owners:aclBob', 0, -1), ['aclNoSave'], 'listed before it was stored')
    const full = createRedisStore(node, { ownerOf, checkEvictionPolicy: false })
    assert.equal(await full.access.sessionsOf('aclBob'), [])
    assert.is(await node.exists('session-owners:aclBob'), 0, 'the read dropped the id, and the index with it')
  } finally {
    await client.close()
  }
})

memory.run()
steps.run()
onNode.run()
onGlide.run()
onIo.run()
onClusterNode.run()
onClusterGlide.run()
onClusterIo.run()
