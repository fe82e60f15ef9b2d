// Type test: the root export list is pinned. Adding or removing a value export fails to compile here;
// spec/exports.spec.ts checks every export, types included, against these lists in the built .d.ts. Growing
// the API is a decision: change the lists on purpose.
import type * as Root from '../../src'

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false

/** Every value the package root exports. */
export const PINNED_VALUES = [
  'RedisStore', 'SessionStoreError', 'alwaysReady', 'asSessionData', 'codecSerializer', 'commandFailed',
  'createRedisStore', 'decodeFailed', 'defect', 'destroySession', 'fromNodeRedis', 'fromPlainSerializer',
  'invalidId', 'invalidSession', 'jsonSerializer', 'makeAll', 'makeClear', 'makeCodecSerializer', 'makeDestroy',
  'makeExpiryMemo', 'makeGet', 'makeGetRemembering', 'makeIds', 'makeIterate', 'makeLazyTouch', 'makeLength',
  'makeReadBatch', 'makeScanBatches', 'makeScanPages', 'makeSet', 'makeStoreOperations', 'makeTombstone',
  'makeTouch', 'matchStoreError', 'parseFailed', 'regenerateSession', 'resolveOptions', 'runScript', 'runToCallback',
  'safeJsonParse', 'safeJsonStringify', 'saveSession', 'serializerFailed', 'sessionIdProblem', 'sessionSerializer',
  'stringifyFailed', 'timedOut', 'toError', 'toSessionClient', 'tooLarge', 'tryCommand', 'tryStringCommand',
  'unavailable', 'withDeadline'
] as const

/** Every type the package root exports. */
export const PINNED_TYPES = [
  'AllDeps', 'Callback', 'ClearDeps', 'CommandFailed', 'Connection', 'DecodeFailed', 'Defect', 'DestroyDeps',
  'Expiring', 'ExpiryMemo', 'GetDeps', 'GetRememberingDeps', 'IdsDeps', 'InvalidId', 'InvalidSession', 'IterateDeps',
  'LazyTouchDeps', 'LengthDeps', 'NodeRedisClient', 'PageSource', 'ParseFailed', 'ParseIssue', 'PlainSerializer',
  'ReadBatchDeps', 'RedisLike', 'RedisSessionStore', 'RedisStoreConstructor', 'RedisStoreOptions',
  'RequestWithSession', 'ResolvedOptions', 'ScanArgs', 'ScanBatches', 'ScanBatchesDeps', 'ScanPagesDeps',
  'ScanReply', 'ScannedKey', 'Script', 'ScriptArgs', 'Serializer', 'SerializerFailed', 'SessionClient',
  'SessionCodec', 'SessionStoreErrorCode', 'SessionStoreErrorConstructor', 'SetDeps', 'SetOutcome', 'StoreAccess',
  'StoreError', 'StoreOperations', 'StoreOperationsDeps', 'StoreOptions', 'StoredCookie', 'StoredSession',
  'StringReplyHandlers', 'StringifyFailed', 'TimedOut', 'TombstoneDeps', 'TooLarge', 'TouchDeps', 'TtlDeps',
  'Unavailable', 'WhenDisconnected'
] as const

export const valuesArePinned: Equals<keyof typeof Root, (typeof PINNED_VALUES)[number]> = true
