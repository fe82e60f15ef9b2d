/**
 * End-to-end harness: a real Express app with real express-session middleware over a given store, served on
 * 127.0.0.1 (port 0), and a tiny cookie-aware HTTP client built on node's `http`.
 *
 * Works with Express 4 and 5 and express-session 1.17 and 1.19: the routes are written callback-style (no
 * async handlers, which Express 4 would not catch) and the server is a plain `http.createServer(app)`.
 */
import type { Request, Response } from 'express'
import type * as session from 'express-session'
import { httpClient, listen, sidOfCookie, type HttpReply } from '../support/http'

export type ExpressModule = typeof import('express')
export type SessionModule = typeof import('express-session')

/** express@4 and express-session@1.17.3, installed under npm aliases; they have no types of their own. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const express4 = require('express-4') as ExpressModule
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const session117 = require('express-session-1.17') as SessionModule

export const COOKIE_NAME = 'connect.sid'
export const SECRET = 'e2e secret'

/** The session fields the routes use, read without augmenting express-session's global `SessionData`. */
interface Fields {
  user?: string | undefined
  counter?: number | undefined
}
const fields = (req: Request): Fields => req.session as unknown as Fields

export interface AppOptions {
  readonly express: ExpressModule
  readonly session: SessionModule
  readonly store: session.Store
  readonly resave: boolean
  readonly rolling?: boolean
  /** Cookie options; omit `maxAge` for a browser-session cookie. */
  readonly cookie?: session.CookieOptions
}

/** Test hooks the routes call, so a race trial can order the requests it interleaves. Replace them freely. */
export interface Hooks {
  /** `/slow` calls it (with its `trial` parameter) once it has read the session, and waits for it before its delay. */
  slowEntered: (trial: string) => Promise<void>
  /** `/logout` calls it (with the session id) just before `req.session.destroy()`. */
  logoutEntered: (sid: string) => void
}

export interface Served {
  readonly port: number
  readonly hooks: Hooks
  readonly close: () => Promise<void>
}

/**
 * Routes:
 * - `POST /login`       sets `user = 'alice'` (and `counter = 0`); replies `{ sid }`
 * - `GET  /me`          replies `{ sid, user, counter }` (user `null` when there is none); never modifies
 * - `POST /reload`      sets `user = 'mallory'` in memory, then `req.session.reload()`; replies `{ sid, user, counter }`
 * - `POST /regenerate`  `req.session.regenerate()` and carries the user over; replies `{ old, sid }`
 * - `POST /logout`      `req.session.destroy()`; replies `{ destroyed: sid }`
 * - `GET  /slow?trial=&delay=&modify=`  reads the session, optionally `counter++`, waits for `hooks.slowEntered`,
 *                                      then answers after `delay` ms (express-session saves or touches on that answer)
 */
export const serve = (opts: AppOptions): Promise<Served> => {
  const app = opts.express()
  const hooks: Hooks = { slowEntered: () => Promise.resolve(), logoutEntered: () => undefined }
  app.use(
    opts.session({
      store: opts.store,
      secret: SECRET,
      name: COOKIE_NAME,
      resave: opts.resave,
      rolling: opts.rolling ?? false,
      saveUninitialized: false,
      cookie: opts.cookie ?? {}
    })
  )
  const fail = (res: Response, err: unknown): void => {
    res.status(500).json({ error: String(err) })
  }

  app.post('/login', (req: Request, res: Response) => {
    fields(req).user = 'alice'
    fields(req).counter = 0
    res.json({ sid: req.sessionID })
  })
  app.get('/me', (req: Request, res: Response) => {
    res.json({ sid: req.sessionID, user: fields(req).user ?? null, counter: fields(req).counter ?? null })
  })
  app.post('/reload', (req: Request, res: Response) => {
    fields(req).user = 'mallory'
    req.session.reload((err: unknown) => {
      if (err) return fail(res, err)
      res.json({ sid: req.sessionID, user: fields(req).user ?? null, counter: fields(req).counter ?? null })
    })
  })
  app.post('/regenerate', (req: Request, res: Response) => {
    const old = req.sessionID
    const user = fields(req).user
    req.session.regenerate((err: unknown) => {
      if (err) return fail(res, err)
      fields(req).user = user
      res.json({ old, sid: req.sessionID })
    })
  })
  app.post('/logout', (req: Request, res: Response) => {
    const sid = req.sessionID
    hooks.logoutEntered(sid)
    req.session.destroy((err: unknown) => {
      if (err) return fail(res, err)
      res.json({ destroyed: sid })
    })
  })
  app.get('/slow', (req: Request, res: Response) => {
    const trial = String(req.query['trial'] ?? '')
    const delay = Number(req.query['delay'] ?? 0)
    const user = fields(req).user ?? null
    if (user !== null && req.query['modify'] === '1') fields(req).counter = (fields(req).counter ?? 0) + 1
    void hooks.slowEntered(trial).then(() => setTimeout(() => res.json({ sid: req.sessionID, user }), delay))
  })

  return listen(app).then((listening) => ({ ...listening, hooks }))
}

// --- HTTP client

export type Reply = HttpReply

/** A hung request fails the test instead of hanging the run (uvu has no test timeout). */
const REQUEST_TIMEOUT_MS = 10_000

const client = httpClient(COOKIE_NAME)
/** Closes the keep-alive sockets of the shared agent (call in `after`). */
export const closeAgent = client.closeAgent

/** Rejects on a connection error or after REQUEST_TIMEOUT_MS without an answer. */
export const request = (port: number, method: 'GET' | 'POST', path: string, cookie?: string): Promise<Reply> =>
  client.send(port, method, path, cookie, REQUEST_TIMEOUT_MS)

/** The session id inside a signed cookie `connect.sid=s%3A<sid>.<signature>`. */
export { sidOfCookie }

// --- concurrency

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export interface Deferred {
  readonly promise: Promise<void>
  readonly resolve: () => void
}
export const deferred = (): Deferred => {
  let resolve: () => void = () => undefined
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

/** A uniform random integer in `[lo, hi]`. */
export const randomInt = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo + 1))

/** Runs `task(0..count-1)` with at most `width` in flight; resolves to the results in order. */
export const pool = async <A>(count: number, width: number, task: (i: number) => Promise<A>): Promise<Array<A>> => {
  const results = new Array<A>(count)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++
      results[i] = await task(i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker))
  return results
}

// --- store instrumentation

export interface WriteLog {
  /** Session ids whose `destroy` has completed (callback called). */
  readonly destroyed: Set<string>
  /** Per session id, the writes (`set`/`touch`) that started after its `destroy` had completed. */
  readonly lateWrites: Map<string, Array<'set' | 'touch'>>
}

type Cb = (err?: unknown) => void
interface Writable {
  set: (sid: string, sess: session.SessionData, cb?: Cb) => unknown
  touch?: ((sid: string, sess: session.SessionData, cb?: Cb) => unknown) | undefined
  destroy: (sid: string, cb?: Cb) => unknown
}

/**
 * Wraps a store's `set`, `touch` and `destroy` (as own properties, so it works for our prototype-less
 * facade and for class-based stores alike) to record which writes reached the store after a destroy: this
 * shows that a race trial really interleaved.
 */
export const instrument = <S extends session.Store>(store: S): WriteLog => {
  const log: WriteLog = { destroyed: new Set(), lateWrites: new Map() }
  const s = store as unknown as Writable
  const set = s.set.bind(store)
  const destroy = s.destroy.bind(store)
  const touch = s.touch?.bind(store)
  const late = (sid: string, kind: 'set' | 'touch'): void => {
    if (log.destroyed.has(sid)) log.lateWrites.set(sid, [...(log.lateWrites.get(sid) ?? []), kind])
  }
  s.set = (sid, sess, cb) => {
    late(sid, 'set')
    return set(sid, sess, cb)
  }
  if (touch !== undefined) {
    s.touch = (sid, sess, cb) => {
      late(sid, 'touch')
      return touch(sid, sess, cb)
    }
  }
  s.destroy = (sid, cb) =>
    destroy(sid, (err?: unknown) => {
      log.destroyed.add(sid)
      cb?.(err)
    })
  return log
}
