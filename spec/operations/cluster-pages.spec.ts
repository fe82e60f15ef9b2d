import * as E from 'fp-ts/lib/Either'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { RedisLike } from '../../src/client/contract'
import { keySlot } from '../../src/client/slot'
import type { StoreError } from '../../src/errors'
import { makeClusterPages } from '../../src/operations/cluster-pages'
import type { ScannedKey } from '../../src/operations/scan-batches'
import { makeFakeRedis } from '../fakes/redis'

const walk = async (pages: () => AsyncIterable<E.Either<StoreError, ReadonlyArray<ScannedKey>>>) => {
  const batches: Array<ReadonlyArray<ScannedKey>> = []
  const failures: Array<StoreError> = []
  for await (const b of pages())
    (E.isLeft(b) ? failures : batches).push(E.isLeft(b) ? (b.left as never) : (b.right as never))
  return { batches, failures }
}

const masterWith = (keys: ReadonlyArray<string>) =>
  makeFakeRedis(Object.fromEntries(keys.map((k) => [k, '{"cookie":{}}'])))

const pages = suite('makeClusterPages')

pages('every master is scanned; every batch holds keys of one slot only', async () => {
  const a = masterWith(Array.from({ length: 40 }, (_, i) => `sessions:a${i}`))
  const b = masterWith(Array.from({ length: 40 }, (_, i) => `sessions:b${i}`))
  const { batches, failures } = await walk(
    makeClusterPages({ cluster: { masters: async () => [a, b] }, prefix: 'sessions:', batchSize: 100 })
  )
  assert.equal(failures, [])
  assert.is(batches.flat().length, 80)
  for (const batch of batches) assert.is(new Set(batch.map((k) => keySlot(k.key))).size, 1)
})

pages('the masters are read again at the start of every walk', async () => {
  let calls = 0
  const m = masterWith(['sessions:x'])
  const source = makeClusterPages({
    cluster: { masters: async () => (calls++, [m]) },
    prefix: 'sessions:',
    batchSize: 10
  })
  await walk(source)
  await walk(source)
  assert.is(calls, 2)
})

pages('a failure to read the masters, or a failing SCAN, is yielded and ends the walk', async () => {
  const down = await walk(
    makeClusterPages({
      cluster: { masters: () => Promise.reject(new Error('CLUSTERDOWN')) },
      prefix: 's:',
      batchSize: 10
    })
  )
  assert.is(down.failures[0]?._tag, 'CommandFailed')
  const broken: Pick<RedisLike, 'scan'> = { scan: () => Promise.reject(new Error('LOADING')) }
  const second = masterWith(['s:y'])
  const scan = await walk(
    makeClusterPages({ cluster: { masters: async () => [broken, second] }, prefix: 's:', batchSize: 10 })
  )
  assert.is(scan.failures.length, 1)
  assert.equal(scan.batches, [], 'the walk ended at the failure')
})

pages.run()
