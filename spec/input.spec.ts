// Hostile input: session ids, payload sizes, corrupt stored values. Fake client, no Redis.
import * as O from 'fp-ts/lib/Option'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createRedisStore } from '../src/express/create-redis-store'
import { sessionIdProblem } from '../src/keys'
import { makeDestroy } from '../src/operations/destroy'
import { makeGet } from '../src/operations/get'
import { makeSet } from '../src/operations/set'
import { makeTouch } from '../src/operations/touch'
import { jsonSerializer } from '../src/serializer/json'
import type { Serializer } from '../src/serializer/serializer'
import type { SessionStoreError } from '../src/express/to-error'
import { makeFakeRedis, type FakeRedis } from './fakes/redis'
import { runLeft, runRight, storedSession } from './helpers'

// --- ids

const ids = suite('session ids')

ids('accepted: express-session ids, unicode, glob and brace characters', () => {
  for (const sid of ['Xq3vR8yL2nK7pW4tZ9cF1hJ6mB5dG0sA', 'a*b?c[d]e\\f', '{tag}x', '}x', 'élan-😀', 'x'.repeat(256)]) {
    assert.is(sessionIdProblem(sid), undefined, sid)
  }
})

ids('refused, with the reason', () => {
  const cases: ReadonlyArray<readonly [unknown, RegExp]> = [
    ['', /empty/],
    ['x'.repeat(257), /longer than 256 bytes/],
    ['😀'.repeat(65), /longer than 256 bytes/], // 260 bytes in UTF-8
    ['a\r\nb', /control/],
    ['a\u0000b', /control/],
    ['a\u0085b', /control/],
    ['a\uD800b', /well-formed/],
    [42, /expected a string, got number/],
    [null, /got null/],
    [undefined, /got undefined/]
  ]
  for (const [sid, reason] of cases) assert.match(sessionIdProblem(sid) ?? 'accepted', reason, JSON.stringify(sid))
})

ids('strict ids allow only A-Z a-z 0-9 _ -', () => {
  assert.is(sessionIdProblem('Xq3v_R8-yL', true), undefined)
  assert.match(sessionIdProblem('a.b', true) ?? '', /strictSessionIds/)
  assert.match(sessionIdProblem('a*', true) ?? '', /strictSessionIds/)
})

ids('every single-key operation refuses an invalid id before sending anything', async () => {
  const redis = makeFakeRedis()
  const deps = {
    client: redis,
    prefix: 'sessions:',
    serializer: jsonSerializer as unknown as Serializer<Record<string, unknown>>,
    ttlSeconds: 60,
    concurrencyGraceSeconds: 300,
    now: redis.now
  }
  const bad = 'a\nb'
  for (const e of [
    await runLeft(makeGet(deps)(bad)),
    await runLeft(makeSet(deps)(bad, storedSession(redis.now(), 1000))),
    await runLeft(makeTouch(deps)(bad, storedSession(redis.now(), 1000))),
    await runLeft(makeDestroy(deps)(bad))
  ]) {
    assert.is(e._tag, 'InvalidId')
  }
  assert.equal(redis.calls, [])
})

ids('through the store: an ESESSION_INVALID_ID error, never a throw', async () => {
  const store = createRedisStore(makeFakeRedis(), { strictSessionIds: true })
  const err = await store.access.get('../etc').then(
    () => undefined,
    (e: SessionStoreError) => e
  )
  assert.is(err?.code, 'ESESSION_INVALID_ID')
  assert.equal(
    err?.cause,
    { _tag: 'InvalidId', reason: 'strictSessionIds allows only A-Z a-z 0-9 _ -' },
    'every error has a cause'
  )
  const viaCb = await new Promise<SessionStoreError | null>((resolve) => store.destroy(42 as never, (e) => resolve(e)))
  assert.is(viaCb?.code, 'ESESSION_INVALID_ID')
})

ids.run()

// --- sizes

const sizes = suite<{ redis: FakeRedis }>('maxPayloadBytes')
sizes.before.each((ctx) => {
  ctx.redis = makeFakeRedis()
})

sizes('an oversized session is refused with ESESSION_TOO_LARGE and nothing is written', async ({ redis }) => {
  const store = createRedisStore(redis, { maxPayloadBytes: 1000, now: redis.now })
  const big = { ...storedSession(redis.now(), 60_000), blob: 'é'.repeat(600) } // 1200+ bytes, 600+ characters
  const err = await store.access.set('s', big as never).then(
    () => undefined,
    (e: SessionStoreError) => e
  )
  assert.is(err?.code, 'ESESSION_TOO_LARGE')
  assert.match(err?.message ?? '', /maxPayloadBytes is 1000/)
  assert.equal(redis.calls, [])
  assert.is(await store.access.set('s', storedSession(redis.now(), 60_000) as never), 'written')
})

sizes(
  'an oversized stored value is corrupt: a miss and a corrupt event by default, an error with onCorrupt fail',
  async ({ redis }) => {
    redis.keyspace.set('sessions:s', {
      type: 'string',
      value: JSON.stringify({ ...storedSession(redis.now(), 60_000), blob: 'x'.repeat(2000) })
    })
    const store = createRedisStore(redis, { maxPayloadBytes: 1000 })
    const events: Array<SessionStoreError> = []
    store.on('corrupt', (e: SessionStoreError) => events.push(e))
    assert.is(await store.access.get('s'), null)
    assert.is(events.length, 1)
    assert.is(events[0]?.code, 'ESESSION_CORRUPT')
    assert.match(events[0]?.message ?? '', /exceeds maxPayloadBytes/)
    const strict = createRedisStore(redis, { maxPayloadBytes: 1000, onCorrupt: 'fail' })
    const err = await strict.access.get('s').then(
      () => undefined,
      (e: SessionStoreError) => e
    )
    assert.is(err?.code, 'ESESSION_CORRUPT')
  }
)

sizes.run()

// --- corrupt values

const corrupt = suite<{ redis: FakeRedis }>('corrupt stored values')
corrupt.before.each((ctx) => {
  ctx.redis = makeFakeRedis()
  ctx.redis.keyspace.set('sessions:badSession42', { type: 'string', value: '{"cookie":' })
  ctx.redis.keyspace.set('sessions:good', {
    type: 'string',
    value: JSON.stringify(storedSession(ctx.redis.now(), 60_000))
  })
})

corrupt(
  "makeGet: a miss by default (as for the store), a failure with onCorrupt 'fail', reported either way",
  async ({ redis }) => {
    const reported: Array<string> = []
    const deps = {
      client: redis,
      prefix: 'sessions:',
      serializer: jsonSerializer,
      reportCorrupt: (e: { _tag: string }) => reported.push(e._tag)
    }
    assert.equal(await runRight(makeGet(deps)('badSession42')), O.none)
    assert.is((await runLeft(makeGet({ ...deps, onCorrupt: 'fail' })('badSession42')))._tag, 'ParseFailed')
    assert.equal(await runRight(makeGet({ ...deps, onCorrupt: 'miss' })('badSession42')), O.none)
    assert.equal(reported, ['ParseFailed', 'ParseFailed', 'ParseFailed'])
  }
)

corrupt('the store treats a corrupt session as missing and emits corrupt; all() skips it', async ({ redis }) => {
  const store = createRedisStore(redis)
  const events: Array<SessionStoreError> = []
  store.on('corrupt', (e: SessionStoreError) => events.push(e))
  const got = await new Promise<unknown>((resolve, reject) =>
    store.get('badSession42', (e, v) => (e ? reject(e) : resolve(v)))
  )
  assert.is(got, null)
  assert.equal(Object.keys(await store.access.all()), ['good'])
  assert.is(events.length, 2)
  assert.ok(events.every((e) => e.code === 'ESESSION_CORRUPT'))
  assert.not.match(events[0]?.message ?? '', 'badSession42', 'the id is redacted in messages')
  assert.match(events[0]?.message ?? '', 'sessions:badS…')
  assert.is((events[0]?.storeError as { key: string }).key, 'sessions:badSession42', 'the full key stays in the data')
})

corrupt.run()
