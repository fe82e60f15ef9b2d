/**
 * connect-redis-session/ioredis: the ioredis adapter, as its own entry point. The package root does not load
 * it, and it does not load ioredis: pass it your `new Redis(…)`.
 *
 * @since 0.1.0
 */
export { fromIoRedis } from './client/ioredis'
export type { IoRedisClient, IoRedisScan, IoRedisScanReply } from './client/ioredis'
