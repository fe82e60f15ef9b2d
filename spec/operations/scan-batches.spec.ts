import * as E from 'fp-ts/lib/Either'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { makeScanBatches, makeScanPages } from '../../src/operations/scan-batches'
import { makeFakeRedis, type FakeRedis } from '../fakes/redis'
import { runLeft, runRight } from '../helpers'
import { batchOpsOf, seed, sessionJson } from './fixtures'

const scan = suite<{ redis: FakeRedis }>('makeScanBatches')
scan.before.each((ctx) => {
  ctx.redis = makeFakeRedis()
  seed(ctx.redis)
})

scan('folds page by page with an escaped MATCH, COUNT and TYPE string', async ({ redis }) => {
  const pages = await runRight(
    batchOpsOf(redis).scanBatches(
      (batch) => async () => E.right(batch.map((k) => k.sid)),
      new Array<Array<string>>(),
      (acc, sids) => [...acc, sids]
    )
  )
  assert.equal(pages.flat().sort(), ['s1', 's2', 's4', 's5'])
  const scans = redis.calls.filter((c) => c[0] === 'SCAN')
  assert.ok(scans.length > 2, 'several pages')
  assert.equal(scans[0], ['SCAN', '0', { MATCH: 'sessions:*', COUNT: 2, TYPE: 'string' }])
})

scan('escapes glob characters of the prefix', async () => {
  const redis = makeFakeRedis({ 'a[1]:x': '{"cookie":{}}', 'a1:x': '{"cookie":{}}', 'ab:x': '{"cookie":{}}' })
  const ids = await runRight(batchOpsOf(redis, 'a[1]:').ids())
  assert.equal(ids, ['x'])
  assert.is((redis.calls[0]?.[2] as { MATCH: string }).MATCH, 'a\\[1\\]:*')
})

scan('drops keys outside the prefix even when SCAN returns them', async ({ redis }) => {
  redis.scanPages = [['sessions:s1', 'sessions1:x', 'other:y'], ['sessions:s2']]
  assert.equal([...(await runRight(batchOpsOf(redis).ids()))].sort(), ['s1', 's2'])
})

scan('with a client keyPrefix, MATCH includes it and keys are passed on without it', async () => {
  const redis = makeFakeRedis()
  redis.keyspace.set('app:sessions:a', { type: 'string', value: sessionJson(redis, 1) })
  redis.keyspace.set('sessions:b', { type: 'string', value: sessionJson(redis, 2) })
  const seen: Array<unknown> = []
  await runRight(
    batchOpsOf(redis, 'sessions:', 'app:').scanBatches(
      (batch) => async () => E.right(seen.push(...batch)),
      0,
      (n) => n
    )
  )
  assert.equal(seen, [{ sid: 'a', key: 'sessions:a' }])
  assert.is((redis.calls[0]?.[2] as { MATCH: string }).MATCH, 'app:sessions:*')
})

scan('the next SCAN is sent before the current page is worked on', async ({ redis }) => {
  redis.scanPages = [['sessions:s1'], ['sessions:s2']]
  const order: Array<string> = []
  await runRight(
    batchOpsOf(redis).scanBatches(
      (page) => async () =>
        E.right(order.push(`step ${page.length} after ${redis.calls.filter((c) => c[0] === 'SCAN').length} scans`)),
      0,
      (n) => n
    )
  )
  assert.equal(order, ['step 1 after 2 scans', 'step 1 after 2 scans'])
})

scan('work on several pages runs at once, results combine in page order, memory stays bounded', async () => {
  const redis = makeFakeRedis()
  redis.scanPages = Array.from({ length: 10 }, (_, i) => [`sessions:p${i}`])
  const scan = makeScanBatches({
    pages: makeScanPages({ client: redis, prefix: 'sessions:', batchSize: 1 }),
    inFlight: 3
  })
  let running = 0
  let most = 0
  const order = await runRight(
    scan(
      (batch) => async () => {
        running++
        most = Math.max(most, running)
        await new Promise((r) => setTimeout(r, (Number(batch[0]?.sid.slice(1)) % 3) * 3))
        running--
        return E.right(batch[0]?.sid ?? '')
      },
      new Array<string>(),
      (acc, sid) => [...acc, sid]
    )
  )
  assert.equal(
    order,
    Array.from({ length: 10 }, (_, i) => `p${i}`)
  )
  assert.is(most, 3)
})

scan('a failing page stops the scan with its error', async ({ redis }) => {
  redis.faults.fail('EVALSHA', { error: new Error('OOM') })
  const e = await runLeft(batchOpsOf(redis).clear())
  assert.is(e._tag, 'CommandFailed')
})

scan('a failing SCAN is a CommandFailed', async ({ redis }) => {
  redis.faults.fail('SCAN', { error: new Error('NOPERM') })
  const e = await runLeft(batchOpsOf(redis).length())
  assert.is(e._tag, 'CommandFailed')
})

scan.run()
