// saveSession / regenerateSession / destroySession: promises that wait for the store and reject with its
// error (over real express-session in spec/e2e/save-advice.spec.ts; here with stand-in sessions).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  destroySession,
  regenerateSession,
  rotateSession,
  saveSession,
  SessionStoreError,
  type RequestToRotate
} from '../../src'

const helpers = suite('session promises')

type Cb = (err: unknown) => void
const fakeSession = (outcome: unknown, calls: Array<string>) => {
  const answer = (name: string) => (cb: Cb) => {
    calls.push(name)
    setTimeout(() => cb(outcome), 5)
    return undefined
  }
  return { save: answer('save'), regenerate: answer('regenerate'), destroy: answer('destroy') }
}

helpers('each resolves once the store has answered, and rejects with its error', async () => {
  const calls: Array<string> = []
  await saveSession({ session: fakeSession(null, calls) })
  await regenerateSession({ session: fakeSession(undefined, calls) })
  await destroySession({ session: fakeSession(null, calls) })
  assert.equal(calls, ['save', 'regenerate', 'destroy'])
  const boom = Object.assign(new Error('too large'), { code: 'ESESSION_TOO_LARGE' })
  const err = await saveSession({ session: fakeSession(boom, calls) }).then(
    () => null,
    (e: unknown) => e
  )
  assert.is(err, boom)
})

helpers('a request without req.session rejects with ESESSION_NO_SESSION saying why', async () => {
  for (const run of [saveSession, regenerateSession, destroySession]) {
    const err = await run({}).then(
      () => null,
      (e: unknown) => e
    )
    assert.ok(err instanceof SessionStoreError)
    assert.is((err as SessionStoreError).code, 'ESESSION_NO_SESSION')
    assert.is((err as SessionStoreError).storeError._tag, 'NoSession')
    assert.match((err as SessionStoreError).message, /req\.session is undefined/)
  }
})

/** A request whose store's `generate` gives ids `new1`, `new2`, … and whose sessions save with `saved`. */
const rotating = (saved: unknown, destroyed: unknown, log: Array<string>) => {
  let n = 0
  const sessionWith = (fields: Record<string, unknown>) => ({
    ...fakeSession(saved, log),
    cookie: { fresh: n > 0 },
    ...fields
  })
  const req: RequestToRotate = {
    sessionID: 'old',
    session: sessionWith({ user: 'alice', cart: ['apple'] }),
    sessionStore: {
      generate: (r) => {
        r.sessionID = `new${++n}`
        r.session = sessionWith({})
        log.push(`generate ${r.sessionID}`)
      },
      destroy: (sid, cb) => {
        log.push(`destroy ${sid}`)
        setTimeout(() => cb(destroyed), 5)
      }
    }
  }
  return req
}

helpers(
  'rotateSession: a new id with the same fields and a fresh cookie, saved, then the old id destroyed',
  async () => {
    const log: Array<string> = []
    const req = rotating(null, null, log)
    const before = req.session
    await rotateSession(req)
    assert.equal(log, ['generate new1', 'save', 'destroy old'])
    assert.is(req.sessionID, 'new1')
    assert.is.not(req.session, before)
    const now = req.session as unknown as Record<string, unknown>
    assert.equal([now['user'], now['cart'], now['cookie']], ['alice', ['apple'], { fresh: true }])
  }
)

helpers('rotateSession: a failed save leaves the request as it was and rejects; a failed destroy rejects', async () => {
  const boom = new Error('ESESSION_TOO_LARGE')
  const log: Array<string> = []
  const req = rotating(boom, null, log)
  const before = req.session
  assert.is(
    await rotateSession(req).then(
      () => null,
      (e: unknown) => e
    ),
    boom
  )
  assert.equal(log, ['generate new1', 'save'], 'the old id was not destroyed')
  assert.is(req.sessionID, 'old')
  assert.is(req.session, before)
  const refused = new Error('NOPERM')
  const again = rotating(null, refused, [])
  assert.is(
    await rotateSession(again).then(
      () => null,
      (e: unknown) => e
    ),
    refused
  )
  assert.is(again.sessionID, 'new1', 'the new session is in place')
  const none = await rotateSession({ sessionID: 'x' }).then(
    () => null,
    (e: unknown) => e
  )
  assert.is((none as SessionStoreError).code, 'ESESSION_NO_SESSION')
})

helpers.run()
