/**
 * The Valkey GLIDE adapter against small fakes shaped like `GlideClient` and `GlideClusterClient`: how each contract
 * command becomes a GLIDE call, scripts through `Script` + `invokeScript` (with `runScript`'s `NOSCRIPT` → `EVAL`
 * path the first time), `SCAN` words and replies, the masters of a cluster, the connection, memoization. No
 * server: the real-server parts are spec/integration/store.spec.ts and cluster.spec.ts.
 */
import { Decoder } from '@valkey/valkey-glide'
import { createHash } from 'crypto'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { runScript } from '../../src/client/run'
import { fromValkeyGlide, fromValkeyGlideCluster, type ValkeyGlideClient } from '../../src/valkey-glide'
import { assertRight } from '../helpers'

type Call = readonly [string, ...Array<unknown>]

interface Fake {
  readonly calls: Array<Call>
  /** The next reply of each method (default: null). */
  readonly replies: Map<string, unknown>
  isClosed: boolean
}

/** A record of GLIDE's method names, each logging its call and answering from `replies`. */
const makeFake = <C>(): Fake & { readonly client: C } => {
  const calls: Array<Call> = []
  const replies = new Map<string, unknown>()
  const method =
    (name: string) =>
    (...args: Array<unknown>): Promise<unknown> => {
      calls.push([name, ...args])
      const next = replies.get(name)
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next ?? null)
    }
  const names = ['get', 'set', 'getex', 'getdel', 'mget', 'invokeScript', 'scan', 'info', 'customCommand']
  const fake = { calls, replies, isClosed: false, client: undefined as unknown as C }
  const client = Object.assign(Object.fromEntries(names.map((n) => [n, method(n)])), {
    close: () => (fake.isClosed = true)
  })
  // GLIDE keeps `isClosed` on the client; the fake's is read through it.
  Object.defineProperty(client, 'isClosed', { get: () => fake.isClosed })
  return Object.assign(fake, { client: client as unknown as C })
}

// GLIDE's Decoder.String (a numeric enum)
const STRINGS = { decoder: Decoder.String }
const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex')

const it = suite('fromValkeyGlide')

it('each contract command is one GLIDE call, with the String decoder', async () => {
  const fake = makeFake<ValkeyGlideClient>()
  const c = fromValkeyGlide(fake.client)
  await c.get('k')
  await c.set('k', 'v', { PX: 1500, GET: true })
  await c.getEx('k', { PX: 2500 })
  await c.getDel('k')
  await c.mGet(['a', 'b'])
  await c.info('memory')
  assert.equal(fake.calls, [
    ['get', 'k', STRINGS],
    ['set', 'k', 'v', { expiry: { type: 'PX', count: 1500 }, returnOldValue: true, ...STRINGS }],
    ['getex', 'k', { expiry: { type: 'PX', duration: 2500 }, ...STRINGS }],
    ['getdel', 'k', STRINGS],
    ['mget', ['a', 'b'], STRINGS],
    ['info', ['memory']]
  ])
  assert.is(c.keyPrefix, '')
})

it('a script: NOSCRIPT from evalSha until eval made its Script, then invokeScript with the same Script', async () => {
  const fake = makeFake<ValkeyGlideClient>()
  fake.replies.set('invokeScript', 7)
  const c = fromValkeyGlide(fake.client)
  const source = `return ${Date.now()}` // a source no other test made a Script of
  const script = runScript(c, { source, sha1: sha1(source) })
  assert.equal(assertRight(await script({ keys: ['k'], arguments: ['1'] })()), 7)
  assert.equal(assertRight(await script({ keys: ['k'], arguments: ['2'] })()), 7)
  const invoked = fake.calls.filter(([name]) => name === 'invokeScript')
  assert.is(invoked.length, 2, 'one invokeScript per call: the first after the local NOSCRIPT, the second by SHA1')
  const [first, second] = invoked.map((call) => call[1] as { getHash(): string })
  assert.is(first, second, 'the same Script both times')
  assert.is(first?.getHash(), sha1(source), "GLIDE's hash is the store's SHA1")
  assert.equal(invoked[1]?.[2], { keys: ['k'], args: ['2'], ...STRINGS })
  const unknown = await c.evalSha(sha1('never made'), { keys: ['k'], arguments: [] }).then(
    () => 'resolved',
    (e: Error) => e.message
  )
  assert.match(unknown, /^NOSCRIPT/, 'an unknown SHA1 is NOSCRIPT, which runScript answers with EVAL')
})

it('SCAN: MATCH, COUNT and TYPE as words; the reply as a cursor string and string keys', async () => {
  const fake = makeFake<ValkeyGlideClient>()
  fake.replies.set('customCommand', [Buffer.from('17'), ['a', Buffer.from('b')]])
  const c = fromValkeyGlide(fake.client)
  assert.equal(await c.scan('0', { MATCH: 'sessions:*', COUNT: 1000, TYPE: 'string' }), {
    cursor: '17',
    keys: ['a', 'b']
  })
  assert.equal(fake.calls[0], [
    'customCommand',
    ['SCAN', '0', 'MATCH', 'sessions:*', 'COUNT', '1000', 'TYPE', 'string'],
    STRINGS
  ])
})

it('WAIT goes out as a command; the connection is ready until close(); one adapter per client', async () => {
  const fake = makeFake<ValkeyGlideClient>()
  fake.replies.set('customCommand', 1)
  const c = fromValkeyGlide(fake.client)
  assert.is(await c.waitReplicas?.('k', 1, 50), 1)
  assert.equal(fake.calls[0], ['customCommand', ['WAIT', '1', '50']])
  assert.ok(c.connection.isReady() && !c.connection.isClosed())
  fake.client.close()
  assert.ok(!c.connection.isReady() && c.connection.isClosed(), 'closed once GLIDE says so')
  assert.is(fromValkeyGlide(fake.client), c)
})

it.run()

const cluster = suite('fromValkeyGlideCluster')

type ClusterClient = Parameters<typeof fromValkeyGlideCluster>[0]

/** A `CLUSTER SLOTS` reply: three masters (one serving two ranges), each with a replica. */
const SLOTS_REPLY = [
  [0, 5460, ['127.0.0.1', 7000, 'id0'], ['127.0.0.1', 7003, 'id3']],
  [5461, 10922, ['127.0.0.1', 7001, 'id1'], ['127.0.0.1', 7004, 'id4']],
  [10923, 12000, ['127.0.0.1', 7002, 'id2'], ['127.0.0.1', 7005, 'id5']],
  [12001, 16383, ['127.0.0.1', 7002, 'id2'], ['127.0.0.1', 7005, 'id5']]
]

cluster('the masters from CLUSTER SLOTS on one node, each once, each scanned by its address', async () => {
  const fake = makeFake<ClusterClient>()
  fake.replies.set('customCommand', SLOTS_REPLY)
  const c = fromValkeyGlideCluster(fake.client)
  const masters = (await c.cluster?.masters()) ?? []
  assert.is(masters.length, 3, 'a master of two ranges is scanned once; replicas are not')
  assert.equal(fake.calls[0], ['customCommand', ['CLUSTER', 'SLOTS'], { route: 'randomNode', ...STRINGS }])
  fake.replies.set('customCommand', ['0', []])
  await masters[2]?.scan('0', { MATCH: 'sessions:*', COUNT: 10 })
  assert.equal(fake.calls[1], [
    'customCommand',
    ['SCAN', '0', 'MATCH', 'sessions:*', 'COUNT', '10'],
    { route: { type: 'routeByAddress', host: '127.0.0.1:7002' }, ...STRINGS }
  ])
  const scanned = await c.scan('0', { MATCH: '*', COUNT: 1 }).then(
    () => 'resolved',
    (e: Error) => e.message
  )
  assert.match(scanned, /SCAN on a cluster client walks one node/, "the cluster client's own SCAN is refused")
})

cluster(
  'slots without a master, or a range that names none, fail the walk instead of leaving sessions out',
  async () => {
    const fake = makeFake<ClusterClient>()
    const c = fromValkeyGlideCluster(fake.client)
    const failure = async (reply: unknown): Promise<string> => {
      fake.replies.set('customCommand', reply)
      return (c.cluster?.masters() ?? Promise.resolve([])).then(
        () => 'resolved',
        (e: Error) => e.message
      )
    }
    assert.match(await failure(SLOTS_REPLY.slice(1)), /^CLUSTERDOWN 5461 hash slots have no master/)
    assert.match(await failure([]), /^CLUSTERDOWN 16384 hash slots/)
    assert.match(await failure([[0, 16383, []]]), /names no master/)
    assert.match(await failure([[0, 16383, ['', 7000]]]), /names no master/)
    assert.is(await failure(SLOTS_REPLY), 'resolved', 'the control: the whole map')
  }
)

cluster('WAIT goes to the primary of the key; INFO to one node', async () => {
  const fake = makeFake<ClusterClient>()
  fake.replies.set('customCommand', 2)
  fake.replies.set('info', '# Memory')
  const c = fromValkeyGlideCluster(fake.client)
  assert.is(await c.waitReplicas?.('sessions:a', 2, 100), 2)
  assert.equal(fake.calls[0], [
    'customCommand',
    ['WAIT', '2', '100'],
    { route: { type: 'primarySlotKey', key: 'sessions:a' } }
  ])
  assert.is(await c.info('memory'), '# Memory')
  assert.equal(fake.calls[1], ['info', { sections: ['memory'], route: 'randomNode' }])
})

cluster.run()
