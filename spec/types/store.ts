// Type assertions on the public API: what each call is typed as is what it is at run time. Compiled by `npm test`
// (the spec compile), never run; a wrong type fails the build.
import type { SessionData, Store } from 'express-session'
import type * as O from 'fp-ts/Option'
import type * as TE from 'fp-ts/TaskEither'
import { createClient } from 'redis'
import {
  createRedisStore,
  jsonSerializer,
  RedisStore,
  SessionStoreError,
  type RedisSessionStore,
  type SessionStoreErrorCode,
  type SetOutcome,
  type StoreError
} from '../../src'
import { fromNodeRedis, type SessionClient } from '../../src/client'
import * as Errors from '../../src/errors'
import { makeDestroy, makeGet, makeSet, makeStoreOperations, type StoreOperations } from '../../src/operations'
import { assertType, type Equals, type Extends } from './assert'

export const store = createRedisStore(createClient())

// The store: an express-session Store, built the same way with createRedisStore and new RedisStore.
assertType<Equals<typeof store, RedisSessionStore>>(true)
assertType<Equals<ReturnType<typeof RedisStore>, RedisSessionStore>>(true)
assertType<Extends<RedisSessionStore, Store>>(true)
// store.access answers plain values: null for no session (never undefined), the outcome of a save, counts.
assertType<Equals<ReturnType<typeof store.access.get>, Promise<SessionData | null>>>(true)
assertType<Equals<ReturnType<typeof store.access.set>, Promise<'written' | 'tombstoned' | 'expired' | 'ended'>>>(true)
assertType<Equals<SetOutcome, 'written' | 'tombstoned' | 'expired' | 'changed' | 'ended'>>(true)
assertType<Equals<ReturnType<typeof store.access.destroy>, Promise<boolean>>>(true)
assertType<Equals<ReturnType<typeof store.access.length>, Promise<number>>>(true)
assertType<Equals<ReturnType<typeof store.access.ids>, Promise<ReadonlyArray<string>>>>(true)
// Without a callback a store method returns a promise; with one, nothing.
assertType<Equals<ReturnType<typeof store.access.clear>, Promise<number>>>(true)
export const withCallback: void = store.get('sid', () => undefined)
export const withoutCallback: Promise<SessionData | null> = store.get('sid')

// Errors: the code is a closed union, and the tagged value is a StoreError.
export const err = SessionStoreError(Errors.timedOut('get', 1000))
assertType<Equals<typeof err.storeError, StoreError>>(true)
assertType<Extends<'ETIMEDOUT', SessionStoreErrorCode>>(true)
assertType<Equals<Extends<string, SessionStoreErrorCode>, false>>(true)
assertType<Equals<ReturnType<typeof Errors.invalidId>, StoreError>>(true)

// The toolkit: each make* infers its operation's type at the call site, without annotations.
const client: SessionClient = fromNodeRedis(createClient())
export const get = makeGet({ client, prefix: 'p:', serializer: jsonSerializer })
assertType<Equals<ReturnType<typeof get>, TE.TaskEither<StoreError, O.Option<SessionData>>>>(true)
export const set = makeSet({
  client,
  prefix: 'p:',
  serializer: jsonSerializer,
  now: Date.now,
  ttlSeconds: 60,
  concurrencyGraceSeconds: 0
})
assertType<Equals<Parameters<typeof set>[1], SessionData>>(true)
assertType<Equals<ReturnType<typeof set>, TE.TaskEither<StoreError, SetOutcome>>>(true)
export const destroy = makeDestroy({ client, prefix: 'p:', now: Date.now, concurrencyGraceSeconds: 300 })
assertType<Equals<ReturnType<typeof destroy>, TE.TaskEither<StoreError, boolean>>>(true)
assertType<Equals<ReturnType<typeof makeStoreOperations>, StoreOperations>>(true)
assertType<Equals<ReturnType<StoreOperations['length']>, TE.TaskEither<StoreError, number>>>(true)
