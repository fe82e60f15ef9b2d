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
  ['scanCount', -1, /scanCount must be a positive integer/],
  ['scanCount', 1.5, /scanCount must be a positive integer/],
  ['scanCount', 0, /scanCount must be a positive integer/],
  ['ttlSeconds', -5, /ttlSeconds/],
  ['ttlSeconds', Number.NaN, /ttlSeconds/],
  ['concurrencyGraceSeconds', -1, /concurrencyGraceSeconds/],
  ['absoluteLifetimeSeconds', -1, /absoluteLifetimeSeconds must be a non-negative number of seconds/],
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

test('ttlSeconds false and 0 are accepted', () => {
  assert.is(assertRight(resolveOptions({ ttlSeconds: false })).ttlSeconds, false)
  assert.is(assertRight(resolveOptions({ ttlSeconds: 0 })).ttlSeconds, 0)
})

test('waitReplicas is a non-negative integer, waitTimeoutMs positive and below operationTimeoutMs', () => {
  const message = (o: StoreOptions) =>
    E.isLeft(resolveOptions(o)) ? (resolveOptions(o) as E.Left<TypeError>).left.message : ''
  assert.match(message({ waitReplicas: -1 }), /waitReplicas must be a non-negative integer/)
  assert.match(message({ waitReplicas: 1.5 }), /waitReplicas/)
  assert.match(message({ waitTimeoutMs: 0 }), /waitTimeoutMs must be a positive integer/)
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
