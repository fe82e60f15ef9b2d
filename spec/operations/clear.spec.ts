import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { makeFakeRedis, type FakeRedis } from '../fakes/redis'
import { runRight } from '../helpers'
import { batchOpsOf, seed } from './fixtures'

const clear = suite<{ redis: FakeRedis }>('makeClear')
clear.before.each((ctx) => {
  ctx.redis = makeFakeRedis()
  seed(ctx.redis)
})

clear('clear tombstones every live session, page by page, and leaves foreign keys alone', async ({ redis }) => {
  assert.is(await runRight(batchOpsOf(redis).clear()), 4)
  for (const n of [1, 2, 3, 4, 5]) assert.is(redis.keyspace.get(`sessions:s${n}`)?.type, 'hash')
  assert.is(redis.keyspace.get('sessions1:x')?.type, 'string')
  assert.is(redis.keyspace.get('other:y')?.type, 'string')
  const scripts = redis.calls.filter((c) => c[0] === 'EVALSHA')
  assert.ok(
    scripts.length >= 2 && scripts.every((c) => (c[2] as Array<string>).length <= 2),
    'one script call per page'
  )
  assert.is(await runRight(batchOpsOf(redis).length()), 0)
})

clear.run()
