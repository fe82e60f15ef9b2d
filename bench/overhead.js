'use strict'
// `node bench/overhead.js <git ref> [--quick]` (after `npm run build`): the store's own CPU per operation, this tree
// against <ref>, on the in-memory client (no network, no Redis: what is left is the store's code), through the
// express-session callback API, 64 in flight. This tree's dist is also loaded a second time ('again', a module
// instance of its own) as an A/A control. Interleaved rounds (the order rotating), medians, in ns per operation:
// a cost of tens of nanoseconds, which the A/B over Redis (`npm run bench -- --against <ref>`) cannot resolve.
const fs = require('fs')
const os = require('os')
const path = require('path')
const { buildRef } = require('./against')
const { median, table, fmt } = require('./lib')

const ROOT = path.join(__dirname, '..')
const KEYS = 1000
const OPS = ['get', 'set', 'touch', 'destroy']

const session = () => ({
  cookie: { originalMaxAge: 3_600_000, expires: new Date(Date.now() + 3_600_000), httpOnly: true, path: '/' },
  user: 'someone',
  views: 3
})
// A new generation of ids for each seeding: a destroyed id stays a tombstone, which refuses a later save.
let generation = 0
const sid = (i) => `sessionId${generation}x${i % KEYS}`
const asPromise = (fn) => new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))))

const storeOf = (dist) => {
  const { createRedisStore } = require(path.join(dist, 'index.js'))
  const { createMemoryClient } = require(path.join(dist, 'memory.js'))
  return createRedisStore(createMemoryClient(), { prefix: 'o:' })
}

const run = {
  get: (s, i) => asPromise((cb) => s.get(sid(i), cb)),
  set: (s, i) => asPromise((cb) => s.set(sid(i), session(), cb)),
  touch: (s, i) => asPromise((cb) => s.touch(sid(i), session(), cb)),
  destroy: (s, i) => asPromise((cb) => s.destroy(sid(i), cb))
}

/** ns per operation of `n` calls of `op` on `store`, 64 in flight. */
const nsPerOp = async (store, op, n) => {
  let next = 0
  const t0 = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < n) await run[op](store, next++)
    })
  )
  return Number(process.hrtime.bigint() - t0) / n
}

const main = async () => {
  const ref = process.argv[2]
  if (ref === undefined || ref.startsWith('--')) throw new Error('usage: node bench/overhead.js <git ref> [--quick]')
  const quick = process.argv.includes('--quick')
  const rounds = quick ? 2 : 30
  const n = quick ? 2_000 : 20_000
  const built = buildRef(ref)
  const again = fs.mkdtempSync(path.join(os.tmpdir(), 'crs-again-'))
  fs.cpSync(path.join(ROOT, 'dist'), again, { recursive: true })
  fs.symlinkSync(fs.realpathSync(path.join(ROOT, 'node_modules')), path.join(again, 'node_modules'), 'dir')
  try {
    const stores = { ours: storeOf(path.join(ROOT, 'dist')), ref: storeOf(built.dist), again: storeOf(again) }
    const names = Object.keys(stores)
    const samples = {}
    const seed = async (store) => {
      generation += 1
      for (let i = 0; i < KEYS; i++) await run.set(store, i)
    }
    for (const name of names) for (const op of OPS) await nsPerOp(stores[name], op, 2_000) // warm up
    for (let r = 0; r < rounds; r++) {
      for (const op of OPS) {
        for (const name of names.map((_, k) => names[(k + r) % names.length])) {
          // Every read, touch and destroy meets a live session; every save writes one.
          await seed(stores[name])
          ;((samples[op] ??= {})[name] ??= []).push(await nsPerOp(stores[name], op, n))
        }
      }
      process.stderr.write(`  round ${r + 1}/${rounds} done\n`)
    }
    const rows = OPS.map((op) => {
      const [ours, refNs, againNs] = names.map((name) => median(samples[op][name]))
      return [op, fmt(ours), fmt(refNs), fmt(againNs), fmt(ours - refNs), fmt(ours - againNs)]
    })
    console.log(
      [
        `Store CPU per operation on the in-memory client, ns (median of ${rounds} interleaved rounds of ${n}), ` +
          `ours against ${ref} (${built.commit.slice(0, 7)}), Node ${process.version}${quick ? ' (QUICK)' : ''}.`,
        table(['op', 'ours', ref, 'ours again', `ours − ${ref}`, 'ours − again (A/A)'], rows)
      ].join('\n')
    )
  } finally {
    fs.rmSync(again, { recursive: true, force: true })
    built.remove()
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
