// Shared fixtures of the operation specs: the single-key operations over the fake client, and the batched
// operations over a seeded fake with small SCAN pages.
import { jsonSerializer } from '../../src/serializer/json'
import { makeAll } from '../../src/operations/all'
import { makeClear } from '../../src/operations/clear'
import { makeDestroy } from '../../src/operations/destroy'
import { makeGet } from '../../src/operations/get'
import { makeIds } from '../../src/operations/ids'
import { makeIterate } from '../../src/operations/iterate'
import { makeLength } from '../../src/operations/length'
import { makeScanBatches, makeScanPages } from '../../src/operations/scan-batches'
import { makeSet } from '../../src/operations/set'
import { makeTouch } from '../../src/operations/touch'
import type { Serializer } from '../../src/serializer/serializer'
import type { Expiring } from '../../src/ttl'
import type { FakeRedis } from '../fakes/redis'
import { storedSession } from '../helpers'

// --- single-key operations (get, set, touch, destroy)

/** A session as the specs write them: JSON-shaped, or odd on purpose. */
export type LooseSession = Expiring & Record<string, unknown>

export const depsOf = (redis: FakeRedis) => ({
  client: redis,
  prefix: 'sessions:',
  // Specs pass JSON-shaped and odd sessions, so the session type is kept loose here.
  serializer: jsonSerializer as unknown as Serializer<LooseSession>,
  ttlSeconds: 86400 as number | false,
  concurrencyGraceSeconds: 300,
  now: redis.now
})

export const opsOf = (redis: FakeRedis, overrides: Partial<ReturnType<typeof depsOf>> = {}) => {
  const deps = { ...depsOf(redis), ...overrides }
  return { get: makeGet(deps), set: makeSet(deps), touch: makeTouch(deps), destroy: makeDestroy(deps) }
}

/** The command names of the call log, in order. */
export const commands = (redis: FakeRedis) => redis.calls.map((c) => c[0])

// --- batched operations (scan batches, all, iterate, ids, length, clear)

export const sessionJson = (redis: FakeRedis, n: number) => JSON.stringify(storedSession(redis.now(), 60_000, { n }))

export const batchOpsOf = (redis: FakeRedis, prefix = 'sessions:', keyPrefix = '', scanCount = 2) => {
  // COUNT equal to the batch size, so the fake's small pages show the paging.
  const source = { client: redis, prefix, keyPrefix, batchSize: scanCount, countHint: scanCount }
  const scanBatches = makeScanBatches({ pages: makeScanPages(source) })
  const deps = { client: redis, serializer: jsonSerializer, scanBatches, concurrencyGraceSeconds: 300, now: redis.now }
  const pages = makeScanPages(source)
  return {
    scanBatches,
    iterate: makeIterate({ ...deps, pages }),
    all: makeAll(deps),
    ids: makeIds(deps),
    length: makeLength(deps),
    clear: makeClear(deps)
  }
}

/** Live sessions s1…s5 with a tombstone at s3, a foreign key a naive glob would match, and another foreign key. */
export const seed = (redis: FakeRedis) => {
  for (const n of [1, 2, 3, 4, 5])
    redis.keyspace.set(`sessions:s${n}`, { type: 'string', value: sessionJson(redis, n) })
  redis.keyspace.set('sessions:s3', { type: 'hash', fields: { destroyedAt: '1' } }) // a tombstone between live sessions
  redis.keyspace.set('sessions1:x', { type: 'string', value: sessionJson(redis, 99) }) // foreign, matches a naive glob
  redis.keyspace.set('other:y', { type: 'string', value: 'not a session' })
}
