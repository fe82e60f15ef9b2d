// The public API, one pinned list per entry point: the single source that this type test, the runtime test
// (spec/exports.spec.ts, against the built .d.ts and the loaded module) and the docs check (.ci/check-docs.js, against
// the generated reference) read. Adding or removing a value fails to compile here; growing the API is a decision:
// change the list on purpose.
import type * as Root from '../../src'
import type * as Client from '../../src/client'
import type * as Errors from '../../src/errors'
import type * as IoRedis from '../../src/ioredis'
import type * as ValkeyGlide from '../../src/valkey-glide'
import type * as Memory from '../../src/memory'
import type * as Operations from '../../src/operations'
import type * as SerializerEntry from '../../src/serializer'
import { assertType, type Equals } from './assert'

/** Each entry point of package.json "exports": its source module, and the values and types it exports. */
export const ENTRIES = {
  '.': {
    source: 'src/index.ts',
    values: [
      'OPERATION_CHANNEL',
      'RedisStore',
      'SessionStoreError',
      'codecSerializer',
      'createRedisStore',
      'destroySession',
      'encryptedSerializer',
      'jsonSerializer',
      'regenerateSession',
      'rotateSession',
      'saveSession'
    ],
    types: [
      'Callback',
      'CreatedEvent',
      'DestroyedEvent',
      'ExpiredEvent',
      'EncryptionKey',
      'EncryptionOptions',
      'OperationContext',
      'OperationError',
      'OperationName',
      'OperationOutcome',
      'OwnedSession',
      'PlainSerializer',
      'RedisSessionStore',
      'RedisStoreConstructor',
      'RedisStoreOptions',
      'RequestToRotate',
      'RequestWithSession',
      'Serializer',
      'SessionCodec',
      'SessionStoreErrorCode',
      'SessionStoreErrorConstructor',
      'SetOutcome',
      'StoreAccess',
      'StoreError',
      'StoreOptions',
      'WhenDisconnected'
    ]
  },
  './operations': {
    source: 'src/operations/index.ts',
    values: [
      'CREATED_AT_FIELD',
      'OPERATION_CHANNEL',
      'baseOperations',
      'disableTouch',
      'failWhenDisconnected',
      'makeAll',
      'makeClear',
      'makeClusterPages',
      'makeDestroy',
      'makeGet',
      'makeIds',
      'makeIterate',
      'makeLazyTouch',
      'makeLength',
      'makeReadBatch',
      'makeSaveBases',
      'makeScanBatches',
      'makeScanPages',
      'makeSet',
      'makeStoreOperations',
      'makeTombstone',
      'makeTouch',
      'mergeSessions',
      'rememberingBases',
      'resolveOptions',
      'sessionIdProblem',
      'timeLimit',
      'unchangedSince',
      'waitForReplicas',
      'withAbsoluteLifetime',
      'withConcurrentSaves',
      'withDeadline',
      'withLazyTouch',
      'withLifecycle',
      'withOwnerIndex',
      'withPageDeadlines',
      'withTracing'
    ],
    types: [
      'AbsoluteLifetimeDeps',
      'AllDeps',
      'ClearDeps',
      'ClusterPagesDeps',
      'ConcurrentSaves',
      'ConcurrentSavesDeps',
      'CreatedEvent',
      'DestroyDeps',
      'DestroyedEvent',
      'ExpiredEvent',
      'Expiring',
      'ExpiryBound',
      'Feature',
      'GetDeps',
      'IdsDeps',
      'IterateDeps',
      'LazyTouchDeps',
      'LengthDeps',
      'LifecycleEvent',
      'LifecycleListeners',
      'OperationContext',
      'OperationError',
      'OperationName',
      'OperationOutcome',
      'OwnedSession',
      'OwnerIndexDeps',
      'PageDeadlines',
      'PageLimit',
      'PageSource',
      'ReadBatchDeps',
      'ReadValues',
      'ResolvedOptions',
      'SaveBases',
      'ScanBatches',
      'ScanBatchesDeps',
      'ScanPagesDeps',
      'ScannedKey',
      'SetCondition',
      'SetDeps',
      'SetOutcome',
      'StoreOperations',
      'StoreOperationsDeps',
      'StoreOptions',
      'TombstoneDeps',
      'TouchDeps',
      'TtlDeps',
      'TtlOf',
      'WaitForReplicasDeps',
      'WalkProgress',
      'WhenDisconnected',
      'WithLazyTouchDeps'
    ]
  },
  './client': {
    source: 'src/client/index.ts',
    values: [
      'alwaysReady',
      'fromNodeRedis',
      'fromNodeRedisCluster',
      'runScript',
      'toSessionClient',
      'tryCommand',
      'tryStringCommand'
    ],
    types: [
      'ClusterTopology',
      'Connection',
      'KeyspaceListener',
      'KeyspaceSubscription',
      'NodeReport',
      'NodeRedisClient',
      'NodeRedisClusterClient',
      'RedisLike',
      'ScanArgs',
      'ScanReply',
      'Script',
      'ScriptArgs',
      'SessionClient',
      'StringReplyHandlers'
    ]
  },
  './errors': {
    source: 'src/errors.ts',
    values: [
      'commandFailed',
      'conflict',
      'decodeFailed',
      'defect',
      'invalidId',
      'invalidOwner',
      'invalidSession',
      'match',
      'noSession',
      'notConfigured',
      'notReplicated',
      'parseFailed',
      'serializerFailed',
      'stringifyFailed',
      'timedOut',
      'tooLarge',
      'unavailable',
      'walkFailed'
    ],
    types: [
      'CommandFailed',
      'Conflict',
      'DecodeFailed',
      'Defect',
      'InvalidId',
      'InvalidOwner',
      'InvalidSession',
      'NoSession',
      'NotConfigured',
      'NotReplicated',
      'ParseFailed',
      'SerializerFailed',
      'StoreError',
      'StringifyFailed',
      'TimedOut',
      'TooLarge',
      'Unavailable',
      'WalkFailed'
    ]
  },
  './serializer': {
    source: 'src/serializer/index.ts',
    values: ['asSessionData', 'fromPlainSerializer', 'makeCodecSerializer'],
    types: [
      'ParseIssue',
      'PlainSerializer',
      'Serializer',
      'SerializerContext',
      'SessionCodec',
      'StoredCookie',
      'StoredSession'
    ]
  },
  './ioredis': {
    source: 'src/ioredis.ts',
    values: ['fromIoRedis', 'fromIoRedisCluster'],
    types: ['IoRedisClient', 'IoRedisClusterClient', 'IoRedisClusterNode', 'IoRedisScan', 'IoRedisScanReply']
  },
  './memory': {
    source: 'src/memory.ts',
    values: ['createMemoryClient'],
    types: [
      'MemoryClient',
      'MemoryClientOptions',
      'MemoryClock',
      'MemoryCommand',
      'MemoryConnection',
      'MemoryEntry',
      'MemoryFaults',
      'MemoryKeyspace'
    ]
  },
  './valkey-glide': {
    source: 'src/valkey-glide.ts',
    values: ['fromValkeyGlide', 'fromValkeyGlideCluster'],
    types: ['ValkeyGlideClient', 'ValkeyGlideClusterClient']
  }
} as const

type ValuesOf<K extends keyof typeof ENTRIES> = (typeof ENTRIES)[K]['values'][number]

assertType<Equals<keyof typeof Root, ValuesOf<'.'>>>(true)
assertType<Equals<keyof typeof Operations, ValuesOf<'./operations'>>>(true)
assertType<Equals<keyof typeof Client, ValuesOf<'./client'>>>(true)
assertType<Equals<keyof typeof Errors, ValuesOf<'./errors'>>>(true)
assertType<Equals<keyof typeof SerializerEntry, ValuesOf<'./serializer'>>>(true)
assertType<Equals<keyof typeof IoRedis, ValuesOf<'./ioredis'>>>(true)
assertType<Equals<keyof typeof Memory, ValuesOf<'./memory'>>>(true)
assertType<Equals<keyof typeof ValkeyGlide, ValuesOf<'./valkey-glide'>>>(true)
