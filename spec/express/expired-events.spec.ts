// The store's `expired` event (expiredEvents) without a Redis: on the in-memory client (which sends `expired` and
// `hset` notifications as Redis does) and on hand-made clients for the setting check, a client without the
// capability and the end of the subscription. Against real servers: spec/integration/expired-events.spec.ts.
import type session from 'express-session'
import { setFlagsFromString } from 'v8'
import { runInNewContext } from 'vm'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createRedisStore } from '../../src'
import type { KeyspaceListener, NodeReport, SessionClient } from '../../src/client/contract'
import { createMemoryClient } from '../../src/memory'
import { followExpiries } from '../../src/express/expired-events'

const T0 = 1_700_000_000_000
const settle = () => new Promise((r) => setImmediate(r))

const sessionFor = (now: number, ms: number): session.SessionData =>
  ({ cookie: { originalMaxAge: ms, expires: new Date(now + ms) } } as unknown as session.SessionData)

/** A store on a fresh in-memory client, with everything it emits recorded. */
const memoryStore = (options: Parameters<typeof createRedisStore>[1] = {}) => {
  const client = createMemoryClient({ now: () => T0 })
  const store = createRedisStore(client, { expiredEvents: true, now: client.clock.now, ...options })
  const expired: Array<unknown> = []
  const warnings: Array<string> = []
  store.on('expired', (e: unknown) => expired.push(e))
  store.on('warning', (m: string) => warnings.push(m))
  return { client, store, expired, warnings }
}

// --- on the in-memory client

const memory = suite('expiredEvents on the in-memory client')

memory('a session that expires: one expired event with its whole id', async () => {
  const { client, store, expired, warnings } = memoryStore()
  await store.access.set('abc-1', sessionFor(T0, 1_000))
  await store.access.set('kept', sessionFor(T0, 60_000))
  client.clock.advance(1_001)
  assert.is(await store.access.length(), 1, 'the walk meets the expired key')
  await settle()
  assert.equal(expired, [{ sid: 'abc-1' }])
  assert.equal(warnings, [])
})

memory("a destroyed session's tombstone that expires: no event", async () => {
  const { client, store, expired } = memoryStore({ concurrencyGraceSeconds: 5 })
  await store.access.set('bye', sessionFor(T0, 60_000))
  await store.access.destroy('bye')
  client.clock.advance(5_001)
  assert.equal(client.keyspace.keys(), [], 'the tombstone has expired')
  await settle()
  assert.equal(expired, [])
})

memory('off (the default): no subscription, no event', async () => {
  const client = createMemoryClient({ now: () => T0 })
  let subscribed = 0
  const counting = {
    ...client,
    subscribeKeyspace: (...args: Parameters<typeof client.subscribeKeyspace>) => {
      subscribed++
      return client.subscribeKeyspace(...args)
    }
  }
  createRedisStore(counting, { now: client.clock.now })
  assert.is(subscribed, 0)
})

memory('an ioredis/node-redis keyPrefix and the store prefix: the id without either', async () => {
  const client = createMemoryClient({ now: () => T0, keyPrefix: 'app:' })
  const store = createRedisStore(client, { expiredEvents: true, prefix: 's[1]:', now: client.clock.now })
  const expired: Array<unknown> = []
  store.on('expired', (e: unknown) => expired.push(e))
  await store.access.set('x', sessionFor(T0, 10))
  client.keyspace.set('app:s1:y', { type: 'string', value: '{}', expiresAt: T0 + 10 })
  client.clock.advance(11)
  await store.access.length()
  await settle()
  assert.equal(expired, [{ sid: 'x' }], 'the glob of the prefix is escaped: s1: is not s[1]:')
})

memory.run()

// ---

/** A client whose subscription the spec drives: the listener it was given, and whether it was closed. */
const fakeClient = () => {
  const memory = createMemoryClient()
  const seen: { listener?: KeyspaceListener; pattern?: string; closed: number } = { closed: 0 }
  const client: SessionClient = {
    ...memory,
    subscribeKeyspace: (pattern, listener) => {
      seen.pattern = pattern
      seen.listener = listener
      return { close: () => void seen.closed++ }
    }
  }
  return { client, memory, seen }
}

const setting = suite('expiredEvents: the setting, the client, the end')

setting('notifications off on a node: one warning naming the setting, however many nodes report', async () => {
  const { client, seen } = fakeClient()
  const store = createRedisStore(client, { expiredEvents: true, checkEvictionPolicy: false })
  const warnings: Array<string> = []
  store.on('warning', (m: string) => warnings.push(m))
  assert.is(seen.pattern, 'sessions:*')
  const reports: Array<[string, NodeReport]> = [
    ['127.0.0.1:7000', { flags: 'hxK' }],
    ['127.0.0.1:7001', { flags: '' }],
    ['127.0.0.1:7002', { flags: 'E' }],
    ['127.0.0.1:7003', { unreadable: 'ERR unknown command CONFIG' }]
  ]
  for (const [node, report] of reports) seen.listener?.onNode(node, report)
  assert.is(warnings.length, 1)
  assert.match(warnings[0] ?? '', 'Redis on 127.0.0.1:7001 has notify-keyspace-events ""')
  assert.match(warnings[0] ?? '', 'Set notify-keyspace-events Khx ')
})

setting('CONFIG refused (a managed service): one warning that says so, naming the setting', () => {
  const { client, seen } = fakeClient()
  const store = createRedisStore(client, { expiredEvents: true, checkEvictionPolicy: false })
  const warnings: Array<string> = []
  store.on('warning', (m: string) => warnings.push(m))
  seen.listener?.onNode('cache.example:6379', { unreadable: "ERR unknown command 'CONFIG'" })
  seen.listener?.onNode('cache.example:6379', { failed: 'NOPERM' })
  assert.equal(warnings.length, 1)
  assert.match(
    warnings[0] ?? '',
    /could not read notify-keyspace-events on cache\.example:6379 .*subscribed all the same/
  )
  assert.match(warnings[0] ?? '', 'notify-keyspace-events Khx')
})

setting('a client that cannot subscribe (Valkey GLIDE, a SessionClient of your own): a TypeError', () => {
  const { subscribeKeyspace: _, ...without } = createMemoryClient()
  assert.throws(
    () => createRedisStore(without, { expiredEvents: true }),
    (e: unknown) => e instanceof TypeError && /expiredEvents needs a client that subscribes/.test(e.message)
  )
  assert.ok(createRedisStore(without), 'without the option it is a store')
})

setting('the subscription ends when the application closes the client', () => {
  const { client, memory, seen } = fakeClient()
  createRedisStore(client, { expiredEvents: true })
  assert.is(seen.closed, 0)
  memory.connection.down()
  assert.is(seen.closed, 0, 'a connection lost is not a client closed')
  memory.connection.up()
  memory.connection.close()
  assert.is(seen.closed, 1)
})

// A full collection on demand, without --expose-gc on the command line.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

setting('the subscription ends when the store is collected', async () => {
  const { client, seen } = fakeClient()
  ;(() => void createRedisStore(client, { expiredEvents: true }))()
  for (let i = 0; i < 3 && seen.closed === 0; i++) {
    gc()
    await settle()
  }
  assert.is(seen.closed, 1)
})

setting('followExpiries emits expired with { sid } only through a live store', () => {
  const { client, seen } = fakeClient()
  const emitted: Array<[string, unknown]> = []
  const store = {
    emit: (event: string, payload?: unknown) => emitted.push([event, payload]) > 0,
    listenerCount: () => 1
  }
  followExpiries(client, store, { prefix: 'p:', concurrencyGraceSeconds: 1, now: () => T0 })
  seen.listener?.onEvent('p:a', 'expired')
  seen.listener?.onEvent('p:b', 'hset')
  seen.listener?.onEvent('p:b', 'expired')
  seen.listener?.onEvent('q:c', 'expired')
  assert.equal(emitted, [['expired', { sid: 'a' }]])
})

setting.run()
