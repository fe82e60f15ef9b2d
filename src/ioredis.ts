/**
 * connect-redis-session/ioredis: the ioredis adapters, as their own entry point. The package root does not
 * load them, and they do not load ioredis: pass them your `new Redis(…)` or `new Cluster(…)`.
 *
 * @since 0.1.0
 */
export { fromIoRedis, fromIoRedisCluster } from './client/ioredis'
export type {
  IoRedisClient,
  IoRedisClusterClient,
  IoRedisClusterNode,
  IoRedisScan,
  IoRedisScanReply
} from './client/ioredis'
