import * as E from 'fp-ts/lib/Either'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { defaults, resolveOptions, type StoreOptions } from '../src/options'
import { assertRight } from './helpers'

test('defaults are those of the original README', () => {
  const o = assertRight(resolveOptions())
  assert.is(o.prefix, 'sessions:')
  assert.is(o.scanCount, 1000)
  assert.is(o.ttlSeconds, 86400)
  assert.is(o.concurrencyGraceSeconds, 300)
  assert.is(o.disableTouch, false)
  assert.is(o.serializer, defaults.serializer)
})

const invalid: ReadonlyArray<readonly [string, unknown, RegExp]> = [
  ['prefix', 'a{b}:', /prefix.*"\{" or "\}"/],
  ['prefix', 42, /prefix must be a string/],
  ['prefix', 'x'.repeat(129), /prefix must be at most 128/],
  ['scanCount', -1, /^options\.scanCount must be an integer of keys from 1 to 10000 \(.*\), got -1$/],
  ['scanCount', 1.5, /scanCount must be an integer .*got 1\.5$/],
  ['scanCount', 0, /scanCount must be an integer/],
  ['scanCount', 10_001, /scanCount must be an integer of keys from 1 to 10000 .*got 10001$/],
  ['ttlSeconds', -5, /ttlSeconds/],
  ['ttlSeconds', Number.NaN, /ttlSeconds/],
  [
    'ttlSeconds',
    1e20,
    /^options\.ttlSeconds must be a number of seconds from 0 to 315360000 \(10 years\), or false, got 100000000000000000000$/
  ],
  ['ttlSeconds', true, /ttlSeconds.*got true/],
  ['ttl', 315_360_001, /^options\.ttl must be a number of seconds from 0 to 315360000 \(10 years\), or a function/],
  ['concurrencyGraceSeconds', -1, /concurrencyGraceSeconds/],
  ['concurrencyGraceSeconds', 86_401, /concurrencyGraceSeconds must be a number of seconds from 0 to 86400 \(1 day\)/],
  ['touchAfterSeconds', 1e12, /touchAfterSeconds must be a number of seconds from 0 to 315360000/],
  ['absoluteLifetimeSeconds', -1, /absoluteLifetimeSeconds must be a number of seconds from 0 to 315360000/],
  ['absoluteLifetimeSeconds', 315_360_001, /absoluteLifetimeSeconds.*got 315360001$/],
  ['operationTimeoutMs', 3_600_001, /operationTimeoutMs must be a number of ms from 0 to 3600000 \(1 hour\)/],
  ['operationTimeoutMs', -1, /operationTimeoutMs/],
  ['waitReplicas', 101, /waitReplicas must be an integer of replicas from 0 to 100/],
  ['waitTimeoutMs', 3_600_001, /waitTimeoutMs must be an integer of ms from 1 to 3600000/],
  ['maxPayloadBytes', 0, /maxPayloadBytes must be an integer of bytes from 1 to 536870912 \(512 MiB/],
  ['maxPayloadBytes', 536_870_913, /maxPayloadBytes.*got 536870913$/],
  ['maxSessionsPerOwner', 10_001, /maxSessionsPerOwner must be an integer of sessions from 0 to 10000/],
  ['maxSessionsPerOwner', -1, /maxSessionsPerOwner/],
  ['absoluteLifetimeSeconds', '3600', /absoluteLifetimeSeconds.*got "3600" \(a string\)/],
  ['absoluteLifetimeSeconds', Infinity, /absoluteLifetimeSeconds/],
  ['disableTouch', 'yes', /disableTouch/],
  ['serializer', { parse: JSON.parse }, /serializer/]
]
for (const [name, value, message] of invalid) {
  test(`${name} = ${String(value).slice(0, 20)} is a TypeError naming the option`, () => {
    const result = resolveOptions({ [name]: value } as StoreOptions)
    assert.ok(E.isLeft(result))
    const e = (result as E.Left<TypeError>).left
    assert.instance(e, TypeError)
    assert.match(e.message, message)
  })
}

test('every bound itself is accepted', () => {
  const o = assertRight(
    resolveOptions({
      scanCount: 10_000,
      ttlSeconds: 315_360_000,
      concurrencyGraceSeconds: 86_400,
      touchAfterSeconds: 315_360_000,
      absoluteLifetimeSeconds: 315_360_000,
      maxPayloadBytes: 536_870_912,
      operationTimeoutMs: 3_600_000,
      waitReplicas: 100,
      waitTimeoutMs: 3_599_999
    })
  )
  assert.is(o.scanCount, 10_000)
  assert.is(o.ttlSeconds, 315_360_000)
  assert.is(assertRight(resolveOptions({ scanCount: 1, maxPayloadBytes: 1, waitTimeoutMs: 1 })).scanCount, 1)
  assert.is(assertRight(resolveOptions({ ttl: 315_360_000 })).ttlSeconds, 315_360_000)
  assert.is(
    assertRight(resolveOptions({ ownerOf: () => undefined, maxSessionsPerOwner: 10_000 })).maxSessionsPerOwner,
    10_000
  )
})

test('ttlSeconds false and 0 are accepted', () => {
  assert.is(assertRight(resolveOptions({ ttlSeconds: false })).ttlSeconds, false)
  assert.is(assertRight(resolveOptions({ ttlSeconds: 0 })).ttlSeconds, 0)
})

test('waitReplicas is a non-negative integer, waitTimeoutMs positive and below operationTimeoutMs', () => {
  const message = (o: StoreOptions) =>
    E.isLeft(resolveOptions(o)) ? (resolveOptions(o) as E.Left<TypeError>).left.message : ''
  assert.match(message({ waitReplicas: -1 }), /waitReplicas must be an integer of replicas from 0 to 100/)
  assert.match(message({ waitReplicas: 1.5 }), /waitReplicas/)
  assert.match(message({ waitTimeoutMs: 0 }), /waitTimeoutMs must be an integer of ms from 1 to 3600000/)
  assert.match(message({ waitReplicas: 1, waitTimeoutMs: 2000 }), /must be below operationTimeoutMs \(2000\)/)
  assert.is(assertRight(resolveOptions({ waitReplicas: 1, waitTimeoutMs: 500 })).waitReplicas, 1)
  assert.is(assertRight(resolveOptions({})).waitReplicas, 0)
})

test('absoluteLifetimeSeconds: 0 (off) by default, a number of seconds when given, a typo named', () => {
  assert.is(assertRight(resolveOptions()).absoluteLifetimeSeconds, 0)
  assert.is(assertRight(resolveOptions({ absoluteLifetimeSeconds: 28_800 })).absoluteLifetimeSeconds, 28_800)
  const typo = resolveOptions({ absoluteLifetimeSecond: 60 } as StoreOptions)
  assert.ok(E.isLeft(typo))
  assert.match(typo.left.message, /did you mean absoluteLifetimeSeconds\?/)
})

test.run()
