import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { StoreError } from '../src/errors'
import { computeTtl, MAX_TTL_SECONDS, type Expiring, type TtlDeps } from '../src/ttl'
import { assertLeft, assertRight } from './helpers'

const NOW = 1_700_000_000_000
const ttlOf = (deps: Partial<TtlDeps> = {}) => computeTtl({ now: () => NOW, ttlSeconds: 86400, ...deps })

/** The reason of an `InvalidSession` for `sid`; fails on any other error. */
const invalidReason = (e: StoreError, sid = 's'): string => {
  if (e._tag !== 'InvalidSession') return assert.unreachable(`expected InvalidSession, got ${e._tag}`) as never
  assert.is(e.sid, sid)
  return e.reason
}

// --- from the cookie

const cookie = suite('computeTtl: from the cookie')

cookie('cookie.expires as a Date, an ISO string or epoch ms: the ms left until then', () => {
  const at = NOW + 12_345
  for (const expires of [new Date(at), new Date(at).toISOString(), at])
    assert.equal(assertRight(ttlOf()('s', { cookie: { expires } })), 12_345, String(expires))
})

cookie('a fraction of a millisecond rounds up (Redis takes whole ms)', () => {
  const now = () => NOW + 0.25
  assert.is(assertRight(ttlOf({ now })('s', { cookie: { expires: NOW + 1000 } })), 1000)
})

cookie('an expiry in the past or now is <= 0 (the session is over), not an error', () => {
  assert.is(assertRight(ttlOf()('s', { cookie: { expires: NOW - 5000 } })), -5000)
  assert.is(assertRight(ttlOf()('s', { cookie: { expires: NOW } })), 0)
})

cookie('no expiry (null, absent, no cookie) falls back to ttlSeconds, in whole ms', () => {
  for (const sess of [{ cookie: { expires: null } }, { cookie: {} }, { cookie: null }, {}] as ReadonlyArray<Expiring>) {
    assert.is(assertRight(ttlOf({ ttlSeconds: 60 })('s', sess)), 60_000, JSON.stringify(sess))
  }
  assert.is(assertRight(ttlOf({ ttlSeconds: 1.001 })('s', {})), 1001)
})

cookie('no expiry and ttlSeconds false or 0 is an InvalidSession', () => {
  for (const ttlSeconds of [false, 0] as const) {
    assert.match(
      invalidReason(assertLeft(ttlOf({ ttlSeconds })('s', { cookie: { expires: null } }))),
      'no ttlSeconds fallback'
    )
  }
})

cookie('an unreadable cookie.expires is an InvalidSession naming it, even with a fallback', () => {
  assert.match(
    invalidReason(assertLeft(ttlOf()('s', { cookie: { expires: 'soon' } }))),
    'cookie.expires is not a valid date: soon'
  )
  assert.match(
    invalidReason(assertLeft(ttlOf()('s', { cookie: { expires: new Date(Number.NaN) } }))),
    'not a valid date'
  )
})

cookie('a cookie more than 10 years away is kept 10 years (browsers keep a cookie 400 days at most)', () => {
  const tenYears = MAX_TTL_SECONDS * 1000
  assert.is(MAX_TTL_SECONDS, 315_360_000)
  assert.is(assertRight(ttlOf()('s', { cookie: { expires: NOW + tenYears } })), tenYears)
  for (const expires of [NOW + tenYears + 1, 8.64e15, new Date(8.64e15).toISOString()])
    assert.is(assertRight(ttlOf()('s', { cookie: { expires } })), tenYears, String(expires))
})

cookie('a session that is not an object is an InvalidSession', () => {
  assert.match(invalidReason(assertLeft(ttlOf()('s', null as never))), 'must be an object, got null')
  assert.match(invalidReason(assertLeft(ttlOf()('s', 'x' as never))), 'must be an object, got string')
})

cookie.run()

// --- ttlFor

const ttlFor = suite('computeTtl: ttlFor')

ttlFor('wins over the cookie and the fallback, in whole ms, and gets the session', () => {
  const seen: Array<unknown> = []
  const sess = { cookie: { expires: NOW + 1000 }, role: 'admin' }
  const fn = (s: { readonly role: string }) => {
    seen.push(s)
    return s.role === 'admin' ? 7.0002 : 60
  }
  assert.is(assertRight(ttlOf({ ttlFor: fn as (s: never) => number })('s', sess)), 7001)
  assert.equal(seen, [sess])
  assert.is(assertRight(ttlOf({ ttlFor: () => 30, ttlSeconds: false })('s', { cookie: { expires: null } })), 30_000)
})

ttlFor('a result <= 0 (or -Infinity) is 0: the session is over', () => {
  for (const seconds of [0, -1, -0.5, Number.NEGATIVE_INFINITY])
    assert.is(assertRight(ttlOf({ ttlFor: () => seconds })('s', {})), 0, String(seconds))
})

ttlFor('a throw is an InvalidSession with its message', () => {
  const e = assertLeft(
    ttlOf({
      ttlFor: () => {
        throw new Error('no role')
      }
    })('s', {})
  )
  assert.match(invalidReason(e), 'options.ttl(session) threw: no role')
  const odd = assertLeft(
    ttlOf({
      ttlFor: () => {
        throw 'plain'
      }
    })('s', {})
  )
  assert.match(invalidReason(odd), 'threw: plain')
})

ttlFor('NaN, Infinity and non-numbers are an InvalidSession naming what came back', () => {
  const cases: ReadonlyArray<readonly [unknown, string]> = [
    [Number.NaN, 'got NaN'],
    [Number.POSITIVE_INFINITY, 'got Infinity'],
    ['60', 'got string'],
    [undefined, 'got undefined'],
    [null, 'got object']
  ]
  for (const [result, message] of cases) {
    assert.match(invalidReason(assertLeft(ttlOf({ ttlFor: () => result as number })('s', {}))), message, String(result))
  }
})

ttlFor('a result above 10 years is an InvalidSession naming it, never a TTL Redis would refuse', () => {
  assert.is(assertRight(ttlOf({ ttlFor: () => MAX_TTL_SECONDS })('s', {})), MAX_TTL_SECONDS * 1000)
  for (const seconds of [MAX_TTL_SECONDS + 0.001, 1e20, Number.MAX_VALUE]) {
    const reason = invalidReason(assertLeft(ttlOf({ ttlFor: () => seconds })('s', {})))
    assert.match(reason, `options.ttl(session) returned ${seconds} seconds, more than the longest TTL`, String(seconds))
    assert.match(reason, '(315360000, 10 years)')
  }
})

ttlFor('a bound that is no time (NaN) is an InvalidSession, never a NaN TTL', () => {
  assert.match(
    invalidReason(assertLeft(ttlOf()('s', { cookie: { expires: NOW + 1000 } }, { notAfter: Number.NaN }))),
    'its expiry bound is not a time: NaN'
  )
  assert.is(assertRight(ttlOf()('s', { cookie: { expires: NOW + 1000 } }, { notAfter: Infinity })), 1000)
  assert.ok(assertRight(ttlOf()('s', { cookie: { expires: NOW + 1000 } }, { notAfter: -Infinity })) <= 0)
})

ttlFor.run()
