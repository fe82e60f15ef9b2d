'use strict'
// One Fastify 5 + @fastify/session app for the HTTP benchmark, in its own process: @fastify/session saves on every
// request by default (rolling). argv[2] names the store: connect-redis | ours. Prints "listening <port>" when ready.
// STORE_DIST, when set, is the build 'ours' loads instead of ../dist. The routes are those of http-server.js.
const Fastify = require('fastify')
const { createClient } = require('redis')

const kind = process.argv[2]
const url = process.env.REDIS_URL

const makeStore = async () => {
  const client = await createClient({ url }).connect()
  if (kind === 'connect-redis') {
    const { RedisStore } = require('connect-redis')
    return new RedisStore({ client, prefix: 'f-cr:' })
  }
  const { createRedisStore } = require(process.env.STORE_DIST || '../dist')
  if (kind === 'ours') return createRedisStore(client, { prefix: 'f-ours:' })
  throw new Error(`unknown store ${kind}`)
}

;(async () => {
  const app = Fastify()
  await app.register(require('@fastify/cookie'))
  await app.register(require('@fastify/session'), {
    store: await makeStore(),
    secret: 'bench-secret-bench-secret-bench-secret',
    cookie: { secure: false, maxAge: 86400000 },
    saveUninitialized: false
  })
  app.get('/login', async (req) => {
    req.session.set('user', { id: 42, name: 'alice', roles: ['reader', 'writer'] })
    req.session.set('views', 0)
    return 'ok'
  })
  app.get('/read', async (req) => String(req.session.get('user') ? req.session.get('views') : -1))
  app.get('/write', async (req) => {
    const views = (req.session.get('views') || 0) + 1
    req.session.set('views', views)
    return String(views)
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  console.log(`listening ${app.server.address().port}`)
  process.on('SIGTERM', () => process.exit(0))
})().catch((e) => {
  console.error(e)
  process.exit(1)
})
