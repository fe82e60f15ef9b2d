#!/usr/bin/env node
// A small Express 5 app on connect-redis-session: `npm run demo` (builds first, then runs this file).
//
//   npm run demo                                    REDIS_URL when set, else a throwaway redis-server when one is
//                                                   on the PATH, else the in-memory client (no Redis needed)
//   REDIS_URL=redis://127.0.0.1:6379 npm run demo   use that Redis
//   PORT=4000 npm run demo                          listen on another port (default 3000, always 127.0.0.1)
//
// The first line it prints says which store it runs on. Pages: GET / (the session: contents, expiry, page
// views; a login form when nobody is logged in), POST /login (form field `name`), POST /logout, GET /devices
// ("Your devices": each session of the user, this device first, named from its user agent, with relative
// sign-in, last-active and expiry times), POST /devices/:id/destroy ("sign out", only a session of the same
// user), POST /devices/others/destroy ("sign out of all other devices"), GET /admin (live rates of the store's
// reads, hits, misses, writes, logouts and expiries per second, from its tracing channel, and the number of
// live sessions), GET /admin/rates (those rates as JSON).
// Ctrl-C (SIGINT) or SIGTERM stops it: the server, the client, and the redis-server it started, if any.
'use strict'
const { spawn } = require('child_process')
const fs = require('fs')
const net = require('net')
const os = require('os')
const path = require('path')

const loadBuild = () => {
  try {
    return { ...require('../dist'), ...require('../dist/memory') }
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(path.join('..', 'dist'))) {
      console.error('connect-redis-session is not built: run `npm run demo` (or `npm run build` first)')
      process.exit(1)
    }
    throw err
  }
}
const { createMemoryClient, createRedisStore, destroySession, regenerateSession, saveSession } = loadBuild()
const express = require('express')
const session = require('express-session')
const { devicesPage } = require('./demo/devices')
const { escapeHtml, page } = require('./demo/html')
const { adminPage, countOperations, makeRates } = require('./demo/rates')

const host = '127.0.0.1'
const port = process.env.PORT !== undefined && process.env.PORT !== '' ? Number(process.env.PORT) : 3000
const prefix = 'demo:'
const cookieName = 'demo.sid'

// --- where the sessions live: REDIS_URL, else a throwaway redis-server, else the in-memory client

/** The absolute path of `command` in a PATH folder, or undefined: the same lookup a shell does. */
const onPath = (command) =>
  (process.env.PATH || '')
    .split(path.delimiter)
    .filter((dir) => dir !== '')
    .map((dir) => path.join(dir, command))
    .find((file) => {
      try {
        fs.accessSync(file, fs.constants.X_OK)
        return fs.statSync(file).isFile()
      } catch {
        return false
      }
    })

const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.once('error', reject)
    srv.listen(0, host, () => {
      const { port: p } = srv.address()
      srv.close(() => resolve(p))
    })
  })

const canConnect = (p) =>
  new Promise((resolve) => {
    const s = net.connect(p, host)
    s.once('connect', () => {
      s.end()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })

/**
 * Starts `binary` on a free port and resolves to { url, pid, stop } once it accepts connections. It runs in
 * its own process group, so the terminal's Ctrl-C reaches only the demo, which stops it by its PID.
 */
const startRedisServer = async (binary) => {
  const redisPort = await freePort()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crs-demo-redis-'))
  const child = spawn(
    binary,
    // Keyspace notifications (K) of expired keys (x) and hash writes (h): the store's 'expired' events.
    [
      ...['--port', String(redisPort), '--bind', host, '--save', '', '--appendonly', 'no', '--dir', dir],
      ...['--notify-keyspace-events', 'Khx']
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], detached: true }
  )
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const cleanupDir = () => fs.rmSync(dir, { recursive: true, force: true })
  // Never leave it behind, whatever way this process ends (the 'exit' handler can only do synchronous work).
  process.on('exit', () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL')
      } catch {}
    }
    cleanupDir()
  })
  const failed = await new Promise((resolve) => {
    child.once('error', (err) => resolve(err))
    child.once('exit', (code, signal) => resolve(new Error(`redis-server exited early (${signal || `code ${code}`})`)))
    const deadline = Date.now() + 10_000
    const poll = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      if (await canConnect(redisPort)) return resolve(null)
      if (Date.now() > deadline)
        return resolve(new Error(`redis-server did not listen on ${host}:${redisPort} within 10 s`))
      setTimeout(poll, 25)
    }
    child.once('spawn', poll)
  })
  if (failed) {
    cleanupDir()
    console.error(`could not start ${binary}: ${failed.message} (set REDIS_URL=redis://host:port to use another Redis)`)
    process.exit(1)
  }
  return {
    url: `redis://${host}:${redisPort}`,
    pid: child.pid,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid, 'SIGTERM')
        } catch {}
        const timer = setTimeout(() => {
          try {
            process.kill(child.pid, 'SIGKILL')
          } catch {}
        }, 3000)
        await exited
        clearTimeout(timer)
      }
      cleanupDir()
    }
  }
}

/** A node-redis client on `url`: reconnects after a lost connection, fails fast when Redis is not there at all. */
const redisBackend = async (url, describe, server) => {
  const { createClient } = require('redis')
  let connected = false
  const client = createClient({
    url,
    socket: {
      connectTimeout: 5000,
      reconnectStrategy: (retries, cause) => (connected ? Math.min(100 * retries, 3000) : cause)
    }
  })
  client.on('error', (err) => console.error('redis client:', err.message))
  return {
    describe,
    client,
    connect: async () => {
      await client.connect()
      connected = true
    },
    ttlMs: (key) => client.pTTL(key),
    close: async () => {
      if (client.isOpen) await client.close().catch(() => client.destroy())
      if (server) await server.stop()
    }
  }
}

const memoryBackend = () => {
  const client = createMemoryClient()
  return {
    describe:
      'store: the in-memory client (no REDIS_URL, no redis-server on the PATH): sessions live in this process and end with it',
    client,
    connect: async () => {},
    ttlMs: async (key) => client.keyspace.pttl(key),
    close: async () => client.connection.close()
  }
}

const chooseBackend = async () => {
  if (process.env.REDIS_URL) {
    return redisBackend(process.env.REDIS_URL, `store: Redis at ${process.env.REDIS_URL} (REDIS_URL)`)
  }
  const binary = onPath('redis-server')
  if (binary === undefined) return memoryBackend()
  const server = await startRedisServer(binary)
  return redisBackend(
    server.url,
    `store: a throwaway redis-server (${binary}, pid ${server.pid}) on ${server.url}, stopped when the demo stops`,
    server
  )
}

// --- the app

const loginForm = (problem) => `<form method="post" action="/login">
${
  problem ? `<p id="problem">${escapeHtml(problem)}</p>\n` : ''
}<label>Your name <input name="name" maxlength="40" autofocus required></label>
<button>Log in</button>
</form>`

const seconds = (ms) => `${Math.round(ms / 1000)} s`

const buildApp = (backend, store, rates, expiries) => {
  const app = express()

  // GET /admin and GET /admin/rates come before the session middleware: watching the store adds no reads to it
  // (the live session count is a `length`, a walk the tiles do not count).
  const activity = async () => ({ ...rates.snapshot(), sessions: await store.access.length(), expiries: expiries() })
  app.get('/admin', async (_req, res) => {
    res.type('html').send(page('Store activity', adminPage(await activity()), { wide: true }))
  })
  app.get('/admin/rates', async (_req, res) => {
    res.set('cache-control', 'no-store').json(await activity())
  })

  app.use(express.urlencoded({ extended: false, limit: '2kb' }))
  app.use(
    session({
      name: cookieName,
      store,
      secret: process.env.SESSION_SECRET || 'demo-only-secret-change-me',
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax', maxAge: 60 * 60 * 1000 }
    })
  )

  app.use((req, _res, next) => {
    // express-session renews the cookie's expiry (touch) only as the response goes out, after the handler: a
    // handler that saves first, as / and /devices do, would store and show the previous request's expiry.
    if (req.session) req.session.touch()
    // Every request of a logged-in user records its device (user agent) and when it was last seen.
    if (req.session && req.session.user) {
      req.session.userAgent = String(req.get('user-agent') || 'unknown').slice(0, 200)
      req.session.lastSeenAt = new Date().toISOString()
    }
    next()
  })

  // GET /: counts the view, saves, and shows the session as the store now holds it, with its expiry.
  app.get('/', async (req, res) => {
    req.session.views = (req.session.views || 0) + 1
    await saveSession(req) // saved before the page is drawn, so the page shows what the store holds
    const sid = req.session.id
    const key = prefix + sid
    const [stored, ttl, live] = await Promise.all([store.access.get(sid), backend.ttlMs(key), store.access.length()])
    const expires = req.session.cookie.expires
    const user = req.session.user
    res.type('html').send(
      page(
        'connect-redis-session demo',
        `<h1>${user ? `Hello, <span id="user">${escapeHtml(user)}</span>` : 'Not logged in'}</h1>
<p>Page views in this session: <strong id="views">${req.session.views}</strong></p>
<p>Session <code id="sid">${escapeHtml(sid)}</code>, stored at key <code>${escapeHtml(key)}</code>.</p>
<p>Expires at <time id="expires">${expires ? expires.toISOString() : 'end of browser session'}</time>;
the key's TTL in the store: <span id="ttl">${ttl >= 0 ? seconds(ttl) : String(ttl)}</span>.</p>
<p>Live sessions in the store: <span id="live">${live}</span>.</p>
<h2>Session contents, as the store holds them</h2>
<pre id="contents">${escapeHtml(JSON.stringify(stored, null, 2))}</pre>
${
  user
    ? '<p><a href="/devices">Your devices</a></p>\n<form method="post" action="/logout"><button>Log out</button></form>'
    : loginForm(typeof req.query.problem === 'string' ? req.query.problem : '')
}
<p><a href="/admin">Store activity</a> (live rates)</p>`
      )
    )
  })

  // POST /login (name=alice): a new session id (no fixation), then the user in it.
  app.post('/login', async (req, res) => {
    const name = typeof req.body?.name === 'string' ? req.body.name.trim() : ''
    if (!/^[\p{L}\p{N} ._@-]{1,40}$/u.test(name)) {
      res
        .status(400)
        .type('html')
        .send(page('Log in', loginForm('A name is 1 to 40 letters, digits, spaces or . _ @ -')))
      return
    }
    await regenerateSession(req)
    req.session.user = name
    req.session.loggedInAt = new Date().toISOString()
    req.session.createdAt = req.session.loggedInAt // shown on /devices when the store stamps no __createdAt
    req.session.userAgent = String(req.get('user-agent') || 'unknown').slice(0, 200)
    req.session.lastSeenAt = req.session.loggedInAt
    await saveSession(req) // saved before the answer: a failed save is an error, not a silent loss
    res.redirect(303, '/')
  })

  // POST /logout destroys the session (the store leaves a tombstone so a late write cannot revive it).
  app.post('/logout', async (req, res) => {
    await destroySession(req)
    res.clearCookie(cookieName)
    res.redirect(303, '/')
  })

  // GET /devices: the user's sessions (the store's per-owner index), this one marked, a sign-out button on the others.
  app.get('/devices', async (req, res) => {
    const user = req.session.user
    if (!user) return res.redirect(303, '/')
    await saveSession(req) // this request's last-seen time and expiry are in the list
    const devices = await store.access.sessionsOf(user)
    res
      .type('html')
      .send(page('Your devices', devicesPage({ user, devices, currentId: req.sessionID, now: Date.now() })))
  })

  // POST /devices/others/destroy: every other session of the user becomes a tombstone.
  app.post('/devices/others/destroy', async (req, res) => {
    const user = req.session.user
    if (!user) return res.redirect(303, '/')
    await store.access.destroySessionsOf(user, { except: req.sessionID })
    res.redirect(303, '/devices')
  })

  // POST /devices/:id/destroy: signs out one device, only when that session belongs to the same user.
  app.post('/devices/:id/destroy', async (req, res) => {
    const user = req.session.user
    if (!user) return res.redirect(303, '/')
    const devices = await store.access.sessionsOf(user)
    if (!devices.some((d) => d.id === req.params.id)) {
      res.status(404).type('text').send('no such device')
      return
    }
    await store.access.destroy(req.params.id)
    res.redirect(303, '/devices')
  })

  app.use((err, _req, res, _next) => {
    console.error('request failed:', err && err.message ? err.message : err)
    res
      .status(500)
      .type('text')
      .send(`error: ${err && err.code ? err.code : 'internal error'}`)
  })
  return app
}

// --- the store

/**
 * The demo's store, counted on the admin page: its operations from the tracing channel (subscribed first, so
 * none is missed), and each session Redis expires from its `expired` events (keyspace notifications: the
 * throwaway redis-server is started with them on, the in-memory client always has them). `expiries()` says
 * whether they come; a Redis of REDIS_URL without them makes the store warn, and the demo prints the warning.
 */
const makeStore = (backend, rates) => {
  countOperations(rates)
  const options = { prefix, concurrencyGraceSeconds: 60, ownerOf: (s) => s.user }
  let expiries = { on: true }
  const store = createRedisStore(backend.client, { ...options, expiredEvents: true })
  store.on('expired', () => rates.add('expiries'))
  // With a listener, the store's warnings (notify-keyspace-events, the eviction policy) are the demo's to print.
  store.on('warning', (message) => {
    console.warn(`store warning: ${message}`)
    if (String(message).startsWith('expiredEvents:')) expiries = { on: false, why: String(message) }
  })
  return { store, expiries: () => expiries }
}

// --- main

const main = async () => {
  let backend
  let server
  let stopping
  const shutdown = (code) => {
    if (stopping) return stopping
    stopping = (async () => {
      if (server) {
        const closed = new Promise((resolve) => server.close(() => resolve()))
        server.closeAllConnections() // a browser's keep-alive connection must not hold the exit
        await closed
      }
      if (backend) await backend.close()
      if (code === 0) console.log('demo stopped')
      process.exit(code) // a redis-server still starting is killed by its 'exit' handler
    })()
    return stopping
  }
  process.on('SIGINT', () => shutdown(0)) // 'on': npm forwards the terminal's Ctrl-C a second time
  process.on('SIGTERM', () => shutdown(0))

  backend = await chooseBackend()
  console.log(backend.describe)
  const rates = makeRates()
  const { store, expiries } = makeStore(backend, rates)

  try {
    await backend.connect()
  } catch (err) {
    console.error(`could not connect: ${err.message}`)
    return shutdown(1)
  }

  server = buildApp(backend, store, rates, expiries).listen(port, host)
  server.on('error', (err) => {
    console.error(
      err.code === 'EADDRINUSE' ? `port ${port} is in use: set PORT=<another port>` : `server error: ${err.message}`
    )
    server = undefined
    shutdown(1)
  })
  await new Promise((resolve) => server.once('listening', resolve))
  console.log(`connect-redis-session demo: open http://${host}:${server.address().port}/`)
  console.log('Log in with a name, reload to count views, log out. Ctrl-C to stop.')
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err)
  process.exit(1)
})
