// Outages seen from the store, with fake clients: deadlines, connection events, the eviction-policy check.
import { EventEmitter } from 'events'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createRedisStore } from '../../src/express/create-redis-store'
import type { SessionStoreError } from '../../src/express/to-error'
import { makeNodeRedisFake } from '../fakes/redis'
import { storedSession } from '../helpers'

const outages = suite('outages')

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms))

outages('operationTimeoutMs: a hung command ends in ETIMEDOUT after the deadline', async () => {
  const redis = makeNodeRedisFake()
  const hung = { ...redis, get: () => new Promise<string | null>(() => {}) }
  const store = createRedisStore(hung, { operationTimeoutMs: 50 })
  const t0 = Date.now()
  const err = await new Promise<SessionStoreError | null>((resolve) => store.get('s', (e) => resolve(e)))
  const ms = Date.now() - t0
  assert.is(err?.code, 'ETIMEDOUT')
  assert.ok(ms >= 45 && ms < 500, `took ${ms} ms`)
})

outages('by default a hung Redis is an ETIMEDOUT after 2 s, not a request that waits forever', async () => {
  const redis = makeNodeRedisFake()
  const hung = { ...redis, get: () => new Promise<string | null>(() => {}) }
  const store = createRedisStore(hung)
  const t0 = Date.now()
  const err = await new Promise<SessionStoreError | null>((resolve) => store.get('s', (e) => resolve(e)))
  const ms = Date.now() - t0
  assert.is(err?.code, 'ETIMEDOUT')
  assert.match(err?.message ?? '', /^Redis did not answer the session get within operationTimeoutMs \(2000 ms\)/)
  assert.ok(ms >= 1990 && ms < 3000, `took ${ms} ms`)
})

outages(
  "whenDisconnected 'fail': while the client is not ready, operations fail at once and nothing is sent",
  async () => {
    const redis = makeNodeRedisFake()
    const client = Object.assign(emitterClient(false), { calls: redis.calls })
    const store = createRedisStore(client, { whenDisconnected: 'fail', checkEvictionPolicy: false, now: client.now })
    const t0 = Date.now()
    for (const op of [
      store.access.get('s'),
      store.access.set('s', storedSession(client.now(), 60_000) as never),
      store.access.destroy('s')
    ]) {
      const err = await op.then(
        () => null,
        (e: SessionStoreError) => e
      )
      assert.is(err?.code, 'ESESSION_UNAVAILABLE')
    }
    assert.ok(Date.now() - t0 < 100)
    assert.equal(client.calls, [])
    client.isReady = true
    assert.is(await store.access.get('s'), null, 'works again once the client is ready')
  }
)

outages('operationTimeoutMs does not cut an operation that answers in time', async () => {
  const redis = makeNodeRedisFake()
  const store = createRedisStore(redis, { operationTimeoutMs: 1000, now: redis.now })
  assert.is(await store.access.set('s', storedSession(redis.now(), 60_000) as never), 'written')
  assert.ok(await store.access.get('s'))
})

const emitterClient = (ready: boolean) => {
  const client = Object.assign(new EventEmitter(), makeNodeRedisFake(), { isReady: ready })
  client.on('error', () => {}) // as any node-redis app must
  return client
}

outages("whenDisconnected 'bypass': connect / disconnect follow the client, on changes of state only", async () => {
  const client = emitterClient(true)
  const store = createRedisStore(client, { checkEvictionPolicy: false, whenDisconnected: 'bypass' })
  const seen: Array<string> = []
  store.on('connect', () => seen.push('connect'))
  store.on('disconnect', () => seen.push('disconnect'))
  client.emit('error', new Error('ECONNRESET'))
  client.emit('reconnecting')
  client.emit('error', new Error('ECONNREFUSED'))
  client.emit('reconnecting')
  client.emit('ready')
  client.emit('ready')
  client.emit('end')
  assert.equal(seen, ['disconnect', 'connect', 'disconnect'])
})

outages(
  "the default (whenDisconnected 'wait') emits no connection events: express-session never runs a request without req.session",
  () => {
    const client = emitterClient(true)
    const store = createRedisStore(client, { checkEvictionPolicy: false })
    let n = 0
    store.on('disconnect', () => n++)
    client.emit('reconnecting')
    assert.is(n, 0)
  }
)

outages('many stores on one client add one set of listeners', () => {
  const client = emitterClient(true)
  for (let i = 0; i < 20; i++) createRedisStore(client, { checkEvictionPolicy: false, whenDisconnected: 'bypass' })
  assert.is(client.listenerCount('reconnecting'), 1)
})

const withInfo = (info: () => Promise<string>, ready = true) => Object.assign(emitterClient(ready), { info })

outages('an evicting maxmemory-policy is a warning event, not a crash', async () => {
  const store = createRedisStore(withInfo(async () => '# Memory\r\nmaxmemory_policy:allkeys-lru\r\n'))
  const warnings: Array<string> = []
  store.on('warning', (m: string) => warnings.push(m))
  await tick()
  assert.is(warnings.length, 1)
  assert.match(warnings[0] ?? '', /allkeys-lru/)
})

outages('noeviction gives no warning; a refused INFO gives one', async () => {
  const quiet = createRedisStore(withInfo(async () => 'maxmemory_policy:noeviction\r\n'))
  const denied = createRedisStore(
    withInfo(async () => Promise.reject(new Error("NOPERM this user has no permissions to run the 'info' command")))
  )
  const seen: Array<string> = []
  quiet.on('warning', (m: string) => seen.push(`quiet: ${m}`))
  denied.on('warning', (m: string) => seen.push(`denied: ${m}`))
  await tick()
  assert.equal(seen.length, 1)
  assert.match(seen[0] ?? '', /^denied: could not read maxmemory-policy/)
})

outages('no warning when INFO fails because the application closed its client (a short script)', async () => {
  const client = Object.assign(
    withInfo(async () => Promise.reject(new Error('The client is closed'))),
    { isOpen: false }
  )
  const store = createRedisStore(client)
  const warnings: Array<string> = []
  store.on('warning', (m: string) => warnings.push(m))
  await tick()
  assert.equal(warnings, [])
})

outages('the check waits for a client that is not ready yet', async () => {
  let asked = 0
  const client = withInfo(async () => {
    asked++
    return 'maxmemory_policy:volatile-lru'
  }, false)
  const store = createRedisStore(client)
  const warnings: Array<string> = []
  store.on('warning', (m: string) => warnings.push(m))
  await tick()
  assert.is(asked, 0)
  client.emit('ready')
  await tick()
  assert.is(asked, 1)
  assert.match(warnings[0] ?? '', /volatile-lru/)
})

outages.run()
