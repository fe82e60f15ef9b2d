'use strict'
// One Express 5 + express-session app for the HTTP benchmark, in its own process. argv[2] names the store:
// memory | connect-redis | ours | ours-lazy. Prints "listening <port>" when ready. STORE_DIST, when set, is the
// build 'ours' and 'ours-lazy' load instead of ../dist (the A/B against a git ref runs the ref's build so).
const express = require('express')
const session = require('express-session')
const { createClient } = require('redis')

const kind = process.argv[2]
const url = process.env.REDIS_URL

const makeStore = async () => {
  if (kind === 'memory') return new session.MemoryStore()
  const client = await createClient({ url }).connect()
  if (kind === 'connect-redis') {
    const { RedisStore } = require('connect-redis')
    return new RedisStore({ client, prefix: 'h-cr:' })
  }
  const { createRedisStore } = require(process.env.STORE_DIST || '../dist')
  if (kind === 'ours') return createRedisStore(client, { prefix: 'h-ours:' })
  if (kind === 'ours-lazy') return createRedisStore(client, { prefix: 'h-lazy:', touchAfterSeconds: 60 })
  throw new Error(`unknown store ${kind}`)
}

;(async () => {
  const app = express()
  app.use(
    session({
      store: await makeStore(),
      secret: 'bench-secret',
      // HTTP_RESAVE=1: every request saves (resave) and moves the cookie's expiry (rolling), changed or not.
      resave: process.env.HTTP_RESAVE === '1',
      rolling: process.env.HTTP_RESAVE === '1',
      saveUninitialized: false,
      cookie: { maxAge: 86400000 }
    })
  )
  app.get('/login', (req, res) => {
    req.session.user = { id: 42, name: 'alice', roles: ['reader', 'writer'] }
    req.session.views = 0
    res.end('ok')
  })
  app.get('/read', (req, res) => res.end(String(req.session.user ? req.session.views : -1)))
  app.get('/write', (req, res) => {
    req.session.views = (req.session.views || 0) + 1
    res.end(String(req.session.views))
  })
  const server = app.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`))
  process.on('SIGTERM', () => process.exit(0))
})().catch((e) => {
  console.error(e)
  process.exit(1)
})
