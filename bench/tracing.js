'use strict'
// `node bench/tracing.js [--quick]` (after `npm run build`): what a subscriber of the TracingChannel
// `connect-redis-session:operation` costs. Two child processes run this tree's store on one redis-server, one with
// no subscriber and one with a typical metrics subscriber (a start time per call, counts by operation and outcome, a
// sum of durations); the parent asks each in turn for a chunk of get/set/touch/destroy through the express-session
// callback API, rotating who goes first each round, and prints the medians and their ratio. Separate processes: once
// an operation has been traced, Node 20 keeps its async hooks on for the whole process, which would slow the
// other side of an in-process comparison too. The A/B with no subscriber against an older commit is
// `npm run bench -- --against <ref>`.
const path = require('path')
const { fork } = require('child_process')
const { createClient } = require('redis')
const { startRedis, typicalSession, throughput, median, table, fmt, ratio } = require('./lib')

const ROOT = path.join(__dirname, '..')
const KEYS = 1000
const OPS = ['get', 'set', 'touch', 'destroy']
const sid = (i) => `sid${i % KEYS}`
const sessions = Array.from({ length: KEYS }, (_, i) => typicalSession(i))

const asPromise = (fn) => new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))))

/** A child: one store, with or without a subscriber, running the chunks the parent asks for. */
const child = async () => {
  const { url, prefix, subscribed, hooks } = JSON.parse(process.env.CRS_TRACING_CHILD)
  // Any AsyncLocalStorage once run turns Node 20's promise hooks on for the process: what a traced call costs
  // every other promise, without the tracing itself.
  if (hooks) new (require('async_hooks').AsyncLocalStorage)().run({}, () => undefined)
  const dist = require(path.join(ROOT, 'dist'))
  const client = await createClient({ url }).connect()
  const store = dist.createRedisStore(client, { prefix })
  const counts = new Map()
  let totalMs = 0
  if (subscribed) {
    const { performance } = require('perf_hooks')
    require('diagnostics_channel')
      .tracingChannel(dist.OPERATION_CHANNEL)
      .subscribe({
        start: (context) => void (context.startedAt = performance.now()),
        end: () => undefined,
        asyncStart: () => undefined,
        asyncEnd: (context) => {
          const key = `${context.operation} ${context.outcome}`
          counts.set(key, (counts.get(key) ?? 0) + 1)
          totalMs += performance.now() - context.startedAt
        },
        error: () => undefined
      })
  }
  const impls = {
    get: (i) => asPromise((cb) => store.get(sid(i), cb)),
    set: (i) => asPromise((cb) => store.set(sid(i), sessions[i % KEYS], cb)),
    touch: (i) => asPromise((cb) => store.touch(sid(i), sessions[i % KEYS], cb)),
    destroy: (i) => asPromise((cb) => store.destroy(sid(i), cb))
  }
  process.on('message', async ({ op, n }) => {
    if (op === 'quit') {
      await client.close()
      process.send({ counted: [...counts.values()].reduce((a, b) => a + b, 0), totalMs })
      process.exit(0)
    }
    process.send({ opsPerSec: await throughput(n, 64, impls[op]) })
  })
  process.send({ ready: true })
}

const ask = (worker, message) =>
  new Promise((resolve) => {
    worker.once('message', resolve)
    worker.send(message)
  })

const spawnChild = (setup) =>
  new Promise((resolve, reject) => {
    const worker = fork(__filename, [], { env: { ...process.env, CRS_TRACING_CHILD: JSON.stringify(setup) } })
    worker.once('error', reject)
    worker.once('message', () => resolve(worker))
  })

const main = async () => {
  const quick = process.argv.includes('--quick')
  const rounds = quick ? 2 : 30
  const n = quick ? 500 : 4000
  const redis = await startRedis()
  const seeder = await createClient({ url: redis.url }).connect()
  const sides = { 'no subscriber': 'off:', 'async hooks on': 'hooks:', subscriber: 'on:' }
  const workers = {}
  try {
    for (const [name, prefix] of Object.entries(sides))
      workers[name] = await spawnChild({
        url: redis.url,
        prefix,
        subscribed: name === 'subscriber',
        hooks: name === 'async hooks on'
      })
    const seed = async () => {
      const m = seeder.multi()
      for (let i = 0; i < KEYS; i++)
        for (const prefix of Object.values(sides)) m.set(prefix + sid(i), JSON.stringify(sessions[i]), { EX: 86400 })
      await m.exec()
    }
    const names = Object.keys(sides)
    for (const op of OPS) for (const name of names) await ask(workers[name], { op, n: 2000 }) // warm up
    const samples = {}
    for (let r = 0; r < rounds; r++) {
      for (const op of OPS) {
        await seed()
        const order = names.map((_, k) => names[(k + r) % names.length])
        for (const name of order) {
          const { opsPerSec } = await ask(workers[name], { op, n })
          ;((samples[op] ??= {})[name] ??= []).push(opsPerSec)
        }
      }
      process.stderr.write(`  round ${r + 1}/${rounds} done\n`)
    }
    const spread = (a, b) => {
      const ratios = a.map((x, k) => x / b[k]).sort((x, y) => x - y)
      const at = (q) => ratios[Math.min(ratios.length - 1, Math.floor(q * ratios.length))].toFixed(2)
      return `${at(0.25)}–${at(0.75)}`
    }
    const rows = OPS.map((op) => {
      const off = samples[op]['no subscriber']
      const hooked = samples[op]['async hooks on']
      const on = samples[op].subscriber
      return [
        op,
        fmt(median(off)),
        fmt(median(hooked)),
        fmt(median(on)),
        ratio(median(hooked), median(off)),
        ratio(median(on), median(off)),
        spread(on, off)
      ]
    })
    const { counted } = await ask(workers.subscriber, { op: 'quit' })
    await ask(workers['no subscriber'], { op: 'quit' })
    await ask(workers['async hooks on'], { op: 'quit' })
    console.log(
      [
        `Tracing: a subscriber's cost. One redis-server, Node ${process.version}, 64 in flight, median of ${rounds} ` +
          `interleaved rounds of ${n} ops per side${quick ? ' (QUICK: smoke run, numbers not meaningful)' : ''}.`,
        table(
          ['op', 'no subscriber', 'async hooks on', 'subscriber', 'hooks/none', 'subscriber/none', 'p25–p75'],
          rows
        ),
        `The subscriber saw ${fmt(counted)} traced operations.`
      ].join('\n')
    )
  } finally {
    for (const w of Object.values(workers)) if (w.exitCode === null) w.kill()
    await seeder.close()
    await redis.stop()
  }
}

if (process.env.CRS_TRACING_CHILD !== undefined) child()
else
  main().catch((e) => {
    console.error(e)
    process.exit(1)
  })
