/**
 * connect-redis-session/operations: the toolkit a store is built from. Each operation is a `make*` factory taking
 * its dependencies first and answering `TaskEither`s; each feature is a decorator of the operations record; the
 * assembly composes them as `createRedisStore` does. Nothing here loads express-session.
 *
 * @example
 * import * as Ops from 'connect-redis-session/operations'
 *
 * assert.strictEqual(typeof Ops.makeGet, 'function')
 *
 * @since 0.1.0
 */

// --- the record of every operation, and its assembly
export type { Feature, OwnedSession, SetCondition, SetOutcome, StoreOperations, StoreOperationsDeps } from './model'
export { baseOperations } from './base'
export { makeStoreOperations } from '../assemble'
export { resolveOptions } from '../options'
export type { ConcurrentSaves, ResolvedOptions, StoreOptions, WhenDisconnected } from '../options'

// --- single-key operations
export { makeGet } from './get'
export type { GetDeps } from './get'
export { makeSet } from './set'
export type { SetDeps } from './set'
export { makeTouch } from './touch'
export type { TouchDeps } from './touch'
export { makeDestroy } from './destroy'
export type { DestroyDeps } from './destroy'
export { makeTombstone } from './tombstone'
export type { TombstoneDeps } from './tombstone'

// --- batched operations
export { makeScanBatches, makeScanPages } from './scan-batches'
export type {
  PageLimit,
  PageSource,
  ScanBatches,
  ScanBatchesDeps,
  ScannedKey,
  ScanPagesDeps,
  WalkProgress
} from './scan-batches'
export { makeClusterPages } from './cluster-pages'
export type { ClusterPagesDeps } from './cluster-pages'
export { makeAll, makeReadBatch } from './all'
export type { AllDeps, ReadBatchDeps, ReadValues } from './all'
export { makeIterate } from './iterate'
export type { IterateDeps } from './iterate'
export { makeIds } from './ids'
export type { IdsDeps } from './ids'
export { makeLength } from './length'
export type { LengthDeps } from './length'
export { makeClear } from './clear'
export type { ClearDeps } from './clear'

// --- features, each a decorator of the operations record
export { withDeadline, withPageDeadlines, timeLimit } from './deadline'
export type { PageDeadlines } from './deadline'
export { failWhenDisconnected } from './disconnected'
export { withLazyTouch, makeLazyTouch } from './lazy-touch'
export type { LazyTouchDeps, WithLazyTouchDeps } from './lazy-touch'
export { disableTouch } from './disable-touch'
export { withOwnerIndex } from './owners'
export type { OwnerIndexDeps } from './owners'
export { withAbsoluteLifetime, CREATED_AT_FIELD } from './absolute-lifetime'
export type { AbsoluteLifetimeDeps } from './absolute-lifetime'
export { withLifecycle } from './lifecycle'
export type { CreatedEvent, DestroyedEvent, ExpiredEvent, LifecycleEvent, LifecycleListeners } from './lifecycle'
export { withTracing, OPERATION_CHANNEL } from './trace'
export type { OperationContext, OperationError, OperationName, OperationOutcome } from './trace'
export { withConcurrentSaves, mergeSessions, unchangedSince, makeSaveBases, rememberingBases } from './concurrent-saves'
export type { ConcurrentSavesDeps, SaveBases } from './concurrent-saves'
export { waitForReplicas } from './replicas'
export type { WaitForReplicasDeps } from './replicas'

// --- what the operations share
export type { Expiring, ExpiryBound, TtlDeps, TtlOf } from '../ttl'
export { sessionIdProblem } from '../keys'
