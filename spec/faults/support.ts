/**
 * Fault-spec support: a redis-server this process owns (started on a chosen port, so it can be restarted in
 * place, and signalled by its PID only), an Express 5 + express-session app over the store, a small HTTP
 * client with a client-side timeout, the server + client + store + app fixture of the single-fault specs, a bounded load loop that records every request, and timing of each
 * store operation.
 *
 * The fault specs run when asked for: `npm run test:faults` (`SPEC=^faults/`), `FAULTS=1 npm test`, or any
 * `SPEC` filter that selects spec/faults. A plain `npm test` skips them, so CI runs them once, in their own
 * step (about a minute).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'fs'
import { tmpdir } from 'os'
import { join } from 'path'
import express, { type NextFunction, type Request, type Response } from 'express'
import session from 'express-session'
import { createClient } from 'redis'
import * as assert from 'uvu/assert'
import { createRedisStore } from '../../src'
import { httpClient, listen, sidOfCookie } from '../support/http'
import { freePort, launchRedis } from '../support/redis-server'

/** Whether this run asked for the fault specs: `FAULTS=1`, or a `SPEC` filter that selects a spec of this folder. */
const selectedBySpec = (spec: string | undefined): boolean => {
  if (spec === undefined || spec === '') return false
  try {
    const re = new RegExp(spec)
    return readdirSync(__dirname).some((f) => f.endsWith('.spec.js') && re.test(`faults/${f}`))
  } catch {
    return false
  }
}
export const faultsEnabled = process.env['FAULTS'] === '1' || selectedBySpec(process.env['SPEC'])
if (!faultsEnabled)
  console.log('fault specs (spec/faults) skipped: run them with npm run test:faults (or FAULTS=1 npm test)')

export const PREFIX = 'sessions:'
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
export const now = (): number => performance.now()

/** Prints one measured line, so the numbers show in the CI log. */
export const report = (scenario: string, numbers: Record<string, unknown>): void => {
  const parts = Object.entries(numbers).map(
    ([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(1) : String(v)}`
  )
  console.log(`[fault] ${scenario}: ${parts.join(' ')}`)
}

// --- redis-server owned by this process

export interface OwnedRedis {
  readonly port: number
  readonly url: string
  readonly pid: number
  readonly dir: string
  /** Sends a signal to this server's PID (never by name). */
  readonly signal: (sig: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT') => void
  /** The process state letter of /proc/<pid>/stat: `T` once SIGSTOP has taken effect, `S`/`R` when running. */
  readonly state: () => string
  /** Resolves once the process has exited. */
  readonly exited: Promise<void>
  /** SIGCONT (in case it was stopped), SIGKILL, wait for the exit; removes the data dir when it owns it. */
  readonly stop: () => Promise<void>
}

const safeKill = (pid: number, sig: NodeJS.Signals): void => {
  try {
    process.kill(pid, sig)
  } catch {
    // already gone
  }
}

/** The state letter of /proc/<pid>/stat (the field after the command name), or `gone`. */
export const processState = (pid: number): string => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? 'unknown'
  } catch {
    return 'gone'
  }
}

/**
 * Sends SIGSTOP and waits until the kernel reports the process stopped (`T`), so that a fault spec measures a
 * server that really is hung; throws if it is not stopped within a second.
 */
export const stopProcess = async (server: Pick<OwnedRedis, 'signal' | 'state'>): Promise<void> => {
  server.signal('SIGSTOP')
  for (let i = 0; i < 100; i++) {
    if (server.state() === 'T') return
    await sleep(10)
  }
  throw new Error(`SIGSTOP did not stop redis-server (state ${server.state()})`)
}

export interface SpawnOptions {
  /** A port to reuse (a restart in place); a free one by default. */
  readonly port?: number
  /** A data directory to reuse (AOF survives a restart); a fresh temporary one, removed on stop, by default. */
  readonly dir?: string
  readonly args?: ReadonlyArray<string>
}

/** Starts `redis-server` on 127.0.0.1 as a child of this process; ready once it accepts connections. */
export const spawnRedis = async (opts: SpawnOptions = {}): Promise<OwnedRedis> => {
  const port = opts.port ?? (await freePort())
  const ownsDir = opts.dir === undefined
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'crs-fault-'))
  const { child, exited } = await launchRedis(port, dir, opts.args, 10)
  const pid = child.pid
  if (pid === undefined) throw new Error('redis-server did not start')
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid,
    dir,
    signal: (sig) => safeKill(pid, sig),
    state: () => processState(pid),
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        safeKill(pid, 'SIGCONT')
        safeKill(pid, 'SIGKILL')
      }
      await exited
      if (ownsDir) rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** Runs `f` with a short-lived admin connection that does not retry. */
const makeAdmin = (url: string) => createClient({ url, socket: { reconnectStrategy: false } })
export type Admin = ReturnType<typeof makeAdmin>

export const withAdmin = async <A>(url: string, f: (admin: Admin) => Promise<A>): Promise<A> => {
  const admin = makeAdmin(url)
  admin.on('error', () => undefined)
  await admin.connect()
  try {
    return await f(admin)
  } finally {
    admin.destroy()
  }
}

/**
 * The client configuration the outage specs use, found by these specs: reconnect quickly and forever (also
 * after a `SocketTimeoutError`, on which node-redis's default strategy gives up for good).
 */
export const reconnectQuickly = (retries: number): number => Math.min(retries * 50, 500)

// --- Express app

interface Fields {
  user?: string
  counter?: number
}
const fields = (req: Request): Fields => req.session as unknown as Fields

export const COOKIE_NAME = 'fault.sid'
const SECRET = 'fault secret'

export interface App {
  readonly port: number
  /** Errors express-session passed to `next` after the response had been sent (a failed touch or save at the end). */
  readonly lateErrors: Array<unknown>
  readonly close: () => Promise<void>
}

/**
 * Routes (each replies JSON; a missing `req.session` — express-session bypasses a disconnected store — is a 503):
 * - `POST /login`   `user = <name>`, then `req.session.save(cb)` before replying `{ sid }` (a failed save is a 500)
 * - `GET  /me`      `{ sid, user }` (user `null` when there is none)
 * - `POST /write`   `counter++`, `save(cb)`, `{ sid, counter }`
 * - `POST /logout`  `req.session.destroy(cb)`, `{ destroyed: sid }` (a failed destroy is a 500)
 * A store error reaches the error handler: 500 `{ code, message }`.
 */
export const serveApp = (store: session.Store, cookie: session.CookieOptions = { maxAge: 600_000 }): Promise<App> => {
  const app = express()
  const lateErrors: Array<unknown> = []
  app.use(session({ store, secret: SECRET, name: COOKIE_NAME, resave: false, saveUninitialized: false, cookie }))
  const noSession = (req: Request, res: Response): boolean => {
    if (req.session !== undefined) return false
    res.status(503).json({ error: 'no session (store disconnected)' })
    return true
  }
  app.post('/login', (req: Request, res: Response, next: NextFunction) => {
    if (noSession(req, res)) return
    fields(req).user = String(req.query['user'] ?? 'alice')
    req.session.save((err: unknown) => (err ? next(err) : res.json({ sid: req.sessionID })))
  })
  app.get('/me', (req: Request, res: Response) => {
    if (noSession(req, res)) return
    res.json({ sid: req.sessionID, user: fields(req).user ?? null })
  })
  app.post('/write', (req: Request, res: Response, next: NextFunction) => {
    if (noSession(req, res)) return
    fields(req).counter = (fields(req).counter ?? 0) + 1
    req.session.save((err: unknown) =>
      err ? next(err) : res.json({ sid: req.sessionID, counter: fields(req).counter })
    )
  })
  app.post('/logout', (req: Request, res: Response, next: NextFunction) => {
    if (noSession(req, res)) return
    const sid = req.sessionID
    req.session.destroy((err: unknown) => (err ? next(err) : res.json({ destroyed: sid })))
  })
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) {
      lateErrors.push(err)
      return
    }
    const e = err as { code?: unknown; message?: unknown }
    res.status(500).json({ code: e.code ?? null, message: String(e.message ?? err) })
  })
  return listen(app).then(({ port, close }) => ({ port, lateErrors, close }))
}

// --- HTTP client

export interface Reply {
  /** HTTP status, or 0 when the request failed client-side (timeout, connection error). */
  readonly status: number
  readonly body: Record<string, unknown>
  /** `name=value` of the session cookie, if the response set it. */
  readonly cookie: string | undefined
  readonly ms: number
  readonly error?: string
}

const client = httpClient(COOKIE_NAME)
/** Closes the keep-alive sockets (call when a suite ends). */
export const closeAgent = client.closeAgent

/** One request with a client-side timeout; never rejects (a failure is status 0 with `error`). */
export const request = (
  port: number,
  method: 'GET' | 'POST',
  path: string,
  cookie?: string,
  timeoutMs = 5_000
): Promise<Reply> => {
  const start = now()
  return client.send(port, method, path, cookie, timeoutMs).then(
    (r) => ({ status: r.status, body: r.body, cookie: r.cookie, ms: now() - start }),
    (e: Error) => ({ status: 0, body: {}, cookie: undefined, ms: now() - start, error: e.message })
  )
}

export { sidOfCookie }

/** Logs in over HTTP (asserting the 200); the cookie to send back and its session id. */
export const login = async (port: number): Promise<{ readonly cookie: string; readonly sid: string }> => {
  const r = await request(port, 'POST', '/login')
  assert.is(r.status, 200, `login: ${JSON.stringify(r.body)}`)
  const cookie = r.cookie as string
  return { cookie, sid: sidOfCookie(cookie) }
}

// --- one store behind the app

const storeClient = (url: string) => createClient({ url })

export interface StoreApp {
  readonly server: OwnedRedis
  readonly client: ReturnType<typeof storeClient>
  readonly store: ReturnType<typeof createRedisStore>
  readonly app: App
  /** Closes the app and the HTTP agent, destroys the client, stops the server. */
  readonly close: () => Promise<void>
}

/**
 * A redis-server started with `server`, a connected node-redis client (errors ignored), the store over it
 * with `operationTimeoutMs: 500`, and the app over the store. `prepare` gets the store before the app is
 * served (to listen to its events or time its operations).
 */
export const serveStoreApp = async (
  server: SpawnOptions = {},
  prepare: (store: ReturnType<typeof createRedisStore>) => void = () => undefined
): Promise<StoreApp> => {
  const redis = await spawnRedis(server)
  const client = storeClient(redis.url)
  client.on('error', () => undefined)
  try {
    await client.connect()
    const store = createRedisStore(client, { operationTimeoutMs: 500 })
    prepare(store)
    const app = await serveApp(store)
    return {
      server: redis,
      client,
      store,
      app,
      close: async () => {
        await app.close()
        closeAgent()
        client.destroy()
        await redis.stop()
      }
    }
  } catch (e) {
    if (client.isOpen) client.destroy()
    await redis.stop()
    throw e
  }
}

// --- load

export interface Sample {
  readonly route: string
  readonly start: number
  readonly end: number
  readonly ms: number
  readonly status: number
  /** The request did what it should (200, and the session it expected). */
  readonly ok: boolean
  readonly code?: string
}

export interface Load {
  readonly samples: Array<Sample>
  /** Sessions whose login was acknowledged and that were never logged out: they must still exist. */
  readonly kept: Set<string>
  /** Sessions whose logout was acknowledged: they must never be live again. */
  readonly destroyed: Set<string>
  /** Resolves when every virtual user has finished its current request and stopped. */
  readonly done: Promise<void>
}

/**
 * `users` virtual users, each looping until `stopAt` (a `performance.now()` time): login → me → (every other
 * cycle) logout. Every request has a client-side timeout. A request is `ok` when it answered 200 with the
 * expected session (`/me` sees the user that logged in).
 */
export const runLoad = (port: number, users: number, stopAt: number, timeoutMs = 5_000): Load => {
  const samples: Array<Sample> = []
  const kept = new Set<string>()
  const destroyed = new Set<string>()
  const record = (route: string, r: Reply, ok: boolean): void => {
    const end = now()
    const code = typeof r.body['code'] === 'string' ? (r.body['code'] as string) : r.status === 0 ? 'CLIENT' : undefined
    samples.push({
      route,
      start: end - r.ms,
      end,
      ms: r.ms,
      status: r.status,
      ok,
      ...(code === undefined ? {} : { code })
    })
  }
  const user = async (u: number): Promise<void> => {
    for (let cycle = 0; now() < stopAt; cycle++) {
      const name = `u${u}c${cycle}`
      const login = await request(port, 'POST', `/login?user=${name}`, undefined, timeoutMs)
      const loggedIn = login.status === 200 && login.cookie !== undefined
      record('login', login, loggedIn)
      if (!loggedIn) {
        if (login.status === 0 || login.status >= 500) await sleep(20)
        continue
      }
      const cookie = login.cookie as string
      const sid = sidOfCookie(cookie)
      const me = await request(port, 'GET', '/me', cookie, timeoutMs)
      record('me', me, me.status === 200 && me.body['user'] === name)
      if (cycle % 2 === 0) {
        const out = await request(port, 'POST', '/logout', cookie, timeoutMs)
        record('logout', out, out.status === 200)
        if (out.status === 200) destroyed.add(sid)
      } else {
        kept.add(sid)
      }
    }
  }
  const done = Promise.all(Array.from({ length: users }, (_, u) => user(u))).then(() => undefined)
  return { samples, kept, destroyed, done }
}

export interface LoadSummary {
  readonly total: number
  readonly failed: number
  readonly longestMs: number
  readonly failedCodes: Record<string, number>
}

export const summarize = (samples: ReadonlyArray<Sample>): LoadSummary => {
  const failedCodes: Record<string, number> = {}
  let failed = 0
  let longestMs = 0
  for (const s of samples) {
    longestMs = Math.max(longestMs, s.ms)
    if (!s.ok) {
      failed++
      const key = s.code ?? String(s.status)
      failedCodes[key] = (failedCodes[key] ?? 0) + 1
    }
  }
  return { total: samples.length, failed, longestMs, failedCodes }
}

/** Checks every tracked session in Redis: kept ones must be live strings, destroyed ones must not be. */
export const auditSessions = async (
  url: string,
  load: Load
): Promise<{ readonly lost: number; readonly resurrected: number }> =>
  withAdmin(url, async (admin) => {
    let lost = 0
    let resurrected = 0
    for (const sid of load.kept) if ((await admin.type(PREFIX + sid)) !== 'string') lost++
    for (const sid of load.destroyed) if ((await admin.type(PREFIX + sid)) === 'string') resurrected++
    return { lost, resurrected }
  })

// --- store operation timing

export interface OpTimes {
  /** Longest single store operation (get/set/touch/destroy through express-session's callbacks), ms. */
  longest: number
  count: number
  errors: number
}

type Cb = (err?: unknown, value?: unknown) => void
type Method = (...args: Array<unknown>) => unknown

/** Wraps the store's callback methods to time each operation from call to callback. */
export const timeOperations = (store: session.Store): OpTimes => {
  const times: OpTimes = { longest: 0, count: 0, errors: 0 }
  const s = store as unknown as Record<string, Method>
  for (const name of ['get', 'set', 'touch', 'destroy']) {
    const original = s[name]
    if (typeof original !== 'function') continue
    const bound = original.bind(store)
    s[name] = (...args: Array<unknown>) => {
      const cb = args[args.length - 1]
      if (typeof cb !== 'function') return bound(...args)
      const start = now()
      return bound(...args.slice(0, -1), (err?: unknown, value?: unknown) => {
        const ms = now() - start
        times.longest = Math.max(times.longest, ms)
        times.count++
        if (err) times.errors++
        ;(cb as Cb)(err, value)
      })
    }
  }
  return times
}
