// Every error the store passes on says what happened: a code from the union, a message that is never empty
// after its colon, a cause, and `instanceof SessionStoreError`.
import * as t from 'io-ts'
import { TimeoutError, ClientClosedError } from '@redis/client/dist/lib/errors'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { SessionStoreError, type SessionStoreErrorCode, type StoreError } from '../src'
import {
  commandFailed,
  decodeFailed,
  defect,
  invalidId,
  invalidOwner,
  invalidSession,
  noSession,
  notConfigured,
  notReplicated,
  parseFailed,
  serializerFailed,
  stringifyFailed,
  timedOut,
  tooLarge,
  unavailable,
  walkFailed
} from '../src/errors'
import { runToCallback } from '../src/express/run-to-callback'
import { describeCause, toError } from '../src/express/to-error'

const errors = suite('toError')

const decodeErrors = (() => {
  const r = t.type({ n: t.number }).decode({ n: 'x' })
  return r._tag === 'Left' ? r.left : []
})()

const every: ReadonlyArray<readonly [StoreError, SessionStoreErrorCode]> = [
  [commandFailed('GET', 'sessions:abcdefgh', new Error('ECONNREFUSED')), 'ESESSION_REDIS'],
  [parseFailed('sessions:abcdefgh', new SyntaxError('Unexpected token')), 'ESESSION_CORRUPT'],
  [decodeFailed('sessions:abcdefgh', decodeErrors), 'ESESSION_CORRUPT'],
  [stringifyFailed('abcdefgh', new TypeError('cyclic')), 'ESESSION_UNSERIALIZABLE'],
  [invalidSession('abcdefgh', 'no expiry'), 'ESESSION_INVALID'],
  [invalidId('it is empty'), 'ESESSION_INVALID_ID'],
  [tooLarge('abcdefgh', 2_000_000, 1_048_576), 'ESESSION_TOO_LARGE'],
  [timedOut('get', 2000), 'ETIMEDOUT'],
  [unavailable('get', 'the client is not connected'), 'ESESSION_UNAVAILABLE'],
  [serializerFailed('parse', 'returned a Promise'), 'ESESSION_SERIALIZER'],
  [defect(new TypeError('x is not a function')), 'ESESSION_DEFECT'],
  [notReplicated('sessions:abcdefgh', 0, 1, 1000), 'ESESSION_NOT_REPLICATED'],
  [notConfigured('sessionsOf', 'ownerOf'), 'ESESSION_NOT_CONFIGURED'],
  [noSession('save'), 'ESESSION_NO_SESSION'],
  [invalidOwner('it is empty'), 'ESESSION_INVALID_OWNER'],
  [walkFailed('clear', 3, 2400, timedOut('EVALSHA', 1000)), 'ESESSION_WALK_FAILED']
]

errors('each tag means one thing: its own code, and a message that says which', () => {
  assert.is(
    toError(notConfigured('sessionsOf', 'ownerOf')).message,
    'Session sessionsOf needs the ownerOf option, which this store was built without: createRedisStore(client, { ownerOf })'
  )
  assert.match(toError(noSession('regenerate')).message, /^Session regenerate failed: req\.session is undefined/)
  assert.is(toError(invalidOwner('it is empty')).message, 'Invalid owner: it is empty')
  const walk = toError(walkFailed('clear', 3, 2400, commandFailed('EVALSHA', 'sessions:abcdefgh', new Error('OOM'))))
  assert.is(
    walk.message,
    'Session clear stopped after 3 pages (2400 sessions tombstoned; the pages in flight were awaited, none was started after the failure): Redis EVALSHA on key "sessions:abcd…" failed: OOM'
  )
  // The cause is an Error of its own: its code says what stopped the walk.
  assert.ok(walk.cause instanceof SessionStoreError && walk.cause.code === 'ESESSION_REDIS')
  const tags = new Set(every.map(([e]) => e._tag))
  const codes = new Map(every.map(([e, code]) => [code, e._tag]))
  assert.is(tags.size, 16, 'every tag of StoreError is listed here')
  // Only the corrupt-value pair (ParseFailed, DecodeFailed) shares a code.
  assert.is(codes.size, tags.size - 1)
})

errors(
  'every StoreError becomes a SessionStoreError with its code, a message with something after the colon, and a cause',
  () => {
    for (const [e, code] of every) {
      const err = toError(e)
      assert.ok(err instanceof SessionStoreError && err instanceof Error, e._tag)
      assert.is(err.code, code, e._tag)
      assert.is(err.storeError, e)
      assert.ok(err.cause !== undefined, `${e._tag} has a cause`)
      const after = err.message.slice(err.message.indexOf(': ') + 2)
      assert.ok(after.trim().length > 3, `${e._tag}: "${err.message}"`)
      assert.not.match(err.message, /abcdefgh/, 'ids are cut in messages')
    }
  }
)

errors("node-redis's TimeoutError (no message) is described, not an empty string", () => {
  const silent = new TimeoutError()
  assert.is(silent.message, '', 'node-redis gives it no message')
  const err = toError(commandFailed('GET', 'sessions:DVDkabcdef', silent))
  assert.match(
    err.message,
    /^Redis GET on key "sessions:DVDk…" failed: node-redis TimeoutError: the command waited longer than the client's command timeout/
  )
  assert.is(err.cause, silent)
})

errors('any other message-less failure is named by its kind; non-errors are described', () => {
  class QuietError extends Error {}
  assert.is(describeCause(new QuietError()), 'QuietError (the error has no message)')
  assert.is(describeCause(new Error('')), 'Error (the error has no message)')
  assert.is(
    describeCause(Object.assign(new Error(''), { message: { toString: false } })),
    'Error (the error has no message)'
  )
  assert.is(describeCause({ toString: false }), 'unknown failure (a non-Error object)')
  assert.is(describeCause(undefined), 'unknown failure (no error was given)')
  assert.is(describeCause(''), 'unknown failure ()')
  assert.is(describeCause('READONLY'), 'READONLY')
  assert.is(describeCause(new ClientClosedError()), 'The client is closed')
})

errors(
  'an exception thrown while building an operation is a Defect (ESESSION_DEFECT), not a Redis failure',
  async () => {
    const err = await runToCallback(() => {
      throw new TypeError('x is not a function')
    }).then(
      () => null,
      (e: SessionStoreError) => e
    )
    assert.is(err?.code, 'ESESSION_DEFECT')
    assert.is(err?.storeError._tag, 'Defect')
    assert.match(err?.message ?? '', /^The session store hit an unexpected exception: x is not a function/)
  }
)

errors('the deadline error names Redis and what may have happened', () => {
  assert.match(
    toError(timedOut('set', 2000)).message,
    /^Redis did not answer the session set within operationTimeoutMs \(2000 ms\)/
  )
})

errors('SessionStoreError(e), with or without new, builds the same error as toError', () => {
  const e = invalidId('it is empty')
  const a = SessionStoreError(e)
  const b = new SessionStoreError(e)
  assert.ok(a instanceof SessionStoreError && b instanceof SessionStoreError)
  assert.equal([a.code, a.message], [b.code, b.message])
})

errors.run()
