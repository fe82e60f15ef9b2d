import * as E from 'fp-ts/lib/Either'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { jsonSerializer } from '../../src/serializer/json'
import { makeAll } from '../../src/operations/all'
import { makeClear } from '../../src/operations/clear'
import { makeIds } from '../../src/operations/ids'
import { makeLength } from '../../src/operations/length'
import { makeScanBatches, makeScanPages } from '../../src/operations/scan-batches'
import { makeIterate } from '../../src/operations/iterate'
import { makeFakeRedis, type FakeRedis } from '../fakes/redis'
import { runLeft, runRight, storedSession } from '../helpers'

const sessionJson = (redis: FakeRedis, n: number) => JSON.stringify(storedSession(redis.now(), 60_000, { n }))

const opsOf = (redis: FakeRedis, prefix = 'sessions:', keyPrefix = '', scanCount = 2) => {
  // COUNT equal to the batch size, so the fake's small pages show the paging.
  const source = { client: redis, prefix, keyPrefix, batchSize: scanCount, countHint: scanCount }
  const scanBatches = makeScanBatches({ pages: makeScanPages(source) })
  const deps = { client: redis, serializer: jsonSerializer, scanBatches, concurrencyGraceSeconds: 300, now: redis.now }
  const pages = makeScanPages(source)
  return { scanBatches, iterate: makeIterate({ ...deps, pages }), all: makeAll(deps), ids: makeIds(deps), length: makeLength(deps), clear: makeClear(deps) }
}

const seed = (redis: FakeRedis) => {
  for (const n of [1, 2, 3, 4, 5]) redis.data.set(`sessions:s${n}`, { type: 'string', value: sessionJson(redis, n) })
  redis.data.set('sessions:s3', { type: 'hash', fields: { destroyedAt: '1' } }) // a tombstone between live sessions
  redis.data.set('sessions1:x', { type: 'string', value: sessionJson(redis, 99) }) // foreign, matches a naive glob
  redis.data.set('other:y', { type: 'string', value: 'not a session' })
}

// --- scan batches

const scan = suite<{ redis: FakeRedis }>('makeScanBatches')
scan.before.each((ctx) => {
  ctx.redis = makeFakeRedis()
  seed(ctx.redis)
})

scan('folds page by page with an escaped MATCH, COUNT and TYPE string', async ({ redis }) => {
  const pages = await runRight(opsOf(redis).scanBatches((batch) => async () => E.right(batch.map((k) => k.sid)), new Array<Array<string>>(), (acc, sids) => [...acc, sids]))
  assert.equal(pages.flat().sort(), ['s1', 's2', 's4', 's5'])
  const scans = redis.calls.filter((c) => c[0] === 'SCAN')
  assert.ok(scans.length > 2, 'several pages')
  assert.equal(scans[0], ['SCAN', '0', { MATCH: 'sessions:*', COUNT: 2, TYPE: 'string' }])
})

scan('escapes glob characters of the prefix', async () => {
  const redis = makeFakeRedis({ 'a[1]:x': '{"cookie":{}}', 'a1:x': '{"cookie":{}}', 'ab:x': '{"cookie":{}}' })
  const ids = await runRight(opsOf(redis, 'a[1]:').ids())
  assert.equal(ids, ['x'])
  assert.is((redis.calls[0]?.[2] as { MATCH: string }).MATCH, 'a\\[1\\]:*')
})

scan('drops keys outside the prefix even when SCAN returns them', async ({ redis }) => {
  redis.scanPages = [['sessions:s1', 'sessions1:x', 'other:y'], ['sessions:s2']]
  assert.equal([...(await runRight(opsOf(redis).ids()))].sort(), ['s1', 's2'])
})

scan('with a client keyPrefix, MATCH includes it and keys are passed on without it', async () => {
  const redis = makeFakeRedis()
  redis.data.set('app:sessions:a', { type: 'string', value: sessionJson(redis, 1) })
  redis.data.set('sessions:b', { type: 'string', value: sessionJson(redis, 2) })
  const seen: Array<unknown> = []
  await runRight(opsOf(redis, 'sessions:', 'app:').scanBatches((batch) => async () => E.right(seen.push(...batch)), 0, (n) => n))
  assert.equal(seen, [{ sid: 'a', key: 'sessions:a' }])
  assert.is((redis.calls[0]?.[2] as { MATCH: string }).MATCH, 'app:sessions:*')
})

scan.run()

// --- length, ids, all, clear

const batch = suite<{ redis: FakeRedis }>('batched operations')
batch.before.each((ctx) => {
  ctx.redis = makeFakeRedis()
  seed(ctx.redis)
})

batch('length counts live sessions only, without fetching a value', async ({ redis }) => {
  assert.is(await runRight(opsOf(redis).length()), 4)
  assert.equal([...new Set(redis.calls.map((c) => c[0]))], ['SCAN'])
})

batch('all pairs every session with its own id, skipping the tombstone and foreign keys', async ({ redis }) => {
  const all = await runRight(opsOf(redis).all())
  assert.equal(Object.keys(all).sort(), ['s1', 's2', 's4', 's5'])
  for (const [sid, sess] of Object.entries(all)) assert.is((sess as unknown as { n: number }).n, Number(sid.slice(1)))
  const mgets = redis.calls.filter((c) => c[0] === 'MGET')
  assert.ok(mgets.every((c) => c.length <= 3), 'one MGET per page of at most scanCount keys')
  assert.ok(!redis.calls.some((c) => c.includes('sessions1:x')), 'the foreign key is never read')
})

batch('all tolerates SCAN duplicates and keys that expire between SCAN and MGET', async ({ redis }) => {
  redis.scanPages = [['sessions:s1', 'sessions:s2'], ['sessions:gone', 'sessions:s1'], ['sessions:s4']]
  const all = await runRight(opsOf(redis).all())
  assert.equal(Object.keys(all).sort(), ['s1', 's2', 's4'])
})

batch('all skips a corrupt value and reports it, naming the key', async ({ redis }) => {
  redis.data.set('sessions:s2', { type: 'string', value: '{oops' })
  const reported: Array<unknown> = []
  const scanBatches = makeScanBatches({ pages: makeScanPages({ client: redis, prefix: 'sessions:', batchSize: 2, countHint: 2 }) })
  const all = await runRight(makeAll({ client: redis, serializer: jsonSerializer, scanBatches, reportCorrupt: (e) => reported.push(e) })())
  assert.equal(Object.keys(all).sort(), ['s1', 's4', 's5'])
  assert.is(reported.length, 1)
  assert.is((reported[0] as { _tag: string; key: string })._tag, 'ParseFailed')
  assert.is((reported[0] as { key: string }).key, 'sessions:s2')
})

batch('an id such as __proto__ is an ordinary key of the result', async () => {
  const redis = makeFakeRedis()
  redis.data.set('sessions:__proto__', { type: 'string', value: sessionJson(redis, 7) })
  const all = await runRight(opsOf(redis).all())
  assert.ok(Object.prototype.hasOwnProperty.call(all, '__proto__'))
  assert.is(Object.getPrototypeOf(all), Object.prototype)
})

batch('ids lists each live id once', async ({ redis }) => {
  redis.scanPages = [['sessions:s1', 'sessions:s2'], ['sessions:s2']]
  assert.equal(await runRight(opsOf(redis).ids()), ['s1', 's2'])
})

batch('clear tombstones every live session, page by page, and leaves foreign keys alone', async ({ redis }) => {
  assert.is(await runRight(opsOf(redis).clear()), 4)
  for (const n of [1, 2, 3, 4, 5]) assert.is(redis.data.get(`sessions:s${n}`)?.type, 'hash')
  assert.is(redis.data.get('sessions1:x')?.type, 'string')
  assert.is(redis.data.get('other:y')?.type, 'string')
  const scripts = redis.calls.filter((c) => c[0] === 'EVALSHA')
  assert.ok(scripts.length >= 2 && scripts.every((c) => (c[2] as Array<string>).length <= 2), 'one script call per page')
  assert.is(await runRight(opsOf(redis).length()), 0)
})

batch('iterate streams each page of sessions with its ids, tombstones and foreign keys left out', async ({ redis }) => {
  const seen: Array<string> = []
  let pages = 0
  for await (const page of opsOf(redis).iterate()) {
    if (E.isLeft(page)) assert.unreachable('no failure expected')
    else {
      pages++
      for (const [sid, sess] of page.right) {
        assert.is((sess as unknown as { n: number }).n, Number(sid.slice(1)))
        seen.push(sid)
      }
    }
  }
  assert.equal(seen.sort(), ['s1', 's2', 's4', 's5'])
  assert.ok(pages >= 2, 'more than one page')
})

batch('iterate yields a failure as a Left and stops', async ({ redis }) => {
  redis.failing('MGET', new Error('boom'))
  const results: Array<string> = []
  for await (const page of opsOf(redis).iterate()) results.push(page._tag)
  assert.equal(results, ['Left'])
})

batch('the next SCAN is sent before the current page is worked on', async ({ redis }) => {
  redis.scanPages = [['sessions:s1'], ['sessions:s2']]
  const order: Array<string> = []
  await runRight(opsOf(redis).scanBatches((page) => async () => E.right(order.push(`step ${page.length} after ${redis.calls.filter((c) => c[0] === 'SCAN').length} scans`)), 0, (n) => n))
  assert.equal(order, ['step 1 after 2 scans', 'step 1 after 2 scans'])
})

batch('work on several pages runs at once, results combine in page order, memory stays bounded', async () => {
  const redis = makeFakeRedis()
  redis.scanPages = Array.from({ length: 10 }, (_, i) => [`sessions:p${i}`])
  const scan = makeScanBatches({ pages: makeScanPages({ client: redis, prefix: 'sessions:', batchSize: 1 }), inFlight: 3 })
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
  assert.equal(order, Array.from({ length: 10 }, (_, i) => `p${i}`))
  assert.is(most, 3)
})

batch('a failing page stops the scan with its error', async ({ redis }) => {
  redis.failing('EVALSHA', new Error('OOM'))
  const e = await runLeft(opsOf(redis).clear())
  assert.is(e._tag, 'CommandFailed')
})

batch('a failing SCAN is a CommandFailed', async ({ redis }) => {
  redis.failing('SCAN', new Error('NOPERM'))
  const e = await runLeft(opsOf(redis).length())
  assert.is(e._tag, 'CommandFailed')
})

batch.run()
