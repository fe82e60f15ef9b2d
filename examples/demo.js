#!/usr/bin/env node
// A small Express 5 app on connect-redis-session: `npm run demo` (builds first, then runs this file).
//
//   REDIS_URL=redis://127.0.0.1:6379 npm run demo   use that Redis
//   npm run demo                                    start a throwaway redis-server (needs it on the PATH)
//   PORT=4000 npm run demo                          listen on another port (default 3000, always 127.0.0.1)
//   DEMO_SELFTEST=1 npm run demo                    start, send a few requests to itself, print them, exit
//
// Routes: GET / (the session), POST /login?user=alice, POST /logout, GET /sessions (store.access.all/length).
'use strict'
const { spawn } = require('child_process')
const { mkdtempSync, rmSync } = require('fs')
const net = require('net')
const os = require('os')
const path = require('path')

const loadBuild = () => {
  try {
    return require('../dist')
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(path.join('..', 'dist'))) {
      console.error('connect-redis-session is not built: run `npm run demo` (or `npm run build` first)')
      process.exit(1)
    }
    throw err
  }
}
const { createRedisStore, destroySession, regenerateSession, saveSession } = loadBuild()
const express = require('express')
const session = require('express-session')
const { createClient } = require('redis')

const selftest = process.env.DEMO_SELFTEST === '1'
const host = '127.0.0.1'
const port = process.env.PORT !== undefined && process.env.PORT !== '' ? Number(process.env.PORT) : selftest ? 0 : 3000

// --- a throwaway redis-server, stopped by its PID

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

/** Resolves to { url, pid, stop } once redis-server accepts connections; exits the demo when it cannot start. */
const startRedisServer = async () => {
  const redisPort = await freePort()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'crs-demo-redis-'))
  const child = spawn(
    'redis-server',
    ['--port', String(redisPort), '--bind', host, '--save', '', '--appendonly', 'no', '--dir', dir],
    {
      stdio: ['ignore', 'ignore', 'inherit']
    }
  )
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const cleanupDir = () => rmSync(dir, { recursive: true, force: true })
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
    if (failed.code === 'ENOENT') {
      console.error(
        'redis-server not found: install it (sudo apt-get install redis-server, brew install redis) or set REDIS_URL=redis://host:port'
      )
    } else {
      console.error(`could not start redis-server: ${failed.message}`)
    }
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

// --- the app

const buildApp = (store) => {
  const app = express()
  app.use(
    session({
      name: 'demo.sid',
      store,
      secret: process.env.SESSION_SECRET || 'demo-only-secret-change-me',
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax', maxAge: 60 * 60 * 1000 }
    })
  )

  // GET / shows this session, counting views.
  app.get('/', (req, res) => {
    req.session.views = (req.session.views || 0) + 1
    res.json({ sessionId: req.session.id, views: req.session.views, user: req.session.user || null })
  })

  // POST /login?user=alice: a new session id (no fixation), then the user in it.
  app.post('/login', async (req, res) => {
    const user = typeof req.query.user === 'string' ? req.query.user.trim() : ''
    if (!/^[\w.@-]{1,64}$/.test(user)) {
      res.status(400).json({ error: 'pass ?user=<name> (letters, digits, . _ @ -)' })
      return
    }
    await regenerateSession(req)
    req.session.user = user
    req.session.loggedInAt = new Date().toISOString()
    await saveSession(req) // saved before the answer: a failed save is an error, not a silent loss
    res.json({ loggedIn: user, sessionId: req.session.id })
  })

  // POST /logout destroys the session (the store leaves a tombstone so a late write cannot revive it).
  app.post('/logout', async (req, res) => {
    const sessionId = req.session.id
    const user = req.session.user || null
    await destroySession(req)
    res.clearCookie('demo.sid')
    res.json({ loggedOut: user, destroyed: sessionId })
  })

  // GET /sessions lists every live session through the promise API.
  app.get('/sessions', async (_req, res) => {
    const [length, all] = await Promise.all([store.access.length(), store.access.all()])
    res.json({ length, sessions: all })
  })

  app.use((err, _req, res, _next) => {
    console.error('request failed:', err && err.message ? err.message : err)
    res.status(500).json({ error: err && err.code ? err.code : 'internal error' })
  })
  return app
}

// --- DEMO_SELFTEST=1: a few requests to itself

const runSelftest = async (base, store) => {
  let cookie = ''
  const request = async (method, route) => {
    const res = await fetch(base + route, { method, headers: cookie ? { cookie } : {} })
    for (const c of res.headers.getSetCookie()) {
      const pair = c.split(';')[0]
      cookie = pair.endsWith('=') ? '' : pair
    }
    const body = await res.json()
    console.log(`selftest: ${method} ${route} -> ${res.status} ${JSON.stringify(body)}`)
    return { status: res.status, body }
  }
  const problems = []
  const expect = (label, ok) => {
    if (!ok) problems.push(label)
  }

  const first = await request('GET', '/')
  expect(
    'first GET / counts 1 view, no user',
    first.status === 200 && first.body.views === 1 && first.body.user === null
  )
  const login = await request('POST', '/login?user=alice')
  expect('login as alice', login.status === 200 && login.body.loggedIn === 'alice')
  expect('login gives a new session id', login.body.sessionId !== first.body.sessionId)
  const view1 = await request('GET', '/')
  const view2 = await request('GET', '/')
  expect('GET / after login shows alice', view1.body.user === 'alice' && view2.body.user === 'alice')
  expect('views count up in the logged-in session', view1.body.views === 1 && view2.body.views === 2)
  const listed = await request('GET', '/sessions')
  expect(
    'one live session (the pre-login one was destroyed)',
    listed.body.length === 1 && Object.keys(listed.body.sessions).length === 1
  )
  expect('the live session is alice', listed.body.sessions[login.body.sessionId]?.user === 'alice')
  const logout = await request('POST', '/logout')
  expect('logout destroys alice', logout.status === 200 && logout.body.loggedOut === 'alice')
  const after = await request('GET', '/sessions')
  expect('no live session after logout', after.body.length === 0)
  const bad = await request('POST', '/login')
  expect('login without a user is a 400', bad.status === 400)

  // Direct store check: the destroyed session is gone for good.
  expect('store.access.get of the destroyed session is null', (await store.access.get(login.body.sessionId)) === null)

  if (problems.length > 0) {
    for (const p of problems) console.log(`selftest: FAILED ${p}`)
    return false
  }
  console.log('selftest: ok')
  return true
}

// --- main

const main = async () => {
  const redis = process.env.REDIS_URL
    ? { url: process.env.REDIS_URL, pid: undefined, stop: async () => {} }
    : await startRedisServer()
  console.log(
    redis.pid === undefined
      ? `redis: ${redis.url} (REDIS_URL)`
      : `redis: started redis-server pid ${redis.pid} on ${redis.url}`
  )

  // Reconnect after a lost connection, but fail fast (instead of retrying forever) if Redis is not there at all.
  let connected = false
  const client = createClient({
    url: redis.url,
    socket: {
      connectTimeout: 5000,
      reconnectStrategy: (retries, cause) => (connected ? Math.min(100 * retries, 3000) : cause)
    }
  })
  client.on('error', (err) => console.error('redis client:', err.message))
  // A selftest against a shared REDIS_URL keeps to its own keys.
  const prefix = selftest ? `demo:selftest:${process.pid}:` : 'demo:'
  const store = createRedisStore(client, { prefix, concurrencyGraceSeconds: 60 })

  let server
  let stopping
  const shutdown = (code) => {
    if (stopping) return stopping
    stopping = (async () => {
      if (server) await new Promise((resolve) => server.close(() => resolve()))
      if (client.isOpen) await client.close().catch(() => client.destroy())
      await redis.stop()
      process.exit(code)
    })()
    return stopping
  }
  process.once('SIGINT', () => shutdown(0))
  process.once('SIGTERM', () => shutdown(0))

  try {
    await client.connect()
    connected = true
  } catch (err) {
    console.error(`could not connect to ${redis.url}: ${err.message}`)
    return shutdown(1)
  }

  const app = buildApp(store)
  server = app.listen(port, host)
  server.on('error', (err) => {
    console.error(
      err.code === 'EADDRINUSE' ? `port ${port} is in use: set PORT=<another port>` : `server error: ${err.message}`
    )
    server = undefined
    shutdown(1)
  })
  await new Promise((resolve) => server.once('listening', resolve))
  const base = `http://${host}:${server.address().port}`

  if (selftest) {
    console.log(`selftest: app on ${base}, session keys under "${prefix}"`)
    let ok = false
    try {
      ok = await runSelftest(base, store)
    } catch (err) {
      console.log(`selftest: FAILED ${err && err.stack ? err.stack : err}`)
    }
    if (!ok) await store.access.clear().catch(() => {})
    return shutdown(ok ? 0 : 1)
  }

  console.log(`connect-redis-session demo on ${base}`)
  console.log('try (the cookie jar keeps your session):')
  console.log(`  curl -b jar -c jar ${base}/`)
  console.log(`  curl -b jar -c jar -X POST '${base}/login?user=alice'`)
  console.log(`  curl -b jar -c jar ${base}/`)
  console.log(`  curl -b jar -c jar ${base}/sessions`)
  console.log(`  curl -b jar -c jar -X POST ${base}/logout`)
  console.log('Ctrl-C to stop.')
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err)
  process.exit(1)
})
