'use strict'
// `npm run bench -- --against <git ref> [--quick]`: this tree against the store as it was at <ref>, and against
// connect-redis, in one run on one redis-server. The ref is built in a temporary `git worktree` (this tree's
// node_modules linked into it, then the ref's own `npm run build`), removed at the end, also on failure.
// Two interleaved A/Bs: get/set/touch/destroy through the express-session callback API (64 in flight, chunks of
// 2,000 ops per store, the stores' order rotating each round, medians), and HTTP read/write through Express +
// express-session (bench/http.js). The single-key rounds also run this tree's dist loaded a second time ('again': the
// same code, a module instance of its own), an A/A control of the harness's noise and bias. Prints three tables,
// ours vs ref, ours vs connect-redis and ours vs again, and writes bench/results.against.json (not with --quick).
const fs = require('fs')
const os = require('os')
const path = require('path')
const { execFileSync } = require('child_process')
const { createClient } = require('redis')
const { RedisStore: ConnectRedisStore } = require('connect-redis')
const { startRedis, typicalSession, interleavedThroughput, table, fmt, ratio } = require('./lib')
const { runHttp } = require('./http')

const ROOT = path.join(__dirname, '..')
const KEYS = 1000 // sessions the ops cycle over

const log = (m) => process.stderr.write(m + '\n')
const git = (args) =>
  execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()

/**
 * Builds `ref` in a temporary git worktree. Returns { commit, subject, dist, remove }; `remove` (also run when the
 * process exits) takes the worktree away. A failed build removes it before throwing.
 */
const buildRef = (ref) => {
  const commit = git(['rev-parse', '--verify', `${ref}^{commit}`])
  const subject = git(['log', '-1', '--format=%s', commit])
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crs-against-'))
  let removed = false
  const remove = () => {
    if (removed) return
    removed = true
    try {
      git(['worktree', 'remove', '--force', dir])
    } catch {
      // Never added, or already gone: what is left is a plain directory.
    }
    fs.rmSync(dir, { recursive: true, force: true })
    try {
      git(['worktree', 'prune'])
    } catch {}
  }
  process.once('exit', remove)
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130))
  try {
    log(`building ${ref} (${commit.slice(0, 7)} ${subject}) in ${dir}`)
    git(['worktree', 'add', '--detach', dir, commit])
    fs.symlinkSync(fs.realpathSync(path.join(ROOT, 'node_modules')), path.join(dir, 'node_modules'), 'dir')
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] })
  } catch (e) {
    remove()
    throw e
  }
  return { commit, subject, dist: path.join(dir, 'dist'), remove }
}

const asPromise = (fn) => new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))))

/** get/set/touch/destroy through the express-session callback API of each store, interleaved rounds. */
const runSingleKey = async ({ url, refDist, rounds, n, inFlight }) => {
  const clients = await Promise.all([0, 1, 2, 3, 4].map(() => createClient({ url }).connect()))
  const [oursClient, refClient, crClient, seedClient, againClient] = clients
  // This tree's dist loaded a second time (a copy: a module instance of its own): the same code as `ours`, in the
  // same rounds, so that ours/again is the harness's own noise and bias (an A/A control).
  const againDist = fs.mkdtempSync(path.join(os.tmpdir(), 'crs-again-'))
  fs.cpSync(path.join(ROOT, 'dist'), againDist, { recursive: true })
  fs.symlinkSync(fs.realpathSync(path.join(ROOT, 'node_modules')), path.join(againDist, 'node_modules'), 'dir')
  process.once('exit', () => fs.rmSync(againDist, { recursive: true, force: true }))
  const stores = {
    ours: require(path.join(ROOT, 'dist')).createRedisStore(oursClient, { prefix: 'ab-ours:' }),
    ref: require(refDist).createRedisStore(refClient, { prefix: 'ab-ref:' }),
    'connect-redis': new ConnectRedisStore({ client: crClient, prefix: 'ab-cr:' }),
    again: require(againDist).createRedisStore(againClient, { prefix: 'ab-again:' })
  }
  const prefixes = ['ab-ours:', 'ab-ref:', 'ab-cr:', 'ab-again:']
  const sessions = Array.from({ length: KEYS }, (_, i) => typicalSession(i))
  const json = sessions.map((s) => JSON.stringify(s))
  const sid = (i) => `sid${i % KEYS}`
  // Plain SETs: they also replace the tombstones the destroy rounds leave.
  const seed = async () => {
    const m = seedClient.multi()
    for (let i = 0; i < KEYS; i++) for (const p of prefixes) m.set(p + sid(i), json[i], { EX: 86400 })
    await m.exec()
  }
  const impls = { get: {}, set: {}, touch: {}, destroy: {} }
  for (const [name, store] of Object.entries(stores)) {
    impls.get[name] = (i) => asPromise((cb) => store.get(sid(i), cb))
    impls.set[name] = (i) => asPromise((cb) => store.set(sid(i), sessions[i % KEYS], cb))
    impls.touch[name] = (i) => asPromise((cb) => store.touch(sid(i), sessions[i % KEYS], cb))
    impls.destroy[name] = (i) => asPromise((cb) => store.destroy(sid(i), cb))
  }
  try {
    return await interleavedThroughput({ impls, rounds, n, inFlight, seed, log, label: 'single-key' })
  } finally {
    await Promise.all(clients.map((c) => c.close()))
  }
}

/** p25–p75 of the per-round ratios a/b (the samples of one round are taken back to back). */
const spread = (a, b) => {
  const rs = a.map((x, k) => x / b[k]).sort((x, y) => x - y)
  const at = (q) => rs[Math.min(rs.length - 1, Math.floor(q * rs.length))]
  return `${at(0.25).toFixed(2)}–${at(0.75).toFixed(2)}`
}

const tables = ({ single, http, other, otherLabel }) => {
  const out = []
  const head = ['op', 'ours ops/s', `${otherLabel} ops/s`, 'ratio', 'p25–p75', 'ours µs/op', `${otherLabel} µs/op`]
  out.push(
    table(head, [
      ...Object.entries(single).map(([op, v]) => [
        op,
        fmt(v.ours.opsPerSec),
        fmt(v[other].opsPerSec),
        ratio(v.ours.opsPerSec, v[other].opsPerSec),
        spread(v.ours.samples, v[other].samples),
        fmt(v.ours.cpuUsPerOp, 1),
        fmt(v[other].cpuUsPerOp, 1)
      ]),
      ...Object.entries(http)
        .filter(([, v]) => v[other] !== undefined)
        .map(([route, v]) => [
          `HTTP ${route.slice(1)} (req/s)`,
          fmt(v.ours.rps),
          fmt(v[other].rps),
          ratio(v.ours.rps, v[other].rps),
          spread(v.ours.samples, v[other].samples),
          '',
          ''
        ])
    ])
  )
  return out.join('\n')
}

const runAgainst = async (argv) => {
  const at = argv.indexOf('--against')
  const ref = argv[at + 1]
  if (ref === undefined || ref.startsWith('--'))
    throw new Error('usage: npm run bench -- --against <git ref> [--quick]')
  const quick = argv.includes('--quick')
  const plan = quick
    ? { single: { rounds: 2, n: 500, inFlight: 64 }, http: { rounds: 1, seconds: 1, connections: 64 } }
    : { single: { rounds: 40, n: 2000, inFlight: 64 }, http: { rounds: 10, seconds: 2, connections: 64 } }
  const t0 = Date.now()
  const built = buildRef(ref)
  const redis = await startRedis()
  try {
    log(`redis at ${redis.url}${quick ? ' (quick run)' : ''}`)
    const single = await runSingleKey({ url: redis.url, refDist: built.dist, ...plan.single })
    const http = await runHttp({
      url: redis.url,
      ...plan.http,
      log,
      apps: {
        ours: { kind: 'ours', dist: path.join(ROOT, 'dist') },
        ref: { kind: 'ours', dist: built.dist },
        'connect-redis': { kind: 'connect-redis' }
      }
    })
    const head = git(['rev-parse', '--short', 'HEAD'])
    const dirty = git(['status', '--porcelain', '--untracked-files=no', '--', 'src']) === '' ? '' : ' + uncommitted src'
    const results = {
      date: new Date().toISOString(),
      quick,
      ours: `${head}${dirty}`,
      ref: { name: ref, commit: built.commit, subject: built.subject },
      node: process.version,
      plan,
      single,
      http,
      seconds: (Date.now() - t0) / 1000
    }
    const s = plan.single
    const h = plan.http
    const about =
      `single-key: express-session callback API, ${s.inFlight} in flight, median of ${s.rounds} interleaved rounds of ` +
      `${s.n} ops per store; µs/op = client CPU per op. HTTP: Express + express-session, autocannon -c ${h.connections} ` +
      `-d ${h.seconds}, median of ${h.rounds} rounds. p25–p75: the spread of the per-round ratios.`
    console.log(
      [
        `A/B — ours ${results.ours} against ${ref} (${built.commit.slice(
          0,
          7
        )}) and connect-redis, one redis-server, ` +
          `Node ${process.version}${quick ? ' (QUICK: smoke run, numbers not meaningful)' : ''}`,
        about,
        '',
        `ours vs ${ref}`,
        tables({ single, http, other: 'ref', otherLabel: 'ref' }),
        '',
        'ours vs connect-redis',
        tables({ single, http, other: 'connect-redis', otherLabel: 'cr' }),
        '',
        'ours vs ours again (the same code, loaded twice: the noise and bias of the harness itself; judge ours/ref against it)',
        tables({ single, http, other: 'again', otherLabel: 'again' }),
        '',
        `Finished in ${results.seconds.toFixed(0)} s.`
      ].join('\n')
    )
    // A smoke run leaves no record.
    if (!quick) fs.writeFileSync(path.join(__dirname, 'results.against.json'), JSON.stringify(results, null, 2) + '\n')
  } finally {
    await redis.stop()
    built.remove()
  }
}

module.exports = { runAgainst, buildRef }
