// The connection helpers on a hand-made Connection; the same behaviour through createRedisStore and node-redis
// events is in spec/express/outages.spec.ts.
import { setFlagsFromString } from 'v8'
import { runInNewContext } from 'vm'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Connection } from '../../src/client/contract'
import {
  checkEvictionPolicy,
  checkInProcessClient,
  followConnection,
  IN_PROCESS_WARNING,
  type StoreEvents
} from '../../src/express/connection'

/** A connection the spec drives: `change` tells the listeners, `ready`/`closed` are what the getters answer. */
const connectionOf = (ready: boolean) => {
  const listeners: Array<(state: 'ready' | 'down') => void> = []
  const state = { ready, closed: false }
  const connection: Connection = {
    isReady: () => state.ready,
    isClosed: () => state.closed,
    onChange: (l) => {
      listeners.push(l)
      return () => void listeners.splice(listeners.indexOf(l), 1)
    }
  }
  const change = (to: 'ready' | 'down') => {
    state.ready = to === 'ready'
    listeners.forEach((l) => l(to))
  }
  return { connection, state, listeners, change }
}

const settle = () => new Promise((r) => setImmediate(r))

// A full collection on demand, without --expose-gc on the command line.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Collects, then lets the FinalizationRegistry callbacks (a later task) run; twice, for good measure. */
const collect = async (): Promise<void> => {
  for (let i = 0; i < 2; i++) {
    gc()
    await settle()
  }
}

/**
 * A store that records what it emits into `seen`: `connect`/`disconnect`, or a warning's message. The helpers
 * hold a store weakly, so each test keeps its own in a variable.
 */
const recorder = (seen: Array<string>, label = ''): StoreEvents => ({
  emit: (event, message) => {
    seen.push(`${label}${event === 'warning' ? String(message) : event}`)
    return true
  },
  listenerCount: () => 1
})

/** A store given to `use` in a frame of its own (so no local keeps it), and a way to tell when it is collected. */
const dropped = (use: (store: StoreEvents) => void): WeakRef<StoreEvents> => {
  const store = recorder([])
  use(store)
  return new WeakRef(store)
}

// --- followConnection

const follow = suite('followConnection')

follow('tells connect / disconnect on changes of state only', () => {
  const c = connectionOf(true)
  const seen: Array<string> = []
  const store = recorder(seen)
  followConnection(c.connection, store)
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
  const store = recorder(seen)
  followConnection(c.connection, store)
  c.change('down')
  c.change('ready')
  assert.equal(seen, ['connect'])
})

follow('one listener on the connection for every follower; each follower hears each change once', () => {
  const c = connectionOf(true)
  const a: Array<string> = []
  const b: Array<string> = []
  const storeA = recorder(a)
  const storeB = recorder(b)
  followConnection(c.connection, storeA)
  followConnection(c.connection, storeB)
  assert.is(c.listeners.length, 1)
  c.change('down')
  c.change('ready')
  assert.equal(a, ['disconnect', 'connect'])
  assert.equal(b, a)
})

follow('a follower added while down shares the known state: no extra event', () => {
  const c = connectionOf(true)
  const early: Array<string> = []
  const earlyStore = recorder(early)
  followConnection(c.connection, earlyStore)
  c.change('down')
  const late: Array<string> = []
  const lateStore = recorder(late)
  followConnection(c.connection, lateStore)
  c.change('down')
  c.change('ready')
  assert.equal(early, ['disconnect', 'connect'])
  assert.equal(late, ['connect'])
})

follow('two connections are followed apart', () => {
  const one = connectionOf(true)
  const two = connectionOf(true)
  const seen: Array<string> = []
  const storeOne = recorder(seen, 'one ')
  const storeTwo = recorder(seen, 'two ')
  followConnection(one.connection, storeOne)
  followConnection(two.connection, storeTwo)
  two.change('down')
  assert.equal(seen, ['two disconnect'])
  assert.is(one.listeners.length, 1)
})

follow('a dropped store is collected; once none follows, the subscription to the connection is removed', async () => {
  const c = connectionOf(true)
  const kept: Array<string> = []
  const keptStore = recorder(kept)
  followConnection(c.connection, keptStore)
  const gone = dropped((store) => followConnection(c.connection, store))
  await collect()
  assert.is(gone.deref(), undefined, 'the dropped store was collected')
  c.change('down')
  assert.equal(kept, ['disconnect'], 'the store still referenced still hears')
  assert.is(c.listeners.length, 1)
  const last = dropped((store) => followConnection(c.connection, store))
  assert.is(c.listeners.length, 1, 'one subscription for every follower')
  void keptStore // held to here: the helpers hold it weakly
  await collect()
  assert.is(last.deref(), undefined)
})

follow('no follower left: the connection has no listener of the store any more', async () => {
  const c = connectionOf(true)
  const stores = Array.from({ length: 3 }, () => dropped((store) => followConnection(c.connection, store)))
  assert.is(c.listeners.length, 1)
  await collect()
  assert.equal(
    stores.map((s) => s.deref()),
    [undefined, undefined, undefined]
  )
  assert.is(c.listeners.length, 0)
  const seen: Array<string> = []
  const store = recorder(seen)
  c.change('down')
  followConnection(c.connection, store)
  c.change('ready')
  assert.equal(seen, ['connect'], 'a new follower starts from the state the connection has then')
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
  const store = recorder(warnings)
  checkEvictionPolicy(c.client, store)
  assert.equal(c.asked, ['memory'])
  await settle()
  assert.is(warnings.length, 1)
  assert.match(warnings[0] ?? '', /^Redis maxmemory-policy is allkeys-lru: /)
  assert.match(warnings[0] ?? '', 'Use noeviction')
})

eviction('noeviction, or no policy in the reply (a fake), is no warning', async () => {
  const warnings: Array<string> = []
  const store = recorder(warnings)
  for (const reply of ['maxmemory_policy:noeviction\r\n', '', '# Memory\r\nused_memory:1\r\n']) {
    checkEvictionPolicy(clientOf(true, async () => reply).client, store)
  }
  await settle()
  assert.equal(warnings, [])
})

eviction('a client not ready yet is checked once, when it first becomes ready', async () => {
  const c = clientOf(false, async () => 'maxmemory_policy:volatile-ttl')
  const warnings: Array<string> = []
  const store = recorder(warnings)
  checkEvictionPolicy(c.client, store)
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
  const store = recorder(warnings)
  checkEvictionPolicy(
    clientOf(true, () => Promise.reject(new Error('NOPERM no permissions to run the info command'))).client,
    store
  )
  checkEvictionPolicy(
    clientOf(true, () => {
      throw new TypeError('info is broken')
    }).client,
    store
  )
  checkEvictionPolicy(clientOf(true, () => Promise.reject('plain reason')).client, store)
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
  const store = recorder(warnings)
  checkEvictionPolicy(c.client, store)
  c.state.closed = true
  await settle()
  assert.equal(warnings, [])
})

eviction(
  'one INFO per client for every store; each store hears the warning, a later one after the synchronous code',
  async () => {
    const c = clientOf(true, async () => 'maxmemory_policy:allkeys-lru')
    const first: Array<string> = []
    const second: Array<string> = []
    const firstStore = recorder(first)
    const secondStore = recorder(second)
    checkEvictionPolicy(c.client, firstStore)
    checkEvictionPolicy(c.client, secondStore)
    await settle()
    assert.equal(c.asked, ['memory'])
    assert.is(first.length, 1)
    assert.equal(second, first)
    const later: Array<string> = []
    const laterStore = recorder(later)
    checkEvictionPolicy(c.client, laterStore)
    assert.equal(later, [], 'not during the call: a listener attached right after must hear it')
    await settle()
    assert.equal(later, first)
    assert.equal(c.asked, ['memory'], 'the policy read once is kept')
  }
)

eviction('a failed INFO is not kept: the next store reads the policy again', async () => {
  let calls = 0
  const c = clientOf(true, () => (++calls === 1 ? Promise.reject(new Error('LOADING')) : Promise.resolve('')))
  const warnings: Array<string> = []
  const store = recorder(warnings)
  checkEvictionPolicy(c.client, store)
  await settle()
  checkEvictionPolicy(c.client, store)
  await settle()
  checkEvictionPolicy(c.client, store)
  await settle()
  assert.equal(c.asked, ['memory', 'memory'])
  assert.equal(warnings, ['could not read maxmemory-policy with INFO memory: LOADING'])
})

eviction('a client not ready: one listener for every store, removed once the check ran', async () => {
  const c = clientOf(false, async () => 'maxmemory_policy:allkeys-lru')
  const a: Array<string> = []
  const b: Array<string> = []
  const storeA = recorder(a)
  const storeB = recorder(b)
  checkEvictionPolicy(c.client, storeA)
  checkEvictionPolicy(c.client, storeB)
  assert.is(c.listeners.length, 1)
  c.change('ready')
  assert.is(c.listeners.length, 0)
  await settle()
  assert.equal(c.asked, ['memory'])
  assert.is(a.length, 1)
  assert.equal(b, a)
})

eviction('a store built before the client is ready and dropped is collected; the others still hear', async () => {
  const c = clientOf(false, async () => 'maxmemory_policy:allkeys-lru')
  const kept: Array<string> = []
  const keptStore = recorder(kept)
  checkEvictionPolicy(c.client, keptStore)
  const gone = dropped((store) => checkEvictionPolicy(c.client, store))
  await collect()
  assert.is(gone.deref(), undefined)
  c.change('ready')
  await settle()
  assert.is(kept.length, 1)
  void keptStore // held to here: the helpers hold it weakly
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
