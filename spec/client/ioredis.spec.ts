/**
 * The ioredis adapter against a small fake ioredis-shaped client: how each contract command becomes an
 * ioredis call, SCAN replies, connection status and events, keyPrefix, memoization. Plus a real ioredis 5
 * client that never connects (lazyConnect): it is an `IoRedisClient` as it is (a type test), its status
 * before and after `disconnect()`, and the hint when it is passed to the store unadapted. No server: the
 * real-server part is spec/integration/ioredis-connection.spec.ts.
 */
import { EventEmitter } from 'events'
import session from 'express-session'
import Redis from 'ioredis'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { keySlot } from '../../src/client/slot'
import { fromIoRedis, fromIoRedisCluster, type IoRedisClient, type IoRedisScanReply } from '../../src/ioredis'
import { createRedisStore, RedisStore } from '../../src/express/create-redis-store'

// --- the fake

type Call = readonly [string, ...Array<unknown>]

interface FakeIoRedis extends IoRedisClient {
  status: string
  /** ioredis's private flag between quit() / disconnect() and the socket's close. */
  manuallyClosing: boolean
  readonly calls: Array<Call>
  readonly emitter: EventEmitter
  /** The next reply of each command (default: null, or an empty SCAN page). */
  readonly replies: Map<string, () => Promise<unknown>>
  readonly options: { keyPrefix?: string }
}

const makeFake = (keyPrefix?: unknown): FakeIoRedis => {
  const emitter = new EventEmitter()
  const calls: Array<Call> = []
  const replies = new Map<string, () => Promise<unknown>>()
  const reply =
    <A>(name: string, fallback: A) =>
    (...args: Array<unknown>): Promise<A> => {
      calls.push([name, ...args])
      const next = replies.get(name)
      return next === undefined ? Promise.resolve(fallback) : (next() as Promise<A>)
    }
  const fake = {
    status: 'ready',
    manuallyClosing: false,
    calls,
    emitter,
    replies,
    options: keyPrefix === undefined ? {} : { keyPrefix },
    get: reply<string | null>('get', null),
    set: reply<string | null>('set', null),
    getex: reply<string | null>('getex', null),
    getdel: reply<string | null>('getdel', null),
    mget: reply<ReadonlyArray<string | null>>('mget', []),
    evalsha: reply<unknown>('evalsha', null),
    eval: reply<unknown>('eval', null),
    scan: reply<IoRedisScanReply>('scan', ['0', []]),
    info: reply<string>('info', '# Memory\r\nmaxmemory_policy:noeviction\r\n'),
    on: (event: string, listener: (...args: ReadonlyArray<unknown>) => void) => emitter.on(event, listener)
  }
  return fake as unknown as FakeIoRedis
}

const replyError = (message: string): Error => Object.assign(new Error(message), { name: 'ReplyError' })

const adapter = suite('fromIoRedis')

adapter('each contract command becomes the ioredis call with Redis argument order', async () => {
  const fake = makeFake()
  const c = fromIoRedis(fake)
  assert.is(c._tag, 'SessionClient')
  await c.get('k')
  await c.set('k', 'v', { PX: 1234, GET: true })
  await c.getEx('k', { PX: 99 })
  await c.getDel('k')
  await c.mGet(['a', 'b'])
  await c.evalSha('f'.repeat(40), { keys: ['k1', 'k2'], arguments: ['300000', '17'] })
  await c.eval('return 1', { keys: ['k1'], arguments: [] })
  await c.info('memory')
  assert.equal(fake.calls, [
    ['get', 'k'],
    ['set', 'k', 'v', 'PX', 1234, 'GET'],
    ['getex', 'k', 'PX', 99],
    ['getdel', 'k'],
    ['mget', ['a', 'b']],
    ['evalsha', 'f'.repeat(40), 2, ['k1', 'k2', '300000', '17']],
    ['eval', 'return 1', 1, ['k1']],
    ['info', 'memory']
  ])
})

adapter('replies pass through as they are; rejections (WRONGTYPE, NOSCRIPT) too', async () => {
  const fake = makeFake()
  const c = fromIoRedis(fake)
  fake.replies.set('get', () => Promise.resolve('{"cookie":{}}'))
  fake.replies.set('mget', () => Promise.resolve(['x', null]))
  fake.replies.set('getdel', () =>
    Promise.reject(replyError('WRONGTYPE Operation against a key holding the wrong kind of value'))
  )
  assert.is(await c.get('k'), '{"cookie":{}}')
  assert.equal(await c.mGet(['a', 'b']), ['x', null])
  const err = await c.getDel('k').then(
    () => undefined,
    (e: Error) => e
  )
  assert.match(err?.message ?? '', /^WRONGTYPE/)
})

adapter(
  'SCAN: MATCH and COUNT always, TYPE only when asked; the reply becomes { cursor: string, keys: string[] }',
  async () => {
    const fake = makeFake()
    const c = fromIoRedis(fake)
    fake.replies.set('scan', () => Promise.resolve(['17', ['sessions:a', 'sessions:b']]))
    assert.equal(await c.scan('0', { MATCH: 'sessions:*', COUNT: 1000 }), {
      cursor: '17',
      keys: ['sessions:a', 'sessions:b']
    })
    fake.replies.set('scan', () => Promise.resolve([0, [Buffer.from('sessions:c')]]))
    assert.equal(await c.scan('17', { MATCH: 'sessions:*', COUNT: 10, TYPE: 'string' }), {
      cursor: '0',
      keys: ['sessions:c']
    })
    assert.equal(fake.calls, [
      ['scan', '0', 'MATCH', 'sessions:*', 'COUNT', 1000],
      ['scan', '17', 'MATCH', 'sessions:*', 'COUNT', 10, 'TYPE', 'string']
    ])
  }
)

adapter('keyPrefix comes from options.keyPrefix (a string, or a Buffer as ioredis also takes), else ""', () => {
  assert.is(fromIoRedis(makeFake()).keyPrefix, '')
  assert.is(fromIoRedis(makeFake('app:')).keyPrefix, 'app:')
  assert.is(fromIoRedis(makeFake(Buffer.from('buf:'))).keyPrefix, 'buf:')
})

adapter('onChange returns what removes the listener', () => {
  const fake = makeFake()
  const { connection } = fromIoRedis(fake)
  const seen: Array<string> = []
  const stop = connection.onChange((state) => seen.push(state))
  fake.emitter.emit('close')
  stop()
  fake.emitter.emit('ready')
  assert.equal(seen, ['down'])
})

adapter(
  'connection: ready from status; ready / close / reconnecting / end events reach onChange; closed at "end"',
  () => {
    const fake = makeFake()
    fake.status = 'connecting'
    const { connection } = fromIoRedis(fake)
    const seen: Array<string> = []
    connection.onChange((state) => seen.push(state))
    assert.equal([connection.isReady(), connection.isClosed()], [false, false])
    fake.status = 'ready'
    fake.emitter.emit('ready')
    assert.equal([connection.isReady(), connection.isClosed()], [true, false])
    fake.status = 'close'
    fake.emitter.emit('close')
    fake.status = 'reconnecting'
    fake.emitter.emit('reconnecting', 50)
    assert.equal([connection.isReady(), connection.isClosed()], [false, false], 'reconnecting is down, not closed')
    fake.emitter.on('error', () => undefined)
    fake.emitter.emit('error', new Error('ECONNREFUSED')) // errors are not state changes
    fake.status = 'ready'
    fake.emitter.emit('ready')
    fake.manuallyClosing = true // quit() sent: the status stays 'ready' until the socket closes
    assert.equal([connection.isReady(), connection.isClosed()], [false, true])
    fake.manuallyClosing = false
    fake.status = 'end'
    fake.emitter.emit('close')
    fake.emitter.emit('end')
    assert.equal([connection.isReady(), connection.isClosed()], [false, true])
    assert.equal(seen, ['ready', 'down', 'down', 'ready', 'down', 'down'])
  }
)

adapter('one adapter per client: the same object, one listener per event however many stores', () => {
  const fake = makeFake()
  const a = fromIoRedis(fake)
  assert.is(fromIoRedis(fake), a)
  createRedisStore(fromIoRedis(fake), { whenDisconnected: 'bypass' })
  createRedisStore(fromIoRedis(fake), { whenDisconnected: 'bypass' })
  for (const event of ['ready', 'close', 'reconnecting', 'end']) assert.is(fake.emitter.listenerCount(event), 1, event)
  assert.is.not(fromIoRedis(makeFake()), a)
})

adapter('an ioredis Cluster is refused with a TypeError', () => {
  const cluster = Object.assign(makeFake(), { isCluster: true })
  assert.throws(
    () => fromIoRedis(cluster),
    (e: unknown) => e instanceof TypeError && /for an ioredis Cluster use fromIoRedisCluster/.test(e.message)
  )
})

adapter(
  'fromIoRedisCluster: a master the slot map names but ioredis has dropped makes the walk fail, not skip it',
  async () => {
    const node = (port: number) => Object.assign(makeFake(), { options: { host: '127.0.0.1', port } })
    const slots = Array.from({ length: 16384 }, (_, slot) => [slot < 8192 ? '127.0.0.1:7000' : '127.0.0.1:7001'])
    const both = fromIoRedisCluster(
      Object.assign(makeFake(), { isCluster: true, nodes: () => [node(7000), node(7001)], slots })
    )
    assert.is((await both.cluster?.masters())?.length, 2)
    // 7001 was killed (no replica): ioredis no longer lists it, its slots still name it.
    const one = fromIoRedisCluster(Object.assign(makeFake(), { isCluster: true, nodes: () => [node(7000)], slots }))
    const refused = await one.cluster?.masters().then(
      () => undefined,
      (e: Error) => e.message
    )
    assert.match(String(refused), /CLUSTERDOWN the master of slot 8192 \(127\.0\.0\.1:7001\) is not connected/)
  }
)

adapter(
  "fromIoRedisCluster: waitReplicas sends WAIT on the connection of the key's slot owner (keyPrefix included)",
  async () => {
    // Two masters, each a fake node with its address; slots 0–8191 on the first, the rest on the second.
    const sent: Array<readonly [string, ReadonlyArray<string>]> = []
    const node = (port: number) =>
      Object.assign(makeFake(), {
        options: { host: '127.0.0.1', port },
        call: (command: string, ...args: Array<string>) => {
          sent.push([`${port} ${command}`, args])
          return Promise.resolve(port === 7001 ? 1 : '0')
        }
      })
    const masters = [node(7000), node(7001)]
    const slots = Array.from({ length: 16384 }, (_, slot) => [slot < 8192 ? '127.0.0.1:7000' : '127.0.0.1:7001'])
    const cluster = Object.assign(makeFake(), { isCluster: true, nodes: () => masters, slots })
    const wait = fromIoRedisCluster(cluster).waitReplicas
    // 'sessions:a' is in slot 747 (first master); with keyPrefix 'app:', 'app:sessions:b' in 10079 (second).
    assert.is(keySlot('sessions:a'), 747)
    assert.is(await wait?.('sessions:a', 1, 300.4), 0)
    const prefixed = Object.assign(makeFake('app:'), { isCluster: true, nodes: () => masters, slots })
    assert.is(keySlot('app:sessions:b'), 10079)
    assert.is(await fromIoRedisCluster(prefixed).waitReplicas?.('sessions:b', 2, 100), 1)
    assert.equal(sent, [
      ['7000 WAIT', ['1', '300']],
      ['7001 WAIT', ['2', '100']]
    ])
    // A slot with no known owner (topology not loaded yet): a rejection, never a WAIT elsewhere.
    const unknown = Object.assign(makeFake(), { isCluster: true, nodes: () => masters, slots: [] })
    await fromIoRedisCluster(unknown)
      .waitReplicas?.('sessions:a', 1, 300)
      .then(
        () => assert.unreachable('WAIT without a slot owner'),
        (e: Error) => assert.match(e.message, /no connection to the master of key sessions:a/)
      )
    assert.is(sent.length, 2)
  }
)

adapter('the store runs on it: SET … PX … GET, WRONGTYPE → tombstoned, NOSCRIPT → EVAL', async () => {
  const fake = makeFake()
  const store = createRedisStore(fromIoRedis(fake), { checkEvictionPolicy: false })
  const expires = new Date(Date.now() + 60_000)
  const sess = { cookie: { originalMaxAge: 60_000, expires } } as unknown as session.SessionData
  assert.is(await store.access.set('a', sess), 'written')
  const [name, key, value, px, ms, get] = fake.calls[0] ?? []
  assert.equal(
    [name, key, JSON.parse(String(value)).cookie.expires, px, get],
    ['set', 'sessions:a', expires.toISOString(), 'PX', 'GET']
  )
  assert.ok(typeof ms === 'number' && ms > 59_000 && ms <= 60_000, `PX ${String(ms)}`)
  fake.replies.set('set', () =>
    Promise.reject(replyError('WRONGTYPE Operation against a key holding the wrong kind of value'))
  )
  assert.is(await store.access.set('a', sess), 'tombstoned')
  fake.calls.length = 0
  fake.replies.set('evalsha', () => Promise.reject(replyError('NOSCRIPT No matching script. Please use EVAL.')))
  fake.replies.set('eval', () => Promise.resolve(1))
  assert.is(await store.access.destroy('a'), true)
  assert.equal(
    fake.calls.map(([n, , numkeys, args]) => [n, numkeys, (args as Array<string>)[0]]),
    [
      ['evalsha', 1, 'sessions:a'],
      ['eval', 1, 'sessions:a']
    ]
  )
})

// --- a real ioredis 5 client, never connected

const real = suite<{ client: Redis }>('fromIoRedis with a real ioredis client (lazyConnect, no server)')
real.before.each((ctx) => {
  ctx.client = new Redis({ lazyConnect: true, keyPrefix: 'app:', host: '127.0.0.1', port: 1 })
})
real.after.each((ctx) => {
  ctx.client.disconnect()
})

real('an ioredis Redis is an IoRedisClient as it is; keyPrefix and status are read from it', ({ client }) => {
  const typed: IoRedisClient = client // the type test: this line compiles
  const c = fromIoRedis(typed)
  assert.is(c.keyPrefix, 'app:')
  assert.equal([client.status, c.connection.isReady(), c.connection.isClosed()], ['wait', false, false])
})

real(
  'disconnect() by the application: status "end", the connection is closed, and onChange heard it',
  async ({ client }) => {
    const c = fromIoRedis(client)
    const seen: Array<string> = []
    c.connection.onChange((state) => seen.push(state))
    client.disconnect()
    await new Promise((r) => setTimeout(r, 20))
    assert.is(client.status, 'end')
    assert.equal([c.connection.isReady(), c.connection.isClosed()], [false, true])
    assert.ok(seen.length > 0 && seen.every((s) => s === 'down'), `seen ${seen.join(',')}`)
  }
)

real(
  'passed to the store unadapted, it is a TypeError that points at fromIoRedis (not at an options bag: ioredis has a client method)',
  ({ client }) => {
    for (const attempt of [() => createRedisStore(client as never), () => RedisStore({ client: client as never })]) {
      assert.throws(
        attempt,
        (e: unknown) =>
          e instanceof TypeError &&
          e.message.includes('createRedisStore(fromIoRedis(client))') &&
          e.message.includes("'connect-redis-session/ioredis'")
      )
    }
    // Passed where the options bag goes, it is named as a client in the wrong place (not "client is required").
    assert.throws(
      () => new RedisStore(client as never),
      (e: unknown) => e instanceof TypeError && e.message.includes('RedisStore takes an options object')
    )
    // Something else without the node-redis commands keeps the general hint.
    assert.throws(
      () => createRedisStore({ get: () => Promise.resolve(null) } as never),
      (e: unknown) =>
        e instanceof TypeError &&
        e.message.includes("for ioredis, pass fromIoRedis(client) from 'connect-redis-session/ioredis'")
    )
  }
)

adapter.run()
real.run()
