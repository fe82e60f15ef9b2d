// saveSession / regenerateSession / destroySession: promises that wait for the store and reject with its
// error (over real express-session in spec/e2e/save-advice.spec.ts; here with stand-in sessions).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { destroySession, regenerateSession, saveSession, SessionStoreError } from '../../src'

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

helpers.run()
