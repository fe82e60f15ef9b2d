// The connection helpers on a hand-made Connection; the same behaviour through createRedisStore and node-redis
// events is in spec/express/outages.spec.ts.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Connection } from '../../src/client/contract'
import {
  checkEvictionPolicy,
  checkInProcessClient,
  followConnection,
  IN_PROCESS_WARNING
} from '../../src/express/connection'

/** A connection the spec drives: `change` tells the listeners, `ready`/`closed` are what the getters answer. */
const connectionOf = (ready: boolean) => {
  const listeners: Array<(state: 'ready' | 'down') => void> = []
  const state = { ready, closed: false }
  const connection: Connection = {
    isReady: () => state.ready,
    isClosed: () => state.closed,
    onChange: (l) => void listeners.push(l)
  }
  const change = (to: 'ready' | 'down') => {
    state.ready = to === 'ready'
    listeners.forEach((l) => l(to))
  }
  return { connection, state, listeners, change }
}

const settle = () => new Promise((r) => setImmediate(r))

// --- followConnection

const follow = suite('followConnection')

follow('tells connect / disconnect on changes of state only', () => {
  const c = connectionOf(true)
  const seen: Array<string> = []
  followConnection(c.connection, (e) => seen.push(e))
  c.change('ready')
  c.change('down')
  c.change('down')
  c.change('ready')
  c.change('ready')
  c.change('down')
  assert.equal(seen, ['disconnect', 'connect', 'disconnect'])
})

follow('starts from the state the connection has when followed', () => {
  const c = connectionOf(false)
  const seen: Array<string> = []
  followConnection(c.connection, (e) => seen.push(e))
  c.change('down')
  c.change('ready')
  assert.equal(seen, ['connect'])
})

follow('one listener on the connection for every follower; each follower hears each change once', () => {
  const c = connectionOf(true)
  const a: Array<string> = []
  const b: Array<string> = []
  followConnection(c.connection, (e) => a.push(e))
  followConnection(c.connection, (e) => b.push(e))
  assert.is(c.listeners.length, 1)
  c.change('down')
  c.change('ready')
  assert.equal(a, ['disconnect', 'connect'])
  assert.equal(b, a)
})

follow('a follower added while down shares the known state: no extra event', () => {
  const c = connectionOf(true)
  const early: Array<string> = []
  followConnection(c.connection, (e) => early.push(e))
  c.change('down')
  const late: Array<string> = []
  followConnection(c.connection, (e) => late.push(e))
  c.change('down')
  c.change('ready')
  assert.equal(early, ['disconnect', 'connect'])
  assert.equal(late, ['connect'])
})

follow('two connections are followed apart', () => {
  const one = connectionOf(true)
  const two = connectionOf(true)
  const seen: Array<string> = []
  followConnection(one.connection, (e) => seen.push(`one ${e}`))
  followConnection(two.connection, (e) => seen.push(`two ${e}`))
  two.change('down')
  assert.equal(seen, ['two disconnect'])
  assert.is(one.listeners.length, 1)
})

follow.run()

// --- checkEvictionPolicy

type Info = (section: string) => Promise<string>
const clientOf = (ready: boolean, info: Info) => {
  const c = connectionOf(ready)
  const asked: Array<string> = []
  const client = {
    connection: c.connection,
    info: (section: string) => {
      asked.push(section)
      return info(section)
    }
  }
  return { ...c, client, asked }
}

const eviction = suite('checkEvictionPolicy')

eviction('a ready client: INFO memory at once; an evicting policy is one warning naming it', async () => {
  const c = clientOf(
    true,
    async () => '# Memory\r\nused_memory:1\r\nmaxmemory_policy:allkeys-lru\r\nmem_fragmentation_ratio:1\r\n'
  )
  const warnings: Array<string> = []
  checkEvictionPolicy(c.client, (m) => warnings.push(m))
  assert.equal(c.asked, ['memory'])
  await settle()
  assert.is(warnings.length, 1)
  assert.match(warnings[0] ?? '', /^Redis maxmemory-policy is allkeys-lru: /)
  assert.match(warnings[0] ?? '', 'Use noeviction')
})

eviction('noeviction, or no policy in the reply (a fake), is no warning', async () => {
  const warnings: Array<string> = []
  for (const reply of ['maxmemory_policy:noeviction\r\n', '', '# Memory\r\nused_memory:1\r\n']) {
    checkEvictionPolicy(clientOf(true, async () => reply).client, (m) => warnings.push(m))
  }
  await settle()
  assert.equal(warnings, [])
})

eviction('a client not ready yet is checked once, when it first becomes ready', async () => {
  const c = clientOf(false, async () => 'maxmemory_policy:volatile-ttl')
  const warnings: Array<string> = []
  checkEvictionPolicy(c.client, (m) => warnings.push(m))
  c.change('down')
  await settle()
  assert.equal(c.asked, [])
  c.change('ready')
  c.change('down')
  c.change('ready')
  await settle()
  assert.equal(c.asked, ['memory'])
  assert.is(warnings.length, 1)
  assert.match(warnings[0] ?? '', 'volatile-ttl')
})

eviction('a failed INFO is a warning with its reason, rejected or thrown', async () => {
  const warnings: Array<string> = []
  checkEvictionPolicy(
    clientOf(true, () => Promise.reject(new Error('NOPERM no permissions to run the info command'))).client,
    (m) => warnings.push(m)
  )
  checkEvictionPolicy(
    clientOf(true, () => {
      throw new TypeError('info is broken')
    }).client,
    (m) => warnings.push(m)
  )
  checkEvictionPolicy(clientOf(true, () => Promise.reject('plain reason')).client, (m) => warnings.push(m))
  await settle()
  assert.equal(warnings, [
    'could not read maxmemory-policy with INFO memory: NOPERM no permissions to run the info command',
    'could not read maxmemory-policy with INFO memory: info is broken',
    'could not read maxmemory-policy with INFO memory: plain reason'
  ])
})

eviction('silent when INFO fails because the application closed its client', async () => {
  const c = clientOf(true, () => Promise.reject(new Error('The client is closed')))
  const warnings: Array<string> = []
  checkEvictionPolicy(c.client, (m) => warnings.push(m))
  c.state.closed = true
  await settle()
  assert.equal(warnings, [])
})

eviction.run()

// --- checkInProcessClient

const inProcess = suite('checkInProcessClient')

inProcess(
  'an in-process client under NODE_ENV=production: one warning, after the current synchronous code',
  async () => {
    const warnings: Array<string> = []
    checkInProcessClient({ inProcess: true }, 'production', (m) => warnings.push(m))
    assert.equal(warnings, [], 'not during the call: a listener attached right after must hear it')
    await settle()
    assert.equal(warnings, [IN_PROCESS_WARNING])
    await settle()
    assert.is(warnings.length, 1, 'once')
    assert.match(IN_PROCESS_WARNING, /in-memory client .*NODE_ENV=production.* lost when it restarts/)
  }
)

inProcess('silent in any other environment, and for a client that is not in-process', async () => {
  const warnings: Array<string> = []
  for (const env of [undefined, '', 'development', 'test', 'Production', 'staging'])
    checkInProcessClient({ inProcess: true }, env, (m) => warnings.push(`${String(env)}: ${m}`))
  for (const client of [{}, { inProcess: false }])
    checkInProcessClient(client, 'production', (m) => warnings.push(`${JSON.stringify(client)}: ${m}`))
  await settle()
  assert.equal(warnings, [])
})

inProcess.run()
