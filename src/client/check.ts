/**
 * What `createRedisStore` accepts as its client: a `SessionClient`, or a node-redis client it adapts. Anything
 * else is a `TypeError` that says what was passed and what was expected.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either'
import type { SessionClient } from './contract'
import { fromNodeRedis, NODE_REDIS_COMMANDS, type NodeRedisClient } from './node-redis'
import { fromNodeRedisCluster, type NodeRedisClusterClient } from './node-redis-cluster'
import { isObject } from '../refinements'

/**
 * Whether `u` is already an adapted client.
 *
 * @category refinements
 * @since 0.1.0
 * @ignore
 */
export const isSessionClient = (u: unknown): u is SessionClient => isObject(u) && u['_tag'] === 'SessionClient'

/**
 * Whether `u` has the command methods of a node-redis client (an options bag has none).
 *
 * @category refinements
 * @since 0.1.0
 * @ignore
 */
export const isNodeRedisClient = (u: unknown): u is NodeRedisClient =>
  isObject(u) && NODE_REDIS_COMMANDS.every((c) => typeof u[c] === 'function')

/** ioredis's lower-case command methods, and not node-redis's camel-case ones. */
const isIoRedisShaped = (u: Record<string, unknown>): boolean =>
  ['getex', 'getdel', 'mget', 'evalsha'].every((c) => typeof u[c] === 'function') && typeof u['getEx'] !== 'function'

/** A node-redis `createCluster()` client: its masters and a way to reach each node's own client. */
const isNodeRedisCluster = (u: unknown): u is NodeRedisClusterClient =>
  isObject(u) && Array.isArray(u['masters']) && typeof u['nodeClient'] === 'function' && typeof u['get'] === 'function'

/**
 * Whether `u` is a client of any family the store knows (node-redis, ioredis, an adapted one) — not an
 * options bag.
 *
 * @internal
 */
export const isAnyClient = (u: unknown): boolean =>
  isSessionClient(u) || isNodeRedisClient(u) || (isObject(u) && isIoRedisShaped(u))

/**
 * The `SessionClient` for what was passed as the client, or a `TypeError` naming the problem.
 *
 * @category constructors
 * @since 0.1.0
 */
export const toSessionClient = (client: unknown): E.Either<TypeError, SessionClient> => {
  if (isSessionClient(client)) return E.right(client)
  if (isNodeRedisCluster(client)) return E.right(fromNodeRedisCluster(client))
  if (!isObject(client)) {
    return E.left(
      new TypeError(
        `createRedisStore(client, options): client is required, got ${
          client === null ? 'null' : typeof client
        }: pass a node-redis client (createClient())`
      )
    )
  }
  // An options bag ({ client }); ioredis has a `client` method (CLIENT …), which is no such bag.
  if ('client' in client && typeof client['client'] !== 'function' && !isNodeRedisClient(client)) {
    return E.left(
      new TypeError(
        'createRedisStore takes the client as its first argument: createRedisStore(client, options), or new RedisStore({ client, ...options })'
      )
    )
  }
  if (isIoRedisShaped(client) && client['isCluster'] === true) {
    return E.left(
      new TypeError(
        "client looks like an ioredis Cluster, which the store takes through its adapter: createRedisStore(fromIoRedisCluster(cluster)), with fromIoRedisCluster from 'connect-redis-session/ioredis'"
      )
    )
  }
  if (isIoRedisShaped(client)) {
    return E.left(
      new TypeError(
        "client looks like an ioredis client, which the store takes through its adapter: createRedisStore(fromIoRedis(client)), with fromIoRedis from 'connect-redis-session/ioredis'"
      )
    )
  }
  const missing = NODE_REDIS_COMMANDS.filter((c) => typeof client[c] !== 'function')
  return missing.length > 0
    ? E.left(
        new TypeError(
          `client is not a node-redis client: it has no ${missing.join(', ')} method${
            missing.length > 1 ? 's' : ''
          } (for ioredis, pass fromIoRedis(client) from 'connect-redis-session/ioredis')`
        )
      )
    : E.right(fromNodeRedis(client as unknown as NodeRedisClient))
}
