import { EventEmitter } from 'events'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { ScanArgs } from '../../src/client/contract'
import { fromNodeRedis, NODE_REDIS_COMMANDS, type NodeRedisClient } from '../../src/client/node-redis'
import { recording } from './recording'

type Scan = { readonly cursor: string | number; readonly keys: ReadonlyArray<string | Uint8Array> }

/**
 * A node-redis-shaped stand-in: an EventEmitter with `isReady`/`isOpen`, command methods that log their
 * arguments and `this`, and a settable `SCAN` reply.
 */
const rawClient = (extra: Record<string, unknown> = {}) => {
  const { calls, self, commands } = recording()
  const client = Object.assign(new EventEmitter(), {
    isReady: true as boolean | undefined,
    isOpen: true as boolean | undefined,
    calls,
    self,
    scanReply: { cursor: '0', keys: [] } as Scan,
    ...commands,
    scan: function (this: unknown, cursor: unknown, options: ScanArgs) {
      calls.push(['scan', cursor, options])
      self.push(this)
      return Promise.resolve(client.scanReply)
    },
    ...extra
  })
  return client
}
const adapt = (client: ReturnType<typeof rawClient>) => fromNodeRedis(client as unknown as NodeRedisClient)

// --- commands

const commands = suite('fromNodeRedis: commands')

commands('passes every command and its arguments through, on the client itself, and hands back its reply', async () => {
  const raw = rawClient()
  const c = adapt(raw)
  assert.is(c._tag, 'SessionClient')
  const script = { keys: ['k'], arguments: ['1'] }
  const replies = [
    await c.get('k'),
    await c.set('k', 'v', { PX: 1000, GET: true }),
    await c.getEx('k', { PX: 5 }),
    await c.getDel('k'),
    await c.mGet(['a', 'b']),
    await c.evalSha('sha', script),
    await c.eval('return 2', script)
  ]
  assert.equal(replies, ['value', 'OK', 'value', 'value', ['a', null], 1, 2])
  assert.equal(raw.calls, [
    ['get', 'k'],
    ['set', 'k', 'v', { PX: 1000, GET: true }],
    ['getEx', 'k', { PX: 5 }],
    ['getDel', 'k'],
    ['mGet', ['a', 'b']],
    ['evalSha', 'sha', script],
    ['eval', 'return 2', script]
  ])
  assert.ok(
    raw.self.every((s) => s === raw),
    'node-redis methods need their client as this'
  )
})

commands('a rejection of the client is passed on as it is', async () => {
  const boom = new Error('ECONNREFUSED')
  const c = adapt(rawClient({ get: () => Promise.reject(boom) }))
  await c.get('k').then(
    () => assert.unreachable('should reject'),
    (e: unknown) => assert.is(e, boom)
  )
})

commands('SCAN: the cursor and options go through; a numeric cursor (v4) comes back as a string', async () => {
  const raw = rawClient()
  const c = adapt(raw)
  const options = { MATCH: 'sessions:*', COUNT: 100, TYPE: 'string' }
  raw.scanReply = { cursor: 17, keys: ['sessions:a'] }
  assert.equal(await c.scan('0', options), { cursor: '17', keys: ['sessions:a'] })
  raw.scanReply = { cursor: 0, keys: [] }
  assert.equal(await c.scan('17', options), { cursor: '0', keys: [] })
  assert.equal(raw.calls, [
    ['scan', '0', options],
    ['scan', '17', options]
  ])
  assert.ok(raw.self.every((s) => s === raw))
})

commands('SCAN: Buffer and Uint8Array keys come back as strings, string keys unchanged', async () => {
  const raw = rawClient()
  raw.scanReply = {
    cursor: '0',
    keys: [Buffer.from('sessions:a'), new TextEncoder().encode('sessions:é'), 'sessions:c']
  }
  const reply = await adapt(raw).scan('0', { MATCH: '*', COUNT: 10 })
  assert.equal(reply.keys, ['sessions:a', 'sessions:é', 'sessions:c'])
  assert.ok(reply.keys.every((k) => typeof k === 'string'))
})

commands('info: INFO <section> on the client; a client without info answers an empty string', async () => {
  const raw = rawClient({
    info: function (this: unknown, section: string) {
      raw.self.push(this)
      return Promise.resolve(`# ${section}\r\nmaxmemory_policy:noeviction`)
    }
  })
  assert.is(await adapt(raw).info('memory'), '# memory\r\nmaxmemory_policy:noeviction')
  assert.equal(raw.self, [raw])
  assert.is(await adapt(rawClient()).info('memory'), '')
})

commands('waitReplicas: WAIT through sendCommand(args) on the client, its reply as a number', async () => {
  const raw = rawClient({
    sendCommand: function (this: unknown, ...args: ReadonlyArray<unknown>) {
      raw.calls.push(['sendCommand', ...args])
      raw.self.push(this)
      return Promise.resolve(1)
    }
  })
  assert.is(await adapt(raw).waitReplicas?.('sessions:a', 1, 299.6), 1)
  assert.equal(raw.calls, [['sendCommand', ['WAIT', '1', '300']]])
  assert.equal(raw.self, [raw])
  assert.is(adapt(rawClient()).waitReplicas, undefined, 'no sendCommand, no WAIT')
})

commands("waitReplicas on a createSentinel() client: sendCommand(false, args), the master's connection", async () => {
  // A node-redis v5/v6 sentinel client: sendCommand(isReadonly, args); it alone has getMasterNode.
  const raw = rawClient({
    getMasterNode: () => ({ host: '127.0.0.1', port: 6379 }),
    sendCommand: function (this: unknown, isReadonly: unknown, args: unknown) {
      raw.calls.push(['sendCommand', isReadonly, args])
      raw.self.push(this)
      return Promise.resolve(0)
    }
  })
  assert.is(await adapt(raw).waitReplicas?.('sessions:a', 2, 500), 0)
  assert.equal(raw.calls, [['sendCommand', false, ['WAIT', '2', '500']]])
  assert.equal(raw.self, [raw])
})

commands('every command method the adapter needs is listed', () => {
  assert.equal([...NODE_REDIS_COMMANDS].sort(), ['eval', 'evalSha', 'get', 'getDel', 'getEx', 'mGet', 'scan', 'set'])
})

commands.run()

// --- keyPrefix

const prefix = suite('fromNodeRedis: keyPrefix')

prefix("read from node-redis v6's _keyPrefix, else options.keyPrefix, else ''", () => {
  assert.is(adapt(rawClient({ _keyPrefix: 'app:' })).keyPrefix, 'app:')
  assert.is(adapt(rawClient({ options: { keyPrefix: 'opt:' } })).keyPrefix, 'opt:')
  assert.is(adapt(rawClient({ _keyPrefix: 'app:', options: { keyPrefix: 'opt:' } })).keyPrefix, 'app:')
  assert.is(adapt(rawClient()).keyPrefix, '')
  assert.is(adapt(rawClient({ options: {} })).keyPrefix, '')
})

prefix('a Buffer prefix is a string; anything else is no prefix', () => {
  assert.is(adapt(rawClient({ _keyPrefix: Buffer.from('buf:') })).keyPrefix, 'buf:')
  assert.is(adapt(rawClient({ options: { keyPrefix: new TextEncoder().encode('u8:') } })).keyPrefix, 'u8:')
  assert.is(adapt(rawClient({ _keyPrefix: 42 })).keyPrefix, '')
  assert.is(adapt(rawClient({ options: { keyPrefix: null } })).keyPrefix, '')
})

prefix.run()

// --- connection

const connection = suite('fromNodeRedis: connection')

connection('isReady and isClosed follow the client as it changes', () => {
  const raw = rawClient()
  const { isReady, isClosed } = adapt(raw).connection
  assert.equal([isReady(), isClosed()], [true, false])
  raw.isReady = false
  assert.equal([isReady(), isClosed()], [false, false], 'reconnecting')
  raw.isOpen = false
  assert.equal([isReady(), isClosed()], [false, true], 'closed by the application')
  raw.isReady = true
  raw.isOpen = true
  assert.equal([isReady(), isClosed()], [true, false])
})

connection('a client without isReady / isOpen (a fake) is ready and never closed', () => {
  const raw = rawClient()
  raw.isReady = undefined
  raw.isOpen = undefined
  const { isReady, isClosed } = adapt(raw).connection
  assert.equal([isReady(), isClosed()], [true, false])
})

connection("'ready' is ready, 'reconnecting' and 'end' are down; every event is told, to every listener", () => {
  const raw = rawClient()
  const c = adapt(raw)
  const a: Array<string> = []
  const b: Array<string> = []
  c.connection.onChange((s) => a.push(s))
  c.connection.onChange((s) => b.push(s))
  raw.on('error', () => undefined) // as any node-redis application must
  raw.emit('reconnecting')
  raw.emit('reconnecting')
  raw.emit('error', new Error('ECONNRESET'))
  raw.emit('ready')
  raw.emit('end')
  raw.emit('connect')
  assert.equal(a, ['down', 'down', 'ready', 'down'])
  assert.equal(b, a)
})

connection('the adapter listens to ready, reconnecting and end only, once each', () => {
  const raw = rawClient()
  adapt(raw)
  assert.equal(
    raw.eventNames().map((e) => [e, raw.listenerCount(e)]),
    [
      ['ready', 1],
      ['reconnecting', 1],
      ['end', 1]
    ]
  )
})

connection('onChange returns what removes the listener; the adapter keeps its own listeners on the client', () => {
  const raw = rawClient()
  const c = adapt(raw)
  const heard: Array<string> = []
  const stop = c.connection.onChange((s) => heard.push(s))
  raw.emit('reconnecting')
  stop()
  raw.emit('ready')
  stop()
  assert.equal(heard, ['down'])
  assert.is(raw.listenerCount('ready'), 1)
})

connection('a client without on() gives a connection that never changes', () => {
  const c = fromNodeRedis({ ...rawClient(), on: undefined } as unknown as NodeRedisClient)
  let told = 0
  c.connection.onChange(() => told++)
  assert.is(c.connection.isReady(), true)
  assert.is(told, 0)
})

connection.run()

// --- one adapter per client

const once = suite('fromNodeRedis: one adapter per client')

once('the same raw client always gives the same adapter, and one set of listeners', () => {
  const raw = rawClient()
  const first = adapt(raw)
  for (let i = 0; i < 5; i++) assert.is(adapt(raw), first)
  assert.is(raw.listenerCount('ready'), 1)
  assert.is(raw.listenerCount('reconnecting'), 1)
})

once('another raw client gets its own adapter and its own events', () => {
  const one = rawClient({ _keyPrefix: 'one:' })
  const two = rawClient({ _keyPrefix: 'two:' })
  const [a, b] = [adapt(one), adapt(two)]
  assert.is.not(a, b)
  assert.equal([a.keyPrefix, b.keyPrefix], ['one:', 'two:'])
  const seen: Array<string> = []
  a.connection.onChange((s) => seen.push(`a ${s}`))
  b.connection.onChange((s) => seen.push(`b ${s}`))
  two.emit('end')
  assert.equal(seen, ['b down'])
})

once.run()
