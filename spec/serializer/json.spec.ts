import * as E from 'fp-ts/lib/Either'
import session from 'express-session'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { jsonSerializer, safeJsonParse } from '../../src/serializer/json'
import { assertLeft, assertRight } from '../helpers'

// @types/express-session declares Cookie without its options argument.
const Cookie = session.Cookie as unknown as new (options?: object) => session.Cookie

const json = suite('jsonSerializer')

json('round-trips an express-session Session with its Cookie, expires included, through express-session', () => {
  const cookie = new Cookie({ maxAge: 60_000, httpOnly: true, path: '/' })
  const sess = { cookie, user: { id: 7, roles: ['a'] } }
  const text = assertRight(jsonSerializer.stringify(sess as never))
  assert.is(JSON.parse(text).cookie.expires, (cookie.expires as Date).toISOString(), 'stored as an ISO string')
  const back = assertRight(jsonSerializer.parse(text))
  assert.instance(back.cookie.expires, Date, 'read back as the Date SessionData promises')
  assert.is(back.cookie.expires?.getTime(), (cookie.expires as Date).getTime())
  // express-session's Cookie reads originalMaxAge back from expires - Date.now(): 60000, or 59999 when a
  // millisecond ticked inside its constructor. The round trip must keep whichever it stored, exactly.
  assert.ok(Math.abs((cookie.originalMaxAge as number) - 60_000) <= 1, 'the cookie was built with maxAge 60 s')
  assert.is(back.cookie.originalMaxAge, cookie.originalMaxAge)
  assert.equal(back.user, { id: 7, roles: ['a'] })
  // What express-session does with it when it loads the session:
  const req = { sessionID: 'abc', sessionStore: null } as unknown as Parameters<session.Store['createSession']>[0]
  const loaded = session.Store.prototype.createSession.call({} as session.Store, req, back as never)
  assert.instance(loaded.cookie.expires, Date)
  assert.is((loaded.cookie.expires as Date).getTime(), (cookie.expires as Date).getTime())
  assert.is(loaded.cookie.originalMaxAge, cookie.originalMaxAge)
})

json('a browser-session cookie keeps expires null', () => {
  const back = assertRight(jsonSerializer.parse('{"cookie":{"expires":null,"originalMaxAge":null}}')) as unknown as {
    cookie: { expires: unknown }
  }
  assert.is(back.cookie.expires, null)
})

json('__proto__ anywhere (also \\u-escaped) never becomes a prototype', () => {
  const raw =
    '{"cookie":{"expires":null,"__proto__":{"secure":true}},"__proto__":{"admin":true},"a":{"b":{"\\u005f_proto__":{"x":1}}}}'
  const parsed = assertRight(jsonSerializer.parse(raw)) as unknown as Record<string, any>
  assert.is(Object.getPrototypeOf(parsed), Object.prototype)
  assert.is(Object.getPrototypeOf(parsed['cookie']), Object.prototype)
  assert.is(Object.prototype.hasOwnProperty.call(parsed['cookie'], '__proto__'), false)
  assert.is(Object.prototype.hasOwnProperty.call(parsed['a']['b'], '__proto__'), false)
  // express-session's Cookie copies own keys with [[Set]]: its prototype must survive.
  const cookie = new Cookie(parsed['cookie'])
  assert.is(Object.getPrototypeOf(cookie), session.Cookie.prototype)
  assert.is(cookie.secure, undefined)
  assert.is(({} as Record<string, unknown>)['admin'], undefined)
})

json('constructor.prototype is stripped, a plain constructor key is kept', () => {
  const parsed = assertRight(safeJsonParse('{"constructor":{"prototype":{"polluted":1},"name":"x"}}')) as Record<
    string,
    any
  >
  assert.equal(parsed['constructor'], { name: 'x' })
})

json('a deeply nested payload does not overflow the stack', () => {
  const raw = '{"__proto__":1,"d":' + '['.repeat(50_000) + ']'.repeat(50_000) + '}'
  assert.ok(E.isRight(safeJsonParse(raw)))
})

json('non-JSON and non-object values are Unparsable', () => {
  assert.is(assertLeft(jsonSerializer.parse('{nope'))._tag, 'Unparsable')
  assert.is(assertLeft(jsonSerializer.parse('42'))._tag, 'Unparsable')
  assert.is(assertLeft(jsonSerializer.parse('[1]'))._tag, 'Unparsable')
})

json.run()
