// Type tests, compiled by `npm test` (tsc -p spec/tsconfig.json): a failure here fails the build.
import { createClient } from 'redis'
import { createClient as createClient5 } from 'redis-5'
import { createClient as createClient4 } from 'redis-4'
import session from 'express-session'
import type { RedisLike } from '../../src/client/contract'
import { createRedisStore, RedisStore } from '../../src'
import { fromNodeRedis, type NodeRedisClient, type SessionClient } from '../../src/client'
import { createCluster } from 'redis'
import { createCluster as createCluster5 } from 'redis-5'
import { Cluster } from 'ioredis'
import { fromNodeRedisCluster, type NodeRedisClusterClient } from '../../src/client'
import { fromIoRedisCluster, type IoRedisClusterClient } from '../../src/ioredis'

// Every supported node-redis major is what the node-redis adapter takes, as it is.
export const v6: NodeRedisClient = createClient()
export const v5: NodeRedisClient = createClient5()
export const v4: NodeRedisClient = createClient4()
// v5 and v6 even fit the command contract directly (v4's SCAN wants a numeric cursor: it needs the adapter).
export const v6Commands: RedisLike = createClient()
export const v5Commands: RedisLike = createClient5()
// @ts-expect-error v4's scan takes a number
export const v4Commands: RedisLike = createClient4()
export const adapted: SessionClient = fromNodeRedis(createClient4())

// The store is an express-session Store.
export const store: session.Store = createRedisStore(v6)
export const viaNew: session.Store = new RedisStore({ client: v6, prefix: 'app:' })
export const middleware = session({ store: createRedisStore(v4), secret: 's' })

// @ts-expect-error a client is required
createRedisStore()
// @ts-expect-error a plain object is not a client
createRedisStore({ get: () => Promise.resolve(null) })

// Cluster clients fit their adapters as they are.

export const cluster6: NodeRedisClusterClient = createCluster({ rootNodes: [] })
export const cluster5: NodeRedisClusterClient = createCluster5({ rootNodes: [] })
export const ioCluster: IoRedisClusterClient = new Cluster([], { lazyConnect: true })
export const adaptedClusters: ReadonlyArray<SessionClient> = [
  fromNodeRedisCluster(cluster6),
  fromIoRedisCluster(ioCluster)
]
export const clusterStore = createRedisStore(createCluster({ rootNodes: [] }))
