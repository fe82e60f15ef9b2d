/**
 * The ioredis majors the ioredis specs run on: ioredis 5 (`ioredis`) and ioredis 6 (`ioredis-6`, an npm alias of
 * ioredis@6: RESP3 by default, other reconnection defaults). A spec adds one row per major by mapping over
 * `IOREDIS_MAJORS` and builds its client with the row's `Redis` or `Cluster`, with the options it measures.
 */
import Redis5, { Cluster as Cluster5, type ClusterNode, type ClusterOptions as ClusterOptions5 } from 'ioredis'
import type { RedisOptions as RedisOptions5 } from 'ioredis'
import Redis6, { Cluster as Cluster6, type ClusterOptions as ClusterOptions6 } from 'ioredis-6'
import type { RedisOptions as RedisOptions6 } from 'ioredis-6'
import { fromIoRedisCluster, type IoRedisClient, type IoRedisClusterClient } from '../../src/ioredis'
import { quickBackoff, type ClusterSubject } from './cluster'

/** What the specs call on a client besides the adapter's contract. */
interface Lifecycle {
  connect(): Promise<unknown>
  quit(): Promise<unknown>
  disconnect(): void
}

/** A `new Redis(…)` of either major. */
export type IoRedisInstance = IoRedisClient & Lifecycle

/** A `new Cluster(…)` of either major. */
export type IoRedisClusterInstance = IoRedisClusterClient & Lifecycle

/** Options both majors take (for a cluster, the ones the specs set: v6 types `redisOptions` apart). */
type RedisOptions = RedisOptions5 & RedisOptions6
type ClusterOptions = Pick<
  ClusterOptions5 & ClusterOptions6,
  'lazyConnect' | 'clusterRetryStrategy' | 'slotsRefreshTimeout'
> & { redisOptions?: Pick<RedisOptions, 'connectTimeout' | 'maxRetriesPerRequest' | 'keyPrefix'> }

/** One ioredis major: its name in spec titles and output lines, and its two client classes. */
export interface IoRedisMajor {
  readonly name: 'ioredis 5' | 'ioredis 6'
  readonly Redis: {
    new (options: RedisOptions): IoRedisInstance
    new (url: string, options: RedisOptions): IoRedisInstance
  }
  readonly Cluster: new (nodes: Array<ClusterNode>, options: ClusterOptions) => IoRedisClusterInstance
}

export const IOREDIS_MAJORS: ReadonlyArray<IoRedisMajor> = [
  { name: 'ioredis 5', Redis: Redis5, Cluster: Cluster5 },
  { name: 'ioredis 6', Redis: Redis6, Cluster: Cluster6 }
]

/**
 * One row per ioredis major: a `Cluster` on every node of a spec cluster (`ports`), with the options the failover
 * specs measure (a 500 ms connect timeout, 2 tries per request, quick reconnects, a 500 ms slots refresh timeout).
 */
export const IOREDIS_CLUSTER_ROWS = IOREDIS_MAJORS.map(
  ({ name, Cluster }) =>
    [
      name,
      ({ ports }: { readonly ports: ReadonlyArray<number> }): ClusterSubject => {
        const c = new Cluster(
          ports.map((port) => ({ host: '127.0.0.1', port })),
          {
            lazyConnect: true,
            redisOptions: { connectTimeout: 500, maxRetriesPerRequest: 2 },
            clusterRetryStrategy: quickBackoff,
            slotsRefreshTimeout: 500
          }
        )
        c.on('error', () => undefined)
        return { client: fromIoRedisCluster(c), connect: () => c.connect(), stop: () => c.disconnect() }
      }
    ] as const
)
