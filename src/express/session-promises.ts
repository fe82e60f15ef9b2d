/**
 * Promises over `req.session.save`, `regenerate` and `destroy`. express-session's methods take callbacks and
 * return the session, so `await req.session.save()` waits for nothing: a failed save (Redis down, a session
 * over `maxPayloadBytes`) is then lost after the response has been sent. These helpers wait for the store
 * and reject with its error.
 *
 * @since 0.1.0
 */
import { noSession } from '../errors'
import { toError, type SessionStoreError } from './to-error'

// --- model

/**
 * The part of an express `Request` the helpers use: its session, which express-session leaves `undefined`
 * when it did not run or skipped a disconnected store.
 *
 * @category model
 * @since 0.1.0
 */
export interface RequestWithSession {
  readonly session?: {
    save(callback: (err: unknown) => void): unknown
    regenerate(callback: (err: unknown) => void): unknown
    destroy(callback: (err: unknown) => void): unknown
  }
}

// --- adapters

const missing = (operation: 'save' | 'regenerate' | 'destroy' | 'rotate'): SessionStoreError =>
  toError(noSession(operation))

const settle =
  (operation: 'save' | 'regenerate' | 'destroy') =>
  (req: RequestWithSession): Promise<void> =>
    new Promise((resolve, reject) => {
      const sess = req.session
      if (sess === undefined || sess === null) {
        reject(missing(operation))
        return
      }
      sess[operation]((err: unknown) => (err === undefined || err === null ? resolve() : reject(err)))
    })

/**
 * Saves `req.session` to the store and resolves once the store has it; rejects with the store's error
 * (`ESESSION_TOO_LARGE`, `ESESSION_REDIS`, `ETIMEDOUT`, …). Use it before answering a login or a privilege
 * change, where a save that fails after the response would lose the change silently.
 *
 * @example
 * import express from 'express'
 * import session from 'express-session'
 * import { createClient } from 'redis'
 * import { createRedisStore, saveSession } from 'connect-redis-session'
 *
 * declare module 'express-session' {
 *   interface SessionData {
 *     user?: string
 *   }
 * }
 *
 * const app = express()
 * app.use(session({ store: createRedisStore(createClient()), secret: 'keyboard cat', resave: false, saveUninitialized: false }))
 * app.post('/login', async (req, res) => {
 *   req.session.user = 'alice'
 *   await saveSession(req) // a failed save rejects here, before the response (express 5 passes it to the error handler)
 *   res.redirect('/')
 * })
 *
 * // A request the session middleware did not run for has nothing to save: a coded error.
 * saveSession({}).then(
 *   () => assert.fail('saved without a session'),
 *   (e) => assert.strictEqual(e.code, 'ESESSION_NO_SESSION')
 * )
 *
 * @category adapters
 * @since 0.1.0
 */
export const saveSession: (req: RequestWithSession) => Promise<void> = settle('save')

/**
 * `req.session.regenerate` as a promise: the old session is destroyed (leaving its tombstone) and
 * `req.session` is a new, empty one with a new id. Do it on login, against session fixation.
 *
 * @category adapters
 * @since 0.1.0
 */
export const regenerateSession: (req: RequestWithSession) => Promise<void> = settle('regenerate')

/**
 * `req.session.destroy` as a promise: resolves once the store has destroyed the session (logout).
 *
 * @category adapters
 * @since 0.1.0
 */
export const destroySession: (req: RequestWithSession) => Promise<void> = settle('destroy')

/**
 * The part of an express `Request` `rotateSession` uses: its session and id, and the store express-session put on
 * it (`req.sessionStore`), whose `generate` gives the request a new id and an empty session.
 *
 * @category model
 * @since 0.1.0
 */
export interface RequestToRotate {
  sessionID: string
  session?: RequestWithSession['session'] & object
  readonly sessionStore?: {
    generate(req: RequestToRotate): void
    destroy(sid: string, callback: (err: unknown) => void): unknown
  }
}

/**
 * A new session id that keeps the session's data (against session fixation after a login, or on a schedule,
 * without logging the user out): `req.session` gets a new id and a fresh cookie, every other field of the session is
 * kept, the new session is saved, and only then is the old id destroyed (its tombstone: a request still in flight
 * with the old cookie cannot save or touch it back). Two commands on two keys, never `RENAME`, so the two ids may live
 * on any nodes of a Redis Cluster. Resolves once both are done. If the save fails, `req` keeps its old id and
 * session and the promise rejects with the store's error; if the old id's tombstone fails, the new session is in
 * place and the promise rejects all the same (the old id lives until its TTL ends: tell the user, or try again with
 * `req.sessionStore.destroy`).
 *
 * @example
 * import express from 'express'
 * import session from 'express-session'
 * import { createClient } from 'redis'
 * import { createRedisStore, rotateSession } from 'connect-redis-session'
 *
 * const app = express()
 * app.use(session({ store: createRedisStore(createClient()), secret: 'keyboard cat', resave: false, saveUninitialized: false }))
 * app.post('/elevate', async (req, res) => {
 *   await rotateSession(req) // same data, new id; the old cookie no longer works
 *   res.json({ ok: true })
 * })
 *
 * // A request the session middleware did not run for has nothing to rotate: a coded error.
 * rotateSession({ sessionID: 'abc' }).then(
 *   () => assert.fail('rotated without a session'),
 *   (e) => assert.strictEqual(e.code, 'ESESSION_NO_SESSION')
 * )
 *
 * @category adapters
 * @since 0.1.0
 */
export const rotateSession = (req: RequestToRotate): Promise<void> =>
  new Promise((resolve, reject) => {
    const store = req.sessionStore
    const old = req.session
    const oldId = req.sessionID
    if (old === undefined || old === null || store === undefined || typeof store.generate !== 'function') {
      reject(missing('rotate'))
      return
    }
    const kept = Object.entries(old).filter(([k]) => k !== 'cookie')
    store.generate(req)
    Object.assign(req.session as object, Object.fromEntries(kept))
    saveSession(req).then(
      () => store.destroy(oldId, (err: unknown) => (err === undefined || err === null ? resolve() : reject(err))),
      (err: unknown) => {
        req.sessionID = oldId
        req.session = old
        reject(err)
      }
    )
  })
