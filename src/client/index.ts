/**
 * connect-redis-session/client: the client contract the operations are written against (`RedisLike`, the whole
 * `SessionClient`), the node-redis adapters, and the helpers that run a command or a script as a `TaskEither`.
 * A fake client for a unit test is a record of the few functions an operation asks for.
 *
 * @since 0.1.0
 */

// --- the contract
export { alwaysReady } from './contract'
export type {
  ClusterTopology,
  Connection,
  KeyspaceListener,
  KeyspaceSubscription,
  NodeReport,
  RedisLike,
  ScanArgs,
  ScanReply,
  ScriptArgs,
  SessionClient
} from './contract'

// --- node-redis adapters
export { fromNodeRedis } from './node-redis'
export type { NodeRedisClient } from './node-redis'
export { fromNodeRedisCluster } from './node-redis-cluster'
export type { NodeRedisClusterClient } from './node-redis-cluster'
export { toSessionClient } from './check'

// --- running commands
export { runScript, tryCommand, tryStringCommand } from './run'
export type { Script, StringReplyHandlers } from './run'
