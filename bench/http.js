'use strict'
// End to end over HTTP: Express 5 + express-session with MemoryStore, connect-redis and this store, a read
// route (session read, unmodified) and a write route (session modified). Load comes from autocannon in
// another process; interleaved rounds, median requests per second.
const { spawn, execFile } = require('child_process')
const http = require('http')
const path = require('path')
const { median } = require('./lib')

const AUTOCANNON = path.join(path.dirname(require.resolve('autocannon/package.json')), 'autocannon.js')

const startApp = (kind, url, dist, server = 'http-server.js', env = {}) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, server), kind], {
      env: { ...process.env, ...env, REDIS_URL: url, ...(dist === undefined ? {} : { STORE_DIST: dist }) },
      stdio: ['ignore', 'pipe', 'inherit']
    })
    child.on('error', reject)
    child.stdout.on('data', (d) => {
      const m = /listening (\d+)/.exec(String(d))
      if (m)
        resolve({ port: Number(m[1]), stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))) })
    })
    child.once('exit', (code) => reject(new Error(`${kind} app exited with ${code}`)))
  })

const login = (port) =>
  new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/login' }, (res) => {
        res.resume()
        const cookie = (res.headers['set-cookie'] || [])[0]
        if (cookie) resolve(cookie.split(';')[0])
        else reject(new Error('no session cookie'))
      })
      .on('error', reject)
  })

const load = (port, route, cookie, seconds, connections) =>
  new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        AUTOCANNON,
        '-j',
        '-c',
        String(connections),
        '-d',
        String(seconds),
        '-H',
        `Cookie=${cookie}`,
        `http://127.0.0.1:${port}${route}`
      ],
      { maxBuffer: 16 * 1024 * 1024 },
      (err, stdout) => {
        if (err) return reject(err)
        const r = JSON.parse(stdout)
        if (r.non2xx > 0 || r.errors > 0) return reject(new Error(`${route}: ${r.non2xx} non-2xx, ${r.errors} errors`))
        resolve(r.requests.average)
      }
    )
  })

/**
 * `apps`, when given, names the apps to compare: { name: { kind, dist, server, env } } (a kind of http-server.js — or
 * of `server`, fastify-server.js —, the build it loads, and environment variables: `HTTP_RESAVE=1` for express-session
 * with `resave` and `rolling`); by default the four kinds on this tree's build.
 */
const runHttp = async ({ url, rounds, seconds, connections, log, apps: wanted }) => {
  const specs =
    wanted ?? Object.fromEntries(['memory', 'connect-redis', 'ours', 'ours-lazy'].map((k) => [k, { kind: k }]))
  const kinds = Object.keys(specs)
  const apps = {}
  const samples = {}
  try {
    for (const kind of kinds) {
      apps[kind] = await startApp(specs[kind].kind, url, specs[kind].dist, specs[kind].server, specs[kind].env)
      apps[kind].cookie = await login(apps[kind].port)
    }
    for (let r = 0; r < rounds; r++) {
      for (const route of ['/read', '/write']) {
        const order = kinds.map((_, k) => kinds[(k + r) % kinds.length])
        for (const kind of order) {
          const rps = await load(apps[kind].port, route, apps[kind].cookie, seconds, connections)
          ;((samples[route] ??= {})[kind] ??= []).push(rps)
        }
      }
      log(`  http round ${r + 1}/${rounds} done`)
    }
  } finally {
    await Promise.all(Object.values(apps).map((a) => a.stop()))
  }
  const result = {}
  for (const [route, byKind] of Object.entries(samples)) {
    result[route] = Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, { rps: median(v), samples: v }]))
  }
  return result
}

module.exports = { runHttp }
