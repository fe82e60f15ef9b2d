import * as E from 'fp-ts/lib/Either'
import type { SessionData } from 'express-session'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { jsonSerializer } from '../../src/serializer/json'
import type { ParseIssue, Serializer } from '../../src/serializer/serializer'
import { asSessionData, sessionSerializer } from '../../src/serializer/session'
import { assertLeft, assertRight } from '../helpers'

const EXPIRES = '2030-01-02T03:04:05.678Z'

/** The message of an `Unparsable` issue's cause; fails on any other issue. */
const unparsableMessage = (issue: ParseIssue): string => {
  if (issue._tag !== 'Unparsable') return assert.unreachable(`expected Unparsable, got ${issue._tag}`) as never
  assert.instance(issue.cause, TypeError)
  return (issue.cause as TypeError).message
}

// --- asSessionData

const data = suite('asSessionData')

data('revives an ISO cookie.expires as a Date, in place, keeping the other fields', () => {
  const value = { cookie: { expires: EXPIRES, originalMaxAge: 60_000, httpOnly: true }, user: 'alice' }
  const sess = assertRight(asSessionData(value))
  assert.is(sess as unknown, value, 'the parsed value itself')
  assert.instance(sess.cookie.expires, Date)
  assert.is(sess.cookie.expires?.toISOString(), EXPIRES)
  assert.is(sess.cookie.originalMaxAge, 60_000)
  assert.is((sess as unknown as { user: string }).user, 'alice')
})

data('revives an epoch-ms cookie.expires as a Date', () => {
  const at = Date.parse(EXPIRES)
  const sess = assertRight(asSessionData({ cookie: { expires: at } }))
  assert.instance(sess.cookie.expires, Date)
  assert.is(sess.cookie.expires?.getTime(), at)
})

data('keeps a null expires (a browser-session cookie), an absent one, and a Date', () => {
  assert.is(assertRight(asSessionData({ cookie: { expires: null } })).cookie.expires, null)
  const absent = assertRight(asSessionData({ cookie: { path: '/' } }))
  assert.is(Object.prototype.hasOwnProperty.call(absent.cookie, 'expires'), false)
  const date = new Date(EXPIRES)
  assert.is(assertRight(asSessionData({ cookie: { expires: date } })).cookie.expires, date)
})

data('a value that is not an object is Unparsable', () => {
  for (const value of [42, 'text', null, undefined, true, [{ cookie: {} }]]) {
    assert.match(unparsableMessage(assertLeft(asSessionData(value))), 'is not an object', JSON.stringify(value))
  }
})

data('a session without a cookie object is Unparsable', () => {
  for (const value of [{}, { cookie: null }, { cookie: 'x' }, { cookie: 1 }, { cookie: [] }]) {
    assert.match(unparsableMessage(assertLeft(asSessionData(value))), 'has no cookie object', JSON.stringify(value))
  }
})

data('a cookie.expires that is not a date is Unparsable, naming it', () => {
  assert.match(
    unparsableMessage(assertLeft(asSessionData({ cookie: { expires: 'not a date' } }))),
    'cookie.expires is not a date: "not a date"'
  )
  assert.match(unparsableMessage(assertLeft(asSessionData({ cookie: { expires: '' } }))), 'is not a date')
  assert.match(unparsableMessage(assertLeft(asSessionData({ cookie: { expires: Number.NaN } }))), 'is not a date')
  assert.match(unparsableMessage(assertLeft(asSessionData({ cookie: { expires: true } }))), 'is not a date: boolean')
  assert.match(unparsableMessage(assertLeft(asSessionData({ cookie: { expires: {} } }))), 'is not a date: object')
})

data.run()

// --- sessionSerializer

const serializer = suite('sessionSerializer')

serializer('a toolkit Serializer is used as it is, unchecked', () => {
  assert.is(sessionSerializer(jsonSerializer), jsonSerializer)
  // It answers for its own output: not even a value without a cookie is refused.
  const own: Serializer<SessionData> = {
    _tag: 'Serializer',
    stringify: (v) => E.right(JSON.stringify(v)),
    parse: () => E.right({ any: 1 } as unknown as SessionData)
  }
  const s = sessionSerializer(own)
  assert.is(s, own)
  assert.equal(assertRight(s.parse('whatever')), { any: 1 })
})

serializer('a plain serializer is wrapped: what it parses becomes SessionData, cookie.expires a Date', () => {
  const s = sessionSerializer(JSON)
  assert.is.not(s as unknown, JSON)
  assert.is(s._tag, 'Serializer')
  const sess = assertRight(s.parse(JSON.stringify({ cookie: { expires: EXPIRES }, n: 1 })))
  assert.instance(sess.cookie.expires, Date)
  assert.is(sess.cookie.expires?.toISOString(), EXPIRES)
  assert.is(assertRight(s.stringify({ cookie: { expires: null }, n: 2 } as never)), '{"cookie":{"expires":null},"n":2}')
})

serializer(
  'a plain serializer whose result is not a session, or that throws, is Unparsable; a Promise is Broken',
  () => {
    assert.match(unparsableMessage(assertLeft(sessionSerializer(JSON).parse('42'))), 'is not an object')
    assert.match(unparsableMessage(assertLeft(sessionSerializer(JSON).parse('{"user":1}'))), 'has no cookie object')
    const boom = new Error('bad text')
    const throwing = sessionSerializer({
      stringify: JSON.stringify,
      parse: () => {
        throw boom
      }
    })
    assert.equal(assertLeft(throwing.parse('x')), { _tag: 'Unparsable', cause: boom })
    const promising = sessionSerializer({
      stringify: JSON.stringify,
      parse: () => Promise.resolve({ cookie: {} }) as never
    })
    assert.is(assertLeft(promising.parse('{}'))._tag, 'Broken')
  }
)

serializer.run()
