import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { makeFakeRedis, type FakeRedis } from '../fakes/redis'
import { runRight } from '../helpers'
import { batchOpsOf, seed } from './fixtures'

const length = suite<{ redis: FakeRedis }>('makeLength')
length.before.each((ctx) => {
  ctx.redis = makeFakeRedis()
  seed(ctx.redis)
})

length('length counts live sessions only, without fetching a value', async ({ redis }) => {
  assert.is(await runRight(batchOpsOf(redis).length()), 4)
  assert.equal([...new Set(redis.calls.map((c) => c[0]))], ['SCAN'])
})

length.run()
