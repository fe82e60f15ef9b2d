import * as E from 'fp-ts/lib/Either'
import * as TE from 'fp-ts/lib/TaskEither'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { commandFailed, timedOut, type StoreError } from '../../src/errors'
import { timeLimit } from '../../src/operations/deadline'
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
      (acc, sids) => [...acc, sids],
      { operation: 'test', done: (sids) => sids.length }
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

scan(
  'a SCAN answering a cursor it already gave ends the walk with a coded error, never goes round for ever',
  async () => {
    // A client that answers the same cursor, and no keys, over and over: a walk of microtasks that never ends.
    const pages = makeScanPages({
      client: { scan: async () => ({ cursor: '7', keys: [] }) },
      prefix: 'sessions:',
      batchSize: 10
    })
    const seen: Array<E.Either<StoreError, unknown>> = []
    for await (const page of pages()) seen.push(page)
    assert.is(seen.length, 1)
    const failed = seen[0]
    assert.ok(failed !== undefined && E.isLeft(failed) && failed.left._tag === 'CommandFailed')
    assert.is(failed.left._tag === 'CommandFailed' && failed.left.command, 'SCAN')
    assert.match(String(failed.left._tag === 'CommandFailed' && failed.left.cause), /7.*not a cursor not seen before/)
  }
)

scan('with a client keyPrefix, MATCH includes it and keys are passed on without it', async () => {
  const redis = makeFakeRedis()
  redis.keyspace.set('app:sessions:a', { type: 'string', value: sessionJson(redis, 1) })
  redis.keyspace.set('sessions:b', { type: 'string', value: sessionJson(redis, 2) })
  const seen: Array<unknown> = []
  await runRight(
    batchOpsOf(redis, 'sessions:', 'app:').scanBatches(
      (batch) => async () => E.right(seen.push(...batch)),
      0,
      (n) => n,
      { operation: 'test', done: () => 1 }
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
      (n) => n,
      { operation: 'test', done: () => 1 }
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
      (acc, sid) => [...acc, sid],
      { operation: 'test', done: () => 1 }
    )
  )
  assert.equal(
    order,
    Array.from({ length: 10 }, (_, i) => `p${i}`)
  )
  assert.is(most, 3)
})

scan('a failing page stops the scan: a WalkFailed of clear, its cause the EVALSHA that failed', async ({ redis }) => {
  const oom = new Error('OOM')
  redis.faults.fail('EVALSHA', { error: oom })
  const e = await runLeft(batchOpsOf(redis).clear())
  assert.ok(e._tag === 'WalkFailed' && e.operation === 'clear' && e.pages === 0 && e.done === 0)
  assert.ok(e.cause._tag === 'CommandFailed' && e.cause.command === 'EVALSHA' && e.cause.cause === oom)
})

scan('a failing SCAN is a WalkFailed whose cause is a CommandFailed naming SCAN', async ({ redis }) => {
  redis.faults.fail('SCAN', { error: new Error('NOPERM') })
  const e = await runLeft(batchOpsOf(redis).length())
  assert.ok(e._tag === 'WalkFailed' && e.operation === 'length' && e.pages === 0 && e.done === 0)
  assert.ok(e.cause._tag === 'CommandFailed' && e.cause.command === 'SCAN')
})

scan(
  'clear fails after some pages: done is the number of sessions the completed scripts tombstoned',
  async ({ redis }) => {
    // 4 sessions, 2 per page: the first script fails, the second, already in flight, is awaited and counted.
    redis.faults.fail('EVALSHA', { times: 1 })
    const first = await runLeft(batchOpsOf(redis).clear())
    assert.ok(first._tag === 'WalkFailed' && first.cause._tag === 'CommandFailed')
    assert.is(first._tag === 'WalkFailed' && first.pages, 1)
    assert.is(first._tag === 'WalkFailed' && first.done, 2, 'the sessions the completed script tombstoned')
    assert.is(await runRight(batchOpsOf(redis).length()), 2, 'exactly those are gone')
    assert.is(await runRight(batchOpsOf(redis).clear()), 2, 'a retried clear removes the rest')
    assert.is(await runRight(batchOpsOf(redis).length()), 0)
  }
)

// --- a failed walk

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const walk = suite('makeScanBatches: a failed walk')

walk('a batch fails mid-walk: none starts after it, those in flight are awaited, the count is exact', async () => {
  const redis = makeFakeRedis()
  redis.scanPages = Array.from({ length: 12 }, (_, i) => [`sessions:p${i}`])
  const scan = makeScanBatches({
    pages: makeScanPages({ client: redis, prefix: 'sessions:', batchSize: 1 }),
    inFlight: 3
  })
  const started: Array<number> = []
  const finished: Array<number> = []
  let startedAtFailure = -1
  const result = await scan(
    (batch) => async () => {
      const n = Number(batch[0]?.sid.slice(1))
      started.push(n)
      // p4 fails fast while p2 and p3, started before it, are slow: they must be awaited and counted.
      await sleep(n === 4 ? 2 : n === 2 || n === 3 ? 40 : 5)
      finished.push(n)
      if (n !== 4) return E.right(n)
      startedAtFailure = started.length
      return E.left(commandFailed('EVALSHA', `sessions:p${n}`, new Error('OOM')))
    },
    new Array<number>(),
    (acc, n) => [...acc, n],
    { operation: 'clear', done: () => 10 }
  )()
  assert.ok(E.isLeft(result))
  const e = result.left
  assert.is(started.length, startedAtFailure, 'no batch started after the failure')
  assert.equal([...finished].sort(), [...started].sort(), 'every batch started was awaited')
  assert.ok(e._tag === 'WalkFailed')
  assert.is(e.pages, started.length - 1, 'every other batch completed and is counted')
  assert.is(e.done, 10 * (started.length - 1))
  assert.equal(e.cause, commandFailed('EVALSHA', 'sessions:p4', new Error('OOM')))
})

walk('a hung batch is a TimedOut within its deadline; the batches in flight are still awaited', async () => {
  const redis = makeFakeRedis()
  redis.scanPages = Array.from({ length: 6 }, (_, i) => [`sessions:p${i}`])
  const scan = makeScanBatches({
    pages: makeScanPages({ client: redis, prefix: 'sessions:', batchSize: 1 }),
    inFlight: 2,
    limit: timeLimit('EVALSHA', 40)
  })
  const t0 = performance.now()
  const e = await runLeft(
    scan(
      (batch) => () =>
        batch[0]?.sid === 'p1'
          ? new Promise<E.Either<StoreError, number>>(() => undefined)
          : sleep(1).then(() => E.right(1)),
      0,
      (n, m) => n + m,
      { operation: 'clear', done: (m) => m }
    )
  )
  const took = performance.now() - t0
  assert.ok(took >= 35 && took < 1000, `ended one deadline later (${Math.round(took)} ms)`)
  // p0 completed, p1 hung, p2 started (inFlight 2) and was awaited; nothing after p1's deadline.
  assert.equal(e, { _tag: 'WalkFailed', operation: 'clear', pages: 2, done: 2, cause: timedOut('EVALSHA', 40) })
})

walk('a hung SCAN is a TimedOut naming SCAN within its deadline', async () => {
  const redis = makeFakeRedis()
  seed(redis)
  const hung = { ...redis, scan: () => new Promise<never>(() => undefined) }
  const scan = makeScanBatches({
    pages: makeScanPages({ client: hung, prefix: 'sessions:', batchSize: 2, limit: timeLimit('SCAN', 30) })
  })
  const e = await runLeft(
    scan(
      (b) => TE.right(b.length),
      0,
      (n, m) => n + m,
      { operation: 'length', done: (m) => m }
    )
  )
  assert.equal(e, { _tag: 'WalkFailed', operation: 'length', pages: 0, done: 0, cause: timedOut('SCAN', 30) })
})

walk('a work that rejects is a Defect, and the walk still ends with a WalkFailed', async () => {
  const redis = makeFakeRedis()
  seed(redis)
  const boom = new Error('boom')
  const scan = makeScanBatches({ pages: makeScanPages({ client: redis, prefix: 'sessions:', batchSize: 2 }) })
  const e = await runLeft(
    scan(
      () => () => Promise.reject(boom),
      0,
      (n: number) => n,
      { operation: 'ids', done: () => 1 }
    )
  )
  assert.ok(e._tag === 'WalkFailed' && e.cause._tag === 'Defect' && e.cause.cause === boom)
})

scan.run()
walk.run()
