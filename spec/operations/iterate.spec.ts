import * as E from 'fp-ts/lib/Either'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { makeFakeRedis, type FakeRedis } from '../fakes/redis'
import {} from '../helpers'
import { batchOpsOf, seed } from './fixtures'

const iterate = suite<{ redis: FakeRedis }>('makeIterate')
iterate.before.each((ctx) => {
  ctx.redis = makeFakeRedis()
  seed(ctx.redis)
})

iterate(
  'iterate streams each page of sessions with its ids, tombstones and foreign keys left out',
  async ({ redis }) => {
    const seen: Array<string> = []
    let pages = 0
    for await (const page of batchOpsOf(redis).iterate()) {
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
  }
)

iterate('iterate yields a failure as a Left and stops', async ({ redis }) => {
  redis.faults.fail('MGET', { error: new Error('boom') })
  const results: Array<string> = []
  for await (const page of batchOpsOf(redis).iterate()) results.push(page._tag)
  assert.equal(results, ['Left'])
})

iterate.run()
