// Type tests, compiled by `npm test` (tsc -p spec/tsconfig.json): a failure here fails the build.
import { createClient } from 'redis'
import { createClient as createClient5 } from 'redis-5'
import { createClient as createClient4 } from 'redis-4'
import session from 'express-session'
import type { RedisLike } from '../../src/client'
import { createRedisStore, RedisStore } from '../../src'

// Every supported node-redis major is a RedisLike as it is.
export const v6: RedisLike = createClient()
export const v5: RedisLike = createClient5()
export const v4: RedisLike = createClient4()

// The store is an express-session Store.
export const store: session.Store = createRedisStore(v6)
export const viaNew: session.Store = new RedisStore({ client: v6, prefix: 'app:' })
export const middleware = session({ store: createRedisStore(v4), secret: 's' })

// @ts-expect-error a client is required
createRedisStore()
// @ts-expect-error a plain object is not a client
createRedisStore({ get: () => Promise.resolve(null) })
