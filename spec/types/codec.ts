// Type test: an io-ts codec of the stored shape pairs with SessionData extended by declaration merging.
import * as t from 'io-ts'
import { createClient } from 'redis'
import { codecSerializer, createRedisStore, jsonSerializer, type Serializer } from '../../src'
import { makeGet, makeSet } from '../../src/operations'
import { makeCodecSerializer } from '../../src/serializer'

declare module 'express-session' {
  interface SessionData {
    user?: { id: number; name: string }
  }
}

const StoredSession = t.intersection([
  t.type({ cookie: t.type({ expires: t.union([t.string, t.null]) }) }),
  t.partial({ user: t.type({ id: t.number, name: t.string }) })
])

const client = createClient()
export const store = createRedisStore(client, { serializer: codecSerializer(StoredSession) })
export const typed: Serializer<t.TypeOf<typeof StoredSession>> = makeCodecSerializer(StoredSession)
export const user: { id: number; name: string } | undefined =
  undefined as unknown as import('express-session').SessionData['user']

// Each make* infers its operation type from its dependencies.
const get = makeGet({ client, prefix: 'sessions:', serializer: jsonSerializer })
export const got: Promise<
  import('fp-ts/lib/Either').Either<
    import('../../src').StoreError,
    import('fp-ts/lib/Option').Option<import('express-session').SessionData>
  >
> = get('abc')()
export const set = makeSet({
  client,
  prefix: 'p:',
  serializer: jsonSerializer,
  ttlSeconds: 60,
  concurrencyGraceSeconds: 300,
  now: Date.now
})
