/**
 * connect-redis-session: a Redis session store for express-session. The root is what an application needs: the
 * store, the promise helpers for `req.session`, the error it reports, and the serializers to pick from.
 *
 * The toolkit the store is built from lives on subpaths, each used as a namespace:
 *
 * - `connect-redis-session/operations`: every operation (`makeGet`, `makeSet`, …), the features as decorators of
 *   the operations record, their assembly and the option resolution, for a store of your own.
 * - `connect-redis-session/client`: the client contract, the node-redis adapters and the command helpers.
 * - `connect-redis-session/errors`: the `StoreError` union, its constructors and `match`
 *   (`import * as StoreError from 'connect-redis-session/errors'`).
 * - `connect-redis-session/serializer`: the building blocks of a serializer of your own.
 * - `connect-redis-session/memory` and `connect-redis-session/ioredis`: the in-memory client and the ioredis adapters.
 *
 * Loading the root does not load the subpaths' extras, and loading `/operations` does not load express-session.
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
export type { Callback } from './express/run-to-callback'
export type { StoreOptions, WhenDisconnected } from './options'
export type { OwnedSession, SetOutcome } from './operations/model'
export type { CreatedEvent, DestroyedEvent, ExpiredEvent } from './operations/lifecycle'

// --- what a store does, as it does it (diagnostics_channel)
export { OPERATION_CHANNEL } from './operations/trace'
export type { OperationContext, OperationError, OperationName, OperationOutcome } from './operations/trace'

// --- req.session as promises
export { destroySession, regenerateSession, rotateSession, saveSession } from './express/session-promises'
export type { RequestToRotate, RequestWithSession } from './express/session-promises'

// --- the error every store method reports
export { SessionStoreError } from './express/to-error'
export type { SessionStoreErrorCode, SessionStoreErrorConstructor } from './express/to-error'
export type { StoreError } from './errors'

// --- serializers
export { jsonSerializer } from './serializer/json'
export { codecSerializer } from './serializer/codec'
export type { SessionCodec } from './serializer/codec'
export { encryptedSerializer } from './serializer/encrypted'
export type { EncryptionKey, EncryptionOptions } from './serializer/encrypted'
export type { PlainSerializer, Serializer } from './serializer/serializer'
