/**
 * connect-redis-session: a Redis session store for express-session, built from small operations.
 *
 * The public API, by what a user composes with. The list is pinned by `spec/types/exports.ts` and
 * `spec/exports.spec.ts`: growing it is a decision. Modules not re-exported here are internal.
 *
 * @since 0.1.0
 */

// --- the store (express-session facade)
export { createRedisStore, RedisStore } from './express/create-redis-store'
export type {
  RedisSessionStore,
  RedisStoreConstructor,
  RedisStoreOptions,
  StoreAccess
} from './express/create-redis-store'
export { runToCallback } from './express/run-to-callback'
export type { Callback } from './express/run-to-callback'
export { destroySession, regenerateSession, saveSession } from './express/session-promises'
export type { RequestWithSession } from './express/session-promises'

// --- options and the assembly of every operation
export { resolveOptions } from './options'
export type { ResolvedOptions, StoreOptions, WhenDisconnected } from './options'
export { makeStoreOperations } from './assemble'
export { baseOperations } from './operations/base'
export type { Feature, OwnedSession, SetOutcome, StoreOperations, StoreOperationsDeps } from './operations/model'

// --- operations, each with its dependencies
export { makeGet } from './operations/get'
export type { GetDeps } from './operations/get'
export { makeSet } from './operations/set'
export type { SetDeps } from './operations/set'
export { makeTouch } from './operations/touch'
export type { TouchDeps } from './operations/touch'
export { makeDestroy } from './operations/destroy'
export type { DestroyDeps } from './operations/destroy'
export { makeTombstone } from './operations/tombstone'
export type { TombstoneDeps } from './operations/tombstone'
export { makeScanBatches, makeScanPages } from './operations/scan-batches'
export type { PageSource, ScanBatches, ScanBatchesDeps, ScannedKey, ScanPagesDeps } from './operations/scan-batches'
export { makeAll, makeReadBatch } from './operations/all'
export type { AllDeps, ReadBatchDeps } from './operations/all'
export { makeIterate } from './operations/iterate'
export type { IterateDeps } from './operations/iterate'
export { makeIds } from './operations/ids'
export type { IdsDeps } from './operations/ids'
export { makeLength } from './operations/length'
export type { LengthDeps } from './operations/length'
export { makeClear } from './operations/clear'
export type { ClearDeps } from './operations/clear'
export { makeClusterPages } from './operations/cluster-pages'
export type { ClusterPagesDeps } from './operations/cluster-pages'
// --- features, each a decorator of the operations record
export { makeExpiryMemo, makeGetRemembering, makeLazyTouch, withLazyTouch } from './operations/lazy-touch'
export type { ExpiryMemo, GetRememberingDeps, LazyTouchDeps, WithLazyTouchDeps } from './operations/lazy-touch'
export { timeLimit, withDeadline } from './operations/deadline'
export { failWhenDisconnected } from './operations/disconnected'
export { disableTouch } from './operations/disable-touch'
export { withOwnerIndex } from './operations/owners'
export type { OwnerIndexDeps } from './operations/owners'
export { CREATED_AT_FIELD, withAbsoluteLifetime } from './operations/absolute-lifetime'
export type { AbsoluteLifetimeDeps } from './operations/absolute-lifetime'
export { waitForReplicas } from './operations/replicas'
export type { WaitForReplicasDeps } from './operations/replicas'
export type { Expiring, ExpiryBound, TtlDeps, TtlOf } from './ttl'
export { sessionIdProblem } from './keys'

// --- the client contract and its adapters
export { alwaysReady } from './client/contract'
export type {
  ClusterTopology,
  Connection,
  RedisLike,
  ScanArgs,
  ScanReply,
  ScriptArgs,
  SessionClient
} from './client/contract'
export { fromNodeRedis } from './client/node-redis'
export type { NodeRedisClient } from './client/node-redis'
export { fromNodeRedisCluster } from './client/node-redis-cluster'
export type { NodeRedisClusterClient } from './client/node-redis-cluster'
export { toSessionClient } from './client/check'
export { runScript, tryCommand, tryStringCommand } from './client/run'
export type { Script, StringReplyHandlers } from './client/run'

// --- serializers
export { fromPlainSerializer } from './serializer/serializer'
export type { ParseIssue, PlainSerializer, Serializer, SerializerContext } from './serializer/serializer'
export { jsonSerializer, safeJsonParse, safeJsonStringify } from './serializer/json'
export { codecSerializer, makeCodecSerializer } from './serializer/codec'
export type { SessionCodec } from './serializer/codec'
export { encryptedSerializer } from './serializer/encrypted'
export type { EncryptionKey, EncryptionOptions } from './serializer/encrypted'
export { asSessionData, sessionSerializer } from './serializer/session'
export type { StoredCookie, StoredSession } from './serializer/session'

// --- errors
export {
  commandFailed,
  decodeFailed,
  defect,
  invalidId,
  invalidOwner,
  invalidSession,
  match,
  noSession,
  notConfigured,
  notReplicated,
  parseFailed,
  serializerFailed,
  stringifyFailed,
  timedOut,
  tooLarge,
  unavailable
} from './errors'
export type {
  CommandFailed,
  DecodeFailed,
  Defect,
  InvalidId,
  InvalidOwner,
  InvalidSession,
  NoSession,
  NotConfigured,
  NotReplicated,
  ParseFailed,
  SerializerFailed,
  StoreError,
  StringifyFailed,
  TimedOut,
  TooLarge,
  Unavailable
} from './errors'
export { SessionStoreError, toError } from './express/to-error'
export type { SessionStoreErrorCode, SessionStoreErrorConstructor } from './express/to-error'
