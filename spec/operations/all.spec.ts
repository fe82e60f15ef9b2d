import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { jsonSerializer } from '../../src/serializer/json'
import { makeAll } from '../../src/operations/all'
import { makeScanBatches, makeScanPages } from '../../src/operations/scan-batches'
import { makeFakeRedis, type FakeRedis } from '../fakes/redis'
import { runRight } from '../helpers'
import { batchOpsOf, seed, sessionJson } from './fixtures'

const allSessions = suite<{ redis: FakeRedis }>('makeAll')
allSessions.before.each((ctx) => {
  ctx.redis = makeFakeRedis()
  seed(ctx.redis)
})

allSessions('all pairs every session with its own id, skipping the tombstone and foreign keys', async ({ redis }) => {
  const all = await runRight(batchOpsOf(redis).all())
  assert.equal(Object.keys(all).sort(), ['s1', 's2', 's4', 's5'])
  for (const [sid, sess] of Object.entries(all)) assert.is((sess as unknown as { n: number }).n, Number(sid.slice(1)))
  const mgets = redis.calls.filter((c) => c[0] === 'MGET')
  assert.ok(
    mgets.every((c) => c.length <= 3),
    'one MGET per page of at most scanCount keys'
  )
  assert.ok(!redis.calls.some((c) => c.includes('sessions1:x')), 'the foreign key is never read')
})

allSessions('all tolerates SCAN duplicates and keys that expire between SCAN and MGET', async ({ redis }) => {
  redis.scanPages = [['sessions:s1', 'sessions:s2'], ['sessions:gone', 'sessions:s1'], ['sessions:s4']]
  const all = await runRight(batchOpsOf(redis).all())
  assert.equal(Object.keys(all).sort(), ['s1', 's2', 's4'])
})

allSessions('all skips a corrupt value and reports it, naming the key', async ({ redis }) => {
  redis.keyspace.set('sessions:s2', { type: 'string', value: '{oops' })
  const reported: Array<unknown> = []
  const scanBatches = makeScanBatches({
    pages: makeScanPages({ client: redis, prefix: 'sessions:', batchSize: 2, countHint: 2 })
  })
  const all = await runRight(
    makeAll({ client: redis, serializer: jsonSerializer, scanBatches, reportCorrupt: (e) => reported.push(e) })()
  )
  assert.equal(Object.keys(all).sort(), ['s1', 's4', 's5'])
  assert.is(reported.length, 1)
  assert.is((reported[0] as { _tag: string; key: string })._tag, 'ParseFailed')
  assert.is((reported[0] as { key: string }).key, 'sessions:s2')
})

allSessions('a batch is parsed only after the writes the client queued meanwhile went out', async ({ redis }) => {
  // node-redis writes queued commands from setImmediate: parsing right in the MGET reply's continuation would
  // hold back the next SCAN and MGET until the whole batch is parsed, leaving Redis idle meanwhile.
  const order: Array<string> = []
  const client = {
    ...redis,
    mGet: (keys: Array<string>) => (setImmediate(() => order.push('write')), redis.mGet(keys))
  }
  const serializer = { ...jsonSerializer, parse: (raw: string) => (order.push('parse'), jsonSerializer.parse(raw)) }
  const scanBatches = makeScanBatches({ pages: makeScanPages({ client: redis, prefix: 'sessions:', batchSize: 10 }) })
  const all = await runRight(makeAll({ client, serializer, scanBatches })())
  assert.equal(Object.keys(all).sort(), ['s1', 's2', 's4', 's5'])
  assert.equal(order, ['write', 'parse', 'parse', 'parse', 'parse'])
})

allSessions('an id such as __proto__ is an ordinary key of the result', async () => {
  const redis = makeFakeRedis()
  redis.keyspace.set('sessions:__proto__', { type: 'string', value: sessionJson(redis, 7) })
  const all = await runRight(batchOpsOf(redis).all())
  assert.ok(Object.prototype.hasOwnProperty.call(all, '__proto__'))
  assert.is(Object.getPrototypeOf(all), Object.prototype)
})

allSessions.run()
