// The README's examples, run as written (against a fake client where the README uses a real one).
import * as E from 'fp-ts/lib/Either'
import * as O from 'fp-ts/lib/Option'
import * as TE from 'fp-ts/lib/TaskEither'
import { pipe } from 'fp-ts/lib/function'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { jsonSerializer, makeDestroy, makeGet, makeSet } from '../src'
import { makeFakeRedis } from './fakes/redis'

test('README "Testing with a fake client"', async () => {
  const data = new Map([['sessions:abc', '{"cookie":{"expires":null},"user":"alice"}']])
  const calls: string[] = []
  const client = { get: async (key: string) => (calls.push(key), data.get(key) ?? null) }

  const result = await makeGet({ client, prefix: 'sessions:', serializer: jsonSerializer })('abc')()
  assert.equal(result, E.right(O.some({ cookie: { expires: null }, user: 'alice' })))
  assert.equal(calls, ['sessions:abc'])
})

test('README "Composing a custom store"', async () => {
  const client = makeFakeRedis()
  const deps = { client, prefix: 'sessions:', serializer: jsonSerializer, ttlSeconds: 3600, concurrencyGraceSeconds: 300, now: client.now }
  const get = makeGet(deps)
  const set = makeSet(deps)
  const destroy = makeDestroy(deps)
  const rename = (sid: string, user: string) =>
    pipe(
      get(sid),
      TE.flatMap((found) => (found._tag === 'Some' ? set(sid, { ...found.value, user } as unknown as typeof found.value) : TE.right('expired' as const)))
    )
  await set('abc', { cookie: { expires: null } } as never)()
  assert.equal(await rename('abc', 'alice')(), E.right('written'))
  assert.is(JSON.parse((client.data.get('sessions:abc') as { value: string }).value).user, 'alice')
  assert.equal(await destroy('abc')(), E.right(true))
  assert.equal(await rename('abc', 'bob')(), E.right('expired'))
})

test.run()
