import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { makeFakeRedis, type FakeRedis } from '../fakes/redis'
import { runRight } from '../helpers'
import { batchOpsOf, seed } from './fixtures'

const ids = suite<{ redis: FakeRedis }>('makeIds')
ids.before.each((ctx) => {
  ctx.redis = makeFakeRedis()
  seed(ctx.redis)
})

ids('ids lists each live id once', async ({ redis }) => {
  redis.scanPages = [['sessions:s1', 'sessions:s2'], ['sessions:s2']]
  assert.equal(await runRight(batchOpsOf(redis).ids()), ['s1', 's2'])
})

ids.run()
